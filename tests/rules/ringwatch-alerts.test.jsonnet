// promtool unit tests for every alert in alerts/ringwatch-alerts.yaml, each both firing and not
// firing. Series, evaluation times, expected labels and expected values are written here by
// hand; the expected annotations are the mixin's templates rendered with those labels and the
// humanized values given per test, so promtool also proves that the templates expand.
// Compiled to ringwatch-alerts.test.yaml by dashboards/generate.sh; run by tests/rules/check.sh.
local mixin = import '../../dashboards/mixin.libsonnet';
local n = mixin._config.metrics;
local rules = { [r.alert]: r for g in mixin.prometheusAlerts.groups for r in g.rules };

local rw = { job: 'ringwatch', instance: 'rw-0:10946' };
local rw1 = { job: 'ringwatch', instance: 'rw-1:10946' };
local ing = { name: 'ingester', key: 'collectors/ring' };
local dist = { name: 'distributor', key: 'collectors/distributor' };
local sg = { name: 'store-gateway', key: 'collectors/store-gateway' };

local series(metric, labels, values) = {
  series: metric + '{' + std.join(',', ['%s="%s"' % [k, labels[k]] for k in std.objectFields(labels)]) + '}',
  values: values,
};

local render(template, labels, values) =
  local withLabels = std.foldl(function(t, k) std.strReplace(t, '{{ $labels.%s }}' % k, labels[k]),
                               std.objectFields(labels), template);
  std.foldl(function(t, k) std.strReplace(t, k, values[k]), std.objectFields(values), withLabels);

// An expected firing alert: labels (without alertname/severity) and the rendered `$value` forms.
local firing(alert, labels, values) = {
  exp_labels: labels { severity: rules[alert].labels.severity },
  exp_annotations: {
    [k]: render(rules[alert].annotations[k], labels, values)
    for k in std.objectFields(rules[alert].annotations)
  },
};

local check(alert, at, expected=[]) = { eval_time: at, alertname: alert, exp_alerts: expected };

