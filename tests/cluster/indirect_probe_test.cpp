// ringwatch's member as the indirect-probe helper of real Go memberlist nodes
// (memberlist-wire.md §5.2–§5.4). Two Go peers A and B plus ringwatch in-process;
// A silently drops every packet it sends to B (-drop-packets-to; streams still work),
// so A's direct pings of B and its acks to B's pings never arrive. With only three
// members the one helper either of them can ask is ringwatch:
//
//  * Helps: over 20+ probe rounds A keeps seeing B alive at an unchanged incarnation
//    (no suspicion, not even a refuted one), and ringwatch's counters show the
//    indirect ping requests it got and the acks it relayed. One allowance: Go's
//    kRandomNodes misses the only eligible helper in ≈2.6% of probes and then asks
//    nobody; the Go peer counts its partitioned pings, sent indirect requests and
//    failed probes, so a failure is excused only by such an unhelped probe.
//    Negative control: ringwatch stopped (no leave), A suspects B within
//    memberlist's timeouts and its failures exceed its unhelped probes — the
//    earlier result depended on ringwatch's help.
//  * Nacks: B SIGKILLed while ringwatch helps; A asks with Nack (ringwatch
//    advertises protocol max 5 ≥ 4), ringwatch's ping of B times out and it sends
//    nacks; A marks B suspect, then dead.
//
// Over dskit's TCP transport and memberlist's UDP transport.
#include <gtest/gtest.h>

#include <iostream>
#include <thread>

#include "gossip/member.h"
#include "tests/support/go_cluster.h"
#include "tests/support/member_timings.h"
#include "tests/support/go_polling.h"
#include "tests/support/test_logs.h"

