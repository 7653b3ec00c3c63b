// The propagation estimators with injected clocks: histograms, rolling minimum, period
// estimate, excess delay, redundancy, convergence across probes and beacons.
#include <gtest/gtest.h>

#include "exporter/collectors.h"
#include "exporter/metrics.h"
#include "exporter/propagation.h"

using namespace std::chrono_literals;
using namespace ringwatch;

namespace {

WallClock::time_point at(double unix_seconds) {
  return WallClock::time_point(std::chrono::duration_cast<WallClock::duration>(std::chrono::duration<double>(unix_seconds)));
}

SteadyClock::time_point steady(double seconds) {
  return SteadyClock::time_point(std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds)));
}

ring::ChangeEvent event(const std::string& instance, int64_t old_ts, int64_t new_ts, double arrival,
                        ring::Source via = ring::Source::gossip, uint32_t changed = ring::kChangedHeartbeat) {
  ring::ChangeEvent e;
  e.key = "collectors/ring";
  e.instance_id = instance;
  e.changed = changed;
  e.old_timestamp = old_ts;
  e.new_timestamp = new_ts;
  e.arrival = at(arrival);
  e.source = via;
  e.duplicate = changed == ring::kChangedNone;
  return e;
}

ring::ChangeEvent added(const std::string& instance, int64_t ts, double arrival) {
  return event(instance, 0, ts, arrival, ring::Source::pushpull, ring::kChangedAdded | ring::kChangedHeartbeat);
}

const RingPropagation& only_ring(const PropagationSnapshot& s) {
  EXPECT_EQ(s.rings.size(), 1u);
  return s.rings.front();
}

}  // namespace

TEST(Histogram, BucketsAreUpperInclusive) {
  Histogram h(&delay_buckets());
  h.observe(0.01);   // le=0.01
  h.observe(0.011);  // le=0.025
  h.observe(700);    // +Inf
  EXPECT_EQ(h.counts().front(), 1u);
  EXPECT_EQ(h.counts()[1], 1u);
  EXPECT_EQ(h.counts().back(), 1u);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_DOUBLE_EQ(h.sum(), 700.021);
  EXPECT_EQ(delay_buckets().front(), 0.01);
  EXPECT_EQ(delay_buckets().back(), 600);
}

TEST(RollingMinimum, ForgetsSamplesOlderThanTheWindow) {
  RollingMinimum m(10s);
  EXPECT_FALSE(m.minimum());
  EXPECT_DOUBLE_EQ(m.push(at(100), 0.5), 0.5);
  EXPECT_DOUBLE_EQ(m.push(at(101), 0.7), 0.5);
  EXPECT_DOUBLE_EQ(m.push(at(105), 0.2), 0.2);
  EXPECT_DOUBLE_EQ(m.push(at(114), 0.9), 0.2);
  // 0.2 (taken at 105) leaves the window at 115; 0.9 is then the only sample.
  EXPECT_DOUBLE_EQ(m.push(at(115.5), 1.0), 0.9);
  EXPECT_DOUBLE_EQ(*m.minimum(), 0.9);
}

TEST(PeriodEstimator, WholeSecondTimestampsGiveTheRealPeriod) {
  PeriodEstimator two;
  for (int i = 0; i < 20; ++i) two.add(2, 2.0 + (i % 2 ? 0.08 : -0.08));
  two.add(4, 4.0);  // a heartbeat ringwatch never saw spans two periods
  EXPECT_NEAR(*two.estimate(), 2.0, 1e-9);

  // 1.5 s: truncated timestamps differ by 1 and 2 alternately; each is one period.
  PeriodEstimator one_and_half;
  for (int i = 0; i < 20; ++i) one_and_half.add(i % 2 ? 2 : 1, 1.5 + (i % 3 ? 0.05 : -0.05));
  EXPECT_NEAR(*one_and_half.estimate(), 1.5, 1e-9);

  PeriodEstimator empty;
  EXPECT_FALSE(empty.estimate());
  empty.add(0, 1.0);  // not an interval
  EXPECT_FALSE(empty.estimate());
}

