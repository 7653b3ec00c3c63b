// ringwatch's alerting rules. Each alert carries, as the hidden field `signals`, the
// expressions its condition is built from (without thresholds): the end-to-end test
// (tests/cluster/e2e_prometheus_test.cpp) checks that every one of them returns data from a
// live ringwatch, since an alert's own expression rightly returns nothing while all is well.
{
  local c = $._config,
  local m = c.metrics,
  local by = std.join(', ', c.instanceLabels),
  // `metric{selector,extra}`
  local s(metric, extra='') = metric + '{' + c.ringwatchSelector + (if extra == '' then '' else ',' + extra) + '}',
  local runbook(anchor) = c.runbookURL + '#' + std.asciiLower(anchor),

  local alert(name, expr, forDuration, severity, summary, description, signals) = {
    alert: name,
    expr: expr,
    'for': forDuration,
    labels: { severity: severity },
    annotations: {
      summary: summary,
      description: description,
      runbook_url: runbook(name),
    },
    signals:: signals,
  },

  local knobs = 'decrease -memberlist.gossip-interval, increase -memberlist.gossip-nodes, ' +
                'decrease -memberlist.pullpush-interval or increase -memberlist.retransmit-factor',

  local staleAge = 'time() - (%s > 0)' % s(m.ringOldestMemberTimestamp, 'state="ACTIVE"'),
  // max by name: the period is per ring name (and per key where two keys share a name).
  local period = 'max by (%s, name) (%s)' % [by, s(m.ringHeartbeatPeriod)],
  local firstSeenRate(extra) = 'sum by (%s, name) (rate(%s[10m]))' % [by, s(m.updatesFirstSeen, extra)],
  // A ring without a pushpull series has a push/pull share of 0, not no share at all.
  local pushPullShare = |||
    (
      %(pp)s
      or
      %(all)s * 0
    )
    /
    %(all)s
  ||| % { pp: firstSeenRate('via="pushpull"'), all: firstSeenRate('') },
  local convergenceP99 =
    'histogram_quantile(0.99, sum by (%s, name, le) (rate(%s[10m])))' % [by, s(m.updateConvergence + '_bucket')],
  local deliveriesPerUpdate = |||
    sum by (%(by)s) (rate(%(sum)s[10m]))
    /
    sum by (%(by)s) (rate(%(count)s[10m]))
  ||| % { by: by, sum: s(m.updateDeliveries + '_sum'), count: s(m.updateDeliveries + '_count') },
  local rejectedRate = 'sum by (%s, reason) (rate(%s[5m]))' % [by, s(m.gossipRejected)],
  local undecodableRate = 'sum by (%s, outcome) (rate(%s[5m]))' %
                          [by, s(m.kvUpdates, 'outcome=~"invalid|decode_error|unknown_codec"')],

  prometheusAlerts+:: {
    groups+: [
      {
        name: 'ringwatch-ring-freshness',
        rules: [
          alert(
            'RingHeartbeatsStale',
            |||
              (
                %(age)s
              )
              > on (%(by)s, name) group_left ()
              (
                %(period)s + %(margin)d
              )
            ||| % { age: staleAge, by: by, period: period, margin: c.staleness.marginSeconds },
            c.staleness['for'],
            'warning',
            'Ring {{ $labels.name }}: the oldest ACTIVE heartbeat is {{ $value | humanizeDuration }} old.',
            ('The oldest heartbeat among the ACTIVE instances of ring {{ $labels.name }} (key {{ $labels.key }}), ' +
             'as {{ $labels.instance }} sees it, has been older than the ring\'s heartbeat period + %ds for %s: ' +
             'heartbeats spread through gossip too slowly, and readers will soon count instances Unhealthy. ' +
             'Speed up propagation on every member: %s. The Propagation dashboard and the tuning alerts ' +
             '(RingUpdatesMissedByGossip, RingConvergenceSlowDespiteRedundancy) say which one the data points at.') %
            [c.staleness.marginSeconds, c.staleness['for'], knobs],
            [staleAge, period],
          ),
          alert(
            'RingMembersUnhealthy',
            '%s > 0' % s(m.ringMembers, 'state="Unhealthy"'),
            c.unhealthy['for'],
            'warning',
            'Ring {{ $labels.name }} has {{ $value }} Unhealthy instances.',
            '{{ $value }} instances of ring {{ $labels.name }} (key {{ $labels.key }}) have not heartbeated within ' +
            'the heartbeat timeout, so the product\'s ring clients skip them and may fail writes. If the instance ' +
            'is gone, forget it from the ring page (or enable auto-forget); if it still runs, it is stuck or cannot ' +
            'reach the KV store; if RingHeartbeatsStale fires as well, gossip is slow, not the instance.',
            [s(m.ringMembers, 'state="Unhealthy"')],
          ),
          alert(
            'RingHeartbeatsFromTheFuture',
            '%s > 0' % s(m.ringFutureHeartbeatMembers),
            c.futureHeartbeats['for'],
            'warning',
            'Ring {{ $labels.name }}: {{ $value }} instances heartbeat with timestamps in the future.',
            '{{ $value }} instances of ring {{ $labels.name }} (key {{ $labels.key }}) send heartbeat timestamps ' +
            'ahead of ringwatch\'s clock: clock skew. Their heartbeats look fresher than they are, so a stuck ' +
            'instance is noticed late, and propagation delays are understated. Fix NTP/chrony on the hosts of ' +
            'those instances (or on ringwatch\'s host if every ring shows it).',
            [s(m.ringFutureHeartbeatMembers)],
          ),
        ],
      },
      {
        name: 'ringwatch-gossip-tuning',
        rules: [
          alert(
            'RingUpdatesMissedByGossip',
            |||
              (
              %(share)s) > %(ratio)g
              and on (%(by)s, name)
              %(all)s > %(min)g
            ||| % { share: std.stripChars(pushPullShare, '\n'), ratio: c.pushPullFirstSeen.ratio, by: by,
                    all: firstSeenRate(''), min: c.pushPullFirstSeen.minUpdatesPerSecond },
            c.pushPullFirstSeen['for'],
            'info',
            'Ring {{ $labels.name }}: {{ $value | humanizePercentage }} of updates arrive only by push/pull.',
            ('{{ $value | humanizePercentage }} of the updates of ring {{ $labels.name }} reached ringwatch first ' +
             'through a push/pull full-state exchange rather than through gossip (threshold %g): gossip misses ' +
             'members, and those updates wait up to -memberlist.pullpush-interval. Give each update more ' +
             'gossip copies: increase -memberlist.gossip-nodes or -memberlist.retransmit-factor.') %
            c.pushPullFirstSeen.ratio,
            [pushPullShare, firstSeenRate('')],
          ),
          alert(
            'RingConvergenceSlowDespiteRedundancy',
            |||
              %(p99)s > %(threshold)g
              and on (%(by)s)
              (
              %(deliveries)s) >= %(minDeliveries)g
            ||| % { p99: convergenceP99, threshold: c.convergence.p99Seconds, by: by,
                    deliveries: std.stripChars(deliveriesPerUpdate, '\n'),
                    minDeliveries: c.convergence.minDeliveriesPerUpdate },
            c.convergence['for'],
            'info',
            'Ring {{ $labels.name }}: updates take {{ $value | humanizeDuration }} (p99) to converge.',
            ('The 99th percentile of the time ring {{ $labels.name }}\'s updates take to reach every ringwatch ' +
             'probe is {{ $value | humanizeDuration }} (threshold %gs), although each update already arrives ' +
             '%g or more times: gossip sends enough copies but takes too many rounds. Gossip more often: ' +
             'decrease -memberlist.gossip-interval (more gossip-nodes or retransmits would only add copies).') %
            [c.convergence.p99Seconds, c.convergence.minDeliveriesPerUpdate],
            [convergenceP99, deliveriesPerUpdate],
          ),
        ],
      },
      {
        name: 'ringwatch-membership',
        rules: [
          alert(
            'RingMembersWithoutGossipMember',
            '%s > 0' % s(m.ringMembersWithoutGossipMember),
            c.ringWithoutGossip['for'],
            'warning',
            'Ring {{ $labels.name }} has {{ $value }} instances with no live gossip member.',
            '{{ $value }} instances of ring {{ $labels.name }} (key {{ $labels.key }}) have an address that no ' +
            'alive gossip member has: the ring and the gossip membership disagree. Usually an instance died ' +
            'without leaving and its entry lingers (forget it from the ring page), or it runs but cannot join ' +
            'gossip (check its -memberlist.join and network), or its advertised address is wrong.',
            [s(m.ringMembersWithoutGossipMember)],
          ),
          alert(
            'MemberlistForeignMembers',
            |||
              %(x)s
              > %(factor)g * max_over_time(%(x)s[1d] offset 1h) + %(allowance)g
            ||| % { x: s(m.gossipMembersWithoutRingInstance), factor: c.foreignMembers.factor,
                    allowance: c.foreignMembers.allowance },
            c.foreignMembers['for'],
            'critical',
            '{{ $value }} gossip members belong to no ring: another cluster may have merged in.',
            ('{{ $value }} alive gossip members hold no instance in any ring, more than %g times the most seen ' +
             'over the previous day plus %g: members of another cluster (another product or environment that ' +
             'shares a join address or DNS name) have most likely merged into this gossip cluster, and their ' +
             'ring entries will mix with yours. Separate the clusters: set -memberlist.cluster-label (and ' +
             'ringwatch\'s) to a value unique to each cluster, and fix the join addresses.') %
            [c.foreignMembers.factor, c.foreignMembers.allowance],
            [s(m.gossipMembersWithoutRingInstance)],
          ),
        ],
      },
      {
        name: 'ringwatch-self',
        rules: [
          alert(
            'RingwatchDown',
            'up{%s} == 0' % c.ringwatchSelector,
            c.down['for'],
            'warning',
            'ringwatch {{ $labels.instance }} cannot be scraped.',
            ('Prometheus has failed to scrape ringwatch {{ $labels.instance }} for %s: every other ring alert is ' +
            'blind for this cluster. Check that the process runs, its -web.listen-address and the scrape ' +
            'configuration (TLS, basic auth).') % c.down['for'],
            ['up{%s}' % c.ringwatchSelector],
          ),
          alert(
            'RingwatchNotReady',
            '%s == 0' % s(m.ready),
            c.notReady['for'],
            'warning',
            'ringwatch {{ $labels.instance }} has received no full state of the gossip cluster.',
            ('ringwatch {{ $labels.instance }} has not completed a push/pull with any member for %s, so its rings ' +
            'are empty or partial. Check its logs for join errors, that -memberlist.join resolves to live members, ' +
            'that the gossip port is reachable both ways, and that -memberlist.cluster-label and TLS match the ' +
            'cluster.') % c.notReady['for'],
            [s(m.ready)],
          ),
          alert(
            'RingwatchRejectingInput',
            '%s > 0' % rejectedRate,
            c.rejecting['for'],
            'warning',
            'ringwatch {{ $labels.instance }} rejects gossip input ({{ $labels.reason }}).',
            ('ringwatch {{ $labels.instance }} has been dropping gossip input with reason {{ $labels.reason }} ' +
            'for %s ({{ $value | humanize }}/s), so it sees less than the cluster does. label: the cluster label ' +
            'differs (another cluster gossips to this one, or ringwatch\'s -memberlist.cluster-label is wrong); ' +
            'crc/digest: corrupted packets; decode/unknown_type: a memberlist or dskit version ringwatch does not ' +
            'understand; oversize: a message above the limits; decrypt: wrong -memberlist.encryption-key.') %
            c.rejecting['for'],
            [rejectedRate],
          ),
          alert(
            'RingwatchUndecodableKVUpdates',
            '%s > 0' % undecodableRate,
            c.rejecting['for'],
            'warning',
            'ringwatch {{ $labels.instance }} cannot merge KV updates ({{ $labels.outcome }}).',
            ('ringwatch {{ $labels.instance }} has been discarding KV store updates as {{ $labels.outcome }} for %s: ' +
            'the rings it rebuilds may be incomplete. unknown_codec: a KV key uses a codec ringwatch does not ' +
            'know; decode_error/invalid: a value ringwatch cannot parse (a newer dskit ring format). See the ' +
            'KV panels of the Gossip health dashboard for the key.') % c.rejecting['for'],
            [undecodableRate],
          ),
        ],
      },
    ],
  },

  // alert name -> the expressions its condition is built from (for the end-to-end test).
  alertSignals:: {
    [r.alert]: r.signals
    for g in $.prometheusAlerts.groups
    for r in g.rules
    if std.objectHasAll(r, 'signals')
  },
}
