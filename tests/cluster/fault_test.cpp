// Fault tests: five Go memberlist nodes running ring lifecyclers and the ringwatch binary, each in
// its own network namespace on one LAN (tests/support/netns.h), the namespaces created and removed
// by the test. Faults: the cluster partitioned in two halves and healed; members killed and
// restarted; ringwatch killed and restarted; a node of another cluster label trying to join.
// After each, ringwatch's ring equals every Go node's ring, and ringwatch reports every live
// member alive and none of them dead for one push/pull interval.
// "Equal" is read through ringwatch's /ring?format=json, which shows tokens as a count and an
// ownership share: the same instances with the same address, zone, state, registration time, token
// count and ownership (computed from the Go node's tokens as ringwatch computes it, so different
// tokens show), and heartbeats at most kHeartbeatSlack apart while the lifecyclers run (a
// heartbeat is in flight somewhere most of the time); each test ends by stopping every heartbeat
// and then requires identical heartbeat timestamps too.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/go_cluster.h"
#include "tests/support/http_client.h"
#include "tests/support/netns.h"
#include "tests/support/process.h"
#include "tests/support/test_logs.h"

namespace ringwatch::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kPushPullInterval = 5s;  // ringwatch's and the Go nodes'
constexpr auto kHeartbeatSlack = 2s;    // heartbeat period 1 s, plus gossip on a loaded machine
constexpr uint16_t kGossipPort = 7946;  // every node has its own namespace: standard ports for all
constexpr uint16_t kWebPort = 10946;
const std::string kRingKey = "collectors/ring";
const std::string kClusterLabel = "this-cluster";
const std::string kRingwatch = "ringwatch";
const std::vector<std::string> kNodes = {"node-0", "node-1", "node-2", "node-3", "node-4"};

std::string tail(const std::string& path, size_t lines = 40) {
  std::ifstream in(path);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out = "==== " + path + "\n";
  for (const auto& l : last) out += l + "\n";
  return out;
}

// One ring instance as both sides can show it.
struct RingEntry {
  std::string addr;
  std::string zone;
  std::string state;
  int64_t registered_timestamp = 0;
  int64_t timestamp = 0;
  size_t tokens = 0;
  double ownership_percent = 0;
};
using RingSnapshot = std::map<std::string, RingEntry>;  // instance id -> entry

// A Go node's ring with each instance's share of its zone's token range, computed as ringwatch
// computes it (dskit's tokenDistance over the zone's sorted tokens; 100 % = math.MaxUint32).
RingSnapshot snapshot_of(const GoRing& ring) {
  std::map<std::string, std::vector<std::pair<uint32_t, std::string>>> tokens_by_zone;
  for (const auto& [id, inst] : ring) {
    for (uint32_t t : inst.tokens) tokens_by_zone[inst.zone].emplace_back(t, id);
  }
  std::map<std::string, uint64_t> owned;
  for (auto& [zone, tokens] : tokens_by_zone) {
    std::sort(tokens.begin(), tokens.end());
    for (size_t k = 0; k < tokens.size(); ++k) {
      const uint32_t prev = tokens[k == 0 ? tokens.size() - 1 : k - 1].first;
      const uint32_t cur = tokens[k].first;
      owned[tokens[k].second] += prev < cur ? uint64_t{cur} - prev : (uint64_t{1} << 32) - prev + cur;
    }
  }
  RingSnapshot out;
  for (const auto& [id, inst] : ring) {
    RingEntry& e = out[id];
    e.addr = inst.addr;
    e.zone = inst.zone;
    e.state = inst.state;
    e.registered_timestamp = inst.registered_timestamp;
    e.timestamp = inst.timestamp;
    e.tokens = inst.tokens.size();
    e.ownership_percent = static_cast<double>(owned[id]) * 100.0 / 4294967295.0;
  }
  return out;
}