TEST(PropagationTracker, DelayExcessAndPeriodOfOneMember) {
  PropagationOptions o;
  o.minimum_window = 1h;
  PropagationTracker t(o);
  const int64_t t0 = 1'700'000'000;
  t.record(0, {added("a", t0, t0 + 5.0)}, steady(0));
  // Heartbeats every 2 s, each arriving 0.3 s after its (whole-second) timestamp, then 0.1 s later.
  for (int i = 1; i <= 10; ++i) {
    const double lag = i <= 5 ? 0.3 : 0.4;
    t.record(0, {event("a", t0 + 2 * (i - 1), t0 + 2 * i, t0 + 2 * i + lag)}, steady(2 * i));
  }
  auto s = t.snapshot(true);
  const auto& r = only_ring(s);
  EXPECT_EQ(r.name, "ingester");
  EXPECT_EQ(r.delay.count(), 10u);
  EXPECT_NEAR(r.delay.sum(), 5 * 0.3 + 5 * 0.4, 1e-5);
  EXPECT_EQ(r.excess.count(), 10u);
  EXPECT_NEAR(r.excess.sum(), 5 * 0.1, 1e-5);
  ASSERT_TRUE(r.period);
  EXPECT_NEAR(*r.period, 2.0, 1e-9);
  ASSERT_EQ(r.members.size(), 1u);
  const auto& m = r.members.front();
  EXPECT_EQ(m.heartbeats, 10u);
  EXPECT_NEAR(*m.minimum_delay, 0.3, 1e-5);
  EXPECT_NEAR(m.recent_excess.back(), 0.1, 1e-5);
  EXPECT_NEAR(m.recent_excess.front(), 0.0, 1e-5);
  // The instance's first sighting (a full state at startup) is no propagation sample.
  EXPECT_EQ(r.first_seen[static_cast<size_t>(ring::Source::pushpull)], 1u);
  EXPECT_EQ(r.first_seen[static_cast<size_t>(ring::Source::gossip)], 10u);
}

TEST(PropagationTracker, CountsGossipCopiesPerUpdate) {
  PropagationTracker t(PropagationOptions{});
  const int64_t t0 = 1'700'000'000;
  t.record(0, {added("a", t0, t0 + 0.5)}, steady(0));
  t.record(0, {event("a", t0, t0 + 5, t0 + 5.2)}, steady(1));
  for (int copy = 0; copy < 3; ++copy) {
    t.record(0, {event("a", t0 + 5, t0 + 5, t0 + 5.3, ring::Source::gossip, ring::kChangedNone)}, steady(2));
  }
  t.record(0, {event("a", t0 + 5, t0 + 5, t0 + 6, ring::Source::pushpull, ring::kChangedNone)}, steady(3));
  // The next update closes the count of the previous one: 1 first copy + 3 redeliveries by gossip.
  t.record(0, {event("a", t0 + 5, t0 + 10, t0 + 12, ring::Source::pushpull)}, steady(4));
  t.record(0, {event("a", t0 + 10, t0 + 15, t0 + 15.1)}, steady(5));
  const auto snap = t.snapshot(false);
  const auto& r = only_ring(snap);
  ASSERT_EQ(r.deliveries.count(), 2u);
  EXPECT_EQ(r.deliveries.counts()[4], 1u);  // le=4
  EXPECT_EQ(r.deliveries.counts()[0], 1u);  // le=0: the update only a push/pull brought
  EXPECT_EQ(r.updates[static_cast<size_t>(ring::Source::gossip)], 5u);
  EXPECT_EQ(r.updates[static_cast<size_t>(ring::Source::pushpull)], 3u);
  EXPECT_EQ(r.first_seen[static_cast<size_t>(ring::Source::pushpull)], 2u);
  EXPECT_EQ(r.first_seen[static_cast<size_t>(ring::Source::gossip)], 2u);
  // A push/pull-first update is not a period sample (its arrival is the exchange's, not the heartbeat's).
  EXPECT_FALSE(r.period);
}

TEST(PropagationTracker, ConvergenceFromFirstToLastProbeOnTheSteadyClock) {
  PropagationOptions o;
  o.probes = 3;
  PropagationTracker t(o);
  const int64_t t0 = 1'700'000'000;
  for (size_t p = 0; p < 3; ++p) t.record(p, {added("a", t0, t0 + 1)}, steady(1));
  t.record(1, {event("a", t0, t0 + 5, t0 + 5.1)}, steady(10.0));
  t.record(0, {event("a", t0, t0 + 5, t0 + 5.2)}, steady(10.05));
  EXPECT_EQ(only_ring(t.snapshot(false)).convergence.count(), 0u);
  // Probe 2 never saw t0+5 but gets t0+10, which supersedes it: it holds both.
  t.record(2, {event("a", t0, t0 + 10, t0 + 10.3)}, steady(15.25));
  t.record(0, {event("a", t0 + 5, t0 + 10, t0 + 10.1)}, steady(15.3));
  t.record(1, {event("a", t0 + 5, t0 + 10, t0 + 10.2)}, steady(15.5));
  auto s = t.snapshot(false);
  const auto& r = only_ring(s);
  ASSERT_EQ(r.convergence.count(), 2u);
  EXPECT_NEAR(r.convergence.sum(), 5.25 + 0.25, 1e-5);
  ASSERT_EQ(s.recent.size(), 2u);
  EXPECT_EQ(s.recent[0].first_probe, 1u);
  EXPECT_EQ(*s.recent[0].last_probe, 2u);
  EXPECT_NEAR(*s.recent[1].convergence, 0.25, 1e-5);
  EXPECT_EQ(*s.recent[1].last_probe, 1u);
}