{
  rule_files: ['../../alerts/ringwatch-alerts.yaml'],
  evaluation_interval: '1m',
  tests: [
    {
      name: 'RingHeartbeatsStale: a stuck oldest ACTIVE heartbeat fires; fresh rings, empty states and other jobs do not',
      interval: '1m',
      input_series: [
        // ingester: the oldest ACTIVE heartbeat stays at t=10s, older than 5s + 15s from t=1m on.
        series(n.ringOldestMemberTimestamp, rw + ing + { state: 'ACTIVE' }, '10x20'),
        series(n.ringHeartbeatPeriod, rw + { name: 'ingester' }, '5x20'),
        // distributor: heartbeats 3 s old, always.
        series(n.ringOldestMemberTimestamp, rw + dist + { state: 'ACTIVE' }, '57+60x20'),
        series(n.ringHeartbeatPeriod, rw + { name: 'distributor' }, '5x20'),
        // store-gateway: no ACTIVE instance (timestamp 0) must not read as 56 years old.
        series(n.ringOldestMemberTimestamp, rw + sg + { state: 'ACTIVE' }, '0x20'),
        series(n.ringHeartbeatPeriod, rw + { name: 'store-gateway' }, '5x20'),
        // A product's own series (not ringwatch's job) are ignored.
        series(n.ringOldestMemberTimestamp, { job: 'mimir/ingester', instance: 'i', state: 'ACTIVE' } + ing, '10x20'),
        series(n.ringHeartbeatPeriod, { job: 'mimir/ingester', instance: 'i', name: 'ingester' }, '5x20'),
      ],
      alert_rule_test: [
        check('RingHeartbeatsStale', '5m'),  // stale since 1m: pending, not yet 5m
        check('RingHeartbeatsStale', '10m', [
          firing('RingHeartbeatsStale', rw + ing + { state: 'ACTIVE' }, { '{{ $value | humanizeDuration }}': '9m 50s' }),
        ]),
      ],
    },
    {
      name: 'RingHeartbeatsStale: a stale ring fires only above period + 15s',
      interval: '1m',
      input_series: [
        // 19 s old with a 5 s period: under the 20 s threshold.
        series(n.ringOldestMemberTimestamp, rw + ing + { state: 'ACTIVE' }, '-19+60x20'),
        series(n.ringHeartbeatPeriod, rw + { name: 'ingester' }, '5x20'),
        // 21 s old with a 5 s period: over it.
        series(n.ringOldestMemberTimestamp, rw + dist + { state: 'ACTIVE' }, '-21+60x20'),
        series(n.ringHeartbeatPeriod, rw + { name: 'distributor' }, '5x20'),
      ],
      alert_rule_test: [
        check('RingHeartbeatsStale', '10m', [
          firing('RingHeartbeatsStale', rw + dist + { state: 'ACTIVE' }, { '{{ $value | humanizeDuration }}': '21s' }),
        ]),
      ],
    },
    {
      name: 'RingMembersUnhealthy',
      interval: '1m',
      input_series: [
        series(n.ringMembers, rw + ing + { state: 'Unhealthy' }, '0 0 2x20'),
        series(n.ringMembers, rw + dist + { state: 'Unhealthy' }, '0x22'),
        series(n.ringMembers, rw + dist + { state: 'ACTIVE' }, '3x22'),
        series(n.ringMembers, { job: 'mimir/distributor', instance: 'd' } + ing + { state: 'Unhealthy' }, '2x22'),
      ],
      alert_rule_test: [
        check('RingMembersUnhealthy', '11m'),  // Unhealthy since 2m: 9m < 10m
        check('RingMembersUnhealthy', '12m', [
          firing('RingMembersUnhealthy', rw + ing + { state: 'Unhealthy' }, { '{{ $value }}': '2' }),
        ]),
      ],
    },
    {
      name: 'RingHeartbeatsFromTheFuture',
      interval: '1m',
      input_series: [
        series(n.ringFutureHeartbeatMembers, rw + ing, '0 1x20'),
        series(n.ringFutureHeartbeatMembers, rw + dist, '0x20'),
      ],
      alert_rule_test: [
        check('RingHeartbeatsFromTheFuture', '5m'),
        check('RingHeartbeatsFromTheFuture', '15m', [
          firing('RingHeartbeatsFromTheFuture', rw + ing, { '{{ $value }}': '1' }),
        ]),
      ],
    },
    {
      name: 'RingUpdatesMissedByGossip: a high push/pull share fires; low shares, gossip-only and quiet rings do not',
      interval: '1m',
      input_series: [
        // ingester: 0.5/s via gossip and 0.5/s via push/pull: half the updates missed by gossip.
        series(n.updatesFirstSeen, rw + ing + { via: 'gossip' }, '0+30x40'),
        series(n.updatesFirstSeen, rw + ing + { via: 'pushpull' }, '0+30x40'),
        // distributor: 1/s gossip, 1/60 s push/pull: 1.6 %.
        series(n.updatesFirstSeen, rw + dist + { via: 'gossip' }, '0+60x40'),
        series(n.updatesFirstSeen, rw + dist + { via: 'pushpull' }, '0+1x40'),
        // store-gateway: no push/pull series at all.
        series(n.updatesFirstSeen, rw + sg + { via: 'gossip' }, '0+60x40'),
        // compactor: half by push/pull, but 2 updates a minute: too few to judge.
        series(n.updatesFirstSeen, rw + { name: 'compactor', key: 'collectors/compactor', via: 'gossip' }, '0+1x40'),
        series(n.updatesFirstSeen, rw + { name: 'compactor', key: 'collectors/compactor', via: 'pushpull' }, '0+1x40'),
      ],
      alert_rule_test: [
        check('RingUpdatesMissedByGossip', '15m'),  // true since 1m: 14m < 15m
        check('RingUpdatesMissedByGossip', '30m', [
          firing('RingUpdatesMissedByGossip', rw + { name: 'ingester' }, { '{{ $value | humanizePercentage }}': '50%' }),
        ]),
      ],
    },
    {
      name: 'RingConvergenceSlowDespiteRedundancy: slow with redundancy fires; slow without it or fast does not',
      interval: '1m',
      input_series: [
        // rw-0 ingester: every update takes between 1 s and 10 s (p99 9.91 s); 4 copies per update.
        series(n.updateConvergence + '_bucket', rw + { name: 'ingester', le: '1' }, '0x40'),
        series(n.updateConvergence + '_bucket', rw + { name: 'ingester', le: '10' }, '0+10x40'),
        series(n.updateConvergence + '_bucket', rw + { name: 'ingester', le: '+Inf' }, '0+10x40'),
        // rw-0 distributor: every update under 1 s.
        series(n.updateConvergence + '_bucket', rw + { name: 'distributor', le: '1' }, '0+10x40'),
        series(n.updateConvergence + '_bucket', rw + { name: 'distributor', le: '10' }, '0+10x40'),
        series(n.updateConvergence + '_bucket', rw + { name: 'distributor', le: '+Inf' }, '0+10x40'),
        series(n.updateDeliveries + '_sum', rw + { name: 'ingester' }, '0+40x40'),
        series(n.updateDeliveries + '_count', rw + { name: 'ingester' }, '0+10x40'),
        series(n.updateDeliveries + '_sum', rw + { name: 'distributor' }, '0+40x40'),
        series(n.updateDeliveries + '_count', rw + { name: 'distributor' }, '0+10x40'),
        // rw-1 ingester: as slow, but each update arrives once: more copies are needed, not faster rounds.
        series(n.updateConvergence + '_bucket', rw1 + { name: 'ingester', le: '1' }, '0x40'),
        series(n.updateConvergence + '_bucket', rw1 + { name: 'ingester', le: '10' }, '0+10x40'),
        series(n.updateConvergence + '_bucket', rw1 + { name: 'ingester', le: '+Inf' }, '0+10x40'),
        series(n.updateDeliveries + '_sum', rw1 + { name: 'ingester' }, '0+10x40'),
        series(n.updateDeliveries + '_count', rw1 + { name: 'ingester' }, '0+10x40'),
      ],
      alert_rule_test: [
        check('RingConvergenceSlowDespiteRedundancy', '15m'),
        check('RingConvergenceSlowDespiteRedundancy', '30m', [
          firing('RingConvergenceSlowDespiteRedundancy', rw + { name: 'ingester' },
                 { '{{ $value | humanizeDuration }}': '9.91s' }),
        ]),
      ],
    },
    {
      name: 'RingMembersWithoutGossipMember',
      interval: '1m',
      input_series: [
        series(n.ringMembersWithoutGossipMember, rw + ing, '0 1x30'),
        series(n.ringMembersWithoutGossipMember, rw + dist, '0x30'),
      ],
      alert_rule_test: [
        check('RingMembersWithoutGossipMember', '15m'),  // since 1m: 14m < 15m
        check('RingMembersWithoutGossipMember', '20m', [
          firing('RingMembersWithoutGossipMember', rw + ing, { '{{ $value }}': '1' }),
        ]),
      ],
    },
    {
      name: 'MemberlistForeignMembers: a jump of ring-less members fires; growth and a known high baseline do not',
      interval: '1m',
      input_series: [
        // rw-0: 3 ring-less members (queriers) for 2 h, then 12: another cluster merged in.
        series(n.gossipMembersWithoutRingInstance, rw, '3x120 12x20'),
        // rw-1: 3, then 6 (scaled up queriers): under 1.5 * 3 + 2.
        series(n.gossipMembersWithoutRingInstance, rw1, '3x120 6x20'),
        // rw-2: was 10 within the last day, now 12: under 1.5 * 10 + 2.
        series(n.gossipMembersWithoutRingInstance, { job: 'ringwatch', instance: 'rw-2:10946' }, '10x60 3x60 12x20'),
      ],
      alert_rule_test: [
        check('MemberlistForeignMembers', '120m'),
        check('MemberlistForeignMembers', '124m'),  // jumped at 121m: 3m < 5m
        check('MemberlistForeignMembers', '130m', [
          firing('MemberlistForeignMembers', rw, { '{{ $value }}': '12' }),
        ]),
      ],
    },
    {
      name: 'RingwatchDown',
      interval: '1m',
      input_series: [
        series('up', rw, '1 1 0x20'),
        series('up', rw1, '1x22'),
        series('up', { job: 'node', instance: 'n' }, '0x22'),
      ],
      alert_rule_test: [
        check('RingwatchDown', '6m'),
        check('RingwatchDown', '7m', [firing('RingwatchDown', rw, {})]),
      ],
    },
    {
      name: 'RingwatchNotReady',
      interval: '1m',
      input_series: [
        series(n.ready, rw, '0x30'),
        series(n.ready, rw1, '0 0 1x28'),
      ],
      alert_rule_test: [
        check('RingwatchNotReady', '9m'),
        check('RingwatchNotReady', '20m', [firing('RingwatchNotReady', rw, {})]),
      ],
    },
    {
      name: 'RingwatchRejectingInput: sustained rejections fire, per reason; stopped or no rejections do not',
      interval: '1m',
      input_series: [
        series(n.gossipRejected, rw + { reason: 'label' }, '0+60x40'),
        series(n.gossipRejected, rw + { reason: 'crc' }, '0x40'),
        series(n.gossipRejected, rw + { reason: 'decode' }, '0+60x10 600x30'),
      ],
      alert_rule_test: [
        check('RingwatchRejectingInput', '15m'),
        check('RingwatchRejectingInput', '30m', [
          firing('RingwatchRejectingInput', rw + { reason: 'label' }, { '{{ $value | humanize }}': '1' }),
        ]),
      ],
    },
    {
      name: 'RingwatchUndecodableKVUpdates',
      interval: '1m',
      input_series: [
        series(n.kvUpdates, rw + { outcome: 'unknown_codec' }, '0+30x40'),
        series(n.kvUpdates, rw + { outcome: 'decode_error' }, '0x40'),
        series(n.kvUpdates, rw + { outcome: 'changed' }, '0+600x40'),
      ],
      alert_rule_test: [
        check('RingwatchUndecodableKVUpdates', '15m'),
        check('RingwatchUndecodableKVUpdates', '30m', [
          firing('RingwatchUndecodableKVUpdates', rw + { outcome: 'unknown_codec' }, {}),
        ]),
      ],
    },
  ],
}
