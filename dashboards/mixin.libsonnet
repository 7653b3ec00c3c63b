// ringwatch monitoring mixin: grafanaDashboards, prometheusAlerts, prometheusRules.
// Compiled output is checked in (dashboards/*.json, alerts/ringwatch-alerts.yaml); regenerate
// with dashboards/generate.sh after any change (tests/rules/check.sh fails when out of sync).
(import 'config.libsonnet')
+ (import '../alerts/alerts.libsonnet')
+ (import 'dashboards.libsonnet')
+ {
  // No recording rules: every expression reads ringwatch's series directly.
  prometheusRules+:: { groups+: [] },
}
