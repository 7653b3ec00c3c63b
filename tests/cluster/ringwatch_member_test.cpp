// Interop of ringwatch's C++ member with real Go memberlist nodes (tests/peer):
// it joins five Go nodes, stays alive in every view through many probe rounds
// (indirect probes included), agrees on the member list, names the sender of
// every KV payload it receives, sees a SIGKILLed node go suspect then dead and a
// SIGTERMed node go left, and is itself seen as left when it leaves — over dskit
// TCP with and without compression, with encryption, with TLS, and over
// memberlist's standard UDP transport. Then TLS refusals: plain against TLS,
// server names, unknown CAs.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "gossip/member.h"
#include "tests/support/go_cluster.h"
#include "tests/support/member_timings.h"
#include "tests/support/go_polling.h"
#include "tests/support/tls_certs.h"
#include "tests/support/test_logs.h"

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
  bool tls = false;
};

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

// Records who sent each KV payload.
class SenderSink : public gossip::EventSink {
 public:
  struct Seen {
    gossip::Via via;
    std::string name, address;
  };
  void on_payload(const gossip::ReceivedPayload& p) override {
    std::lock_guard lock(mu_);
    seen_.push_back({p.via, p.peer_name, p.peer_address});
  }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

MemberConfig member_config(const std::string& transport) {
  return member_with_go_peer_timings(
      "ringwatch", "", transport == "udp" ? gossip::TransportKind::standard_udp : gossip::TransportKind::dskit_tcp);
}

gossip::TlsConfig member_tls(const TestPki& pki) {
  gossip::TlsConfig t;
  t.enabled = true;
  t.cert_path = pki.cert;
  t.key_path = pki.key;
  t.ca_path = pki.ca_cert;
  return t;
}

void peer_tls(GoPeerOptions& o, const TestPki& pki) {
  o.tls_cert = pki.cert;
  o.tls_key = pki.key;
  o.tls_ca = pki.ca_cert;
}

// The Go view of `me`: a definite answer from every running peer, polled until all
// say `state`. A peer that does not answer in time fails the check.
bool everyone_sees(GoCluster& cluster, const std::string& me, const std::string& state) {
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (!cluster[i].running()) continue;
    auto s = state_polled(cluster[i], me);
    if (!s || *s != state) return false;
  }
  return true;
}

class RingwatchMemberTest : public ::testing::TestWithParam<Variant> {};

TEST_P(RingwatchMemberTest, LivesInAGoClusterAndLeavesCleanly) {
  const Variant& v = GetParam();
  const std::string logs = log_dir_for_test();
  std::optional<TestPki> pki;
  if (v.tls) pki = make_test_pki(logs + "/pki");
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), logs);
  cluster.start(5, [&](size_t i) {
    GoPeerOptions o;
    o.transport = v.transport;
    o.compression = v.compression;
    if (v.encrypted) o.encryption_keys = {kKeyBase64};
    if (pki) {
      peer_tls(o, *pki);
      if (i % 2 == 1) o.tls_server_name = TestPki::kDnsName;  // these verify our certificate by name
    }
    o.gossip_to_dead = 60s;
    // KV traffic, so that payloads arrive by gossip and push/pull.
    o.rings = {"key=collectors/ring,id=peer-" + std::to_string(i) + ",zone=z,tokens=4,period=1s"};
    return o;
  });
  ASSERT_TRUE(cluster.wait_members_alive({0, 1, 2, 3, 4}, 30s)) << cluster.logs_tail();

  MemberConfig cfg = member_config(v.transport);
  cfg.compression_enabled = v.compression;
  if (v.encrypted) cfg.encryption_keys = {kKeyRaw};
  if (pki) {
    cfg.tls = member_tls(*pki);
    // A DNS name, resolved through getaddrinfo at every attempt.
    cfg.join_members = {"dns+localhost:" + std::to_string(cluster[0].gossip_port())};
  } else {
    cfg.join_members = {cluster[0].gossip_address()};
  }
  SenderSink sink;
  Member member(cfg, &sink);
  const std::string me = member.name();
  member.start();

  ASSERT_TRUE(GoCluster::wait_until([&] { return member.join_status() == gossip::JoinStatus::joined; }, 15s));
  ASSERT_TRUE(GoCluster::wait_until([&] { return everyone_sees(cluster, me, "alive"); }, 20s)) << cluster.logs_tail();

  // 60 s: about 60 probe rounds per Go node, some through indirect helpers. We must
  // never be seen as anything but alive, and our view must match theirs.
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(everyone_sees(cluster, me, "alive")) << cluster.logs_tail();
    std::this_thread::sleep_for(500ms);  // sampling period of the observation window
  }
  auto go_view = members_polled(cluster[1]);
  ASSERT_TRUE(go_view);
  std::set<std::string> theirs;
  for (auto& m : *go_view)
    if (m.state == "alive") theirs.insert(m.name);
  EXPECT_EQ(live_names(member.snapshot()->members), theirs);
  if (v.tls) {
    // Checked before anyone is killed: every handshake of a healthy cluster succeeded.
    for (size_t i = 0; i < cluster.size(); ++i)
      EXPECT_EQ(stat_polled(cluster[i], "tls_handshake_errors"), 0u) << cluster[i].name();
    EXPECT_EQ(member.counters().rejected_count(Reject::tls), 0u);
  }

  // Every payload names its sender when the address identifies one: always for
  // gossip; for push/pull when we dialed (inbound push/pulls come from ephemeral
  // ports, and every peer here shares 127.0.0.1).
  std::map<std::string, std::string> name_of;
  for (size_t i = 0; i < cluster.size(); ++i) name_of[cluster[i].gossip_address()] = cluster[i].name();
  std::set<std::string> gossip_senders;
  size_t named_pushpulls = 0;
  for (auto& s : sink.seen()) {
    if (s.via == gossip::Via::gossip) {
      EXPECT_EQ(s.name, name_of[s.address]) << s.address;
      gossip_senders.insert(s.name);
    } else if (!s.name.empty()) {
      EXPECT_EQ(s.name, name_of[s.address]) << s.address;
      ++named_pushpulls;
    }
  }
  EXPECT_GE(gossip_senders.size(), 2u);
  EXPECT_GE(named_pushpulls, 10u);  // one every 2 s for 60 s

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
          if (state_polled(cluster[i], me) != "left") return false;
        return true;
      },
      15s))
      << cluster.logs_tail();
}