namespace ringwatch::testing {
namespace {

using namespace std::chrono_literals;
using gossip::Member;
using gossip::MemberConfig;
using gossip::MessageType;
using gossip::NodeState;
using Clock = std::chrono::steady_clock;

struct Variant {
  std::string name;
  std::string transport;  // "tcp" | "udp"
};

void PrintTo(const Variant& v, std::ostream* os) { *os << v.name; }

MemberConfig member_config(const std::string& transport, const std::string& join) {
  return member_with_go_peer_timings(
      "ringwatch", join, transport == "udp" ? gossip::TransportKind::standard_udp : gossip::TransportKind::dskit_tcp);
}

NodeState state_in(const Member& m, const std::string& name) {
  for (auto& v : m.snapshot()->members)
    if (v.name == name) return v.state;
  return static_cast<NodeState>(-1);
}

const GoMember* find_member(const std::vector<GoMember>& members, const std::string& name) {
  for (auto& m : members)
    if (m.name == name) return &m;
  return nullptr;
}

std::uint64_t received(const Member& m, MessageType t) {
  return m.counters().messages_received[static_cast<std::size_t>(t)].load();
}
std::uint64_t sent(const Member& m, MessageType t) {
  return m.counters().messages_sent[static_cast<std::size_t>(t)].load();
}

class IndirectProbeTest : public ::testing::TestWithParam<Variant> {
 protected:
  // B first (the seed), ringwatch joins B, then A — partitioned from B for packets —
  // joins B by push/pull and learns ringwatch from it, so A has its helper from its
  // very first probe.
  void SetUp() override {
    const Variant& v = GetParam();
    cluster_ = std::make_unique<GoCluster>(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
    GoPeerOptions ob;
    ob.name = "peer-b";
    ob.transport = v.transport;
    b_ = &cluster_->add(ob);

    member_ = std::make_unique<Member>(member_config(v.transport, b_->gossip_address()), nullptr);
    member_->start();
    me_ = member_->name();
    ASSERT_TRUE(GoCluster::wait_until([&] { return member_->join_status() == gossip::JoinStatus::joined; }, 15s));
    ASSERT_TRUE(GoCluster::wait_until([&] { return state_in(*member_, "peer-b") == NodeState::alive; }, 15s));

    GoPeerOptions oa;
    oa.name = "peer-a";
    oa.transport = v.transport;
    oa.join = {b_->gossip_address()};
    oa.drop_packets_to = {b_->gossip_address()};
    a_ = &cluster_->add(oa);

    ASSERT_TRUE(GoCluster::wait_until(
        [&] {
          return member_state(*a_, "peer-b") == "alive" && member_state(*a_, me_) == "alive" &&
                 member_state(*b_, "peer-a") == "alive" && member_state(*b_, me_) == "alive" &&
                 state_in(*member_, "peer-a") == NodeState::alive && state_in(*member_, "peer-b") == NodeState::alive;
        },
        20s))
        << cluster_->logs_tail();
  }

  void TearDown() override {
    if (member_) member_->stop();
  }

  std::unique_ptr<GoCluster> cluster_;
  std::unique_ptr<Member> member_;
  std::string me_;
  GoPeer* a_ = nullptr;
  GoPeer* b_ = nullptr;
};

// A's probe accounting (GET /stats of the Go peer, see tests/peer/probes.go).
struct ProbeStats {
  std::int64_t pings_to_b = 0;     // pings partitioned: A's direct probes of B
  std::int64_t indirect_sent = 0;  // indirect ping requests A sent (to ringwatch, about B)
  std::int64_t failures = 0;       // A's probe rounds that ended in a suspicion
  std::int64_t partitioned = 0;    // packets A dropped towards B
};

std::optional<ProbeStats> probe_stats(GoPeer& peer) {
  std::optional<nlohmann::json> j;
  GoCluster::wait_until([&] { return (j = peer.stats()).has_value(); }, 10s);
  if (!j) return std::nullopt;
  return ProbeStats{j->value("pings_partitioned", std::int64_t{-1}), j->value("indirect_pings_sent", std::int64_t{-1}),
                    j->value("probe_failures", std::int64_t{-1}), j->value("packets_partitioned", std::int64_t{-1})};
}

TEST_P(IndirectProbeTest, RingwatchKeepsPartitionedPeersAliveAndTheyFailWithoutIt) {
  const auto ind0 = received(*member_, MessageType::indirect_ping);
  const auto pings0 = received(*member_, MessageType::ping);
  const auto acks0 = sent(*member_, MessageType::ack_resp);
  const auto acks_in0 = received(*member_, MessageType::ack_resp);
  auto a0 = probe_stats(*a_);
  ASSERT_TRUE(a0);
  ASSERT_GE(a0->pings_to_b, 0) << "peer without probe accounting";

  auto a_view = members_polled(*a_);
  ASSERT_TRUE(a_view);
  ASSERT_TRUE(find_member(*a_view, "peer-b"));
  // Any suspicion of B, even one refuted between two samples, raises its incarnation.
  const auto b_incarnation = find_member(*a_view, "peer-b")->incarnation;

  // At least 22 s at a 1 s probe interval (20+ probe rounds of A, B every second or
  // third one) and at least 10 of A's probes of B handed to ringwatch.
  const auto start = Clock::now();
  const auto deadline = start + 60s;
  bool b_ever_not_alive = false;
  std::string first_bad;
  std::optional<ProbeStats> a1;
  for (int samples = 0;; ++samples) {
    a_view = members_polled(*a_);
    ASSERT_TRUE(a_view) << cluster_->logs_tail();
    const GoMember* b_in_a = find_member(*a_view, "peer-b");
    ASSERT_TRUE(b_in_a);
    if (!b_ever_not_alive && (b_in_a->state != "alive" || b_in_a->incarnation != b_incarnation)) {
      b_ever_not_alive = true;
      first_bad = "sample " + std::to_string(samples) + ": " + b_in_a->state + " incarnation " +
                  std::to_string(b_in_a->incarnation) + " (was " + std::to_string(b_incarnation) + ")";
    }
    a1 = probe_stats(*a_);
    ASSERT_TRUE(a1);
    const auto now = Clock::now();
    if (now - start >= 22s && a1->indirect_sent - a0->indirect_sent >= 10) break;
    ASSERT_LT(now, deadline) << "too few indirect probes: " << a1->indirect_sent - a0->indirect_sent;
    std::this_thread::sleep_for(200ms);  // sampling period of the observation window
  }

  // memberlist picks helpers by 3n random draws among all n members (kRandomNodes):
  // with n = 3 it misses the only eligible one with probability (2/3)^9 ≈ 2.6% and
  // then asks nobody. Such a probe of B fails whatever ringwatch does, so a probe
  // failure is ringwatch's fault unless it is matched by a probe without a request.
  // Counts of A's whole life; requests read 600 ms after pings and failures (a request
  // follows its ping by the 500 ms probe timeout) from a pair with no new ping in
  // between, so the probes in flight at the first read are classified exactly.
  std::optional<ProbeStats> s1, s2;
  ASSERT_TRUE(GoCluster::wait_until(
      [&] {
        s1 = probe_stats(*a_);
        std::this_thread::sleep_for(600ms);  // measurement gap, see above
        s2 = probe_stats(*a_);
        return s1 && s2 && s2->pings_to_b == s1->pings_to_b;
      },
      30s, 0ms));
  const auto unhelped = s1->pings_to_b - s2->indirect_sent;
  std::cout << "A: probes of B " << s1->pings_to_b << ", indirect requests " << s2->indirect_sent << ", failed probes "
            << s1->failures << "; window " << a1->indirect_sent - a0->indirect_sent << " requests in "
            << std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count() << " s\n";
  EXPECT_LE(s1->failures, unhelped) << "A's probes failed although ringwatch was asked\n"
                                    << first_bad << "\n"
                                    << cluster_->logs_tail();
  if (s1->failures == 0) {
    EXPECT_FALSE(b_ever_not_alive) << first_bad << "\n" << cluster_->logs_tail();
  }
  // The partition was real: every ping of A to B (and its acks to B's pings) dropped.
  EXPECT_GE(a1->partitioned - a0->partitioned, 20);
  EXPECT_GE(a1->pings_to_b - a0->pings_to_b, 10);
  EXPECT_EQ(state_in(*member_, "peer-a"), NodeState::alive);
  EXPECT_EQ(state_in(*member_, "peer-b"), NodeState::alive);

  // ringwatch got A's requests (and B's about A) and relayed. Every ping it got named
  // itself and got one ack; the other acks it sent are relayed ones.
  const auto indirect = static_cast<std::int64_t>(received(*member_, MessageType::indirect_ping) - ind0);
  const auto relayed = static_cast<std::int64_t>(sent(*member_, MessageType::ack_resp) - acks0) -
                       static_cast<std::int64_t>(received(*member_, MessageType::ping) - pings0);
  const auto acks_in = static_cast<std::int64_t>(received(*member_, MessageType::ack_resp) - acks_in0);
  EXPECT_GE(indirect, a1->indirect_sent - a0->indirect_sent - 1);  // -1: one still in flight
  EXPECT_GE(relayed, 10);
  // No ack out of thin air: each relay answers a request and follows an ack to
  // ringwatch's own ping of the target (+2 / +1: requests and acks counted just
  // before the window began, relayed after).
  EXPECT_LE(relayed, indirect + 2);
  EXPECT_LE(relayed, acks_in + 1);

  // Negative control: without ringwatch A's indirect probes of B go unanswered. A
  // still asks it (alive in A's view until A suspects it too), so now failures exceed
  // the unhelped probes — the check above can fail.
  member_->stop();
  const auto stopped = Clock::now();
  std::string seen;
  ASSERT_TRUE(GoCluster::wait_until(
      [&] {
        seen = member_state(*a_, "peer-b");
        return seen == "suspect" || seen == "dead";
      },
      20s, 50ms))
      << "A never suspected B without ringwatch\n"
      << cluster_->logs_tail();
  // Within a few of A's probe rounds (B is every second or third target).
  EXPECT_LT(Clock::now() - stopped, 10s) << seen;
  std::optional<ProbeStats> a2;
  EXPECT_TRUE(GoCluster::wait_until(
      [&] {
        a2 = probe_stats(*a_);
        return a2 && a2->failures > a2->pings_to_b - a2->indirect_sent;
      },
      20s));
}

TEST_P(IndirectProbeTest, RingwatchNacksForAKilledTarget) {
  // Help is under way before the kill.
  const auto ind0 = received(*member_, MessageType::indirect_ping);
  ASSERT_TRUE(GoCluster::wait_until([&] { return received(*member_, MessageType::indirect_ping) >= ind0 + 2; }, 15s))
      << cluster_->logs_tail();
  ASSERT_EQ(member_state(*a_, "peer-b"), "alive");

  const auto nacks0 = sent(*member_, MessageType::nack_resp);
  const auto ind1 = received(*member_, MessageType::indirect_ping);
  b_->sigkill();

  ASSERT_TRUE(GoCluster::wait_until([&] { return member_state(*a_, "peer-b") == "suspect"; }, 20s, 50ms))
      << "A: peer-b is " << member_state(*a_, "peer-b") << "\n"
      << cluster_->logs_tail();
  ASSERT_TRUE(GoCluster::wait_until([&] { return member_state(*a_, "peer-b") == "dead"; }, 40s))
      << "A: peer-b is " << member_state(*a_, "peer-b") << "\n"
      << cluster_->logs_tail();
  // A's failed probes of B went through ringwatch, which answered with nacks (sent
  // a probe timeout after each request, so possibly just after A gave up).
  EXPECT_TRUE(GoCluster::wait_until([&] { return sent(*member_, MessageType::nack_resp) > nacks0; }, 5s));
  EXPECT_GT(received(*member_, MessageType::indirect_ping), ind1);
  // At most one nack per request (+1: a request taken just before the kill).
  EXPECT_LE(sent(*member_, MessageType::nack_resp) - nacks0, received(*member_, MessageType::indirect_ping) - ind1 + 1);
  EXPECT_TRUE(GoCluster::wait_until([&] { return state_in(*member_, "peer-b") == NodeState::dead; }, 20s));
  EXPECT_EQ(member_state(*a_, me_), "alive");
}

INSTANTIATE_TEST_SUITE_P(Transports, IndirectProbeTest,
                         ::testing::Values(Variant{"tcp", "tcp"}, Variant{"udp", "udp"}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace ringwatch::testing