// ringwatch's status pages print times as RFC 3339 UTC ("2024-05-01T12:00:00.000Z").
int64_t unix_seconds(const std::string& rfc3339) {
  std::tm tm{};
  if (std::sscanf(rfc3339.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

// What differs between ringwatch's ring and a Go node's ("" when they are equal).
std::string ring_difference(const RingSnapshot& ours, const RingSnapshot& theirs, std::chrono::seconds slack) {
  std::ostringstream diff;
  for (const auto& [id, t] : theirs) {
    auto it = ours.find(id);
    if (it == ours.end()) {
      diff << " missing " << id << ";";
      continue;
    }
    const RingEntry& o = it->second;
    const bool same_registration = o.addr == t.addr && o.zone == t.zone && o.state == t.state &&
                                   o.registered_timestamp == t.registered_timestamp && o.tokens == t.tokens &&
                                   std::abs(o.ownership_percent - t.ownership_percent) <= 1e-6;
    if (!same_registration || std::abs(o.timestamp - t.timestamp) > slack.count()) {
      diff << " " << id << ": ours {" << o.addr << " " << o.zone << " " << o.state << " reg " << o.registered_timestamp
           << " hb " << o.timestamp << " " << o.tokens << " tokens " << o.ownership_percent << "%} theirs {" << t.addr
           << " " << t.zone << " " << t.state << " reg " << t.registered_timestamp << " hb " << t.timestamp << " "
           << t.tokens << " tokens " << t.ownership_percent << "%};";
    }
  }
  for (const auto& [id, o] : ours) {
    if (theirs.count(id) == 0) diff << " extra " << id << ";";
  }
  return diff.str();
}

// The ringwatch binary inside its namespace, with fixed flags so that a restart reuses them.
class RingwatchProcess {
 public:
  RingwatchProcess(std::string netns, std::vector<std::string> args, std::string log_path)
      : netns_(std::move(netns)), args_(std::move(args)), log_path_(std::move(log_path)) {}

  void start() {
    auto argv = netns_exec_prefix(netns_);
    argv.push_back(std::string(RINGWATCH_BINARY_DIR) + "/ringwatch");
    argv.insert(argv.end(), args_.begin(), args_.end());
    std::ofstream(log_path_, std::ios::app) << "---- ringwatch starting\n";
    process_ = std::make_unique<Process>(argv, log_path_);
  }

  void kill() {
    process_->signal(SIGKILL);
    process_->wait(5s);
  }

  HttpResponse get(const std::string& path) {
    HttpRequestOptions o;
    o.timeout = 3s;
    NetnsScope in_ringwatch_namespace(netns_);
    return http_request("127.0.0.1", kWebPort, path, o);
  }

  bool ready() { return get("/-/ready").status == 200; }

  // Member name -> state (alive, suspect, dead, left) as /memberlist shows them.
  std::optional<std::map<std::string, std::string>> members() {
    auto j = nlohmann::json::parse(get("/memberlist?format=json").body, nullptr, false);
    if (j.is_discarded() || !j.contains("members")) return std::nullopt;
    std::map<std::string, std::string> out;
    for (const auto& m : j["members"]) out[m.value("name", "")] = m.value("state", "");
    return out;
  }

  std::optional<RingSnapshot> ring(const std::string& key) {
    auto j = nlohmann::json::parse(get("/ring?format=json").body, nullptr, false);
    if (j.is_discarded() || !j.contains("rings")) return std::nullopt;
    for (const auto& r : j["rings"]) {
      if (r.value("key", "") != key) continue;
      RingSnapshot out;
      for (const auto& i : r["instances"]) {
        RingEntry& e = out[i.value("id", "")];
        e.addr = i.value("address", "");
        e.zone = i.value("zone", "");
        e.state = i.value("state", "");
        e.registered_timestamp = unix_seconds(i.value("registered_timestamp", ""));
        e.timestamp = unix_seconds(i.value("timestamp", ""));
        e.tokens = i.value("tokens", size_t{0});
        e.ownership_percent = i.value("ownership_percent", 0.0);
      }
      return out;
    }
    return std::nullopt;
  }

  // ringwatch_gossip_rejected_total{reason=...}, nullopt when /metrics does not answer.
  std::optional<double> rejected(const std::string& reason) {
    auto r = get("/metrics");
    if (r.status != 200) return std::nullopt;
    const std::string series = "ringwatch_gossip_rejected_total{reason=\"" + reason + "\"} ";
    std::istringstream in(r.body);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(series, 0) == 0) return std::stod(line.substr(series.size()));
    }
    return std::nullopt;
  }

  const std::string& log_path() const { return log_path_; }

 private:
  std::string netns_;
  std::vector<std::string> args_;
  std::string log_path_;
  std::unique_ptr<Process> process_;
};

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = netns_unavailable_reason(); !why.empty()) GTEST_SKIP() << "no network namespaces: " << why;
    logs_ = log_dir_for_test();
    fs::remove_all(logs_);
    fs::create_directories(logs_);
    lan_ = std::make_unique<NetnsLan>();
    for (const auto& name : kNodes) lan_->add_node(name);
    lan_->add_node(kRingwatch);

    cluster_ = std::make_unique<GoCluster>(find_peer_binary(RINGWATCH_BINARY_DIR), logs_);
    for (size_t i = 0; i < kNodes.size(); ++i) cluster_->add(node_options(kNodes[i], i % 2 ? "zone-b" : "zone-a"));

    // ringwatch joins node-0 and node-3, one in each half of the partition test, and rejoins them
    // every push/pull interval: memberlist 0.2.2 (and so dskit) heals a split only by joining again
    // (members declared dead are never probed or push/pulled again): -memberlist.rejoin-interval.
    const std::string interval = std::to_string(kPushPullInterval.count()) + "s";
    ringwatch_ = std::make_unique<RingwatchProcess>(
        lan_->netns(kRingwatch),
        std::vector<std::string>{"-memberlist.nodename=" + kRingwatch,
                                 "-memberlist.randomize-node-name=false",
                                 "-memberlist.bind-addr=" + lan_->address(kRingwatch),
                                 "-memberlist.advertise-addr=" + lan_->address(kRingwatch),
                                 "-memberlist.join=" + gossip_address("node-0") + "," + gossip_address("node-3"),
                                 "-memberlist.rejoin-interval=" + interval,
                                 "-memberlist.pullpush-interval=" + interval,
                                 "-memberlist.cluster-label=" + kClusterLabel,
                                 "-memberlist.gossip-interval=100ms",
                                 "-memberlist.probe-interval=1s",
                                 "-memberlist.probe-timeout=500ms",
                                 // Killed nodes keep their ring state, not "UNHEALTHY", for the whole test.
                                 "-ring.heartbeat-timeout=10m",
                                 "-web.listen-address=127.0.0.1:" + std::to_string(kWebPort)},
        logs_ + "/ringwatch.log");
    ringwatch_->start();
    watched_ = std::set<std::string>(kNodes.begin(), kNodes.end());
    ASSERT_TRUE(wait_until([&] { return ringwatch_->ready(); }, 15s, 100ms)) << "ringwatch not ready\n" << logs();
    ASSERT_TRUE(converged(kNodes, 30s)) << "cluster did not converge: " << mismatch_ << "\n" << logs();
    // The comparisons below are about a full ring: every node, its tokens, its share of its zone.
    auto ring = ringwatch_->ring(kRingKey);
    ASSERT_TRUE(ring);
    ASSERT_EQ(ring->size(), kNodes.size());
    for (const auto& [id, e] : *ring) {
      EXPECT_EQ(e.state, "ACTIVE") << id;
      EXPECT_EQ(e.tokens, 16u) << id;
      EXPECT_GT(e.ownership_percent, 0) << id;
      EXPECT_GT(e.registered_timestamp, 0) << id;
    }
  }

  GoPeerOptions node_options(const std::string& name, const std::string& zone) {
    GoPeerOptions o;
    o.name = name;
    o.netns = lan_->netns(name);
    o.bind_addr = lan_->address(name);
    o.gossip_port = kGossipPort;
    o.label = kClusterLabel;
    o.pullpush_interval = kPushPullInterval;
    if (name != kNodes[0]) o.join = {gossip_address(kNodes[0])};
    o.rings.push_back("key=" + kRingKey + ",id=" + name + ",zone=" + zone + ",tokens=16,period=1s,addr=" +
                      lan_->address(name) + ":9095");
    return o;
  }

  std::string gossip_address(const std::string& node) const {
    return lan_->address(node) + ":" + std::to_string(kGossipPort);
  }

  // ringwatch's member states; records every watched member it reports dead (a failure at the
  // end of the test).
  std::optional<std::map<std::string, std::string>> observe_members() {
    auto members = ringwatch_->members();
    if (!members) return std::nullopt;
    for (const auto& name : watched_) {
      auto it = members->find(name);
      if (it != members->end() && it->second == "dead") dead_reports_.insert(name);
    }
    return members;
  }

  // True when ringwatch reports `alive` (and itself) alive and `gone` dead.
  bool ringwatch_sees(const std::vector<std::string>& alive, const std::vector<std::string>& gone) {
    auto members = observe_members();
    if (!members) return false;
    auto state = [&](const std::string& name) {
      auto it = members->find(name);
      return it == members->end() ? std::string("unknown") : it->second;
    };
    std::string wrong;
    for (const auto& name : alive) {
      if (state(name) != "alive") wrong += " " + name + "=" + state(name);
    }
    if (state(kRingwatch) != "alive") wrong += " ringwatch=" + state(kRingwatch);
    for (const auto& name : gone) {
      if (state(name) != "dead") wrong += " " + name + "=" + state(name);
    }
    if (!wrong.empty()) mismatch_ = "ringwatch sees" + wrong;
    return wrong.empty();
  }

  // True when Go node `observer` reports every one of `alive` alive.
  bool go_node_sees_alive(const std::string& observer, const std::vector<std::string>& alive) {
    for (const auto& name : alive) {
      const std::string state = member_state(cluster_->peer(observer), name);
      if (state != "alive") {
        mismatch_ = observer + " sees " + name + "=" + (state.empty() ? "unknown" : state);
        return false;
      }
    }
    return true;
  }

  // True when ringwatch's ring equals the ring of every Go node in `nodes`.
  bool rings_equal(const std::vector<std::string>& nodes, std::chrono::seconds slack) {
    auto ours = ringwatch_->ring(kRingKey);
    if (!ours) {
      mismatch_ = "ringwatch has no ring " + kRingKey;
      return false;
    }
    for (const auto& node : nodes) {
      auto theirs = cluster_->peer(node).ring(kRingKey);
      if (!theirs) {
        mismatch_ = node + " does not answer";
        return false;
      }
      if (auto diff = ring_difference(*ours, snapshot_of(*theirs), slack); !diff.empty()) {
        mismatch_ = "ring differs from " + node + "'s:" + diff;
        return false;
      }
    }
    return true;
  }

  // Waits until ringwatch and every Go node of `nodes` see `nodes` and ringwatch alive and
  // ringwatch's ring equals each of theirs.
  bool converged(const std::vector<std::string>& nodes, std::chrono::milliseconds timeout) {
    std::vector<std::string> everyone = nodes;
    everyone.push_back(kRingwatch);
    return wait_until(
        [&] {
          if (!ringwatch_sees(nodes, {})) return false;
          for (const auto& node : nodes) {
            if (!go_node_sees_alive(node, everyone)) return false;
          }
          return rings_equal(nodes, kHeartbeatSlack);
        },
        timeout, 200ms);
  }

  // The end of every test: the whole cluster converged and stays so for one push/pull interval
  // (every member probed several times, full states exchanged) without ringwatch reporting any
  // member dead; then, with every heartbeat stopped, ringwatch's ring identical to every node's.
  void expect_converged_and_identical_when_quiet() {
    ASSERT_TRUE(converged(kNodes, 30s)) << mismatch_ << "\n" << logs();
    watched_ = std::set<std::string>(kNodes.begin(), kNodes.end());
    for (const auto end = Clock::now() + kPushPullInterval; Clock::now() < end;) {
      observe_members();
      std::this_thread::sleep_for(200ms);
    }
    for (const auto& node : kNodes) {
      ASSERT_EQ(cluster_->peer(node).post("/heartbeat/stop?key=" + kRingKey).status, 200) << node;
    }
    EXPECT_TRUE(wait_until([&] { return ringwatch_sees(kNodes, {}) && rings_equal(kNodes, 0s); }, 15s, 200ms))
        << mismatch_ << "\n" << logs();
    EXPECT_TRUE(dead_reports_.empty()) << "ringwatch reported live members dead: " << names(dead_reports_);
  }

  static std::string names(const std::set<std::string>& set) {
    std::string out;
    for (const auto& n : set) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

  std::string logs() const {
    return tail(ringwatch_->log_path()) + cluster_->logs_tail(15);
  }

  std::string logs_;
  // Destroyed in reverse: the processes end before their namespaces are deleted.
  std::unique_ptr<NetnsLan> lan_;
  std::unique_ptr<GoCluster> cluster_;
  std::unique_ptr<RingwatchProcess> ringwatch_;
  // Go nodes that run, reach ringwatch and are not recovering from a fault: ringwatch must not
  // report them dead. While a member recovers, the cluster may rightly declare others dead for
  // a moment (a suspicion started during a partition runs out just after the heal).
  std::set<std::string> watched_;
  std::set<std::string> dead_reports_;  // watched members ringwatch reported dead
  std::string mismatch_;                // why the last check failed
};

