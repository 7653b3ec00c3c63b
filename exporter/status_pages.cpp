#include "exporter/status_pages.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "exporter/collectors.h"
#include "exporter/exporter.h"
#include "ring/health.h"

namespace ringwatch {
namespace {

using nlohmann::json;

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string rfc3339(WallClock::time_point t) {
  if (t.time_since_epoch().count() == 0) return "";
  return fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::milliseconds>(t));
}

std::string rfc3339_seconds(int64_t unix_seconds) {
  if (unix_seconds == 0) return "";
  return rfc3339(WallClock::time_point(std::chrono::seconds(unix_seconds)));
}

double unix_now() { return std::chrono::duration<double>(WallClock::now().time_since_epoch()).count(); }

// One sortable table: clicking a header sorts by that column (numbers by data-v).
struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::pair<std::string, std::string>>> rows;  // (text, sort value or "")

  std::string html(const std::string& id) const {
    std::string out = "<table class=\"sortable\" id=\"" + escape(id) + "\"><thead><tr>";
    for (const auto& h : headers) out += "<th>" + escape(h) + "</th>";
    out += "</tr></thead><tbody>\n";
    for (const auto& r : rows) {
      out += "<tr>";
      for (const auto& [text, value] : r) {
        out += value.empty() ? "<td>" : "<td data-v=\"" + escape(value) + "\">";
        out += escape(text) + "</td>";
      }
      out += "</tr>\n";
    }
    return out + "</tbody></table>\n";
  }
};

std::pair<std::string, std::string> cell(std::string text) { return {std::move(text), ""}; }
std::pair<std::string, std::string> number(double v, const char* fmt_spec = "{:.3f}") {
  return {fmt::format(fmt::runtime(fmt_spec), v), fmt::format("{}", v)};
}

const char* const kSortScript = R"(<script>
document.querySelectorAll('table.sortable th').forEach(function (th) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.getAttribute('data-sort') !== 'asc';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-sort'); });
    th.setAttribute('data-sort', asc ? 'asc' : 'desc');
    var key = function (tr) {
      var td = tr.children[col];
      var v = td.hasAttribute('data-v') ? td.getAttribute('data-v') : td.textContent;
      var n = parseFloat(v);
      return isNaN(n) || !/^-?[0-9.eE+-]+$/.test(v) ? v : n;
    };
    Array.prototype.slice.call(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      var c = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === 'number' ? -1 : 1);
      return asc ? c : -c;
    }).forEach(function (tr) { body.appendChild(tr); });
  });
});
// Tells a headless browser (and the page test) that the script ran.
document.documentElement.setAttribute('data-sortable-tables', document.querySelectorAll('table.sortable').length);
</script>)";

