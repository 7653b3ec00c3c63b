// The three dashboards. Every panel's description says what a bad value means and what to do.
local g = import 'lib/grafana.libsonnet';

{
  local c = $._config,
  local m = c.metrics,
  local inst = 'job=~"$job", instance=~"$instance"',
  local ringSel = inst + ', name=~"$ring"',
  local s(metric, extra='') = metric + '{' + (if extra == '' then inst else inst + ', ' + extra) + '}',
  local r(metric, extra='') = metric + '{' + (if extra == '' then ringSel else ringSel + ', ' + extra) + '}',
  local rate(sel) = 'rate(%s[$__rate_interval])' % sel,
  local quantiles(metric, by='name') = [
    g.target('histogram_quantile(%s, sum by (%s, le) (%s))' % [q[1], by, rate(r(metric + '_bucket'))],
             '{{%s}} %s' % [by, q[0]])
    for q in [['p50', '0.5'], ['p90', '0.9'], ['p99', '0.99']]
  ],

  local variables(withRing) = [
    g.queryVariable('job', 'Job', 'label_values(%s, job)' % m.buildInfo),
    g.queryVariable('instance', 'Instance', 'label_values(%s{job=~"$job"}, instance)' % m.buildInfo),
  ] + (if withRing then [g.queryVariable('ring', 'Ring', 'label_values(%s{job=~"$job"}, name)' % m.ringMembers)] else []),

  local dashboard(file, title, uid, description, withRing, panels) = {
    [file]: g.dashboard(title, uid, description, c.dashboardTags, variables(withRing), panels,
                        c.dashboardRefresh, c.dashboardTimeFrom),
  },

  grafanaDashboards+::
    dashboard('ringwatch-overview.json', 'ringwatch / Overview', 'ringwatch-overview',
              'Are the hash rings fresh and complete? Ring states, heartbeat freshness and gossip membership.',
              true, [
      g.row('Rings'),
      g.timeseries(
        'Members by state',
        'Instances of each ring per state, as the products\' ring clients count them. Bad: Unhealthy above 0 ' +
        '(see the Unhealthy panel), LEAVING/JOINING/PENDING that never drain (a stuck rollout: check that ' +
        'instance), or ACTIVE below what you run (instances failed to register: check their logs). LEFT are ' +
        'tombstones that expire after -memberlist.left-ingesters-timeout.',
        [g.target('sum by (name, state) (%s)' % r(m.ringMembers), '{{name}} {{state}}')],
        w=12,
      ),
      g.timeseries(
        'Oldest ACTIVE heartbeat age against the heartbeat period',
        'Age of the oldest heartbeat among ACTIVE instances per ring, next to the ring\'s heartbeat period ' +
        '(estimated by ringwatch) and the RingHeartbeatsStale threshold (period + %ds). Bad: the age stays ' % c.staleness.marginSeconds +
        'above the threshold: heartbeats spread too slowly. Decrease -memberlist.gossip-interval, increase ' +
        '-memberlist.gossip-nodes, decrease -memberlist.pullpush-interval or increase -memberlist.retransmit-factor; ' +
        'the Propagation dashboard tells which. A single spike up to the heartbeat timeout is one stuck instance.',
        [
          g.target('max by (name) (time() - (%s > 0))' % r(m.ringOldestMemberTimestamp, 'state="ACTIVE"'), '{{name}} age'),
          g.target('max by (name) (%s)' % r(m.ringHeartbeatPeriod), '{{name}} period'),
          g.target('max by (name) (%s) + %d' % [r(m.ringHeartbeatPeriod), c.staleness.marginSeconds], '{{name}} stale threshold'),
        ],
        unit='s', w=12,
      ),
      g.timeseries(
        'Unhealthy members',
        'Instances whose heartbeat is older than the heartbeat timeout, whatever their state. Bad: anything above ' +
        '0 for minutes; ring clients skip them and quorum writes may fail. A crashed instance that never left: ' +
        'forget it from the product\'s ring page. A running one: it is stuck or cannot write the KV store. If ' +
        'the heartbeat age panel is high for all instances, gossip is slow instead.',
        [g.target('sum by (name) (%s)' % r(m.ringMembers, 'state="Unhealthy"'), '{{name}}')],
        w=8, min=0,
      ),
      g.timeseries(
        'Tokens per ring',
        'Tokens held by each ring\'s instances. Bad: a drop without a scale-down (instances lost their tokens ' +
        'or left unexpectedly) or a jump without a scale-up (another cluster\'s instances merged in: set ' +
        '-memberlist.cluster-label).',
        [g.target('sum by (name) (%s)' % r(m.ringTokens), '{{name}}')],
        w=8,
      ),
      g.timeseries(
        'Members per zone',
        'Instances per zone and state. Bad: zones of very different sizes (uneven load and ownership) or a zone ' +
        'with Unhealthy instances (a zone outage: zone-aware replication tolerates one, not two).',
        [g.target('sum by (name, zone, state) (%s)' % r(m.ringZoneMembers), '{{name}} {{zone}} {{state}}')],
        w=8,
      ),
      g.row('Gossip membership against the rings'),
      g.timeseries(
        'Gossip members against ring members',
        'Alive gossip members next to the largest ring, gossip members that are in no ring and ring instances ' +
        'without a live gossip member. Bad: members in no ring jumping (another cluster merged in: set ' +
        '-memberlist.cluster-label on every member) or ring instances without a gossip member (dead instances ' +
        'lingering in the ring: forget them; or instances that cannot join gossip: check -memberlist.join).',
        [
          g.target('sum by (instance) (%s)' % s(m.memberlistMembers, 'state="alive"'), 'alive gossip members'),
          g.target('max by (instance) (sum by (instance, name) (%s))' % r(m.ringMembers, 'state!="LEFT"'), 'largest ring'),
          g.target('sum by (instance) (%s)' % s(m.gossipMembersWithoutRingInstance), 'gossip members in no ring'),
          g.target('sum by (instance) (%s)' % r(m.ringMembersWithoutGossipMember), 'ring instances without gossip member'),
        ],
        w=12,
      ),
      g.timeseries(
        'Ring instances without a live gossip member',
        'Per ring, instances whose address has no alive gossip member. Bad: above 0 for more than a few ' +
        'heartbeat timeouts: forget dead instances from the ring page, or fix the instance\'s gossip join or ' +
        'advertised address.',
        [g.target('sum by (name) (%s)' % r(m.ringMembersWithoutGossipMember), '{{name}}')],
        w=6, min=0,
      ),
      g.timeseries(
        'Heartbeats from the future',
        'Instances whose heartbeat timestamp is ahead of ringwatch\'s clock beyond the tolerance. Bad: above 0 ' +
        'means clock skew; stuck instances are then noticed late and delays understated. Fix NTP on those ' +
        'hosts (on ringwatch\'s host if every ring shows it).',
        [g.target('sum by (name) (%s)' % r(m.ringFutureHeartbeatMembers), '{{name}}')],
        w=6, min=0,
      ),
      g.row('ringwatch'),
      g.timeseries(
        'ringwatch up and ready',
        'up: Prometheus can scrape ringwatch; ready: ringwatch has received a full state of the gossip cluster. ' +
        'Bad: either at 0. Not up: check the process and the scrape configuration. Not ready: check its join ' +
        'addresses, gossip port reachability, cluster label and TLS settings.',
        [
          g.target('min by (instance) (up{%s})' % inst, '{{instance}} up'),
          g.target('min by (instance) (%s)' % s(m.ready), '{{instance}} ready'),
        ],
        w=24, h=6, min=0,
      ),
    ])
    + dashboard('ringwatch-propagation.json', 'ringwatch / Propagation', 'ringwatch-propagation',
                'How long ring changes take to spread through gossip, and which memberlist setting to tune.',
                true, [
      g.row('Heartbeat propagation'),
      g.timeseries(
        'Heartbeat propagation delay',
        'Time from an instance\'s heartbeat timestamp to its first arrival at ringwatch (timestamps are whole ' +
        'seconds, so values carry up to 1 s of quantization, and clock skew shifts them). Bad: p99 near the ' +
        'heartbeat period or above it: rings lag. Look at the excess delay and the push/pull share to choose ' +
        'the knob.',
        quantiles(m.heartbeatPropagationDelay), unit='s',
      ),
      g.timeseries(
        'Heartbeat excess delay',
        'Propagation delay minus each instance\'s own minimum: the delay gossip adds, free of quantization and ' +
        'clock skew. Bad: p99 of several gossip intervals or more. With many updates first seen through ' +
        'push/pull: raise -memberlist.gossip-nodes or -memberlist.retransmit-factor; with high delivery ' +
        'redundancy: lower -memberlist.gossip-interval. One instance high alone: its host or network is slow.',
        quantiles(m.heartbeatExcessDelay), unit='s',
      ),
      g.timeseries(
        'Update convergence',
        'Time from the first ringwatch probe\'s receipt of an update to the last one\'s (needs ringwatch ' +
        '-probes of 2 or more), on one clock. Bad: p99 above a few seconds (alert RingConvergenceSlowDespite' +
        'Redundancy at %gs). If the delivery redundancy is high, lower -memberlist.gossip-interval; if it is ' % c.convergence.p99Seconds +
        'low, raise -memberlist.gossip-nodes.',
        quantiles(m.updateConvergence), unit='s',
      ),
      g.timeseries(
        'Estimated heartbeat period',
        'Each ring\'s heartbeat period as ringwatch estimates it from successive heartbeats; the staleness alert ' +
        'compares against it. Bad: a value different from the products\' -*.ring.heartbeat-period (instances ' +
        'heartbeat late: overloaded or blocked on the KV store) or a changing value.',
        [g.target('max by (name) (%s)' % r(m.ringHeartbeatPeriod), '{{name}}')],
        unit='s',
      ),
      g.row('Where updates come from'),
      g.timeseries(
        'Updates first seen through push/pull',
        'Share of each ring\'s updates that reached ringwatch first through a push/pull full-state exchange ' +
        'instead of gossip: updates gossip missed. Bad: above %d%% (alert RingUpdatesMissedByGossip): raise ' % (c.pushPullFirstSeen.ratio * 100) +
        '-memberlist.gossip-nodes or -memberlist.retransmit-factor. Lowering -memberlist.pullpush-interval ' +
        'shortens their wait but costs bandwidth.',
        [g.target(|||
          (
            sum by (name) (%(pp)s)
            or
            sum by (name) (%(all)s) * 0
          )
          /
          sum by (name) (%(all)s)
        ||| % { pp: rate(r(m.updatesFirstSeen, 'via="pushpull"')), all: rate(r(m.updatesFirstSeen)) }, '{{name}}')],
        unit='percentunit', min=0,
      ),
      g.timeseries(
        'Updates received by path',
        'Ring updates received per second through gossip and through push/pull, duplicates included. Bad: ' +
        'gossip near 0 while push/pull carries the changes (gossip does not reach ringwatch: check that ' +
        'members can dial its advertised address), or a rate far above heartbeats x instances (flapping).',
        [g.target('sum by (name, via) (%s)' % rate(r(m.updates)), '{{name}} {{via}}')],
        unit='ops',
      ),
      g.timeseries(
        'Delivery redundancy',
        'Copies of each update ringwatch receives (mean and p90). Gossip sends each update about ' +
        'retransmit-factor x log10(members) times to gossip-nodes random members. Bad: below 1-2 with updates ' +
        'missed by gossip (raise -memberlist.gossip-nodes or -memberlist.retransmit-factor); very high (above ' +
        '10) wastes bandwidth: lower them.',
        [
          g.target('sum by (instance) (%s) / sum by (instance) (%s)' %
                   [rate(s(m.updateDeliveries + '_sum')), rate(s(m.updateDeliveries + '_count'))], '{{instance}} mean'),
          g.target('histogram_quantile(0.9, sum by (instance, le) (%s))' % rate(s(m.updateDeliveries + '_bucket')),
                   '{{instance}} p90'),
        ],
      ),
      g.timeseries(
        'Propagation delay tracker beacons',
        'Delay of the beacons of dskit\'s propagation delay tracker, when the cluster publishes them ' +
        '(-memberlist.propagation-delay-tracker.*): a cluster-wide, skew-free view of gossip delay. Bad: p99 ' +
        'above a few seconds; tune as for the excess delay. Empty: the cluster publishes no beacons.',
        [
          g.target('histogram_quantile(%s, sum by (le) (%s))' % [q[1], rate(s(m.beaconDelay + '_bucket'))], q[0])
          for q in [['p50', '0.5'], ['p99', '0.99']]
        ],
        unit='s',
      ),
    ])
    + dashboard('ringwatch-gossip.json', 'ringwatch / Gossip health', 'ringwatch-gossip',
                'The memberlist cluster as ringwatch sees it: members, traffic, push/pulls, rejected input, KV values.',
                false, [
      g.row('Members'),
      g.timeseries(
        'Gossip members by state',
        'memberlist members per state. Bad: suspect above 0 for long (members fail probes: network or overload), ' +
        'dead growing (members crash or cannot be reached), alive jumping (another cluster merged in: set ' +
        '-memberlist.cluster-label) or dropping (a split: set -memberlist.rejoin-interval).',
        [g.target('sum by (state) (%s)' % s(m.memberlistMembers), '{{state}}')],
        stack=true,
      ),
      g.timeseries(
        'Push/pulls',
        'Full state exchanges per second, by direction and result. Bad: failed above 0 (members unreachable ' +
        'or too slow for -memberlist.stream-timeout), or none at all (push/pull disabled, or ringwatch is not ' +
        'known to the members: its rings heal only through gossip).',
        [g.target('sum by (direction, result) (%s)' % rate(s(m.gossipPushPulls)), '{{direction}} {{result}}')],
        unit='ops',
      ),
      g.row('Traffic'),
      g.timeseries(
        'Messages received by type',
        'memberlist messages received per second, by type. Bad: user (KV updates) near 0 while rings change ' +
        '(gossip does not reach ringwatch), or a sudden rise of suspect/dead (members flapping).',
        [g.target('sum by (type) (%s)' % rate(s(m.gossipMessagesReceived)), '{{type}}')],
        unit='ops',
      ),
      g.timeseries(
        'Messages sent by type',
        'memberlist messages ringwatch sends per second (pings, acks, push/pulls; it never sends KV updates). ' +
        'Bad: far above the received rate (ringwatch refutes suspicions about itself: it is slow to answer ' +
        'probes: check its CPU and network).',
        [g.target('sum by (type) (%s)' % rate(s(m.gossipMessagesSent)), '{{type}}')],
        unit='ops',
      ),
      g.timeseries(
        'Bytes received and sent',
        'Gossip bandwidth of ringwatch. Bad: received bandwidth growing without more members (large KV values: ' +
        'see value sizes; or a high retransmit-factor / gossip-nodes wasting bandwidth).',
        [
          g.target('sum by (type) (%s)' % rate(s(m.gossipBytesReceived)), 'received {{type}}'),
          g.target('sum by (type) (%s)' % rate(s(m.gossipBytesSent)), 'sent {{type}}'),
        ],
        unit='Bps',
      ),
      g.timeseries(
        'Rejected input by reason',
        'Gossip input dropped per second, by reason. Bad: anything above 0 for long (alert ' +
        'RingwatchRejectingInput). label: the cluster label differs (another cluster, or ringwatch\'s ' +
        '-memberlist.cluster-label is wrong); crc/digest: corruption; decode/unknown_type: unsupported ' +
        'versions; oversize: messages above the limits; decrypt: wrong -memberlist.encryption-key.',
        [g.target('sum by (reason) (%s)' % rate(s(m.gossipRejected)), '{{reason}}')],
        unit='ops',
      ),
      g.row('KV store'),
      g.timeseries(
        'KV value sizes',
        'Size of the last full value of each KV key. Bad: values of several MB (every push/pull and update ' +
        'carries them; large rings need fewer tokens per instance), or steady growth (LEFT tombstones or ' +
        'instances never forgotten).',
        [g.target('max by (key, codec) (%s)' % s(m.kvValueSize), '{{key}} ({{codec}})')],
        unit='bytes',
      ),
      g.timeseries(
        'KV updates by outcome',
        'KV updates merged per second by outcome. Bad: invalid, decode_error or unknown_codec above 0 (alert ' +
        'RingwatchUndecodableKVUpdates): ringwatch cannot read a key, so that ring is incomplete.',
        [g.target('sum by (outcome) (%s)' % rate(s(m.kvUpdates)), '{{outcome}}')],
        unit='ops',
      ),
      g.row('ringwatch process'),
      g.timeseries(
        'Resident memory',
        'ringwatch\'s resident memory. Bad: steady growth with a constant number of members and keys (a leak: ' +
        'report it with the /memberlist page attached).',
        [g.target('max by (instance) (process_resident_memory_bytes{%s})' % inst, '{{instance}}')],
        unit='bytes',
      ),
      g.timeseries(
        'CPU',
        'CPU time ringwatch uses. Bad: near a full core (it answers probes late and is marked suspect: give it ' +
        'more CPU).',
        [g.target('max by (instance) (%s)' % rate('process_cpu_seconds_total{%s}' % inst), '{{instance}}')],
        unit='percentunit',
      ),
    ]),
}
