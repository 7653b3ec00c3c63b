// A small Grafana dashboard builder (no grafonnet: Debian ships none). Produces JSON for
// schemaVersion 39 (Grafana 11). Panels are laid out left to right, top to bottom.
{
  schemaVersion:: 39,

  datasourceRef:: { type: 'prometheus', uid: '${datasource}' },

  target(expr, legend='', instant=false):: {
    datasource: $.datasourceRef,
    expr: expr,
    legendFormat: legend,
    range: !instant,
    instant: instant,
  },

  // A time series panel. `targets` is a list of target() objects; `description` must say what a
  // bad value means and what to do (tests/rules/check.sh fails on a panel without one).
  timeseries(title, description, targets, unit='short', w=12, h=8, stack=false, min=null):: {
    type: 'timeseries',
    title: title,
    description: description,
    datasource: $.datasourceRef,
    targets: targets,
    gridPos: { w: w, h: h },
    fieldConfig: {
      defaults: {
        unit: unit,
        [if min != null then 'min']: min,
        custom: {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: if stack then 30 else 10,
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: if stack then 'normal' else 'none', group: 'A' },
        },
      },
      overrides: [],
    },
    options: {
      legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  },

  stat(title, description, targets, unit='short', w=6, h=4, thresholds=null):: {
    type: 'stat',
    title: title,
    description: description,
    datasource: $.datasourceRef,
    targets: [t { instant: true, range: false } for t in targets],
    gridPos: { w: w, h: h },
    fieldConfig: {
      defaults: {
        unit: unit,
        thresholds: if thresholds != null then thresholds else {
          mode: 'absolute',
          steps: [{ color: 'green', value: null }],
        },
      },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'none',
      textMode: 'auto',
    },
  },

  row(title):: {
    type: 'row',
    title: title,
    collapsed: false,
    panels: [],
    gridPos: { w: 24, h: 1 },
  },

  // Assigns ids and positions: rows take a full line; other panels fill 24 columns.
  layout(panels)::
    local step(acc, p) =
      local w = p.gridPos.w;
      local h = p.gridPos.h;
      local wrap = p.type == 'row' || acc.x + w > 24;
      local x = if wrap then 0 else acc.x;
      local y = if wrap then acc.y + acc.rowH else acc.y;
      {
        x: if p.type == 'row' then 24 else x + w,
        y: y,
        rowH: if wrap then h else std.max(acc.rowH, h),
        out: acc.out + [p { id: std.length(acc.out) + 1, gridPos: { x: x, y: y, w: w, h: h } }],
      };
    std.foldl(step, panels, { x: 0, y: 0, rowH: 0, out: [] }).out,

  datasourceVariable:: {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    hide: 0,
    refresh: 1,
    regex: '',
    options: [],
  },

  queryVariable(name, label, query, multi=true, includeAll=true, allValue='.+'):: {
    name: name,
    label: label,
    type: 'query',
    datasource: $.datasourceRef,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: query,
    current: {},
    hide: 0,
    refresh: 2,  // on time range change
    regex: '',
    sort: 1,
    multi: multi,
    includeAll: includeAll,
    [if includeAll then 'allValue']: allValue,
    options: [],
  },

  dashboard(title, uid, description, tags, variables, panels, refresh='30s', from='now-3h'):: {
    title: title,
    uid: uid,
    description: description,
    tags: tags,
    editable: true,
    graphTooltip: 1,
    schemaVersion: $.schemaVersion,
    version: 1,
    refresh: refresh,
    time: { from: from, to: 'now' },
    timepicker: {},
    timezone: 'utc',
    annotations: { list: [] },
    links: [],
    templating: { list: [$.datasourceVariable] + variables },
    panels: $.layout(panels),
  },
}
