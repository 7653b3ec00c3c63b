// The real ringwatch binary observing Go peers while ringwatch-hostile-peer attacks its gossip
// port with every kind of bad input, slow connections and a connection flood, under low
// -limits.* so that each limit is hit: /metrics keeps answering within 100 ms, memory stays
// under kRssBound, every attack is counted under its reason or limit, and afterwards the
// rebuilt ring equals every Go node's.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/go_cluster.h"
#include "tests/support/http_client.h"
#include "tests/support/process.h"

namespace ringwatch::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kAttack = 25s;
constexpr double kScrapeBoundMs = 100;
// ringwatch runs at ~20 MiB here; the limits below bound what an attack can add (32 connections
// of at most 64 KiB, 1 MiB decompressed per packet, 16 keys of small rings), so 64 MiB leaves
// headroom while catching anything that grows with the attack.
constexpr double kRssBoundMib = 64;
const std::string kKey = "collectors/ring";
const std::string kLabel = "hostile-test";

std::string log_dir_for_test() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(RINGWATCH_BINARY_DIR) + "/test-logs/cluster/" + info->test_suite_name() + "." + info->name();
}

double rss_mib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

// Every sample of `family` in a Prometheus text page, by the value of `label`.
std::map<std::string, double> samples(const std::string& page, const std::string& family, const std::string& label) {
  std::map<std::string, double> out;
  const std::regex line("^" + family + "\\{[^}]*" + label + "=\"([^\"]*)\"[^}]*\\} ([0-9.eE+-]+)$");
  std::istringstream in(page);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_match(l, m, line)) out[m[1]] = std::stod(m[2]);
  }
  return out;
}

// ringwatch's /ring?format=json view of kKey in the fields both sides show, by instance ID.
using RingSummary = std::map<std::string, std::string>;

