// Self-test of the Go test peer (tests/peer) and its harness: five real Go memberlist
// nodes converge, agree on the ring, detect a SIGKILLed node (suspect, then dead) and
// see a graceful leaver as "left" with a LEFT tombstone — over dskit's TCP transport,
// memberlist's UDP transport, with encryption and with a cluster label.
#include <gtest/gtest.h>

#include <set>

#include "tests/support/go_cluster.h"
#include "tests/support/test_logs.h"

namespace ringwatch::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRingKey = "collectors/ring";
constexpr int kTokens = 8;
// 32-byte AES-256 key, base64.
constexpr const char* kKey = "cmluZ3dhdGNoLXRlc3Qta2V5MTIzNDU2Nzg5MGFiY2Q=";

struct Variant {
  std::string name;
  std::string transport;
  std::string label;
  bool encrypted;
};

GoPeerOptions options_for(const Variant& v, size_t i) {
  GoPeerOptions o;
  o.name = "peer-" + std::to_string(i);
  o.transport = v.transport;
  o.label = v.label;
  if (v.encrypted) o.encryption_keys = {kKey};
  o.rings = {"key=" + std::string(kRingKey) + ",id=" + o.name + ",zone=zone-" + std::to_string(i % 3) +
             ",tokens=" + std::to_string(kTokens) + ",period=1s"};
  o.gossip_to_dead = 60s;  // keep dead/left members listed long enough to observe them
  return o;
}

// Ring content that does not move with heartbeats.
std::map<std::string, std::tuple<std::string, std::string, std::vector<uint32_t>, std::string, int64_t>> stable(
    const GoRing& ring) {
  std::map<std::string, std::tuple<std::string, std::string, std::vector<uint32_t>, std::string, int64_t>> out;
  for (const auto& [id, i] : ring) out[id] = {i.addr, i.state, i.tokens, i.zone, i.registered_timestamp};
  return out;
}

class GoPeersTest : public ::testing::TestWithParam<Variant> {};

TEST_P(GoPeersTest, ConvergeDetectFailureAndLeave) {
  const Variant& v = GetParam();
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
  cluster.start(5, [&](size_t i) { return options_for(v, i); });
  const std::vector<size_t> all = {0, 1, 2, 3, 4};

  ASSERT_TRUE(cluster.wait_members_alive(all, 20s)) << cluster.logs_tail();

  // Every peer holds all five instances, ACTIVE with kTokens unique tokens, and all agree.
  std::string why;
  bool rings_equal = cluster.wait_until(
      [&] {
        std::optional<decltype(stable(GoRing{}))> first;
        for (size_t i : all) {
          auto kv = cluster[i].kv();
          if (!kv || !kv->count(kRingKey)) return why = cluster[i].name() + ": no ring", false;
          const auto& entry = kv->at(kRingKey);
          if (entry.codec != "ringDesc" || entry.instances.size() != 5) return why = cluster[i].name() + ": size", false;
          std::set<uint32_t> tokens;
          for (const auto& [id, inst] : entry.instances) {
            if (inst.state != "ACTIVE" || inst.tokens.size() != size_t(kTokens) || inst.id != id) return false;
            tokens.insert(inst.tokens.begin(), inst.tokens.end());
          }
          if (tokens.size() != 5u * kTokens) return why = "token collision", false;
          auto s = stable(entry.instances);
          if (!first) first = s;
          if (*first != s) return why = cluster[i].name() + " differs", false;
        }
        return true;
      },
      20s);
  ASSERT_TRUE(rings_equal) << why << "\n" << cluster.logs_tail();

  // Heartbeats propagate: peer-0's view of peer-4's timestamp advances.
  auto ts_of = [&](size_t observer, const std::string& id) -> int64_t {
    auto r = cluster[observer].ring(kRingKey);
    return r && r->count(id) ? r->at(id).timestamp : 0;
  };
  const int64_t ts0 = ts_of(0, "peer-4");
  ASSERT_TRUE(cluster.wait_until([&] { return ts_of(0, "peer-4") > ts0; }, 10s));

  // SIGKILL peer-4: survivors first suspect it, then declare it dead.
  cluster[4].sigkill();
  const std::vector<size_t> survivors = {0, 1, 2, 3};
  bool saw_suspect = false;
  bool dead = cluster.wait_until(
      [&] {
        size_t n_dead = 0;
        for (size_t i : survivors) {
          auto st = member_state(cluster[i], "peer-4");
          if (st == "suspect") saw_suspect = true;
          if (st == "dead") ++n_dead;
        }
        return n_dead == survivors.size();
      },
      40s, 20ms);
  EXPECT_TRUE(saw_suspect) << "suspect state never observed";
  ASSERT_TRUE(dead) << cluster.logs_tail();

  // Graceful stop of peer-3: exit 0, "left" everywhere, LEFT tombstone without tokens.
  cluster[3].sigterm();
  auto status = cluster[3].wait_exit(20s);
  ASSERT_TRUE(status.has_value()) << cluster.logs_tail();
  EXPECT_EQ(*status, 0) << cluster[3].log();
  const std::vector<size_t> remaining = {0, 1, 2};
  bool left = cluster.wait_until(
      [&] {
        for (size_t i : remaining) {
          if (member_state(cluster[i], "peer-3") != "left") return false;
          auto kv = cluster[i].kv();
          if (!kv || !kv->count(kRingKey)) return false;
          const auto& inst = kv->at(kRingKey).instances;
          if (!inst.count("peer-3") || inst.at("peer-3").state != "LEFT" || !inst.at("peer-3").tokens.empty())
            return false;
          auto ring = cluster[i].ring(kRingKey);
          if (!ring || ring->count("peer-3")) return false;  // readers never see LEFT
        }
        return true;
      },
      20s);
  ASSERT_TRUE(left) << cluster.logs_tail();

  // The killed peer is still ACTIVE in the ring (nobody forgets it), with a stale heartbeat.
  auto ring = cluster[0].ring(kRingKey);
  ASSERT_TRUE(ring.has_value());
  ASSERT_TRUE(ring->count("peer-4"));
  EXPECT_EQ(ring->at("peer-4").state, "ACTIVE");

  for (size_t i : remaining) {
    auto stats = cluster[i].stats();
    ASSERT_TRUE(stats.has_value());
    EXPECT_GT((*stats)["kv_broadcasts_received"].get<uint64_t>(), 0u);
    EXPECT_EQ((*stats)["label_rejections"].get<uint64_t>(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, GoPeersTest,
                         ::testing::Values(Variant{"tcp", "tcp", "", false}, Variant{"udp", "udp", "", false},
                                           Variant{"tcp_encrypted", "tcp", "", true},
                                           Variant{"tcp_label", "tcp", "prod-eu", false}),
                         [](const auto& info) { return info.param.name; });

// A peer with a different cluster label cannot join; the seed counts the rejections.
TEST(GoPeersLabelTest, MismatchedLabelIsRejected) {
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
  GoPeerOptions a;
  a.name = "labelled";
  a.label = "prod-eu";
  cluster.add(a);
  GoPeerOptions b;
  b.name = "other";
  b.label = "staging";
  b.extra_args = {"-join-retries=1000"};  // keep trying for the whole check
  cluster.add(b);

  ASSERT_TRUE(cluster.wait_until(
      [&] {
        auto s = cluster[0].stats();
        return s && (*s)["label_rejections"].get<uint64_t>() > 0;
      },
      15s))
      << cluster.logs_tail();
  auto m = cluster[0].members();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->size(), 1u);  // only itself
}

}  // namespace
}  // namespace ringwatch::testing

