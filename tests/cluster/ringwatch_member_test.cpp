// Interop of ringwatch's C++ member with real Go memberlist nodes (tests/peer):
// it joins five Go nodes, stays alive in every view through many probe rounds
// (indirect probes included), agrees on the member list, sees a SIGKILLed node go
// suspect then dead and a SIGTERMed node go left, and is itself seen as left when
// it leaves — over dskit TCP with and without compression, with encryption, and
// over memberlist's standard UDP transport.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "gossip/member.h"
#include "tests/support/go_cluster.h"

namespace ringwatch::testing {
namespace {

using namespace std::chrono_literals;
using gossip::Member;
using gossip::MemberConfig;
using gossip::NodeState;

constexpr const char* kKeyBase64 = "cmluZ3dhdGNoLXRlc3Qta2V5MTIzNDU2Nzg5MGFiY2Q=";
constexpr const char* kKeyRaw = "ringwatch-test-key1234567890abcd";  // the same 32 bytes

struct Variant {
  std::string name;
  std::string transport;  // "tcp" | "udp"
  bool compression;
  bool encrypted;
};

std::string log_dir_for_test() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (auto& c : name)
    if (c == '/') c = '_';
  return std::string(RINGWATCH_BINARY_DIR) + "/test-logs/cluster/" + name;
}

NodeState state_in(const Member& m, const std::string& name) {
  for (auto& v : m.snapshot()->members)
    if (v.name == name) return v.state;
  return static_cast<NodeState>(-1);
}

std::set<std::string> live_names(const std::vector<gossip::MemberView>& views) {
  std::set<std::string> out;
  for (auto& v : views)
    if (v.state == NodeState::alive) out.insert(v.name);
  return out;
}

class RingwatchMemberTest : public ::testing::TestWithParam<Variant> {};

TEST_P(RingwatchMemberTest, LivesInAGoClusterAndLeavesCleanly) {
  const Variant& v = GetParam();
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
  cluster.start(5, [&](size_t) {
    GoPeerOptions o;
    o.transport = v.transport;
    o.compression = v.compression;
    if (v.encrypted) o.encryption_keys = {kKeyBase64};
    o.gossip_to_dead = 60s;
    return o;
  });
  ASSERT_TRUE(cluster.wait_members_alive({0, 1, 2, 3, 4}, 30s)) << cluster.logs_tail();

  MemberConfig cfg;
  cfg.node_name = "ringwatch";
  cfg.bind_addrs = {"127.0.0.1"};
  cfg.bind_port = 0;
  cfg.transport = v.transport == "udp" ? gossip::TransportKind::standard_udp : gossip::TransportKind::dskit_tcp;
  cfg.compression_enabled = v.compression;
  if (v.encrypted) cfg.encryption_keys = {kKeyRaw};
  // The Go peers' test timings.
  cfg.probe_interval = 1s;
  cfg.probe_timeout = 500ms;
  cfg.gossip_interval = 100ms;
  cfg.pull_push_interval = 2s;
  cfg.gossip_to_dead_time = 60s;
  auto seed = cluster[0].members();
  ASSERT_TRUE(seed);
  for (auto& m : *seed)
    if (m.name == cluster[0].options().name) cfg.join_members = {m.addr + ":" + std::to_string(m.port)};
  ASSERT_FALSE(cfg.join_members.empty());
  Member member(cfg, nullptr);
  const std::string me = member.name();
  member.start();

  ASSERT_TRUE(GoCluster::wait_until([&] { return member.join_status() == gossip::JoinStatus::joined; }, 15s));
  auto everyone_sees_us = [&](const std::string& state) {
    for (size_t i = 0; i < cluster.size(); ++i)
      if (cluster[i].running() && member_state(cluster[i], me) != state) return false;
    return true;
  };
  ASSERT_TRUE(GoCluster::wait_until([&] { return everyone_sees_us("alive"); }, 20s)) << cluster.logs_tail();

  // 60 s: about 60 probe rounds per Go node, some through indirect helpers. We must
  // never be seen as anything but alive, and our view must match theirs.
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(everyone_sees_us("alive")) << cluster.logs_tail();
    std::this_thread::sleep_for(500ms);
  }
  std::optional<std::vector<GoMember>> go_view;
  ASSERT_TRUE(GoCluster::wait_until([&] { return (go_view = cluster[1].members()).has_value(); }, 5s));
  std::set<std::string> theirs;
  for (auto& m : *go_view)
    if (m.state == "alive") theirs.insert(m.name);
  EXPECT_EQ(live_names(member.snapshot()->members), theirs);

  // SIGKILL: suspect, then dead (Go timings: probe 1 s, suspicion ≥ 4 s, ≤ 24 s).
  const std::string victim = cluster[4].options().name;
  cluster[4].sigkill();
  EXPECT_TRUE(GoCluster::wait_until([&] { return state_in(member, victim) == NodeState::suspect; }, 15s));
  EXPECT_TRUE(GoCluster::wait_until([&] { return state_in(member, victim) == NodeState::dead; }, 40s));

  // Graceful Go leave: left.
  const std::string leaver = cluster[3].options().name;
  cluster[3].sigterm();
  EXPECT_TRUE(GoCluster::wait_until([&] { return state_in(member, leaver) == NodeState::left; }, 20s));

  // Our leave: left everywhere, never dead.
  member.leave(5s);
  EXPECT_TRUE(GoCluster::wait_until(
      [&] {
        for (size_t i = 0; i < 3; ++i)
          if (member_state(cluster[i], me) != "left") return false;
        return true;
      },
      15s))
      << cluster.logs_tail();
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(member_state(cluster[i], me), "left");
}

INSTANTIATE_TEST_SUITE_P(Transports, RingwatchMemberTest,
                         ::testing::Values(Variant{"tcp", "tcp", true, false}, Variant{"tcp_nocompress", "tcp", false, false},
                                           Variant{"tcp_encrypted", "tcp", true, true}, Variant{"udp", "udp", true, false}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace ringwatch::testing
