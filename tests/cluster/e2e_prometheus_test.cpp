// End to end: a real Prometheus server (Debian's, on loopback, 1 s scrape and rule evaluation,
// the shipped rule files loaded) scrapes the ringwatch binary while it observes a cluster of Go
// memberlist peers. Every PromQL expression of every dashboard panel (and of the dashboards'
// variables) and every alert's signals (tests/e2e/alert-signals.json: the expressions an alert's
// condition is built from) must return data through Prometheus's HTTP API; every rule expression
// must evaluate without error. Then a killed member must bring RingMembersUnhealthy to pending or
// firing in /api/v1/alerts. On failure the test lists exactly which expressions lacked data.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/go_cluster.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"
#include "tests/support/test_logs.h"

namespace ringwatch::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto kHeartbeatTimeout = 4s;  // ringwatch's -ring.heartbeat-timeout: a killed peer turns Unhealthy fast
constexpr auto kDataDeadline = 150s;    // for every expression to return data
const std::string kJob = "ringwatch";

std::string find_prometheus() {
  if (const char* env = std::getenv("RINGWATCH_PROMETHEUS_BIN"); env && *env) return env;
  for (const char* p : {"/usr/bin/prometheus", "/usr/local/bin/prometheus"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

// Grafana's variables as a dashboard with "All" selected would send them.
std::string substitute_variables(std::string expr) {
  expr = replace_all(expr, "$__rate_interval", "10s");
  expr = replace_all(expr, "$__interval", "1s");
  expr = replace_all(expr, "$job", kJob);
  expr = replace_all(expr, "$instance", ".+");
  expr = replace_all(expr, "$ring", ".+");
  return expr;
}

struct Expression {
  std::string origin;  // "dashboard ringwatch-overview.json, panel \"...\"" or "alert X"
  std::string expr;
  bool needs_data = true;  // false: the expression of an alerting rule (empty while all is well)
};

std::vector<Expression> dashboard_expressions(const std::string& dir) {
  std::vector<Expression> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    json d = json::parse(read_file(f));
    const std::string name = f.filename().string();
    for (const auto& v : d["templating"]["list"]) {
      if (v.value("type", "") != "query") continue;
      // label_values(<series selector>, <label>): the selector must match series.
      std::string q = v["query"].is_object() ? v["query"].value("query", "") : v["query"].get<std::string>();
      const std::string prefix = "label_values(";
      if (q.rfind(prefix, 0) == 0) {
        q = q.substr(prefix.size(), q.rfind(',') - prefix.size());
      }
      out.push_back({"dashboard " + name + ", variable $" + v.value("name", ""), substitute_variables(q)});
    }
    for (const auto& p : d["panels"]) {
      if (p.value("type", "") == "row") continue;
      for (const auto& t : p.value("targets", json::array())) {
        out.push_back({"dashboard " + name + ", panel \"" + p.value("title", "") + "\" " + t.value("legendFormat", ""),
                       substitute_variables(t.value("expr", ""))});
      }
    }
  }
  return out;
}

struct QueryResult {
  bool ok = false;
  std::string error;
  size_t series = 0;      // samples that are numbers
  size_t nan_series = 0;  // samples that are NaN (e.g. histogram_quantile without observations)
};

class E2EPrometheus : public ::testing::Test {
 protected:
  void SetUp() override {
    logs_ = log_dir_for_test();
    fs::remove_all(logs_);
    fs::create_directories(logs_);
    prometheus_bin_ = find_prometheus();
    ASSERT_FALSE(prometheus_bin_.empty())
        << "prometheus not found (Debian's prometheus package, scripts/install-deps.sh, or RINGWATCH_PROMETHEUS_BIN)";
    ringwatch_bin_ = std::string(RINGWATCH_BINARY_DIR) + "/ringwatch";
    ASSERT_EQ(access(ringwatch_bin_.c_str(), X_OK), 0) << ringwatch_bin_;
  }

  QueryResult query(const std::string& expr) {
    HttpRequestOptions o;
    o.method = "POST";
    o.body = "query=" + url_encode(expr);
    o.headers["Content-Type"] = "application/x-www-form-urlencoded";
    o.timeout = 10s;
    auto r = http_request("127.0.0.1", prometheus_port_, "/api/v1/query", o);
    QueryResult q;
    if (r.status == 0) {
      q.error = "request failed: " + r.error;
      return q;
    }
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") {
      q.error = "HTTP " + std::to_string(r.status) + ": " + r.body;
      return q;
    }
    q.ok = true;
    const auto& data = j["data"];
    auto count = [&](const json& value) {
      const std::string v = value.at(1).get<std::string>();
      (v == "NaN" ? q.nan_series : q.series)++;
    };
    if (data["resultType"] == "vector") {
      for (const auto& s : data["result"]) count(s["value"]);
    } else if (data["resultType"] == "scalar") {
      count(data["result"]);
    } else if (data["resultType"] == "matrix") {
      for (const auto& s : data["result"]) {
        if (!s["values"].empty()) count(s["values"].back());
      }
    }
    return q;
  }

  json alerts() {
    auto r = http_request("127.0.0.1", prometheus_port_, "/api/v1/alerts");
    auto j = json::parse(r.body, nullptr, false);
    if (r.status != 200 || j.is_discarded()) return json::array();
    return j["data"]["alerts"];
  }

  // Alerts named `name` in state pending or firing.
  std::vector<json> active(const std::string& name) {
    std::vector<json> out;
    for (const auto& a : alerts()) {
      if (a["labels"].value("alertname", "") == name &&
          (a.value("state", "") == "pending" || a.value("state", "") == "firing")) {
        out.push_back(a);
      }
    }
    return out;
  }

  std::string process_logs() {
    std::string out;
    for (const char* f : {"ringwatch.log", "prometheus.log"}) {
      std::string text = read_file(logs_ + "/" + f);
      if (text.size() > 4000) text = "..." + text.substr(text.size() - 4000);
      out += "==== " + logs_ + "/" + f + "\n" + text + "\n";
    }
    return out;
  }

  std::string logs_;
  std::string prometheus_bin_;
  std::string ringwatch_bin_;
  uint16_t prometheus_port_ = 0;
};

TEST_F(E2EPrometheus, EveryPanelAndRuleReturnsDataAndAKilledMemberRaisesUnhealthy) {
  const std::string src = RINGWATCH_SOURCE_DIR;

  // The Go cluster: three nodes in three zones, all ingesters, two also distributors; as in dskit,
  // a node's instance id is its memberlist node name. Every node runs the propagation delay
  // tracker (a beacon every 2 s), so the beacon delay histogram gets observations.
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), logs_);
  const char* zones[] = {"zone-a", "zone-b", "zone-c"};
  cluster.start(
      3,
      [&](size_t i) {
        GoPeerOptions o;
        o.name = "node-" + std::to_string(i);
        o.pullpush_interval = 2s;
        // dskit's propagation delay tracker: beacons for memberlist_propagation_beacon_delay_seconds.
        o.extra_args.push_back("-beacon-interval=2s");
        o.rings.push_back("key=collectors/ring,id=" + o.name + ",zone=" + zones[i] + ",tokens=16,period=1s");
        if (i < 2) {
          o.rings.push_back("key=collectors/distributor,id=" + o.name + ",zone=" + zones[i] + ",tokens=4,period=1s");
        }
        return o;
      },
      "node");
  ASSERT_TRUE(cluster.wait_members_alive({0, 1, 2}, 30s)) << cluster.logs_tail();

  // ringwatch, with K=3 probes when this build has -probes (for ring_update_convergence_seconds).
  const uint16_t ringwatch_port = free_tcp_port();
  std::vector<std::string> args = {ringwatch_bin_,
                                    "-memberlist.nodename=ringwatch",
                                    "-memberlist.bind-addr=127.0.0.1",
                                    "-memberlist.bind-port=0",
                                    "-memberlist.join=" + cluster[0].gossip_address(),
                                    "-memberlist.pullpush-interval=2s",
                                    "-memberlist.gossip-interval=100ms",
                                    "-memberlist.probe-interval=1s",
                                    "-memberlist.probe-timeout=500ms",
                                    "-ring.heartbeat-timeout=" + std::to_string(kHeartbeatTimeout.count()) + "s",
                                    "-web.listen-address=127.0.0.1:" + std::to_string(ringwatch_port)};
  {
    Process help({ringwatch_bin_, "-help"}, logs_ + "/ringwatch-help.txt");
    ASSERT_TRUE(help.wait(10s).has_value());
    if (help.output().find("-probes") != std::string::npos) args.push_back("-probes=3");
  }
  Process ringwatch(args, logs_ + "/ringwatch.log");
  ASSERT_TRUE(wait_until([&] { return http_request("127.0.0.1", ringwatch_port, "/-/ready").status == 200; }, 30s,
                         100ms))
      << "ringwatch not ready\n"
      << process_logs();

  // Prometheus: 1 s scrape and evaluation, the shipped rule files, TSDB in the log directory.
  prometheus_port_ = free_tcp_port();
  std::vector<std::string> rule_files;
  for (const auto& e : fs::directory_iterator(src + "/alerts")) {
    if (e.path().extension() == ".yaml" || e.path().extension() == ".yml") rule_files.push_back(e.path().string());
  }
  std::sort(rule_files.begin(), rule_files.end());
  ASSERT_FALSE(rule_files.empty());
  {
    std::ofstream cfg(logs_ + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        << "rule_files:\n";
    for (const auto& f : rule_files) cfg << "  - " << f << "\n";
    cfg << "scrape_configs:\n  - job_name: " << kJob << "\n    static_configs:\n      - targets: ['127.0.0.1:"
        << ringwatch_port << "']\n";
  }
  Process prometheus({prometheus_bin_, "--config.file=" + logs_ + "/prometheus.yml",
                      "--storage.tsdb.path=" + logs_ + "/tsdb",
                      "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_), "--log.level=warn"},
                     logs_ + "/prometheus.log");
  ASSERT_TRUE(wait_until([&] { return query("up{job=\"" + kJob + "\"} == 1").series == 1; }, 30s, 200ms))
      << "Prometheus never scraped ringwatch\n"
      << process_logs();

  // Every rule of every rule file: its expression must evaluate; an alert's signals must return data.
  json signals = json::parse(read_file(src + "/tests/e2e/alert-signals.json"));
  std::vector<Expression> expressions = dashboard_expressions(src + "/dashboards");
  size_t alerts_seen = 0;
  for (const auto& f : rule_files) {
    YAML::Node doc = YAML::LoadFile(f);
    for (const auto& group : doc["groups"]) {
      for (const auto& rule : group["rules"]) {
        const bool is_alert = static_cast<bool>(rule["alert"]);
        const std::string name = is_alert ? rule["alert"].as<std::string>() : rule["record"].as<std::string>();
        expressions.push_back({(is_alert ? "alert " : "record ") + name, rule["expr"].as<std::string>(), !is_alert});
        if (!is_alert) continue;
        ++alerts_seen;
        ASSERT_TRUE(signals.contains(name)) << "alert " << name << " has no entry in tests/e2e/alert-signals.json "
                                            << "(regenerate with dashboards/generate.sh)";
        for (const auto& s : signals[name]) expressions.push_back({"alert " + name + " signal", s.get<std::string>()});
      }
    }
  }
  ASSERT_GT(alerts_seen, 0u);

  // Poll until everything returns data or the deadline passes (rates need a few scrapes, histograms
  // their first observations); then report exactly what lacked data.
  std::vector<std::string> problems;
  wait_until(
      [&] {
        problems.clear();
        for (const auto& e : expressions) {
          auto r = query(e.expr);
          if (!r.ok) {
            problems.push_back(e.origin + ": ERROR " + r.error + "\n    " + e.expr);
          } else if (e.needs_data && r.series == 0) {
            problems.push_back(e.origin + (r.nan_series ? ": only NaN" : ": no data") + "\n    " + e.expr);
          }
        }
        return problems.empty();
      },
      kDataDeadline, 2s);
  std::string report;
  for (const auto& p : problems) report += "  " + p + "\n";
  EXPECT_TRUE(problems.empty()) << problems.size() << " of " << expressions.size()
                                << " expressions failed against the live stack:\n"
                                << report;

  // A killed member turns Unhealthy after the heartbeat timeout: RingMembersUnhealthy goes
  // pending (its `for:` is minutes) or firing. It must not be active before the kill.
  ASSERT_TRUE(active("RingMembersUnhealthy").empty()) << "RingMembersUnhealthy active before any member died";
  cluster[2].sigkill();
  std::vector<json> unhealthy;
  EXPECT_TRUE(wait_until(
      [&] {
        unhealthy = active("RingMembersUnhealthy");
        return !unhealthy.empty();
      },
      kHeartbeatTimeout + 60s, 500ms))
      << "RingMembersUnhealthy never became pending or firing; alerts: " << alerts().dump() << "\n"
      << process_logs();
  if (!unhealthy.empty()) {
    EXPECT_EQ(unhealthy.front()["labels"].value("name", ""), "ingester") << unhealthy.front().dump();
    EXPECT_EQ(unhealthy.front()["labels"].value("job", ""), kJob);
  }
  if (HasFailure()) ADD_FAILURE() << process_logs();

  prometheus.signal(SIGTERM);
  prometheus.wait(10s);
  ringwatch.signal(SIGTERM);
  ringwatch.wait(10s);
}

}  // namespace
}  // namespace ringwatch::testing
