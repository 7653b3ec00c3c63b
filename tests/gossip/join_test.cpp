#include "gossip/join.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

namespace ringwatch::gossip {
namespace {

using Kind = JoinTarget::Kind;

JoinTarget parsed(const char* entry) {
  auto r = parse_join_address(entry);
  EXPECT_TRUE(r.ok()) << entry << ": " << (r.ok() ? "" : r.error().detail);
  return r.ok() ? *r : JoinTarget{};
}

TEST(JoinAddress, PlainForms) {
  auto ip = parsed("10.0.0.1");
  EXPECT_EQ(ip.kind, Kind::ip);
  EXPECT_EQ(ip.host, "10.0.0.1");
  EXPECT_FALSE(ip.port);

  auto ip_port = parsed("10.0.0.1:7947");
  EXPECT_EQ(ip_port.kind, Kind::ip);
  EXPECT_EQ(ip_port.port, 7947);

  auto v6 = parsed("[fd00::1]:8000");
  EXPECT_EQ(v6.kind, Kind::ip);
  EXPECT_EQ(v6.host, "fd00::1");
  EXPECT_EQ(v6.port, 8000);

  auto bare_v6 = parsed("fd00::1");
  EXPECT_EQ(bare_v6.kind, Kind::ip);
  EXPECT_FALSE(bare_v6.port);

  auto host = parsed("memberlist.svc.cluster.local");
  EXPECT_EQ(host.kind, Kind::host);
  EXPECT_FALSE(host.port);

  auto host_port = parsed("gossip-ring:7946");
  EXPECT_EQ(host_port.kind, Kind::host);
  EXPECT_EQ(host_port.host, "gossip-ring");
  EXPECT_EQ(host_port.port, 7946);

  auto named = parsed("node-a/10.0.0.2:9000");
  EXPECT_EQ(named.host, "10.0.0.2");
  EXPECT_EQ(named.port, 9000);
}

TEST(JoinAddress, DnsForms) {
  auto dns = parsed("dns+gossip-ring.mimir.svc:7946");
  EXPECT_EQ(dns.kind, Kind::dns);
  EXPECT_EQ(dns.host, "gossip-ring.mimir.svc");
  EXPECT_EQ(dns.port, 7946);

  auto srv = parsed("dnssrv+_memberlist._tcp.mimir.svc.cluster.local");
  EXPECT_EQ(srv.kind, Kind::dnssrv);
  EXPECT_EQ(srv.host, "_memberlist._tcp.mimir.svc.cluster.local");
  EXPECT_FALSE(srv.port);

  auto srv_port = parsed("dnssrv+_memberlist._tcp.mimir:9999");
  EXPECT_EQ(srv_port.port, 9999);

  auto noa = parsed("dnssrvnoa+_memberlist._tcp.loki");
  EXPECT_EQ(noa.kind, Kind::dnssrvnoa);
}

TEST(JoinAddress, RejectsBadEntries) {
  EXPECT_FALSE(parse_join_address("dns+host-without-port").ok());
  EXPECT_FALSE(parse_join_address("consul+foo:1").ok());
  EXPECT_FALSE(parse_join_address("10.0.0.1:99999").ok());
  EXPECT_FALSE(parse_join_address("10.0.0.1:").ok());
  EXPECT_FALSE(parse_join_address("").ok());
  EXPECT_FALSE(parse_join_address("[fd00::1").ok());
}

TEST(JoinAddress, ResolvesLiteralsAndLocalhostWithDefaultPort) {
  auto eps = resolve_join_target(parsed("127.0.0.1"));
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].ip.to_string(), "127.0.0.1");
  EXPECT_EQ(eps[0].port, kDefaultJoinPort);

  auto local = resolve_join_target(parsed("dns+localhost:8001"));
  ASSERT_FALSE(local.empty());
  for (auto& ep : local) {
    EXPECT_TRUE(ep.ip.is_loopback());
    EXPECT_EQ(ep.port, 8001);
  }
  EXPECT_TRUE(resolve_join_target(parsed("dns+does-not-exist.invalid:1")).empty());
}

TEST(NodeName, RandomSuffixIsEightHexDigits) {
  std::mt19937_64 rng(42);
  auto name = make_node_name("ringwatch", true, rng);
  ASSERT_EQ(name.size(), std::string("ringwatch-").size() + 8);
  EXPECT_EQ(name.rfind("ringwatch-", 0), 0u);
  for (char c : name.substr(10)) EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(c)) << name;
  EXPECT_NE(make_node_name("ringwatch", true, rng), name);
  EXPECT_EQ(make_node_name("fixed", false, rng), "fixed");
  EXPECT_FALSE(make_node_name("", false, rng).empty());  // host name
}

