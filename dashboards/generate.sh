#!/usr/bin/env bash
# Compiles the ringwatch monitoring mixin (dashboards/mixin.libsonnet) with Debian's jsonnet:
#   dashboards/<name>.json          Grafana dashboards (grafanaDashboards)
#   alerts/ringwatch-alerts.yaml    Prometheus alerting rules (prometheusAlerts)
#   tests/e2e/alert-signals.json    per alert, the expressions its condition is built from
#   tests/rules/ringwatch-alerts.test.yaml   promtool unit tests (from tests/rules/*.jsonnet)
# Usage: dashboards/generate.sh [output root]   (default: the repository; tests/rules/check.sh
# generates into a temporary root and diffs it against the checked-in files).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$here}"
command -v jsonnet >/dev/null || { echo "generate: jsonnet not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$out/dashboards" "$out/alerts" "$out/tests/e2e"
cd "$here/dashboards"
header='# Generated from dashboards/mixin.libsonnet by dashboards/generate.sh. Do not edit.'
for f in $(jsonnet -S -e 'std.join("\n", std.objectFields((import "mixin.libsonnet").grafanaDashboards))'); do
  jsonnet -e "(import 'mixin.libsonnet').grafanaDashboards['$f']" > "$out/dashboards/$f"
done
{
  echo "$header"
  jsonnet -S -e 'std.manifestYamlDoc((import "mixin.libsonnet").prometheusAlerts, quote_keys=false)'
} > "$out/alerts/ringwatch-alerts.yaml"
jsonnet -e '(import "mixin.libsonnet").alertSignals' > "$out/tests/e2e/alert-signals.json"
mkdir -p "$out/tests/rules"
{
  echo '# Generated from tests/rules/ringwatch-alerts.test.jsonnet by dashboards/generate.sh. Do not edit.'
  jsonnet -S -e 'std.manifestYamlDoc(import "../tests/rules/ringwatch-alerts.test.jsonnet", quote_keys=false)'
} > "$out/tests/rules/ringwatch-alerts.test.yaml"
