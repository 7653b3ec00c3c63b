#include "gossip/membership.h"

#include <gtest/gtest.h>

#include "gossip/broadcast_queue.h"
#include "gossip/suspicion.h"

namespace ringwatch::gossip {
namespace {

using namespace std::chrono_literals;

Bytes ip(std::uint8_t last) { return Bytes{127, 0, 0, last}; }

struct MembershipRules : ::testing::Test {
  MembershipRules() : m(MembershipConfig{"self", 7946, 4, 4, 6, 1000ms, 30000ms, 0ms, 8}, 1) {
    m.set_suspicion_timer_hook([this](const std::string& node, std::optional<std::chrono::milliseconds> after) {
      timers[node] = after;
    });
    m.bootstrap_self(ip(1), 7946, {}, Vsn{}, t0);
  }
  Alive alive(const std::string& name, std::uint32_t inc, std::uint8_t last = 2) {
    return Alive{inc, name, ip(last), 7946, {}, Vsn{}};
  }
  SteadyTime t0 = std::chrono::steady_clock::now();
  Membership m;
  std::map<std::string, std::optional<std::chrono::milliseconds>> timers;
};

TEST_F(MembershipRules, AliveAddsNodeAndIgnoresOlderOrEqualIncarnations) {
  EXPECT_EQ(m.alive(alive("a", 1), t0), Outcome::applied);
  ASSERT_NE(m.find("a"), nullptr);
  EXPECT_EQ(m.find("a")->state, NodeState::alive);
  EXPECT_EQ(m.alive(alive("a", 1), t0), Outcome::ignored_stale);
  EXPECT_EQ(m.alive(alive("a", 3), t0), Outcome::applied);
  EXPECT_EQ(m.find("a")->incarnation, 3u);
  EXPECT_EQ(m.alive(alive("a", 2), t0), Outcome::ignored_stale);
}

TEST_F(MembershipRules, AliveWithIncarnationZeroLeavesUnknownNodeDead) {
  EXPECT_EQ(m.alive(alive("zero", 0), t0), Outcome::ignored_stale);
  EXPECT_EQ(m.find("zero")->state, NodeState::dead);
}

TEST_F(MembershipRules, AliveWithBadVersionIsIgnored) {
  auto a = alive("v", 1);
  a.vsn.v = {0, 5, 2, 0, 0, 0};
  EXPECT_EQ(m.alive(a, t0), Outcome::ignored_version);
  EXPECT_EQ(m.find("v"), nullptr);
}

TEST_F(MembershipRules, ConflictingAddressIgnoredUnlessLeft) {
  m.alive(alive("a", 1, 2), t0);
  EXPECT_EQ(m.alive(alive("a", 2, 9), t0), Outcome::ignored_conflict);
  m.dead(Dead{2, "a", "a"}, t0);
  EXPECT_EQ(m.find("a")->state, NodeState::left);
  EXPECT_EQ(m.alive(alive("a", 1, 9), t0), Outcome::applied);  // address change of a left node
  EXPECT_EQ(m.find("a")->addr, ip(9));
}

TEST_F(MembershipRules, SuspectThenDeadAfterTimeout) {
  m.alive(alive("a", 1), t0);
  EXPECT_EQ(m.suspect(Suspect{1, "a", "b"}, t0), Outcome::applied);
  EXPECT_EQ(m.find("a")->state, NodeState::suspect);
  ASSERT_TRUE(timers["a"].has_value());
  EXPECT_EQ(*timers["a"], 4000ms);  // n = 2 <= 3: k = 0, min = 4 × 1 s
  EXPECT_EQ(m.suspicion_expired("a", t0 + 4s), Outcome::applied);
  EXPECT_EQ(m.find("a")->state, NodeState::dead);
}

TEST_F(MembershipRules, SameIncarnationAliveDoesNotClearSuspicion) {
  m.alive(alive("a", 1), t0);
  m.suspect(Suspect{1, "a", "b"}, t0);
  EXPECT_EQ(m.alive(alive("a", 1), t0), Outcome::ignored_stale);
  EXPECT_EQ(m.find("a")->state, NodeState::suspect);
  EXPECT_EQ(m.alive(alive("a", 2), t0), Outcome::applied);
  EXPECT_EQ(m.find("a")->state, NodeState::alive);
  EXPECT_FALSE(timers["a"].has_value());  // timer cancelled
  EXPECT_EQ(m.suspicion_expired("a", t0 + 10s), Outcome::ignored_state);
}

TEST_F(MembershipRules, SuspicionConfirmationsShortenTheTimeout) {
  for (int i = 0; i < 8; ++i) m.alive(alive("n" + std::to_string(i), 1, static_cast<std::uint8_t>(10 + i)), t0);
  ASSERT_EQ(m.size(), 9u);
  m.suspect(Suspect{1, "n0", "n1"}, t0);
  EXPECT_EQ(*timers["n0"], 24000ms);  // k = 2: starts at max = 6 × 4 s
  EXPECT_EQ(m.suspect(Suspect{1, "n0", "n1"}, t0), Outcome::ignored_stale);  // the accuser does not confirm
  EXPECT_EQ(m.suspect(Suspect{1, "n0", "n2"}, t0), Outcome::confirmed);
  EXPECT_LT(*timers["n0"], 24000ms);
  EXPECT_GT(*timers["n0"], 4000ms);
  EXPECT_EQ(m.suspect(Suspect{1, "n0", "n3"}, t0 + 1s), Outcome::confirmed);
  EXPECT_EQ(*timers["n0"], 3000ms);  // min 4 s minus the elapsed second
  EXPECT_EQ(m.suspect(Suspect{1, "n0", "n4"}, t0), Outcome::ignored_stale);  // k reached
}

TEST_F(MembershipRules, DeadFromSelfIsLeftOtherwiseDead) {
  m.alive(alive("a", 1, 2), t0);
  m.alive(alive("b", 1, 3), t0);
  EXPECT_EQ(m.dead(Dead{1, "a", "a"}, t0), Outcome::applied);
  EXPECT_EQ(m.find("a")->state, NodeState::left);
  EXPECT_EQ(m.dead(Dead{1, "b", "a"}, t0), Outcome::applied);
  EXPECT_EQ(m.find("b")->state, NodeState::dead);
  EXPECT_EQ(m.dead(Dead{1, "b", "c"}, t0), Outcome::ignored_state);
  EXPECT_EQ(m.dead(Dead{0, "a", "a"}, t0), Outcome::ignored_stale);
}

TEST_F(MembershipRules, RefutesSuspicionDeathAndStaleAliveAboutItself) {
  EXPECT_EQ(m.suspect(Suspect{1, "self", "x"}, t0), Outcome::refuted);
  EXPECT_EQ(m.self().incarnation, 2u);
  EXPECT_EQ(m.self().state, NodeState::alive);
  EXPECT_EQ(m.dead(Dead{7, "self", "x"}, t0), Outcome::refuted);
  EXPECT_EQ(m.self().incarnation, 8u);  // jumps past the accusation
  // An alive from a previous life with a higher incarnation is refuted too.
  EXPECT_EQ(m.alive(Alive{20, "self", ip(1), 7946, {}, Vsn{}}, t0), Outcome::refuted);
  EXPECT_EQ(m.self().incarnation, 21u);
  // Our own current alive is not.
  EXPECT_EQ(m.alive(Alive{21, "self", ip(1), 7946, {}, Vsn{}}, t0), Outcome::ignored_stale);
  EXPECT_GT(m.awareness(), 0);
  EXPECT_TRUE(m.broadcasts().pending("self"));
}

TEST_F(MembershipRules, LeaveMarksSelfLeftAndIgnoresLaterAlive) {
  auto d = m.leave(t0);
  EXPECT_EQ(d.from, "self");
  EXPECT_EQ(m.self().state, NodeState::left);
  EXPECT_TRUE(m.leave_pending());
  EXPECT_EQ(m.alive(Alive{5, "self", ip(1), 7946, {}, Vsn{}}, t0), Outcome::ignored_left);
}

TEST_F(MembershipRules, MergeRemoteTreatsDeadAsSuspectAndLeftAsLeave) {
  m.alive(alive("a", 1, 2), t0);
  m.alive(alive("b", 1, 3), t0);
  std::vector<PushNodeState> remote{
      {"a", ip(2), 7946, {}, 1, NodeState::dead, Vsn{}},
      {"b", ip(3), 7946, {}, 1, NodeState::left, Vsn{}},
      {"c", ip(4), 0, {}, 1, NodeState::alive, Vsn{}},
  };
  EXPECT_TRUE(m.merge_remote(remote, t0));
  EXPECT_EQ(m.find("a")->state, NodeState::suspect);
  EXPECT_EQ(m.find("b")->state, NodeState::left);
  EXPECT_EQ(m.find("c")->state, NodeState::alive);
  EXPECT_EQ(m.find("c")->port, 7946);  // port 0 replaced by the bind port
}

TEST_F(MembershipRules, PortZeroMeansTheActuallyBoundPort) {
  m.set_bind_port(41234);  // configured 7946 (or 0), the kernel gave us 41234
  std::vector<PushNodeState> remote{{"c", ip(4), 0, {}, 1, NodeState::alive, Vsn{}}};
  EXPECT_TRUE(m.merge_remote(remote, t0));
  EXPECT_EQ(m.find("c")->port, 41234);
}

TEST_F(MembershipRules, MergeRejectsIncompatibleProtocolVersions) {
  std::vector<PushNodeState> remote{{"a", ip(2), 7946, {}, 1, NodeState::alive, Vsn{{3, 5, 3, 0, 0, 0}}}};
  EXPECT_FALSE(m.merge_remote(remote, t0));  // our PCur 2 < their PMin 3
  EXPECT_EQ(m.find("a"), nullptr);
}

TEST_F(MembershipRules, LocalStateListsEveryone) {
  m.alive(alive("a", 3), t0);
  auto s = m.local_state();
  ASSERT_EQ(s.size(), 2u);
  for (auto& n : s) EXPECT_EQ(n.vsn, Vsn{});
}

TEST_F(MembershipRules, ProbeRoundRobinSkipsSelfAndDeadAndReaps) {
  m.alive(alive("a", 1, 2), t0);
  m.alive(alive("b", 1, 3), t0);
  m.dead(Dead{1, "b", "x"}, t0);
  for (int i = 0; i < 5; ++i) {
    auto t = m.next_probe_target(t0);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->name, "a");
  }
  m.next_probe_target(t0 + 31s);
  m.next_probe_target(t0 + 31s);
  EXPECT_EQ(m.find("b"), nullptr);  // reaped after gossip_to_dead_time
}

TEST(BroadcastQueue, RetransmitLimitFollowsClusterSize) {
  EXPECT_EQ(retransmit_limit(4, 1), 4);
  EXPECT_EQ(retransmit_limit(4, 9), 4);
  EXPECT_EQ(retransmit_limit(4, 10), 8);
  EXPECT_EQ(retransmit_limit(4, 99), 8);
  EXPECT_EQ(retransmit_limit(4, 100), 12);
}

TEST(BroadcastQueue, SendsEachMessageLimitTimesAndReplacesBySubject) {
  BroadcastQueue q(2);  // n = 5: limit 2
  q.queue("a", Bytes{1, 1});
  q.queue("a", Bytes{2, 2, 2});
  EXPECT_EQ(q.size(), 1u);
  for (int i = 0; i < 2; ++i) {
    auto got = q.take(2, 100, 5);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], (Bytes{2, 2, 2}));
  }
  EXPECT_TRUE(q.take(2, 100, 5).empty());
  EXPECT_FALSE(q.pending("a"));
}

TEST(BroadcastQueue, FreshestFirstThenLargestWithinBudget) {
  BroadcastQueue q(4);
  q.queue("small", Bytes(10, 1));
  q.queue("big", Bytes(50, 2));
  auto first = q.take(2, 60, 3);
  ASSERT_EQ(first.size(), 1u);  // 52 fits, then 12 does not
  EXPECT_EQ(first[0].size(), 50u);
  auto second = q.take(2, 60, 3);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].size(), 10u);  // the untransmitted one goes first now
}

TEST(Suspicion, TimeoutsScaleWithClusterSize) {
  auto t = std::chrono::steady_clock::now();
  Suspicion small("x", 3, 4, 6, 5000ms, t);
  EXPECT_EQ(small.needed_confirmations(), 0);
  EXPECT_EQ(small.remaining(t), 20000ms);  // dskit: 4 × 5 s
  Suspicion hundred("x", 100, 4, 6, 1000ms, t);
  EXPECT_EQ(hundred.min_timeout(), 8000ms);
  EXPECT_EQ(hundred.max_timeout(), 48000ms);
  EXPECT_EQ(hundred.remaining(t), 48000ms);
}

}  // namespace
}  // namespace ringwatch::gossip