TEST(JoinBackoff, DoublesWithinJitterAndCapsAtMax) {
  std::mt19937_64 rng(7);
  JoinBackoff b(std::chrono::milliseconds(1000), std::chrono::milliseconds(60000));
  long lo = 1000;
  for (int i = 0; i < 6; ++i) {
    auto d = b.next(rng).count();
    EXPECT_GE(d, lo) << "attempt " << i;
    EXPECT_LT(d, std::min(lo * 2, 60000L)) << "attempt " << i;
    lo *= 2;
  }
  EXPECT_EQ(b.next(rng).count(), 60000);  // 64 s floor is past the cap
  EXPECT_EQ(b.attempts(), 7);
}

// ---- Joiner: dskit's fast join, full join, retries and rejoin, with a fake
// resolver and fake join push/pulls. ----

using namespace std::chrono_literals;
using Endpoint = Joiner::Endpoint;

Endpoint ep(int i) { return Endpoint(asio::ip::make_address_v4(0x0a000000u + static_cast<unsigned>(i)), 7946); }

std::vector<JoinEndpoint> nodes(int from, int to) {
  std::vector<JoinEndpoint> out;
  for (int i = from; i < to; ++i) out.push_back({ep(i).address(), 7946});
  return out;
}

class JoinerTest : public ::testing::Test {
 protected:
  // What the next resolutions return (the last entry repeats).
  void resolutions(std::vector<std::vector<JoinEndpoint>> r) {
    std::lock_guard lock(mu_);
    answers_ = std::move(r);
  }
  // Which nodes answer a join push/pull.
  std::function<bool(const Endpoint&)> answers = [](const Endpoint&) { return true; };

  std::unique_ptr<Joiner> make(JoinSettings s) {
    if (s.members.empty()) s.members = {"dns+gossip-ring.test:7946"};
    return std::make_unique<Joiner>(
        io_, std::move(s),
        [this](const JoinTarget& t) {
          EXPECT_EQ(t.kind, JoinTarget::Kind::dns);
          std::lock_guard lock(mu_);
          ++resolves_;
          auto r = answers_.at(std::min(static_cast<std::size_t>(resolves_ - 1), answers_.size() - 1));
          return r;
        },
        [this](const Endpoint& to, std::function<void(bool)> done) {
          contacted_.push_back(to);
          asio::post(io_, [done, ok = answers(to)] { done(ok); });
        },
        [this](JoinStatus st) { statuses_.push_back(st); }, 1234);
  }

  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
    auto guard = asio::make_work_guard(io_);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(2ms);
    }
    return pred();
  }

  int resolves() {
    std::lock_guard lock(mu_);
    return resolves_;
  }

  asio::io_context io_;
  std::mutex mu_;
  std::vector<std::vector<JoinEndpoint>> answers_;
  int resolves_ = 0;                 // on the resolver thread, under mu_
  std::vector<Endpoint> contacted_;  // on the loop (this thread)
  std::vector<JoinStatus> statuses_;
};

TEST_F(JoinerTest, FastJoinReachesRetransmitTimesLogNodesThenFullJoinTriesEveryNode) {
  resolutions({nodes(0, 20)});
  JoinSettings s;
  s.retransmit_factor = 4;  // 4 × ceil(log10(21)) = 8
  auto j = make(s);
  j->start();
  ASSERT_TRUE(run_until([&] { return j->status() == JoinStatus::joined; }));
  EXPECT_EQ(j->fast_join_reached(), 8);
  ASSERT_EQ(contacted_.size(), 8u + 20u);
  std::set<std::string> fast;
  for (std::size_t i = 0; i < 8; ++i) fast.insert(contacted_[i].address().to_string());
  EXPECT_EQ(fast.size(), 8u);  // distinct random nodes
  std::vector<Endpoint> first8(contacted_.begin(), contacted_.begin() + 8), in_order;
  for (int i = 0; i < 8; ++i) in_order.push_back(ep(i));
  EXPECT_NE(first8, in_order) << "fast join must pick nodes at random";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(contacted_[8 + static_cast<std::size_t>(i)], ep(i));  // then every node
  EXPECT_EQ(resolves(), 2);  // fast join, then the full join resolves again
  EXPECT_EQ(statuses_, std::vector<JoinStatus>{JoinStatus::joined});
}

TEST_F(JoinerTest, FastJoinSkipsUnreachableNodesUntilItReachedItsCount) {
  resolutions({nodes(0, 9)});  // 4 × ceil(log10(10)) = 4
  answers = [](const Endpoint& e) { return e.address().to_v4().to_uint() % 2 == 0; };  // 5 of 9 answer
  auto j = make({});
  j->start();
  ASSERT_TRUE(run_until([&] { return j->status() == JoinStatus::joined; }));
  EXPECT_EQ(j->fast_join_reached(), 4);
  // The fast join stopped right after its fourth success; then the full join tried all 9.
  std::size_t fast = 0, ok = 0;
  while (ok < 4) ok += answers(contacted_[fast++]) ? 1 : 0;
  EXPECT_EQ(contacted_.size(), fast + 9);
}