TEST_F(FaultTest, PartitionedHalvesRejoinAfterHeal) {
  // ringwatch stays with half A: during the split its ring must equal half A's, whose nodes keep
  // half B's instances with the heartbeats they had when the link went down. Three members on
  // each side, so that each side confirms its suspicions of the other quickly.
  const std::vector<std::string> half_a = {"node-0", "node-1"};
  const std::vector<std::string> half_b = {"node-2", "node-3", "node-4"};
  std::vector<std::string> side_a = half_a;
  side_a.push_back(kRingwatch);
  lan_->partition(side_a, half_b);
  for (const auto& n : half_b) watched_.erase(n);

  EXPECT_TRUE(wait_until(
      [&] {
        if (!ringwatch_sees(half_a, half_b)) return false;
        for (const auto& observer : half_b) {
          for (const auto& member : side_a) {
            if (member_state(cluster_->peer(observer), member) != "dead") {
              mismatch_ = observer + " does not see " + member + " dead";
              return false;
            }
          }
        }
        return rings_equal(half_a, kHeartbeatSlack);
      },
      30s, 200ms))
      << "partition: " << mismatch_ << "\n"
      << logs();
  // Half B's own heartbeats move on where ringwatch cannot see them.
  EXPECT_TRUE(wait_until(
      [&] {
        auto ours = ringwatch_->ring(kRingKey);
        auto theirs = cluster_->peer("node-3").ring(kRingKey);
        return ours && theirs && ours->count("node-3") &&
               theirs->at("node-3").timestamp > ours->at("node-3").timestamp + kHeartbeatSlack.count();
      },
      10s, 200ms))
      << "node-3's heartbeats reached ringwatch through the partition";
  EXPECT_TRUE(rings_equal(half_a, kHeartbeatSlack)) << mismatch_;

  // Each half has declared the other dead, so nothing is probed or push/pulled across any more:
  // the split ends when ringwatch rejoins node-3 and refutations spread from there.
  lan_->heal();
  watched_.clear();
  EXPECT_TRUE(converged(kNodes, 40s)) << "after heal: " << mismatch_ << "\n" << logs();
  expect_converged_and_identical_when_quiet();
}

