// ringwatch's rebuilt rings against live Go peers running a ring lifecycler: the member
// and the KV store, as the binary wires them, end with exactly the rings every Go node
// holds; a LEFT instance disappears from what readers see and its tombstone expires
// after -memberlist.left-ingesters-timeout.
#include <gtest/gtest.h>

#include "exporter/observer.h"
#include "gossip/member.h"
#include "tests/support/go_cluster.h"
#include "tests/support/member_timings.h"
#include "tests/support/test_logs.h"

namespace ringwatch::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kLeftTimeout = 6s;

// Our reader view of `key` in the Go peers' shape.
std::optional<GoRing> observed_ring(Observer& observer, const std::string& key) {
  auto snap = observer.snapshot();
  const auto* k = snap->find(key);
  if (k == nullptr || !k->ring) return std::nullopt;
  GoRing out;
  for (const auto& inst : k->ring->instances) {
    const auto& d = inst->desc;
    GoInstance g;
    g.addr = d.addr;
    g.timestamp = d.timestamp;
    g.state = ring::instance_state_name(d.state);
    g.tokens = d.tokens;
    g.zone = d.zone;
    g.registered_timestamp = d.registered_timestamp;
    g.id = d.id;
    g.read_only_updated_timestamp = d.read_only_updated_timestamp;
    g.read_only = d.read_only;
    for (const auto& [component, version] : d.versions) g.versions[std::to_string(component)] = version;
    out[inst->id] = g;
  }
  return out;
}

size_t tombstones(Observer& observer, const std::string& key) {
  auto snap = observer.snapshot();
  const auto* k = snap->find(key);
  return k && k->ring ? k->ring->tombstones : 0;
}

TEST(RingRebuild, MatchesEveryGoNodeAndExpiresTombstones) {
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
  const char* zones[] = {"zone-a", "zone-b", "zone-c"};
  cluster.start(4, [&](size_t i) {
    GoPeerOptions o;
    o.left_timeout = kLeftTimeout;
    if (i < 3) {
      o.rings.push_back("key=collectors/ring,id=ingester-" + std::to_string(i) + ",zone=" + zones[i] +
                        ",tokens=32,period=1s");
    }
    if (i >= 2) {
      o.rings.push_back("key=collectors/distributor,id=distributor-" + std::to_string(i) + ",zone=" + zones[i % 3] +
                        ",tokens=4,period=1s");
    }
    return o;
  });
  ASSERT_TRUE(cluster.wait_members_alive({0, 1, 2, 3}, 30s)) << cluster.logs_tail();

  Observer observer(ring::StoreOptions{kLeftTimeout, ring::RingNames::defaults()});
  gossip::Member member(member_with_go_peer_timings("ringwatch", cluster[0].gossip_address()), &observer);
  member.start();
  ASSERT_TRUE(GoCluster::wait_until([&] { return member.full_state_received(); }, 15s));

  // A graceful stop leaves a LEFT tombstone that readers never see, then expires.
  cluster[1].sigterm();
  ASSERT_TRUE(GoCluster::wait_until([&] { return tombstones(observer, "collectors/ring") == 1; }, 15s))
      << cluster.logs_tail();
  const auto tombstone_seen = std::chrono::steady_clock::now();
  auto ring = observed_ring(observer, "collectors/ring");
  ASSERT_TRUE(ring);
  EXPECT_EQ(ring->count("ingester-1"), 0u);
  EXPECT_EQ(ring->size(), 2u);
  // Heartbeats of the others keep merging, which is when dskit removes expired tombstones.
  EXPECT_TRUE(GoCluster::wait_until([&] { return tombstones(observer, "collectors/ring") == 0; },
                                    kLeftTimeout + 10s))
      << "tombstone not removed after the left timeout";
  // Not before, either: the LEFT timestamp has whole-second resolution, hence the 1 s slack.
  EXPECT_GE(std::chrono::steady_clock::now() - tombstone_seen, kLeftTimeout - 1s);

  // Quiet the cluster, then every running Go node's rings equal ours, instance for instance.
  for (size_t i : {0, 2, 3}) {
    for (const char* key : {"collectors/ring", "collectors/distributor"}) {
      cluster[i].post(std::string("/heartbeat/stop?key=") + key);
    }
  }
  for (const char* key : {"collectors/ring", "collectors/distributor"}) {
    bool equal = GoCluster::wait_until(
        [&] {
          auto ours = observed_ring(observer, key);
          if (!ours) return false;
          for (size_t i : {0, 2, 3}) {
            auto theirs = cluster[i].ring(key);
            if (!theirs || *theirs != *ours) return false;
          }
          return true;
        },
        20s, 200ms);
    EXPECT_TRUE(equal) << key << "\n" << cluster.logs_tail();
  }
  auto final_ring = observed_ring(observer, "collectors/ring");
  ASSERT_TRUE(final_ring);
  EXPECT_EQ(final_ring->size(), 2u);
  for (const auto& [id, inst] : *final_ring) {
    EXPECT_EQ(inst.tokens.size(), 32u) << id;
    EXPECT_EQ(inst.state, "ACTIVE") << id;
  }
  auto distributors = observed_ring(observer, "collectors/distributor");
  ASSERT_TRUE(distributors);
  EXPECT_EQ(distributors->size(), 2u);
  member.leave(5s);
}

}  // namespace
}  // namespace ringwatch::testing