TEST(PropagationTracker, ConvergenceWaitsForEveryProbesFullState) {
  PropagationOptions o;
  o.probes = 2;
  PropagationTracker t(o);
  const int64_t t0 = 1'700'000'000;
  t.record(0, {added("a", t0, t0 + 1)}, steady(1));
  t.record(0, {event("a", t0, t0 + 5, t0 + 5.1)}, steady(5));  // probe 1 has no state yet
  t.record(1, {added("a", t0 + 5, t0 + 30)}, steady(30));
  EXPECT_EQ(only_ring(t.snapshot(false)).convergence.count(), 0u);
}

TEST(PropagationTracker, BeaconsPublishedAfterStartMeasuredOnce) {
  PropagationOptions o;
  o.started = at(1000);
  PropagationTracker t(o);
  ring::PropagationDelayTrackerDesc d;
  d.beacons[1] = {900'000, 0, "old"};        // before ringwatch started
  d.beacons[2] = {1'010'000, 0, "node-a"};   // 250 ms before arrival
  d.beacons[3] = {1'005'000, 1'006'000, ""}; // deleted
  t.record_beacons(0, d, at(1010.25));
  t.record_beacons(0, d, at(1012));
  auto s = t.snapshot(false);
  EXPECT_EQ(s.beacons_measured, 1u);
  EXPECT_NEAR(s.beacon_delay.sum(), 0.25, 1e-9);
}

TEST(Collectors, MemberNamesMatchInstancesWithDskitsRandomSuffix) {
  EXPECT_TRUE(member_is_instance("ingester-1", "ingester-1"));
  EXPECT_TRUE(member_is_instance("ingester-1-0a1b2c3d", "ingester-1"));
  EXPECT_FALSE(member_is_instance("ingester-1-0a1b2c3", "ingester-1"));
  EXPECT_FALSE(member_is_instance("ingester-10", "ingester-1"));
  EXPECT_FALSE(member_is_instance("ingester-1-0a1b2c3z", "ingester-1"));
  EXPECT_EQ(family_name("cortex", "ring_members"), "cortex_ring_members");
  EXPECT_EQ(family_name("loki", "memberlist_members"), "loki_memberlist_members");
  EXPECT_EQ(family_name("cortex", "partition_ring_partitions"), "cortex_partition_ring_partitions");
  EXPECT_EQ(family_name("cortex", "ringwatch_kv_keys"), "ringwatch_kv_keys");
  EXPECT_EQ(family_name("", "ring_members"), "ring_members");
}

TEST(Collectors, PropagationFamiliesWithPrefix) {
  PropagationTracker tracker(PropagationOptions{});
  const int64_t t0 = 1'700'000'000;
  tracker.record(0, {added("a", t0, t0 + 1)}, steady(1));
  tracker.record(0, {event("a", t0, t0 + 2, t0 + 2.3)}, steady(2));
  tracker.record(0, {event("a", t0 + 2, t0 + 4, t0 + 4.3)}, steady(4));
  Observer observer(ring::StoreOptions{});
  MetricsOptions metrics;
  metrics.prefix = "cortex";
  RingOptions rings;
  std::string text = render_text({std::make_shared<RingCollector>(observer, rings, &tracker, metrics)});
  EXPECT_NE(text.find("cortex_ring_heartbeat_propagation_delay_seconds_bucket{key=\"collectors/ring\",name=\"ingester\",le=\"0.5\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cortex_ring_heartbeat_excess_delay_seconds_count{key=\"collectors/ring\",name=\"ingester\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("cortex_ring_heartbeat_period_seconds{key=\"collectors/ring\",name=\"ingester\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("cortex_ring_updates_first_seen_total{key=\"collectors/ring\",name=\"ingester\",via=\"gossip\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("cortex_memberlist_propagation_beacon_delay_seconds_count 0"), std::string::npos);
  EXPECT_EQ(text.find("ring_update_convergence_seconds"), std::string::npos) << "one probe measures no convergence";
  EXPECT_EQ(text.find("ring_member_heartbeat_age_seconds"), std::string::npos) << "per-member series need the flag";
  EXPECT_NE(text.find("ringwatch_scrape_duration_seconds"), std::string::npos);

  // A configured period wins over the estimate.
  rings.overrides.push_back({"collectors/ring", "", std::nullopt, std::chrono::seconds(15)});
  text = render_text({std::make_shared<RingCollector>(observer, rings, &tracker, metrics)});
  EXPECT_NE(text.find("cortex_ring_heartbeat_period_seconds{key=\"collectors/ring\",name=\"ingester\"} 15"),
            std::string::npos)
      << text;
}
