// Everything a deployment may need to change, in one place: metric names (issue 5's names,
// with the -metrics.prefix of the ringwatch being scraped), selectors and thresholds.
// Override it from your own jsonnet:
//   (import 'ringwatch/dashboards/mixin.libsonnet') + { _config+:: { metricPrefix: 'cortex_' } }
{
  _config+:: {
    // ringwatch's -metrics.prefix plus '_' (e.g. 'cortex_'); prepended to the ring_* and
    // memberlist_* families only. ringwatch_* and process_* families never take it.
    metricPrefix: '',

    // Which scraped series are ringwatch's. Needed because Mimir, Loki, Tempo and Pyroscope
    // export ring_members-like families of their own (and ringwatch can take their prefix).
    ringwatchSelector: 'job=~".*ringwatch.*"',

    // Labels that identify one ringwatch; every alert keeps them.
    instanceLabels: ['job', 'instance'],

    local p = self.metricPrefix,
    metrics: {
      // Ring state, per ring (labels name, key).
      ringMembers: p + 'ring_members',  // {name,key,state}
      ringOldestMemberTimestamp: p + 'ring_oldest_member_timestamp',  // {name,key,state}; 0 = no member in that state
      ringTokens: p + 'ring_tokens_total',  // {name,key}
      ringZoneMembers: p + 'ring_zone_members',  // {name,key,zone,state}
      ringHeartbeatPeriod: p + 'ring_heartbeat_period_seconds',  // {name} (exporter: {name,key})
      // Propagation and convergence (histograms, {name}).
      heartbeatPropagationDelay: p + 'ring_heartbeat_propagation_delay_seconds',
      heartbeatExcessDelay: p + 'ring_heartbeat_excess_delay_seconds',
      updateConvergence: p + 'ring_update_convergence_seconds',
      updateDeliveries: p + 'ring_update_deliveries',  // copies received per update
      beaconDelay: p + 'memberlist_propagation_beacon_delay_seconds',
      updates: p + 'ring_updates_total',  // {name,via=gossip|pushpull}
      updatesFirstSeen: p + 'ring_updates_first_seen_total',  // {name,via}
      // Membership.
      memberlistMembers: p + 'memberlist_members',  // {state=alive|suspect|dead|left}
      // Names issue 5 leaves open; keep them in line with exporter/collectors.cpp:
      //   alive or suspect gossip members that are no instance of any ring (gauge, no labels);
      gossipMembersWithoutRingInstance: 'ringwatch_gossip_members_in_no_ring',
      //   ring instances (not LEFT) with no alive gossip member (gauge, {name,key});
      ringMembersWithoutGossipMember: 'ringwatch_ring_instances_without_gossip_member',
      //   ring instances whose heartbeat lies in the future beyond the tolerance (gauge, {name,key});
      ringFutureHeartbeatMembers: p + 'ring_members_heartbeat_in_future',
      //   1 once the first full state of the gossip cluster was received (what /-/ready says), else 0.
      //   Chosen here; not exported yet.
      ready: 'ringwatch_ready',
      // Existing ringwatch families (exporter/collectors.cpp).
      buildInfo: 'ringwatch_build_info',
      gossipMessagesReceived: 'ringwatch_gossip_messages_received_total',  // {type}
      gossipMessagesSent: 'ringwatch_gossip_messages_sent_total',  // {type}
      gossipBytesReceived: 'ringwatch_gossip_received_bytes_total',
      gossipBytesSent: 'ringwatch_gossip_sent_bytes_total',
      gossipPushPulls: 'ringwatch_gossip_push_pulls_total',  // {direction,result}
      gossipRejected: 'ringwatch_gossip_rejected_total',  // {reason}
      kvValueSize: 'ringwatch_kv_value_size_bytes',  // {key,codec}
      kvUpdates: 'ringwatch_kv_updates_total',  // {outcome}
    },

    // Thresholds.
    staleness: {
      marginSeconds: 15,  // oldest ACTIVE heartbeat may be this much older than the period
      'for': '5m',
    },
    pushPullFirstSeen: {
      ratio: 0.1,  // share of updates that gossip missed (first seen through push/pull)
      minUpdatesPerSecond: 0.05,  // ignore rings that hardly change
      'for': '15m',
    },
    convergence: {
      p99Seconds: 5,  // 99th percentile of the time a change takes to reach every probe
      minDeliveriesPerUpdate: 3,  // "redundancy already high": copies received per update
      'for': '15m',
    },
    unhealthy: { 'for': '10m' },
    ringWithoutGossip: { 'for': '15m' },
    foreignMembers: {
      // Fires when alive members that are in no ring exceed factor * the most seen over the
      // previous day plus the allowance: another cluster merging in is a jump, scaling is not.
      factor: 1.5,
      allowance: 2,
      'for': '5m',
    },
    futureHeartbeats: { 'for': '10m' },
    notReady: { 'for': '10m' },
    down: { 'for': '5m' },
    rejecting: { 'for': '15m' },

    runbookURL: 'https://github.com/ringwatch/ringwatch/blob/main/docs/runbook.md',

    // Dashboards.
    dashboardTags: ['ringwatch', 'memberlist'],
    dashboardRefresh: '30s',
    dashboardTimeFrom: 'now-3h',
  },
}