std::optional<RingSummary> ringwatch_ring(uint16_t http_port) {
  auto j = nlohmann::json::parse(http_request("127.0.0.1", http_port, "/ring?format=json").body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  for (const auto& r : j["rings"]) {
    if (r["key"] != kKey) continue;
    RingSummary out;
    for (const auto& i : r["instances"]) {
      out[i["id"].get<std::string>()] = fmt::format("{} {} {} tokens={}", i["address"].get<std::string>(),
                                                    i["zone"].get<std::string>(), i["timestamp"].get<std::string>(),
                                                    i["tokens"].get<size_t>());
    }
    return out;
  }
  return std::nullopt;
}

std::optional<RingSummary> go_ring(GoPeer& peer) {
  auto ring = peer.ring(kKey);
  if (!ring) return std::nullopt;
  RingSummary out;
  for (const auto& [id, i] : *ring) {
    const auto ts = std::chrono::system_clock::time_point(std::chrono::seconds(i.timestamp));
    out[id] = fmt::format("{} {} {:%FT%TZ} tokens={}", i.addr, i.zone, std::chrono::floor<std::chrono::milliseconds>(ts),
                          i.tokens.size());
  }
  return out;
}

TEST(HostilePeer, RingwatchStaysResponsiveBoundedAndCorrect) {
  const std::string logs = log_dir_for_test();
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), logs);
  cluster.start(3, [](size_t i) {
    GoPeerOptions o;
    o.label = kLabel;
    o.rings.push_back("key=" + kKey + ",id=ingester-" + std::to_string(i) + ",zone=zone-" + std::to_string(i) +
                      ",tokens=32,period=1s");
    return o;
  });
  ASSERT_TRUE(cluster.wait_members_alive({0, 1, 2}, 30s)) << cluster.logs_tail();

  const uint16_t gossip_port = free_tcp_port();
  const uint16_t http_port = free_tcp_port();
  Process ringwatch({std::string(RINGWATCH_BINARY_DIR) + "/ringwatch", "-memberlist.nodename=ringwatch",
                     "-memberlist.randomize-node-name=false", "-memberlist.bind-addr=127.0.0.1",
                     "-memberlist.bind-port=" + std::to_string(gossip_port), "-memberlist.cluster-label=" + kLabel,
                     "-memberlist.join=" + cluster[0].gossip_address(), "-memberlist.pullpush-interval=2s",
                     "-memberlist.gossip-interval=100ms", "-memberlist.probe-interval=1s",
                     "-memberlist.probe-timeout=500ms", "-web.listen-address=127.0.0.1:" + std::to_string(http_port),
                     "-limits.max-connections=32", "-limits.read-deadline=2s", "-limits.max-packet-size=65536",
                     "-limits.max-stream-size=65536", "-limits.max-decompressed-size=1048576", "-limits.max-keys=16",
                     "-limits.max-instances=100", "-limits.max-tokens=1000"},
                    logs + "/ringwatch.log");
  ASSERT_TRUE(wait_until([&] { return http_request("127.0.0.1", http_port, "/-/ready").status == 200; }, 30s, 100ms))
      << ringwatch.output();
  ASSERT_TRUE(wait_until([&] { auto r = ringwatch_ring(http_port); return r && r->size() == 3; }, 20s, 100ms))
      << ringwatch.output();
  const std::string before = http_request("127.0.0.1", http_port, "/metrics").body;

  Process attacker({std::string(RINGWATCH_BINARY_DIR) + "/ringwatch-hostile-peer",
                    "-target", "127.0.0.1:" + std::to_string(gossip_port), "-label", kLabel,
                    "-duration", std::to_string(kAttack.count()), "-rate", "80", "-workers", "2", "-slow", "6",
                    "-flood", "100", "-flood-interval-ms", "3000", "-flood-hold-ms", "1000",
                    "-oversize-bytes", "131072", "-bomb-bytes", "4194304", "-kv-instances", "101",
                    "-kv-tokens", "1001"},
                   logs + "/hostile-peer.log");

  // Scrape back to back while the attack lasts (and a little after), timing every scrape.
  std::vector<double> scrape_ms;
  double max_rss = 0;
  size_t failed_scrapes = 0;
  const auto attack_end = std::chrono::steady_clock::now() + kAttack + 2s;
  while (std::chrono::steady_clock::now() < attack_end) {
    const auto start = std::chrono::steady_clock::now();
    HttpRequestOptions opts;
    opts.timeout = 2s;
    auto r = http_request("127.0.0.1", http_port, "/metrics", opts);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    scrape_ms.push_back(ms);
    if (r.status != 200) ++failed_scrapes;
    max_rss = std::max(max_rss, rss_mib(ringwatch.pid()));
    std::this_thread::sleep_for(50ms);  // pacing of the scraper, not a wait for a condition
  }
  ASSERT_TRUE(attacker.wait(30s).has_value()) << "the load program did not stop";
  const std::string after = http_request("127.0.0.1", http_port, "/metrics").body;
  std::sort(scrape_ms.begin(), scrape_ms.end());
  const double max_scrape_ms = scrape_ms.back();
  std::printf("hostile peer: %zu scrapes, median %.1f ms, p99 %.1f ms, max %.1f ms; max RSS %.1f MiB\n%s",
              scrape_ms.size(), scrape_ms[scrape_ms.size() / 2], scrape_ms[scrape_ms.size() * 99 / 100], max_scrape_ms,
              max_rss, attacker.output().c_str());

  EXPECT_EQ(failed_scrapes, 0u);
  EXPECT_LT(max_scrape_ms, kScrapeBoundMs);
  EXPECT_GT(max_rss, 0);
  EXPECT_LT(max_rss, kRssBoundMib);
  ASSERT_FALSE(ringwatch.wait(0ms).has_value()) << "ringwatch died\n" << ringwatch.output();

  // Every kind of attack was counted under its own reason or limit.
  auto delta = [&](const std::string& family, const std::string& label) {
    auto b = samples(before, family, label);
    auto a = samples(after, family, label);
    std::map<std::string, double> d;
    for (const auto& [k, v] : a) d[k] = v - b[k];
    return d;
  };
  const auto rejected = delta("ringwatch_gossip_rejected_total", "reason");
  const auto limits = delta("ringwatch_gossip_limit_hits_total", "limit");
  const auto kv_limits = delta("ringwatch_kv_limit_hits_total", "limit");
  for (const auto& [name, counts, keys] :
       {std::tuple{"rejected", rejected, std::vector<std::string>{"decode", "label", "crc", "digest", "unknown_type",
                                                                   "truncated", "oversize"}},
        std::tuple{"gossip limit", limits, std::vector<std::string>{"connections", "read_deadline", "packet_bytes",
                                                                      "stream_bytes", "decompressed_bytes"}},
        std::tuple{"kv limit", kv_limits, std::vector<std::string>{"keys", "instances", "tokens"}}}) {
    for (const auto& k : keys) {
      auto it = counts.find(k);
      EXPECT_TRUE(it != counts.end() && it->second > 0) << name << " " << k << " not counted";
      std::printf("%s %s +%.0f\n", name, k.c_str(), it == counts.end() ? 0.0 : it->second);
    }
  }

  // Quiet the ring, then ringwatch's equals every Go node's, instance for instance.
  for (size_t i = 0; i < cluster.size(); ++i) cluster[i].post("/heartbeat/stop?key=" + kKey);
  std::optional<RingSummary> ours;
  const bool equal = wait_until(
      [&] {
        ours = ringwatch_ring(http_port);
        if (!ours || ours->size() != 3) return false;
        for (size_t i = 0; i < cluster.size(); ++i) {
          if (go_ring(cluster[i]) != ours) return false;
        }
        return true;
      },
      20s, 200ms);
  EXPECT_TRUE(equal) << "ringwatch: " << (ours ? nlohmann::json(*ours).dump() : "none") << "\nGo: "
                     << nlohmann::json(go_ring(cluster[0]).value_or(RingSummary{})).dump() << "\n"
                     << cluster.logs_tail();
  ringwatch.signal(SIGTERM);
  EXPECT_TRUE(ringwatch.wait(30s).has_value());
}

}  // namespace
}  // namespace ringwatch::testing
