#include "gossip/join.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ringwatch::gossip
