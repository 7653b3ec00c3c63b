// KvStore: §3.6 steps (deleted flag, tombstone removal), other codecs, events, health, ownership.
#include <gtest/gtest.h>
#include <snappy.h>

#include "proto/kv.pb.h"
#include "proto/partition_ring_desc.pb.h"
#include "proto/propagation_tracker.pb.h"
#include "proto/ring.pb.h"
#include "ring/health.h"
#include "ring/kv_store.h"
#include "ring_test_util.h"

namespace ringwatch::ring {
namespace {

using namespace std::chrono_literals;

std::string snappy_of(const google::protobuf::Message& m) {
  const std::string raw = m.SerializeAsString();
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

// A one-instance ring value written by libprotobuf.
std::string ring_value(const std::string& id, int64_t ts, ::ring::InstanceState state, std::vector<uint32_t> tokens,
                       const std::string& zone = "zone-a") {
  ::ring::Desc d;
  auto& i = (*d.mutable_ingesters())[id];
  i.set_addr("10.0.0.1:9095");
  i.set_timestamp(ts);
  i.set_state(state);
  for (uint32_t t : tokens) i.add_tokens(t);
  i.set_zone(zone);
  i.set_id(id);
  return snappy_of(d);
}

KeyValuePair kv(std::string key, std::string value, std::string codec = "ringDesc", bool deleted = false, int64_t ut = 0) {
  return KeyValuePair{std::move(key), std::move(value), std::move(codec), deleted, ut};
}

Delivery at(int64_t unix_seconds, Source s = Source::gossip) {
  return Delivery{Clock::time_point(std::chrono::seconds(unix_seconds)), "10.0.0.9:7946", s};
}

TEST(KvStore, TombstoneRemovedWithTheFirstChangeAfterTimeout) {
  KvStore store;  // left_ingesters_timeout 5m
  std::vector<ChangeEvent> ev;
  EXPECT_EQ(store.apply(kv("collectors/ring", ring_value("a", 1000, ::ring::ACTIVE, {1})), at(1000), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.apply(kv("collectors/ring", ring_value("a", 1001, ::ring::LEFT, {})), at(1001), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.ring("collectors/ring")->tombstones(), 1u);
  EXPECT_EQ(store.ring("collectors/ring")->view()->oldest_tombstone_timestamp, 1001);
  EXPECT_EQ(store.ring("collectors/ring")->view()->instances.size(), 0u);
  // 1001 < 1301 - 300 is false: kept.
  EXPECT_EQ(store.apply(kv("collectors/ring", ring_value("b", 1301, ::ring::ACTIVE, {2})), at(1301), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.ring("collectors/ring")->tombstones(), 1u);
  // No change, no removal run (dskit removes tombstones only when storing a change).
  EXPECT_EQ(store.apply(kv("collectors/ring", ring_value("b", 1301, ::ring::ACTIVE, {2})), at(1400), ev).status, ApplyStatus::unchanged);
  EXPECT_EQ(store.ring("collectors/ring")->tombstones(), 1u);
  ev.clear();
  EXPECT_EQ(store.apply(kv("collectors/ring", ring_value("b", 1302, ::ring::ACTIVE, {2})), at(1400), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.ring("collectors/ring")->tombstones(), 0u);
  EXPECT_EQ(store.ring("collectors/ring")->view()->oldest_tombstone_timestamp, 0);
  EXPECT_EQ(store.ring("collectors/ring")->find("a"), nullptr);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].changed, kChangedRemoved);
  EXPECT_EQ(ev[1].instance_id, "a");
  EXPECT_EQ(store.counters().tombstones_removed, 1u);
}

TEST(KvStore, ZeroTimeoutKeepsTombstonesForever) {
  StoreOptions o;
  o.left_ingesters_timeout = 0ms;
  KvStore store(o);
  std::vector<ChangeEvent> ev;
  store.apply(kv("k", ring_value("a", 10, ::ring::LEFT, {})), at(10), ev);
  store.apply(kv("k", ring_value("b", 11, ::ring::ACTIVE, {})), at(1'000'000), ev);
  EXPECT_EQ(store.ring("k")->tombstones(), 1u);
  EXPECT_EQ(store.snapshot()->find("k")->ring->instances.size(), 1u);
}

TEST(KvStore, DeletedFlag) {
  KvStore store;
  std::vector<ChangeEvent> ev;
  // Deletions never create keys.
  EXPECT_EQ(store.apply(kv("k", ring_value("a", 10, ::ring::ACTIVE, {1}), "ringDesc", true, 5000), at(10), ev).status,
            ApplyStatus::ignored_deleted);
  EXPECT_EQ(store.key_count(), 0u);
  store.apply(kv("k", ring_value("a", 10, ::ring::ACTIVE, {1})), at(10), ev);
  // Same content, deleted with a time: the flag alone is a change.
  EXPECT_EQ(store.apply(kv("k", ring_value("a", 10, ::ring::ACTIVE, {1}), "ringDesc", true, 5000), at(11), ev).status,
            ApplyStatus::changed);
  // Deleted without update time, or older: nothing.
  EXPECT_EQ(store.apply(kv("k", ring_value("a", 10, ::ring::ACTIVE, {1}), "ringDesc", true, 0), at(12), ev).status,
            ApplyStatus::unchanged);
  EXPECT_EQ(store.apply(kv("k", ring_value("a", 10, ::ring::ACTIVE, {1}), "ringDesc", true, 4000), at(12), ev).status,
            ApplyStatus::unchanged);
  // A non-deleted update never clears the flag.
  EXPECT_EQ(store.apply(kv("k", ring_value("a", 11, ::ring::ACTIVE, {1})), at(13), ev).status, ApplyStatus::changed);
  auto snap = store.snapshot();
  const KeySnapshot* k = snap->find("k");
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->deleted);
  EXPECT_EQ(k->deleted_update_time_millis, 5000);
  EXPECT_EQ(k->version, 3u);
  // Obsolete sweep: removed once its update time is older than the timeout.
  EXPECT_EQ(store.remove_obsolete_entries(Clock::time_point(5000ms + 30s), 30s), 0u);
  EXPECT_EQ(store.remove_obsolete_entries(Clock::time_point(5001ms + 30s), 30s), 1u);
  EXPECT_EQ(store.key_count(), 0u);
}

TEST(KvStore, EmptyFirstValueIsNotStored) {
  KvStore store;
  std::vector<ChangeEvent> ev;
  EXPECT_EQ(store.apply(kv("k", snappy_of(::ring::Desc{})), at(1), ev).status, ApplyStatus::unchanged);
  EXPECT_EQ(store.key_count(), 0u);
}

TEST(KvStore, CodecDecidesNotKeyAndUnknownCodecsAreKept) {
  KvStore store;
  std::vector<ChangeEvent> ev;
  // A partition ring under a key that sounds like an instance ring.
  ::ring::PartitionRingDesc pr;
  auto& p = (*pr.mutable_partitions())[3];
  p.add_tokens(7);
  p.set_state(::ring::PartitionActive);
  p.set_statetimestamp(100);
  EXPECT_EQ(store.apply(kv("collectors/metrics-generator", snappy_of(pr), "partitionRingDesc"), at(1), ev).status,
            ApplyStatus::changed);
  // Push/pull with an unknown codec between two good records: all three handled.
  auto record = [](const KeyValuePair& k) {
    ::memberlist::KeyValuePair m;
    m.set_key(k.key);
    m.set_value(k.value);
    m.set_codec(k.codec);
    const std::string b = m.SerializeAsString();
    const uint32_t n = static_cast<uint32_t>(b.size());
    return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)} + b;
  };
  const std::string state = record(kv("collectors/ring", ring_value("a", 10, ::ring::ACTIVE, {1}))) +
                            record(kv("collectors/versions", "opaque", "versions")) +
                            record(kv("collectors/distributor", ring_value("d", 10, ::ring::ACTIVE, {2})));
  const PushPullResult r = store.apply_push_pull(state, at(2, Source::pushpull), ev);
  EXPECT_EQ(r.records, 3u);
  EXPECT_EQ(r.changed, 2u);
  EXPECT_EQ(store.counters().unknown_codec, 1u);
  auto snap = store.snapshot();
  ASSERT_EQ(snap->keys.size(), 4u);
  EXPECT_EQ(*snap->find("collectors/versions")->raw, "opaque");
  EXPECT_EQ(snap->find("collectors/metrics-generator")->partition_ring->partitions.size(), 1u);
  EXPECT_EQ(snap->find("collectors/ring")->ring_name, "ingester");
  EXPECT_EQ(snap->find("collectors/ring")->last_source, Source::pushpull);
  EXPECT_EQ(snap->find("collectors/distributor")->ring_name, "distributor");
  // A value of another codec for a ring key is rejected, nothing stored.
  EXPECT_EQ(store.apply(kv("collectors/ring", snappy_of(pr), "partitionRingDesc"), at(3), ev).status, ApplyStatus::decode_error);
  // Garbage value: decode error, key untouched.
  EXPECT_EQ(store.apply(kv("collectors/ring", "\x05junk"), at(3), ev).status, ApplyStatus::decode_error);
  EXPECT_EQ(store.apply_user_message("\xff\xff", at(3), ev).status, ApplyStatus::invalid);
  EXPECT_EQ(store.apply(kv("", ring_value("a", 10, ::ring::ACTIVE, {1})), at(3), ev).status, ApplyStatus::invalid);
}

TEST(KvStore, PartitionRingMerge) {
  KvStore store;
  std::vector<ChangeEvent> ev;
  auto value = [](int32_t id, ::ring::PartitionState st, int64_t ts, const std::string& owner, ::ring::OwnerState os,
                  int64_t ots) {
    ::ring::PartitionRingDesc d;
    auto& p = (*d.mutable_partitions())[id];
    p.add_tokens(static_cast<uint32_t>(id) * 10 + 1);
    p.set_id(id);
    p.set_state(st);
    p.set_statetimestamp(ts);
    auto& o = (*d.mutable_owners())[owner];
    o.set_ownedpartition(id);
    o.set_state(os);
    o.set_updatedtimestamp(ots);
    return snappy_of(d);
  };
  const std::string k = "collectors/ingester-partitions";
  store.apply(kv(k, value(1, ::ring::PartitionActive, 100, "i-1", ::ring::OwnerActive, 100), "partitionRingDesc"), at(100), ev);
  // Older state: ignored. Equal timestamp + Deleted: wins.
  EXPECT_EQ(store.apply(kv(k, value(1, ::ring::PartitionInactive, 99, "i-1", ::ring::OwnerActive, 99), "partitionRingDesc"), at(101), ev).status,
            ApplyStatus::unchanged);
  EXPECT_EQ(store.apply(kv(k, value(1, ::ring::PartitionDeleted, 100, "i-1", ::ring::OwnerDeleted, 100), "partitionRingDesc"), at(101), ev).status,
            ApplyStatus::changed);
  auto snap = store.snapshot();
  EXPECT_TRUE(snap->find(k)->partition_ring->partitions.empty());  // readers never see Deleted
  EXPECT_TRUE(snap->find(k)->partition_ring->owners.empty());
  EXPECT_EQ(snap->find(k)->tombstones, 2u);
  // Tombstones go with the first change more than 5 minutes later; tokens are never merged.
  EXPECT_EQ(store.apply(kv(k, value(2, ::ring::PartitionActive, 500, "i-2", ::ring::OwnerActive, 500), "partitionRingDesc"), at(401), ev).status,
            ApplyStatus::changed);
  EXPECT_EQ(store.snapshot()->find(k)->tombstones, 0u);
  EXPECT_EQ(store.snapshot()->find(k)->partition_ring->partitions.at(2).tokens, std::vector<uint32_t>{21});
}

TEST(KvStore, BeaconMerge) {
  KvStore store;
  std::vector<ChangeEvent> ev;
  auto value = [](uint64_t id, int64_t published, int64_t deleted) {
    ::memberlist::PropagationDelayTrackerDesc d;
    auto& b = (*d.mutable_beacons())[id];
    b.set_published_at(published);
    b.set_deleted_at(deleted);
    b.set_published_by("node-1");
    return snappy_of(d);
  };
  const std::string k = "memberlist-propagation-delay-tracker";
  store.apply(kv(k, value(42, 1000, 0), "propagationDelayTracker"), at(1), ev);
  EXPECT_EQ(store.apply(kv(k, value(42, 999, 5000), "propagationDelayTracker"), at(2), ev).status, ApplyStatus::unchanged);
  EXPECT_EQ(store.apply(kv(k, value(42, 1000, 5000), "propagationDelayTracker"), at(2), ev).status, ApplyStatus::changed);
  EXPECT_TRUE(store.snapshot()->find(k)->beacons->beacons.empty());
  // Removed 5 minutes after deleted_at (ms resolution) with the next change.
  EXPECT_EQ(store.apply(kv(k, value(43, 2000, 0), "propagationDelayTracker"), Delivery{Clock::time_point(5000ms + 300s), "p", Source::gossip}, ev).status,
            ApplyStatus::changed);
  EXPECT_EQ(store.snapshot()->find(k)->tombstones, 1u);
  EXPECT_EQ(store.apply(kv(k, value(44, 2000, 0), "propagationDelayTracker"), Delivery{Clock::time_point(5001ms + 300s), "p", Source::gossip}, ev).status,
            ApplyStatus::changed);
  EXPECT_EQ(store.snapshot()->find(k)->tombstones, 0u);
}

TEST(KvStore, SnapshotsAreSharedUntilAChange) {
  KvStore store;
  std::vector<ChangeEvent> ev;
  store.apply(kv("k", ring_value("a", 10, ::ring::ACTIVE, {1})), at(10), ev);
  auto s1 = store.snapshot();
  EXPECT_EQ(store.snapshot(), s1);
  store.apply(kv("k", ring_value("b", 10, ::ring::ACTIVE, {2})), at(11), ev);
  auto s2 = store.snapshot();
  ASSERT_NE(s2, s1);
  EXPECT_EQ(s1->find("k")->ring->instances.size(), 1u);  // the old snapshot is untouched
  EXPECT_EQ(s2->find("k")->ring->instances.size(), 2u);
  // Unchanged instances are shared, not copied.
  EXPECT_EQ(s1->find("k")->ring->instances[0].get(), s2->find("k")->ring->instances[0].get());
}

TEST(Health, ReportingOpIgnoresState) {
  InstanceDesc d;
  d.timestamp = 1000;
  d.state = InstanceState::leaving;
  const auto now = Clock::time_point(std::chrono::seconds(1060));
  EXPECT_TRUE(is_healthy(d, now, 60s));
  EXPECT_FALSE(is_healthy(d, now + 1ns, 60s));
  EXPECT_EQ(ring_page_state(d, now, 60s), "LEAVING");
  EXPECT_EQ(ring_page_state(d, now + 1s, 60s), "UNHEALTHY");
  RingView v;
  auto mk = [](std::string id, int64_t ts, InstanceState st, std::vector<uint32_t> tokens) {
    InstanceDesc i;
    i.timestamp = ts;
    i.state = st;
    i.tokens = std::move(tokens);
    return std::make_shared<const Instance>(Instance{std::move(id), std::move(i)});
  };
  v.instances = {mk("a", 1000, InstanceState::active, {1, 2}), mk("b", 900, InstanceState::active, {3}),
                 mk("c", 1050, InstanceState::joining, {})};
  const RingMembers m = count_members(v, now, 60s);
  EXPECT_EQ(m.members[static_cast<size_t>(MemberState::active)], 1u);
  EXPECT_EQ(m.members[static_cast<size_t>(MemberState::unhealthy)], 1u);
  EXPECT_EQ(m.members[static_cast<size_t>(MemberState::joining)], 1u);
  EXPECT_EQ(m.oldest_timestamp[static_cast<size_t>(MemberState::unhealthy)], 900);
  EXPECT_EQ(m.tokens, 3u);
}

TEST(Ownership, PerZoneDistancesAsTheRingPage) {
  RingView v;
  auto mk = [](std::string id, std::string zone, std::vector<uint32_t> tokens) {
    InstanceDesc i;
    i.zone = std::move(zone);
    i.tokens = std::move(tokens);
    return std::make_shared<const Instance>(Instance{std::move(id), std::move(i)});
  };
  // zone-a: a owns (100 - 0) ... tokens a{100}, b{1000}: a gets 2^32-1000+100, b gets 900.
  // zone-b: one instance with one token: distance 2^32 (just above 100 %).
  v.instances = {mk("a", "zone-a", {100}), mk("b", "zone-a", {1000}), mk("c", "zone-b", {5})};
  const RingOwnership o = compute_ownership(v);
  EXPECT_EQ(o.instances[0].owned, (uint64_t{1} << 32) - 1000 + 100);
  EXPECT_EQ(o.instances[1].owned, 900u);
  EXPECT_EQ(o.instances[2].owned, uint64_t{1} << 32);
  EXPECT_DOUBLE_EQ(o.instances[2].percent, 4294967296.0 * 100 / 4294967295.0);
  ASSERT_EQ(o.zones.size(), 2u);
  EXPECT_EQ(o.zones[0].zone, "zone-a");
  EXPECT_EQ(o.zones[0].owned, uint64_t{1} << 32);
  EXPECT_EQ(o.zones[1].instances, 1u);
}

TEST(RingNamesTest, DefaultsAndOverrides) {
  RingNames n = RingNames::defaults();
  EXPECT_EQ(n.name_for("collectors/ring"), "ingester");
  EXPECT_EQ(n.name_for("collectors/store-gateway"), "store-gateway");
  EXPECT_EQ(n.name_for("rulers/ring"), "ruler");
  EXPECT_EQ(n.name_for("alertmanagers/alertmanager"), "alertmanager");
  EXPECT_EQ(n.name_for("ha-tracker/t1/c1"), "ha-tracker");
  EXPECT_EQ(n.name_for("custom/key"), "custom/key");
  n.set("collectors/ring", "ingester-eu");
  EXPECT_EQ(n.name_for("collectors/ring"), "ingester-eu");
}

}  // namespace
}  // namespace ringwatch::ring