TEST_F(FaultTest, KilledMembersAreDeadThenRejoinWithTheirRingEntries) {
  const std::vector<std::string> killed = {"node-1", "node-4"};  // one in each zone
  const std::vector<std::string> survivors = {"node-0", "node-2", "node-3"};
  for (const auto& n : killed) {
    cluster_->peer(n).sigkill();
    watched_.erase(n);
  }
  // Their ring entries stay, heartbeats frozen, in ringwatch's ring as in the survivors'.
  EXPECT_TRUE(wait_until([&] { return ringwatch_sees(survivors, killed) && rings_equal(survivors, kHeartbeatSlack); },
                         30s, 200ms))
      << "after kill: " << mismatch_ << "\n"
      << logs();
  auto before_restart = ringwatch_->ring(kRingKey);
  ASSERT_TRUE(before_restart);
  for (const auto& n : killed) ASSERT_EQ(before_restart->count(n), 1u) << n;

  // Same name, address, port and ring ID: the node takes its tokens back, registered anew.
  for (const auto& n : killed) cluster_->peer(n).start();
  ASSERT_TRUE(converged(kNodes, 30s)) << "after restart: " << mismatch_ << "\n" << logs();
  auto after_restart = ringwatch_->ring(kRingKey);
  ASSERT_TRUE(after_restart);
  for (const auto& n : killed) {
    const RingEntry& was = before_restart->at(n);
    const RingEntry& now = after_restart->at(n);
    EXPECT_GT(now.registered_timestamp, was.registered_timestamp) << n;
    EXPECT_GT(now.timestamp, was.timestamp) << n;
    EXPECT_NEAR(now.ownership_percent, was.ownership_percent, 1e-6) << n << " has other tokens";
  }
  expect_converged_and_identical_when_quiet();
}

