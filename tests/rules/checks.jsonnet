// Static checks of the mixin, evaluated by tests/rules/check.sh (jsonnet fails on any assert):
//  - every alert has a runbook_url whose anchor is the GitHub anchor of a "## <alert>" section of
//    docs/runbook.md, and every "## " section of the runbook is an alert;
//  - every alert is tested firing (non-empty exp_alerts) and not firing (empty exp_alerts);
//  - every dashboard has the datasource, job and instance variables (ring on ring dashboards),
//    schemaVersion >= 39, and every panel a description and PromQL targets.
// Output: every dashboard expression as a recording rule (variables substituted), so that
// `promtool check rules` parses them offline.
local mixin = import '../../dashboards/mixin.libsonnet';
local tests = import 'ringwatch-alerts.test.jsonnet';
local runbook = importstr '../../docs/runbook.md';

local alerts = [r for g in mixin.prometheusAlerts.groups for r in g.rules];
local names = [a.alert for a in alerts];

// GitHub's heading anchors: lower case, punctuation other than '-' and '_' dropped, spaces to '-'.
local slug(h) = std.join('', [
  if c == ' ' then '-' else c
  for c in std.stringChars(std.asciiLower(h))
  if std.member('abcdefghijklmnopqrstuvwxyz0123456789-_ ', c)
]);
local sections = [
  std.stripChars(std.substr(l, 3, std.length(l) - 3), ' ')
  for l in std.split(runbook, '\n')
  if std.startsWith(l, '## ')
];
local anchors = [slug(s) for s in sections];

local checkAlert(a) =
  local url = a.annotations.runbook_url;
  local parts = std.split(url, '#');
  assert std.length(parts) == 2 : '%s: runbook_url without anchor: %s' % [a.alert, url];
  assert std.member(anchors, parts[1]) : '%s: runbook anchor #%s is not a section of docs/runbook.md' % [a.alert, parts[1]];
  assert parts[1] == slug(a.alert) : '%s: runbook anchor #%s is not the alert\'s own section' % [a.alert, parts[1]];
  local checks = [c for t in tests.tests for c in t.alert_rule_test if c.alertname == a.alert];
  assert std.length([c for c in checks if std.length(c.exp_alerts) > 0]) > 0 : '%s: no test where it fires' % a.alert;
  assert std.length([c for c in checks if std.length(c.exp_alerts) == 0]) > 0 : '%s: no test where it does not fire' % a.alert;
  assert std.objectHas(a.annotations, 'summary') && std.objectHas(a.annotations, 'description') : a.alert;
  true;

local checkSection(s) =
  assert std.member(names, s) : 'docs/runbook.md section "## %s" is not an alert' % s;
  true;

local substitute(expr) = std.foldl(function(e, kv) std.strReplace(e, kv[0], kv[1]),
                                   [['$__rate_interval', '1m'], ['$job', '.+'], ['$instance', '.+'], ['$ring', '.+']], expr);

local checkDashboard(file, d) =
  local vars = [v.name for v in d.templating.list];
  local ringMetrics = std.length([p for p in d.panels if p.type != 'row' && std.length(std.findSubstr('$ring', std.manifestJson(p.targets))) > 0]) > 0;
  assert d.schemaVersion >= 39 : file;
  assert std.member(vars, 'datasource') && std.member(vars, 'job') && std.member(vars, 'instance') : file + ': variables ' + std.manifestJson(vars);
  assert !ringMetrics || std.member(vars, 'ring') : file + ': uses $ring without a ring variable';
  assert std.length(std.set([d.uid for d in std.objectValues(mixin.grafanaDashboards)])) == std.length(mixin.grafanaDashboards) : 'duplicate uid';
  [
    assert p.description != '' : '%s: panel "%s" has no description' % [file, p.title];
    assert std.length(p.targets) > 0 : '%s: panel "%s" has no query' % [file, p.title];
    assert p.datasource.uid == '${datasource}' : '%s: panel "%s" does not use $datasource' % [file, p.title];
    { record: 'dashboard_expr', expr: substitute(p.targets[i].expr), labels: { panel: p.title, dashboard: file, target: std.toString(i) } }
    for p in d.panels
    if p.type != 'row'
    for i in std.range(0, std.length(p.targets) - 1)
  ];

assert std.length(alerts) > 0;
assert std.length([a for a in alerts if !checkAlert(a)]) == 0;
assert std.length([s for s in sections if !checkSection(s)]) == 0;
assert std.length(std.set(names)) == std.length(names) : 'duplicate alert names';
{
  groups: [{
    name: 'dashboard-expressions',
    rules: std.flattenArrays([checkDashboard(f, mixin.grafanaDashboards[f]) for f in std.objectFields(mixin.grafanaDashboards)]),
  }],
}
