// KvStore limits: a value that would take the store past max_keys, max_instances or
// max_tokens is dropped whole, counted by limit, and leaves the stored state as it was.
#include <gtest/gtest.h>
#include <snappy.h>

#include "proto/kv.pb.h"
#include "proto/partition_ring_desc.pb.h"
#include "proto/propagation_tracker.pb.h"
#include "proto/ring.pb.h"
#include "ring/kv_store.h"

namespace ringwatch::ring {
namespace {

std::string snappy_of(const google::protobuf::Message& m) {
  const std::string raw = m.SerializeAsString();
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

// A ring value with `count` instances "<prefix>0".. holding `tokens` tokens each.
std::string ring_value(const std::string& prefix, int count, int tokens, int64_t ts = 1000) {
  ::ring::Desc d;
  uint32_t next_token = static_cast<uint32_t>(std::hash<std::string>{}(prefix));
  for (int i = 0; i < count; ++i) {
    auto& inst = (*d.mutable_ingesters())[prefix + std::to_string(i)];
    inst.set_addr("10.0.0.1:9095");
    inst.set_timestamp(ts);
    inst.set_state(::ring::ACTIVE);
    for (int t = 0; t < tokens; ++t) inst.add_tokens(next_token += 7919);
  }
  return snappy_of(d);
}

KeyValuePair kv(std::string key, std::string value, std::string codec = "ringDesc") {
  return KeyValuePair{std::move(key), std::move(value), std::move(codec), false, 0};
}

Delivery at(int64_t unix_seconds) { return Delivery{Clock::time_point(std::chrono::seconds(unix_seconds)), "10.0.0.9:7946", Source::gossip}; }

TEST(KvLimits, DefaultsFitTenThousandInstancesOf512Tokens) {
  const StoreLimits d;
  EXPECT_GE(d.max_instances, 10'000u);
  EXPECT_GE(d.max_tokens, 10'000u * 512);
  EXPECT_GE(d.max_keys, 10'000u);
}

TEST(KvLimits, NewKeyBeyondMaxKeysIsDroppedAndCounted) {
  StoreOptions o;
  o.limits.max_keys = 2;
  KvStore store(o);
  std::vector<ChangeEvent> ev;
  EXPECT_EQ(store.apply(kv("a", ring_value("i", 1, 1)), at(1000), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.apply(kv("b", "raw bytes", "someOtherCodec"), at(1000), ev).status, ApplyStatus::unknown_codec);
  auto r = store.apply(kv("c", ring_value("i", 1, 1)), at(1000), ev);
  EXPECT_EQ(r.status, ApplyStatus::over_limit);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_NE(r.error->detail.find("limit 2"), std::string::npos) << r.error->detail;
  // Unknown codecs create keys too.
  EXPECT_EQ(store.apply(kv("d", "raw", "someOtherCodec"), at(1000), ev).status, ApplyStatus::over_limit);
  EXPECT_EQ(store.key_count(), 2u);
  EXPECT_EQ(store.counters().limit_count(StoreLimit::keys), 2u);
  // Keys already held still merge.
  EXPECT_EQ(store.apply(kv("a", ring_value("i", 1, 1, 1001)), at(1001), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.snapshot()->counters.limit_count(StoreLimit::keys), 2u);
}

TEST(KvLimits, RingBeyondMaxInstancesIsDroppedWhole) {
  StoreOptions o;
  o.limits.max_instances = 3;
  KvStore store(o);
  std::vector<ChangeEvent> ev;
  // A first value that is too large never creates the key.
  EXPECT_EQ(store.apply(kv("k", ring_value("a", 4, 1)), at(1000), ev).status, ApplyStatus::over_limit);
  EXPECT_EQ(store.key_count(), 0u);
  EXPECT_EQ(store.apply(kv("k", ring_value("a", 2, 1)), at(1000), ev).status, ApplyStatus::changed);
  // Updates of held instances are fine; one new one fits, two do not, and nothing of them is merged.
  EXPECT_EQ(store.apply(kv("k", ring_value("a", 2, 1, 1001)), at(1001), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.apply(kv("k", ring_value("b", 2, 1)), at(1001), ev).status, ApplyStatus::over_limit);
  EXPECT_EQ(store.ring("k")->size(), 2u);
  EXPECT_EQ(store.apply(kv("k", ring_value("b", 1, 1)), at(1001), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.ring("k")->size(), 3u);
  EXPECT_EQ(store.counters().limit_count(StoreLimit::instances), 2u);
  EXPECT_EQ(store.counters().limit_count(StoreLimit::tokens), 0u);
}

TEST(KvLimits, RingBeyondMaxTokensIsDroppedWhole) {
  StoreOptions o;
  o.limits.max_tokens = 100;
  KvStore store(o);
  std::vector<ChangeEvent> ev;
  EXPECT_EQ(store.apply(kv("k", ring_value("a", 2, 40)), at(1000), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.ring("k")->token_count(), 80u);
  // A new instance with 30 tokens would make 110.
  auto r = store.apply(kv("k", ring_value("b", 1, 30)), at(1000), ev);
  EXPECT_EQ(r.status, ApplyStatus::over_limit);
  EXPECT_NE(r.error->detail.find("110 tokens"), std::string::npos) << r.error->detail;
  // A held instance growing from 40 to 70 tokens would make 110 as well.
  EXPECT_EQ(store.apply(kv("k", ring_value("a", 1, 70, 1001)), at(1001), ev).status, ApplyStatus::over_limit);
  EXPECT_EQ(store.ring("k")->token_count(), 80u);
  EXPECT_EQ(store.apply(kv("k", ring_value("b", 1, 20)), at(1001), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.counters().limit_count(StoreLimit::tokens), 2u);
}

TEST(KvLimits, PartitionRingAndBeaconsCountAsInstances) {
  StoreOptions o;
  o.limits.max_instances = 2;
  o.limits.max_tokens = 10;
  KvStore store(o);
  std::vector<ChangeEvent> ev;
  auto partitions = [](int first, int count, int tokens) {
    ::ring::PartitionRingDesc d;
    for (int id = first; id < first + count; ++id) {
      auto& p = (*d.mutable_partitions())[id];
      p.set_id(id);
      p.set_state(::ring::PartitionActive);
      p.set_statetimestamp(1000);
      for (int t = 0; t < tokens; ++t) p.add_tokens(static_cast<uint32_t>(id * 100 + t));
    }
    return snappy_of(d);
  };
  EXPECT_EQ(store.apply(kv("p", partitions(0, 3, 1), "partitionRingDesc"), at(1000), ev).status, ApplyStatus::over_limit);
  EXPECT_EQ(store.apply(kv("p", partitions(0, 1, 11), "partitionRingDesc"), at(1000), ev).status, ApplyStatus::over_limit);
  EXPECT_EQ(store.apply(kv("p", partitions(0, 2, 5), "partitionRingDesc"), at(1000), ev).status, ApplyStatus::changed);

  auto beacons = [](int first, int count) {
    ::memberlist::PropagationDelayTrackerDesc d;
    for (int id = first; id < first + count; ++id) (*d.mutable_beacons())[static_cast<uint64_t>(id)].set_published_at(1000);
    return snappy_of(d);
  };
  EXPECT_EQ(store.apply(kv("b", beacons(0, 2), "propagationDelayTracker"), at(1000), ev).status, ApplyStatus::changed);
  EXPECT_EQ(store.apply(kv("b", beacons(2, 1), "propagationDelayTracker"), at(1000), ev).status, ApplyStatus::over_limit);
  EXPECT_EQ(store.counters().limit_count(StoreLimit::instances), 2u);
  EXPECT_EQ(store.counters().limit_count(StoreLimit::tokens), 1u);
}

TEST(KvLimits, PushPullCountsRecordsOverLimitAsFailed) {
  StoreOptions o;
  o.limits.max_keys = 1;
  KvStore store(o);
  std::vector<ChangeEvent> ev;
  std::string state;
  for (const char* key : {"a", "b"}) {
    std::string record;
    ::memberlist::KeyValuePair p;
    p.set_key(key);
    p.set_value(ring_value("i", 1, 1));
    p.set_codec("ringDesc");
    record = p.SerializeAsString();
    const auto n = static_cast<uint32_t>(record.size());
    state += {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
    state += record;
  }
  auto r = store.apply_push_pull(state, Delivery{Clock::time_point(std::chrono::seconds(1000)), "peer", Source::pushpull}, ev);
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(r.changed, 1u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(store.counters().limit_count(StoreLimit::keys), 1u);
}

}  // namespace
}  // namespace ringwatch::ring