TEST_F(FaultTest, RestartedRingwatchIsReadyWithCompleteRingsWithinOnePushPullInterval) {
  // Restarted at once (the Go nodes still take the old process for alive), then again after the
  // Go nodes declared it dead: either way the new process has the whole cluster within one
  // push/pull interval, and the Go nodes see the member alive again (its old incarnation or its
  // death refuted by the new process).
  auto restart_and_time = [&] {
    const auto restarted = Clock::now();
    ringwatch_->start();
    const bool complete = wait_until(
        [&] { return ringwatch_->ready() && ringwatch_sees(kNodes, {}) && rings_equal(kNodes, kHeartbeatSlack); },
        kPushPullInterval, 50ms);
    const auto elapsed = std::chrono::duration<double>(Clock::now() - restarted).count();
    EXPECT_TRUE(complete) << "not ready with complete rings " << elapsed << " s after the restart: " << mismatch_
                          << "\n"
                          << logs();
    return static_cast<int>(elapsed * 1000);
  };

  ringwatch_->kill();
  RecordProperty("complete_after_quick_restart_ms", restart_and_time());
  ASSERT_TRUE(converged(kNodes, 30s)) << mismatch_ << "\n" << logs();

  ringwatch_->kill();
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& node : kNodes) {
          if (member_state(cluster_->peer(node), kRingwatch) != "dead") return false;
        }
        return true;
      },
      30s, 200ms))
      << "the Go nodes never declared the killed ringwatch dead\n"
      << logs();
  RecordProperty("complete_after_restart_from_dead_ms", restart_and_time());
  expect_converged_and_identical_when_quiet();
}