HttpResponse page(const std::string& title, const std::string& content) {
  std::string body = fmt::format(R"(<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>ringwatch: {0}</title>
<style>
body{{font-family:sans-serif;margin:1.5em}} table{{border-collapse:collapse;margin-bottom:1.5em}}
th,td{{border:1px solid #ccc;padding:.2em .5em;text-align:left}} th{{background:#eee;cursor:pointer}}
th[data-sort=asc]::after{{content:" \25B2"}} th[data-sort=desc]::after{{content:" \25BC"}}
td[data-v]{{text-align:right}} .note{{color:#555;max-width:60em}}
</style></head>
<body>
<p><a href="/">ringwatch</a> · <a href="/ring">rings</a> · <a href="/memberlist">memberlist</a> · <a href="/propagation">propagation</a> · <a href="?format=json">JSON</a></p>
<h1>{0}</h1>
<p class="note">Generated at {1}.</p>
{2}
{3}
</body>
</html>
)",
                                 escape(title), rfc3339(WallClock::now()), content, kSortScript);
  return {200, "text/html; charset=utf-8", body};
}

HttpResponse json_response(const json& j) { return {200, "application/json", j.dump(2) + "\n"}; }

bool wants_json(const HttpRequest& r) { return r.param("format") == "json"; }

}  // namespace

HttpResponse StatusPages::ring(const HttpRequest& request) const {
  auto snap = observer_.snapshot();
  const auto now = WallClock::now();
  json rings = json::array();
  std::string html;
  for (const auto& key : snap->keys) {
    if (!key.ring && !key.partition_ring) continue;
    json r{{"key", key.key}, {"name", key.ring_name}, {"codec", key.codec}};
    html += fmt::format("<h2>{} <small>(key <code>{}</code>)</small></h2>\n", escape(key.ring_name), escape(key.key));
    if (key.ring) {
      const auto timeout = rings_.heartbeat_timeout_for(key.key);
      const auto own = ring::compute_ownership(*key.ring);
      r["heartbeat_timeout_seconds"] = std::chrono::duration<double>(timeout).count();
      r["tombstones"] = key.ring->tombstones;
      r["tokens"] = key.ring->tokens;
      Table t{{"Instance ID", "Zone", "State", "Address", "Registered At", "Last Heartbeat", "Heartbeat Age (s)",
               "Tokens", "Ownership (%)", "Read-Only"},
              {}};
      json instances = json::array();
      for (size_t i = 0; i < key.ring->instances.size(); ++i) {
        const auto& inst = *key.ring->instances[i];
        const auto& d = inst.desc;
        const std::string state = ring::ring_page_state(d, now, timeout);
        const double age = unix_now() - static_cast<double>(d.timestamp);
        const double percent = own.instances[i].percent;
        instances.push_back({{"id", inst.id},
                             {"zone", d.zone},
                             {"state", state},
                             {"address", d.addr},
                             {"registered_timestamp", rfc3339_seconds(d.registered_timestamp)},
                             {"timestamp", rfc3339_seconds(d.timestamp)},
                             {"heartbeat_age_seconds", age},
                             {"tokens", d.tokens.size()},
                             {"ownership_percent", percent},
                             {"read_only", d.read_only}});
        t.rows.push_back({cell(inst.id), cell(d.zone), cell(state), cell(d.addr),
                          cell(rfc3339_seconds(d.registered_timestamp)), cell(rfc3339_seconds(d.timestamp)),
                          number(age, "{:.0f}"), number(static_cast<double>(d.tokens.size()), "{:.0f}"),
                          number(percent, "{:.3g}"), cell(d.read_only ? "yes" : "no")});
      }
      r["instances"] = std::move(instances);
      Table z{{"Zone", "Instances", "Tokens", "Ownership (%)"}, {}};
      json zones = json::array();
      for (const auto& zone : own.zones) {
        zones.push_back({{"zone", zone.zone}, {"instances", zone.instances}, {"tokens", zone.tokens},
                         {"ownership_percent", zone.percent}});
        z.rows.push_back({cell(zone.zone), number(static_cast<double>(zone.instances), "{:.0f}"),
                          number(static_cast<double>(zone.tokens), "{:.0f}"), number(zone.percent, "{:.3g}")});
      }
      r["zones"] = std::move(zones);
      html += fmt::format("<p>{} instances, {} tokens, {} LEFT tombstones held; heartbeat timeout {:.0f} s.</p>\n",
                          key.ring->instances.size(), key.ring->tokens, key.ring->tombstones,
                          std::chrono::duration<double>(timeout).count());
      html += t.html("ring-" + key.key) + "<h3>Zones</h3>\n" + z.html("zones-" + key.key);
    }
    if (key.partition_ring) {
      Table p{{"Partition", "State", "State Changed", "Owners", "Tokens"}, {}};
      json partitions = json::array();
      for (const auto& [id, part] : key.partition_ring->partitions) {
        std::string owners;
        json owner_list = json::array();
        for (const auto& [owner, o] : key.partition_ring->owners) {
          if (o.owned_partition != id) continue;
          owners += (owners.empty() ? "" : ", ") + owner;
          owner_list.push_back(owner);
        }
        static const char* kStates[] = {"Unknown", "Pending", "Active", "Inactive", "Deleted"};
        const auto s = static_cast<size_t>(part.state);
        const std::string state = s < 5 ? kStates[s] : "Unknown";
        partitions.push_back({{"id", id}, {"state", state}, {"state_timestamp", rfc3339_seconds(part.state_timestamp)},
                              {"owners", owner_list}, {"tokens", part.tokens.size()}});
        p.rows.push_back({number(id, "{:.0f}"), cell(state), cell(rfc3339_seconds(part.state_timestamp)), cell(owners),
                          number(static_cast<double>(part.tokens.size()), "{:.0f}")});
      }
      r["partitions"] = std::move(partitions);
      html += p.html("partitions-" + key.key);
    }
    rings.push_back(std::move(r));
  }
  if (wants_json(request)) return json_response({{"now", rfc3339(now)}, {"rings", rings}});
  if (rings.empty()) html = "<p>No ring received yet: ringwatch has not merged a full state of the cluster.</p>";
  return page("Rings", html);
}

HttpResponse StatusPages::memberlist(const HttpRequest& request) const {
  auto members = member_.snapshot();
  auto snap = observer_.snapshot();
  static const char* kStates[] = {"alive", "suspect", "dead", "left"};
  Table m{{"Name", "Address", "State", "Incarnation", "State Changed"}, {}};
  json mj = json::array();
  for (const auto& v : members->members) {
    const std::string state = kStates[static_cast<size_t>(v.state) & 3];
    const std::string addr = fmt::format("{}:{}", v.address, v.port);
    mj.push_back({{"name", v.name}, {"address", addr}, {"state", state}, {"incarnation", v.incarnation},
                  {"state_changed", rfc3339(v.state_changed)}});
    m.rows.push_back({cell(v.name + (v.name == members->self_name ? " (ringwatch)" : "")), cell(addr), cell(state),
                      number(v.incarnation, "{:.0f}"), cell(rfc3339(v.state_changed))});
  }
  Table k{{"Key", "Codec", "Version", "Deleted", "Size (bytes)", "Last Update", "Source", "From"}, {}};
  json kj = json::array();
  for (const auto& key : snap->keys) {
    kj.push_back({{"key", key.key},
                  {"codec", key.codec},
                  {"known_codec", key.kind != ring::Codec::unknown},
                  {"version", key.version},
                  {"deleted", key.deleted},
                  {"size_bytes", key.last_full_value_bytes},
                  {"last_update", rfc3339(key.last_update)},
                  {"source", ring::source_name(key.last_source)},
                  {"peer", key.last_peer}});
    k.rows.push_back({cell(key.key), cell(key.codec + (key.kind == ring::Codec::unknown ? " (unknown)" : "")),
                      number(static_cast<double>(key.version), "{:.0f}"), cell(key.deleted ? "yes" : "no"),
                      number(static_cast<double>(key.last_full_value_bytes), "{:.0f}"), cell(rfc3339(key.last_update)),
                      cell(ring::source_name(key.last_source)), cell(key.last_peer)});
  }
  if (wants_json(request)) {
    return json_response({{"self", members->self_name}, {"members", mj}, {"keys", kj}});
  }
  return page("Memberlist", fmt::format("<h2>Cluster members</h2>\n<p>{} members as {} sees them.</p>\n{}<h2>KV store</h2>\n{}",
                                        members->members.size(), escape(members->self_name), m.html("members"),
                                        k.html("keys")));
}

HttpResponse StatusPages::propagation(const HttpRequest& request) const {
  if (tracker_ == nullptr) return {404, "text/plain; charset=utf-8", "Propagation is not measured.\n"};
  auto prop = tracker_->snapshot(true);
  const bool multi = prop.probes > 1;
  auto slowness = [&](const UpdateRecord& u) { return multi && u.convergence ? *u.convergence : u.delay; };
  std::sort(prop.recent.begin(), prop.recent.end(),
            [&](const UpdateRecord& a, const UpdateRecord& b) { return slowness(a) > slowness(b); });
  constexpr size_t kSlowest = 100;
  if (prop.recent.size() > kSlowest) prop.recent.resize(kSlowest);

  auto mean = [](const Histogram& h) { return h.count() ? h.sum() / static_cast<double>(h.count()) : 0.0; };
  Table rings{{"Ring", "Key", "Period (s)", "Heartbeats", "Mean Delay (s)", "Mean Excess (s)", "Converged",
               "Mean Convergence (s)", "First Seen by Gossip", "First Seen by Push/Pull"},
              {}};
  json rj = json::array();
  Table members{{"Ring", "Instance", "Heartbeats", "Min Delay (s)", "Last Delay (s)", "Last Excess (s)",
                 "Median Recent Excess (s)"},
                {}};
  json mj = json::array();
  for (const auto& r : prop.rings) {
    rj.push_back({{"key", r.key},
                  {"name", r.name},
                  {"period_seconds", r.period ? json(*r.period) : json(nullptr)},
                  {"heartbeats", r.delay.count()},
                  {"mean_delay_seconds", mean(r.delay)},
                  {"mean_excess_seconds", mean(r.excess)},
                  {"converged", r.convergence.count()},
                  {"mean_convergence_seconds", mean(r.convergence)},
                  {"first_seen_gossip", r.first_seen[0]},
                  {"first_seen_pushpull", r.first_seen[1]}});
    rings.rows.push_back({cell(r.name), cell(r.key), r.period ? number(*r.period) : cell(""),
                          number(static_cast<double>(r.delay.count()), "{:.0f}"), number(mean(r.delay)),
                          number(mean(r.excess)), number(static_cast<double>(r.convergence.count()), "{:.0f}"),
                          number(mean(r.convergence)), number(static_cast<double>(r.first_seen[0]), "{:.0f}"),
                          number(static_cast<double>(r.first_seen[1]), "{:.0f}")});
    for (const auto& m : r.members) {
      std::vector<double> ex = m.recent_excess;
      std::optional<double> median;
      if (!ex.empty()) {
        std::nth_element(ex.begin(), ex.begin() + static_cast<std::ptrdiff_t>(ex.size() / 2), ex.end());
        median = ex[ex.size() / 2];
      }
      mj.push_back({{"key", r.key},
                    {"name", r.name},
                    {"instance", m.instance},
                    {"heartbeats", m.heartbeats},
                    {"minimum_delay_seconds", m.minimum_delay ? json(*m.minimum_delay) : json(nullptr)},
                    {"recent_delays_seconds", m.recent_delays},
                    {"recent_excess_seconds", m.recent_excess}});
      members.rows.push_back({cell(r.name), cell(m.instance), number(static_cast<double>(m.heartbeats), "{:.0f}"),
                              m.minimum_delay ? number(*m.minimum_delay) : cell(""),
                              m.recent_delays.empty() ? cell("") : number(m.recent_delays.back()),
                              m.recent_excess.empty() ? cell("") : number(m.recent_excess.back()),
                              median ? number(*median) : cell("")});
    }
  }
  Table slow{{"Ring", "Instance", "Heartbeat", "First Arrival", "Delay (s)", "Excess (s)", "Via", "First Probe",
              "Last Probe", "Convergence (s)"},
             {}};
  json sj = json::array();
  for (const auto& u : prop.recent) {
    sj.push_back({{"key", u.key},
                  {"name", u.name},
                  {"instance", u.instance},
                  {"timestamp", rfc3339_seconds(u.timestamp)},
                  {"first_arrival", rfc3339(u.first_arrival)},
                  {"delay_seconds", u.delay},
                  {"excess_seconds", u.excess ? json(*u.excess) : json(nullptr)},
                  {"via", ring::source_name(u.via)},
                  {"first_probe", u.first_probe},
                  {"last_probe", u.last_probe ? json(*u.last_probe) : json(nullptr)},
                  {"convergence_seconds", u.convergence ? json(*u.convergence) : json(nullptr)}});
    slow.rows.push_back({cell(u.name), cell(u.instance), cell(rfc3339_seconds(u.timestamp)), cell(rfc3339(u.first_arrival)),
                         number(u.delay), u.excess ? number(*u.excess) : cell(""), cell(ring::source_name(u.via)),
                         number(static_cast<double>(u.first_probe), "{:.0f}"),
                         u.last_probe ? number(static_cast<double>(*u.last_probe), "{:.0f}") : cell(""),
                         u.convergence ? number(*u.convergence) : cell("")});
  }
  if (wants_json(request)) {
    return json_response({{"probes", prop.probes}, {"rings", rj}, {"members", mj}, {"slowest_updates", sj},
                          {"beacons_measured", prop.beacons_measured}});
  }
  std::string html = fmt::format(
      "<p class=\"note\">{} probe(s). Delays are arrival time minus the heartbeat's whole-second timestamp: they include "
      "the writer's sub-second phase and clock skew; excess delays subtract each instance's rolling minimum and "
      "cancel both. {}</p>\n<h2>Rings</h2>\n{}<h2>Slowest recent updates</h2>\n{}<h2>Instances</h2>\n{}",
      prop.probes,
      multi ? "Convergence is the time from the first probe's receipt of an update to the last one's, on one clock."
            : "Run with -probes=3 to measure convergence across independent members.",
      rings.html("rings"), slow.html("slowest"), members.html("instances"));
  return page("Propagation", html);
}

void add_status_pages(Exporter& exporter, const StatusPages& pages) {
  exporter.add_page("/ring", "Rings", [&pages](const HttpRequest& r) { return pages.ring(r); });
  exporter.add_page("/memberlist", "Memberlist", [&pages](const HttpRequest& r) { return pages.memberlist(r); });
  exporter.add_page("/propagation", "Propagation", [&pages](const HttpRequest& r) { return pages.propagation(r); });
}

}  // namespace ringwatch
