// The status pages with live Go peers behind them: /ring, /memberlist and /propagation render
// in headless Chromium (Debian's chromium) with their tables filled and their script run, and
// ?format=json returns the same data.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "exporter/collectors.h"
#include "exporter/exporter.h"
#include "exporter/observer.h"
#include "exporter/propagation.h"
#include "exporter/status_pages.h"
#include "gossip/member.h"
#include "tests/support/go_cluster.h"
#include "tests/support/member_timings.h"
#include "tests/support/http_client.h"
#include "tests/support/test_logs.h"

namespace ringwatch::testing {
namespace {

using namespace std::chrono_literals;

// The DOM after the page's scripts ran, as headless Chromium dumps it.
std::string rendered_dom(const std::string& url, const std::string& profile_dir) {
  std::string cmd = "timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
                    "--disable-component-update --disable-sync --no-first-run --user-data-dir=" +
                    profile_dir + " --dump-dom '" + url + "' 2>/dev/null";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
  }
  return out;
}

TEST(MetricsPages, RenderInHeadlessChromium) {
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
  cluster.start(3, [](size_t i) {
    GoPeerOptions o;
    o.rings.push_back("key=collectors/ring,id=ingester-" + std::to_string(i) + ",zone=zone-" + std::to_string(i % 2) +
                      ",tokens=16,period=1s");
    return o;
  });
  ASSERT_TRUE(cluster.wait_members_alive({0, 1, 2}, 30s)) << cluster.logs_tail();

  PropagationTracker tracker(PropagationOptions{});
  Observer observer(ring::StoreOptions{}, &tracker, 0);
  gossip::MemberConfig cfg = member_with_go_peer_timings("ringwatch", cluster[0].gossip_address());
  cfg.randomize_node_name = false;
  gossip::Member member(cfg, &observer);
  member.start();

  Config config;
  config.web_listen_addresses = {"127.0.0.1:0"};
  Exporter exporter(config, WebConfig{});
  StatusPages pages(observer, member, &tracker, config.ring);
  add_status_pages(exporter, pages);
  exporter.start();
  const uint16_t port = static_cast<uint16_t>(exporter.http().ports().at(0));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  // Wait for heartbeats measured from every instance, so that every table has rows.
  ASSERT_TRUE(GoCluster::wait_until(
      [&] {
        auto j = nlohmann::json::parse(http_request("127.0.0.1", port, "/propagation?format=json").body, nullptr, false);
        return !j.is_discarded() && j["members"].size() == 3 && j["slowest_updates"].size() >= 3;
      },
      30s, 200ms))
      << cluster.logs_tail();

  auto ring_json = nlohmann::json::parse(http_request("127.0.0.1", port, "/ring?format=json").body);
  ASSERT_EQ(ring_json["rings"].size(), 1u);
  EXPECT_EQ(ring_json["rings"][0]["name"], "ingester");
  EXPECT_EQ(ring_json["rings"][0]["instances"].size(), 3u);
  EXPECT_EQ(ring_json["rings"][0]["zones"].size(), 2u);
  auto members_json = nlohmann::json::parse(http_request("127.0.0.1", port, "/memberlist?format=json").body);
  EXPECT_EQ(members_json["members"].size(), 4u);  // three Go nodes and ringwatch
  EXPECT_EQ(members_json["keys"][0]["codec"], "ringDesc");

  const auto profile = std::filesystem::temp_directory_path() / ("ringwatch-chromium-" + std::to_string(::getpid()));
  struct Expect {
    std::string path;
    std::vector<std::string> contains;
    int tables;
  };
  const std::vector<Expect> expectations = {
      {"/", {"href=\"/ring\"", "href=\"/memberlist\"", "href=\"/propagation\""}, -1},
      {"/ring", {"<h1>Rings</h1>", "ingester-0", "ingester-2", "zone-1", "ACTIVE"}, 2},
      {"/memberlist", {"<h1>Memberlist</h1>", "ringwatch (ringwatch)", "alive", "collectors/ring", "ringDesc"}, 2},
      {"/propagation", {"<h1>Propagation</h1>", "Slowest recent updates", "ingester-1", "gossip"}, 3},
  };
  for (const auto& e : expectations) {
    const std::string dom = rendered_dom(base + e.path, profile.string());
    ASSERT_FALSE(dom.empty()) << e.path << ": chromium rendered nothing";
    for (const auto& s : e.contains) EXPECT_NE(dom.find(s), std::string::npos) << e.path << " lacks " << s << "\n" << dom;
    if (e.tables >= 0) {
      // Set by the page's script: it parsed, ran and found every table.
      EXPECT_NE(dom.find("data-sortable-tables=\"" + std::to_string(e.tables) + "\""), std::string::npos)
          << e.path << ": the sorting script did not run\n" << dom.substr(0, 400);
      EXPECT_NE(dom.find("<td"), std::string::npos) << e.path << ": empty tables";
    }
  }
  std::filesystem::remove_all(profile);
  exporter.stop();
  member.leave(5s);
}

}  // namespace
}  // namespace ringwatch::testing