TEST_F(FaultTest, NodeWithAnotherClusterLabelIsRejectedAndCounted) {
  const auto rejected_before = ringwatch_->rejected("label");
  ASSERT_TRUE(rejected_before) << "no ringwatch_gossip_rejected_total{reason=\"label\"}";
  auto go_rejections = [&] {
    return cluster_->peer("node-0").stats().value_or(nlohmann::json{}).value("label_rejections", 0.0);
  };
  const double go_rejected_before = go_rejections();

  // A node of another cluster on the same LAN, joining ringwatch and node-0 (retrying with backoff).
  const std::string stranger_name = "stranger";
  lan_->add_node(stranger_name);
  GoPeerOptions o;
  o.name = stranger_name;
  o.netns = lan_->netns(stranger_name);
  o.bind_addr = lan_->address(stranger_name);
  o.gossip_port = kGossipPort;
  o.label = "other-cluster";
  o.join = {lan_->address(kRingwatch) + ":" + std::to_string(kGossipPort), gossip_address("node-0")};
  o.rings.push_back("key=" + kRingKey + ",id=" + stranger_name + ",zone=zone-a,tokens=16,period=1s");
  GoPeer stranger(find_peer_binary(RINGWATCH_BINARY_DIR), o, logs_);
  stranger.start();

  // Counted by ringwatch (and by node-0) attempt after attempt, never a member, never in a ring.
  std::string seen;
  auto stranger_seen = [&] {
    if (auto members = observe_members(); members && members->count(stranger_name)) seen += " ringwatch's members;";
    if (auto ring = ringwatch_->ring(kRingKey); ring && ring->count(stranger_name)) seen += " ringwatch's ring;";
    for (const auto& node : kNodes) {
      if (!member_state(cluster_->peer(node), stranger_name).empty()) seen += " " + node + "'s members;";
    }
    auto own = stranger.members();
    if (own && own->size() != 1) seen += " the stranger knows " + std::to_string(own->size()) + " members;";
    return !seen.empty();
  };
  double rejected = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        if (stranger_seen()) return true;
        rejected = ringwatch_->rejected("label").value_or(0) - *rejected_before;
        return rejected >= 3 && go_rejections() > go_rejected_before;
      },
      20s, 100ms))
      << "label rejections counted by ringwatch: " << rejected
      << ", by node-0: " << go_rejections() - go_rejected_before;
  EXPECT_EQ(seen, "") << "the stranger was accepted into";
  EXPECT_GE(rejected, 3);

  ASSERT_TRUE(converged(kNodes, 30s)) << mismatch_ << "\n" << logs();
  EXPECT_FALSE(stranger_seen()) << "the stranger was accepted into" << seen;
  expect_converged_and_identical_when_quiet();
}

}  // namespace
}  // namespace ringwatch::testing