namespace ringwatch::testing {
namespace {

// Control API fault hooks: a stuck instance stops heartbeating while its node stays
// alive; send delay is adjustable at runtime; -drop-rate drops packets.
TEST(GoPeersControlTest, StuckHeartbeatDelayAndDrops) {
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
  cluster.start(2, [](size_t i) {
    GoPeerOptions o;
    o.rings = {"key=" + std::string(kRingKey) + ",id=inst-" + std::to_string(i) + ",tokens=4,period=1s"};
    return o;
  });
  ASSERT_TRUE(cluster.wait_members_alive({0, 1}, 20s)) << cluster.logs_tail();
  auto ts_of = [&](const std::string& id) -> int64_t {
    auto r = cluster[0].ring(kRingKey);
    return r && r->count(id) ? r->at(id).timestamp : 0;
  };
  ASSERT_TRUE(cluster.wait_until([&] { return ts_of("inst-1") > 0; }, 10s));

  ASSERT_EQ(cluster[1].post("/heartbeat/stop?key=" + std::string(kRingKey)).status, 200);
  const int64_t stuck_at = ts_of("inst-1");
  // Wait for three more of peer-0's own heartbeats; inst-1 may move by at most the one
  // heartbeat that was in flight when it was stopped.
  const int64_t own = ts_of("inst-0");
  ASSERT_TRUE(cluster.wait_until([&] { return ts_of("inst-0") >= own + 3; }, 15s));
  EXPECT_LE(ts_of("inst-1"), stuck_at + 1);
  EXPECT_EQ(member_state(cluster[0], "peer-1"), "alive");
  EXPECT_EQ(cluster[1].post("/heartbeat/stop?key=no-such-key").status, 404);

  ASSERT_EQ(cluster[1].post("/delay?ms=250").status, 200);
  auto stats = cluster[1].stats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ((*stats)["send_delay_ms"].get<int64_t>(), 250);
  EXPECT_EQ(cluster[1].post("/delay?ms=oops").status, 400);

  GoPeerOptions dropper;
  dropper.name = "dropper";
  dropper.drop_rate = 1.0;
  cluster.add(dropper);
  ASSERT_TRUE(cluster.wait_until(
      [&] {
        auto s = cluster.peer("dropper").stats();
        return s && (*s)["packets_dropped"].get<uint64_t>() > 0 && (*s)["packets_sent"].get<uint64_t>() == 0;
      },
      10s));
}

}  // namespace
}  // namespace ringwatch::testing