TEST_F(JoinerTest, FullJoinResolvesAgainBeforeEachBatchOf100) {
  // 250 nodes: batches at 0, 100, 200; the second resolution adds node 900.
  auto more = nodes(0, 250);
  more.push_back({ep(900).address(), 7946});
  resolutions({nodes(0, 1), nodes(0, 250), more, more});
  answers = [](const Endpoint& e) { return e == ep(900); };
  JoinSettings s;
  s.max_retries = 1;
  auto j = make(s);
  j->start();
  ASSERT_TRUE(run_until([&] { return j->status() != JoinStatus::pending; }));
  EXPECT_EQ(j->status(), JoinStatus::joined);
  EXPECT_EQ(resolves(), 4);  // fast join + one per batch
  EXPECT_EQ(contacted_.size(), 1u + 251u);
  EXPECT_EQ(contacted_.back(), ep(900));
}

TEST_F(JoinerTest, RetriesWithBackoffResolvingEachTimeThenFails) {
  resolutions({{}, nodes(0, 2)});
  answers = [](const Endpoint&) { return false; };
  JoinSettings s;
  s.min_backoff = 1ms;
  s.max_backoff = 4ms;
  s.max_retries = 3;
  auto j = make(s);
  j->start();
  ASSERT_TRUE(run_until([&] { return j->status() == JoinStatus::failed; }));
  EXPECT_EQ(j->full_join_attempts(), 3);
  EXPECT_EQ(resolves(), 1 + 3);
  EXPECT_EQ(j->fast_join_reached(), 0);
  EXPECT_EQ(contacted_.size(), 3u * 2u);  // the fast join found nobody
}

TEST_F(JoinerTest, NodesAppearingInDnsAreJoinedOnALaterAttempt) {
  resolutions({{}, {}, {}, nodes(5, 6)});
  JoinSettings s;
  s.min_backoff = 1ms;
  s.max_backoff = 2ms;
  auto j = make(s);
  j->start();
  ASSERT_TRUE(run_until([&] { return j->status() == JoinStatus::joined; }));
  EXPECT_EQ(j->full_join_attempts(), 3);
  EXPECT_EQ(contacted_, std::vector<Endpoint>{ep(5)});
}

TEST_F(JoinerTest, AbortIfFastJoinFailsStopsBeforeTheFullJoin) {
  resolutions({nodes(0, 3)});
  answers = [](const Endpoint&) { return false; };
  JoinSettings s;
  s.abort_if_fast_join_fails = true;
  auto j = make(s);
  j->start();
  ASSERT_TRUE(run_until([&] { return j->status() == JoinStatus::failed; }));
  EXPECT_EQ(j->full_join_attempts(), 0);
  EXPECT_EQ(contacted_.size(), 3u);
}

TEST_F(JoinerTest, RejoinsEveryIntervalAndAfterAFailedJoin) {
  resolutions({{}, {}, nodes(0, 2)});
  JoinSettings s;
  s.max_retries = 1;
  s.rejoin_interval = 5ms;
  auto j = make(s);
  j->start();
  ASSERT_TRUE(run_until([&] { return j->status() == JoinStatus::failed; }));
  // The first rejoin finds the nodes and joins them all; later ones repeat.
  ASSERT_TRUE(run_until([&] { return j->rejoins() >= 3; }));
  EXPECT_EQ(statuses_.front(), JoinStatus::failed);
  EXPECT_EQ(j->status(), JoinStatus::joined);
  EXPECT_GE(contacted_.size(), 4u);
  EXPECT_EQ(contacted_[0], ep(0));
  EXPECT_EQ(contacted_[1], ep(1));
}

TEST_F(JoinerTest, NoRejoinAfterAFailedJoinWhenTheCallerAborts) {
  resolutions({{}});
  JoinSettings s;
  s.max_retries = 1;
  s.rejoin_interval = 5ms;
  s.abort_if_join_fails = true;
  auto j = make(s);
  j->start();
  ASSERT_TRUE(run_until([&] { return j->status() == JoinStatus::failed; }));
  EXPECT_FALSE(run_until([&] { return j->rejoins() > 0; }, 100ms));  // 20 rejoin intervals
}

TEST_F(JoinerTest, NoJoinMembersMeansJoined) {
  JoinSettings s;
  auto j = std::make_unique<Joiner>(io_, s, nullptr, nullptr, [this](JoinStatus st) { statuses_.push_back(st); }, 1);
  j->start();
  EXPECT_EQ(j->status(), JoinStatus::joined);
  EXPECT_EQ(statuses_, std::vector<JoinStatus>{JoinStatus::joined});
}

TEST(JoinResolution, LocalhostResolvesThroughGetaddrinfo) {
  auto eps = resolve_join_target(parsed("localhost:7000"));
  ASSERT_FALSE(eps.empty());
  for (auto& e : eps) EXPECT_TRUE(e.ip.is_loopback());
}

}  // namespace
}  // namespace ringwatch::gossip
