// Ring and propagation metrics against live Go peers with known behaviour: the heartbeat
// period estimate, Unhealthy after the heartbeat timeout, LEFT out of the counts, the
// convergence histogram with three probes, and the excess delay of one node whose every
// sent packet is delayed by 100 ms.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "exporter/collectors.h"
#include "exporter/metrics.h"
#include "exporter/observer.h"
#include "exporter/propagation.h"
#include "gossip/member.h"
#include "tests/support/go_cluster.h"
#include "tests/support/member_timings.h"
#include "tests/support/test_logs.h"

namespace ringwatch::testing {
namespace {

using namespace std::chrono_literals;

// K passive members in this process feeding one tracker, as ringwatch -probes=K runs them.
struct Probes {
  PropagationTracker tracker;
  std::vector<std::unique_ptr<Observer>> observers;
  std::vector<std::unique_ptr<gossip::Member>> members;

  Probes(size_t k, const std::string& join, std::chrono::milliseconds pull_push)
      : tracker(PropagationOptions{ring::RingNames::defaults(), std::chrono::minutes(10), k}) {
    for (size_t i = 0; i < k; ++i) {
      observers.push_back(std::make_unique<Observer>(ring::StoreOptions{}, &tracker, i));
      gossip::MemberConfig cfg = member_with_go_peer_timings("ringwatch-probe" + std::to_string(i), join);
      cfg.randomize_node_name = false;
      cfg.pull_push_interval = pull_push;
      members.push_back(std::make_unique<gossip::Member>(cfg, observers.back().get()));
      members.back()->start();
    }
  }
  ~Probes() {
    for (auto& m : members) m->stop();
  }
  bool joined() {
    return std::all_of(members.begin(), members.end(), [](const auto& m) { return m->full_state_received(); });
  }
  std::optional<RingPropagation> ring(const std::string& key) {
    for (auto& r : tracker.snapshot(true).rings) {
      if (r.key == key) return r;
    }
    return std::nullopt;
  }
  std::optional<MemberPropagation> member(const std::string& key, const std::string& instance) {
    auto r = ring(key);
    if (!r) return std::nullopt;
    for (auto& m : r->members) {
      if (m.instance == instance) return m;
    }
    return std::nullopt;
  }
};

// The value of one exact series in a text exposition, or nullopt.
std::optional<double> sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

std::string ring_series(const char* family, const char* state) {
  return std::string(family) + "{key=\"collectors/ring\",name=\"ingester\",state=\"" + state + "\"}";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

TEST(MetricsPropagation, EstimatesTheHeartbeatPeriod) {
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
  cluster.start(3, [](size_t i) {
    GoPeerOptions o;
    o.rings.push_back("key=collectors/ring,id=ingester-" + std::to_string(i) + ",tokens=8,period=2s");
    return o;
  });
  ASSERT_TRUE(cluster.wait_members_alive({0, 1, 2}, 30s)) << cluster.logs_tail();
  Probes probes(1, cluster[0].gossip_address(), 2s);
  ASSERT_TRUE(GoCluster::wait_until([&] { return probes.joined(); }, 15s));
  // 3 instances heartbeating every 2 s: 30 heartbeats take about 20 s.
  ASSERT_TRUE(GoCluster::wait_until(
      [&] {
        auto r = probes.ring("collectors/ring");
        return r && r->delay.count() >= 30 && r->period;
      },
      60s, 200ms))
      << cluster.logs_tail();
  auto r = probes.ring("collectors/ring");
  std::printf("estimated heartbeat period: %.3f s from %llu heartbeats\n", *r->period,
              static_cast<unsigned long long>(r->delay.count()));
  EXPECT_NEAR(*r->period, 2.0, 0.2);

  RingOptions rings;
  std::string text = render_text({std::make_shared<RingCollector>(*probes.observers[0], rings, &probes.tracker)});
  auto exported = sample(text, "ring_heartbeat_period_seconds{key=\"collectors/ring\",name=\"ingester\"}");
  ASSERT_TRUE(exported) << text;
  EXPECT_NEAR(*exported, 2.0, 0.2);
  auto delays = sample(text, "ring_heartbeat_propagation_delay_seconds_count{key=\"collectors/ring\",name=\"ingester\"}");
  ASSERT_TRUE(delays);
  EXPECT_GE(*delays, 30);
  // Gossip every 100 ms on loopback: every heartbeat arrives within its second plus gossip's lag.
  auto within_2s = sample(text, "ring_heartbeat_propagation_delay_seconds_bucket{key=\"collectors/ring\",name=\"ingester\",le=\"2.5\"}");
  ASSERT_TRUE(within_2s);
  EXPECT_GE(*within_2s, *delays * 0.9);
}

TEST(MetricsPropagation, LeftMemberLeavesTheCountsAndAKilledOneTurnsUnhealthy) {
  constexpr auto kTimeout = 8s;
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
  const char* zones[] = {"zone-a", "zone-b"};
  cluster.start(4, [&](size_t i) {
    GoPeerOptions o;
    o.rings.push_back("key=collectors/ring,id=ingester-" + std::to_string(i) + ",zone=" + zones[i % 2] +
                      ",tokens=8,period=1s");
    return o;
  });
  ASSERT_TRUE(cluster.wait_members_alive({0, 1, 2, 3}, 30s)) << cluster.logs_tail();
  Probes probes(1, cluster[0].gossip_address(), 2s);
  RingOptions rings;
  rings.heartbeat_timeout = kTimeout;
  auto collector = std::make_shared<RingCollector>(*probes.observers[0], rings, &probes.tracker);
  auto scrape = [&] { return render_text({collector}); };
  auto value = [&](const std::string& series) { return sample(scrape(), series).value_or(-1); };
  ASSERT_TRUE(GoCluster::wait_until([&] { return value(ring_series("ring_members", "ACTIVE")) == 4; }, 20s))
      << scrape();
  EXPECT_EQ(value("ring_zone_members{key=\"collectors/ring\",name=\"ingester\",zone=\"zone-a\",state=\"ACTIVE\"}"), 2);

  // Graceful stop: a LEFT tombstone, counted only as LEFT.
  cluster[3].sigterm();
  ASSERT_TRUE(GoCluster::wait_until([&] { return value(ring_series("ring_members", "LEFT")) == 1; }, 15s)) << scrape();
  std::string text = scrape();
  EXPECT_EQ(sample(text, ring_series("ring_members", "ACTIVE")), 3) << text;
  EXPECT_EQ(sample(text, ring_series("ring_members", "Unhealthy")), 0);
  EXPECT_EQ(sample(text, ring_series("ring_members", "LEAVING")), 0);
  EXPECT_EQ(sample(text, "ring_tokens_total{key=\"collectors/ring\",name=\"ingester\"}"), 24);

  // The oldest ACTIVE heartbeat moves while everyone heartbeats...
  const double oldest_before = value(ring_series("ring_oldest_member_timestamp", "ACTIVE"));
  ASSERT_TRUE(GoCluster::wait_until(
      [&] { return value(ring_series("ring_oldest_member_timestamp", "ACTIVE")) > oldest_before; }, 10s));

  // ...and stops at the killed instance's last heartbeat until it turns Unhealthy. That last
  // heartbeat is the newest timestamp of ingester-1 that any surviving Go node holds; it may
  // still be in flight right after the kill, so the views must agree on it for a second.
  cluster[1].sigkill();
  auto last_heartbeat_seen_by_go = [&]() -> int64_t {
    int64_t newest = 0;
    for (size_t i : {0, 2}) {
      auto r = cluster[i].ring("collectors/ring");
      if (r && r->count("ingester-1")) newest = std::max(newest, r->at("ingester-1").timestamp);
    }
    return newest;
  };
  double frozen = 0;
  auto agreed_since = std::chrono::steady_clock::now();
  ASSERT_TRUE(GoCluster::wait_until(
      [&] {
        const double ours = value(ring_series("ring_oldest_member_timestamp", "ACTIVE"));
        if (ours != static_cast<double>(last_heartbeat_seen_by_go()) || ours != frozen) {
          frozen = ours;
          agreed_since = std::chrono::steady_clock::now();
          return false;
        }
        return std::chrono::steady_clock::now() - agreed_since >= 1s;
      },
      kTimeout, 100ms))
      << scrape();
  bool stayed = true;
  ASSERT_TRUE(GoCluster::wait_until(
      [&] {
        std::string t = scrape();
        if (sample(t, ring_series("ring_members", "Unhealthy")) == 1) return true;
        stayed = stayed && sample(t, ring_series("ring_oldest_member_timestamp", "ACTIVE")) == frozen;
        return false;
      },
      kTimeout + 10s, 100ms))
      << scrape();
  const double unhealthy_at = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_TRUE(stayed) << "the oldest ACTIVE timestamp moved while the killed instance was still ACTIVE";
  // Unhealthy once the heartbeat is older than the timeout on ringwatch's clock, and not much later
  // (the scrape polls every 100 ms).
  EXPECT_GE(unhealthy_at, frozen + std::chrono::duration<double>(kTimeout).count());
  EXPECT_LE(unhealthy_at, frozen + std::chrono::duration<double>(kTimeout).count() + 2.0);
  text = scrape();
  EXPECT_EQ(sample(text, ring_series("ring_members", "ACTIVE")), 2) << text;
  EXPECT_EQ(sample(text, ring_series("ring_oldest_member_timestamp", "Unhealthy")), frozen);
  EXPECT_EQ(sample(text, ring_series("ring_members", "LEFT")), 1);
}

TEST(MetricsPropagation, ThreeProbesMeasureConvergence) {
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
  cluster.start(3, [](size_t i) {
    GoPeerOptions o;
    o.rings.push_back("key=collectors/ring,id=ingester-" + std::to_string(i) + ",tokens=8,period=1s");
    return o;
  });
  ASSERT_TRUE(cluster.wait_members_alive({0, 1, 2}, 30s)) << cluster.logs_tail();
  Probes probes(3, cluster[0].gossip_address(), 2s);
  ASSERT_TRUE(GoCluster::wait_until([&] { return probes.joined(); }, 15s));
  ASSERT_TRUE(GoCluster::wait_until(
      [&] {
        auto r = probes.ring("collectors/ring");
        return r && r->convergence.count() >= 10;
      },
      30s, 200ms))
      << cluster.logs_tail();
  auto r = probes.ring("collectors/ring");
  const double mean = r->convergence.sum() / static_cast<double>(r->convergence.count());
  std::printf("convergence over 3 probes: %llu updates, mean %.3f s\n",
              static_cast<unsigned long long>(r->convergence.count()), mean);
  EXPECT_GE(mean, 0.0);
  // Gossip every 100 ms and push/pull every 2 s on loopback: every probe has it within seconds.
  EXPECT_LT(mean, 3.0);

  MetricsOptions metrics;
  metrics.probes = 3;
  std::string text = render_text({std::make_shared<RingCollector>(*probes.observers[0], RingOptions{}, &probes.tracker, metrics)});
  auto count = sample(text, "ring_update_convergence_seconds_count{key=\"collectors/ring\",name=\"ingester\"}");
  ASSERT_TRUE(count) << text;
  EXPECT_GE(*count, 10);
}

TEST(MetricsPropagation, ExcessDelayShowsOneNodesSendDelay) {
  GoCluster cluster(find_peer_binary(RINGWATCH_BINARY_DIR), log_dir_for_test());
  cluster.start(4, [](size_t i) {
    GoPeerOptions o;
    o.rings.push_back("key=collectors/ring,id=ingester-" + std::to_string(i) + ",tokens=8,period=1s");
    // Gossip every 10 ms keeps the jitter of each first arrival (up to one interval) small
    // next to 100 ms, and rare push/pulls (streams, which the send delay does not slow)
    // leave gossip first.
    o.gossip_interval = 10ms;
    o.pullpush_interval = 30s;
    return o;
  });
  ASSERT_TRUE(cluster.wait_members_alive({0, 1, 2, 3}, 30s)) << cluster.logs_tail();
  Probes probes(1, cluster[0].gossip_address(), 30s);
  ASSERT_TRUE(GoCluster::wait_until([&] { return probes.joined(); }, 15s));

  constexpr size_t kSamples = 12;
  auto heartbeats = [&](size_t i) {
    auto m = probes.member("collectors/ring", "ingester-" + std::to_string(i));
    return m ? m->heartbeats : 0;
  };
  auto recent_excess = [&](size_t i) {
    auto m = probes.member("collectors/ring", "ingester-" + std::to_string(i));
    std::vector<double> v = m ? m->recent_excess : std::vector<double>{};
    if (v.size() > kSamples) v.erase(v.begin(), v.end() - kSamples);
    return v;
  };
  ASSERT_TRUE(GoCluster::wait_until(
      [&] {
        for (size_t i = 0; i < 4; ++i) {
          if (heartbeats(i) < kSamples + 2) return false;
        }
        return true;
      },
      40s, 200ms))
      << cluster.logs_tail();
  std::array<double, 4> before{};
  std::array<size_t, 4> counted{};
  for (size_t i = 0; i < 4; ++i) {
    before[i] = median(recent_excess(i));
    counted[i] = heartbeats(i);
  }

  ASSERT_EQ(cluster[0].post("/delay?ms=100").status, 200);
  // One heartbeat may straddle the change; wait for kSamples entirely after it, for everyone.
  ASSERT_TRUE(GoCluster::wait_until(
      [&] {
        for (size_t i = 0; i < 4; ++i) {
          if (heartbeats(i) < counted[i] + kSamples + 1) return false;
        }
        return true;
      },
      40s, 200ms))
      << cluster.logs_tail();
  for (size_t i = 0; i < 4; ++i) {
    const double after = median(recent_excess(i));
    std::printf("ingester-%zu: median excess delay %.1f ms before, %.1f ms after (shift %+.1f ms)\n", i,
                before[i] * 1000, after * 1000, (after - before[i]) * 1000);
    if (i == 0) {
      EXPECT_NEAR(after - before[i], 0.100, 0.030) << "the delayed node's heartbeats";
    } else {
      EXPECT_NEAR(after - before[i], 0.0, 0.030) << "ingester-" << i << " does not delay its packets";
    }
  }
}

}  // namespace
}  // namespace ringwatch::testing