INSTANTIATE_TEST_SUITE_P(Transports, RingwatchMemberTest,
                         ::testing::Values(Variant{"tcp", "tcp", true, false}, Variant{"tcp_nocompress", "tcp", false, false},
                                           Variant{"tcp_encrypted", "tcp", true, true},
                                           Variant{"tcp_tls", "tcp", true, false, true}, Variant{"udp", "udp", true, false}),
                         [](const auto& info) { return info.param.name; });

// TLS refusals with two Go TLS peers: each case is a member that must not get in,
// then one that must.
class TlsRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = make_test_pki(log_dir_for_test() + "/pki");
    cluster_ = std::make_unique<GoCluster>(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
    cluster_->start(2, [&](size_t) {
      GoPeerOptions o;
      peer_tls(o, pki_);
      return o;
    });
    ASSERT_TRUE(cluster_->wait_members_alive({0, 1}, 30s)) << cluster_->logs_tail();
  }

  MemberConfig config(std::optional<gossip::TlsConfig> tls) {
    MemberConfig cfg = member_config("tcp");
    cfg.max_join_retries = 2;
    if (tls) cfg.tls = *tls;
    cfg.join_members = {(*cluster_)[0].gossip_address()};
    return cfg;
  }

  // Joins with cfg; true when joined and listed alive by both Go peers.
  bool gets_in(const MemberConfig& cfg, const std::string& name) {
    Member m(cfg, nullptr);
    m.start();
    EXPECT_TRUE(GoCluster::wait_until([&] { return m.join_status() != gossip::JoinStatus::pending; }, 15s));
    if (m.join_status() != gossip::JoinStatus::joined) {
      EXPECT_GE(m.counters().pushpull_failures.load(), 2u);  // each attempt counted
      for (size_t i = 0; i < 2; ++i) EXPECT_EQ(state_polled((*cluster_)[i], m.name()), "") << name;
      return false;
    }
    bool alive = GoCluster::wait_until([&] { return everyone_sees(*cluster_, m.name(), "alive"); }, 15s);
    m.leave(5s);
    return alive;
  }

  TestPki pki_;
  std::unique_ptr<GoCluster> cluster_;
};

TEST_F(TlsRefusalTest, PlainAndTlsDoNotMix) {
  auto handshake_errors = [&] { return stat_polled((*cluster_)[0], "tls_handshake_errors").value(); };
  const auto before = handshake_errors();
  EXPECT_FALSE(gets_in(config(std::nullopt), "plain"));
  EXPECT_GE(handshake_errors(), before + 2);  // the Go side refused and counted every attempt

  // A plain Go node dialing our TLS member: we refuse and count it.
  auto cfg = config(member_tls(pki_));
  cfg.join_members.clear();
  Member seed(cfg, nullptr);
  seed.start();
  GoPeerOptions plain;
  plain.name = "plain-peer";
  plain.join = {"127.0.0.1:" + std::to_string(seed.bound_port())};
  auto& p = cluster_->add(plain);
  EXPECT_TRUE(GoCluster::wait_until([&] { return seed.counters().rejected_count(Reject::tls) >= 1; }, 10s));
  EXPECT_EQ(state_in(seed, p.name()), static_cast<NodeState>(-1));
  seed.stop();
}

TEST_F(TlsRefusalTest, ServerNameAndVerificationAsDskit) {
  auto tls = member_tls(pki_);
  tls.server_name = "other.ringwatch.test";
  EXPECT_FALSE(gets_in(config(tls), "wrong server name"));
  tls.server_name = TestPki::kDnsName;
  EXPECT_TRUE(gets_in(config(tls), "server name in the certificate"));

  tls = member_tls(pki_);
  tls.ca_path = pki_.other_ca_cert;
  EXPECT_FALSE(gets_in(config(tls), "unknown CA"));
  tls.insecure_skip_verify = true;
  tls.server_name = "other.ringwatch.test";  // not checked either
  EXPECT_TRUE(gets_in(config(tls), "insecure-skip-verify"));
}

}  // namespace
}  // namespace ringwatch::testing
