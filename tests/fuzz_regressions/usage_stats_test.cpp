// Crashes found by fuzz/targets/usage_stats_seed.cpp and fuzz/targets/kv_store.cpp.
//
// A usagestats.jsonCodec value (gossiped by any member) whose created_at lies after 2262 or
// before 1678 overflowed int64 in parse_rfc3339_nanos (secs * 1e9): signed overflow, undefined
// behaviour (UBSan: ring/codec.cpp "signed integer overflow: 13626957600 * 1000000000"); without
// the sanitizer the seed carried a wrapped, wrong creation time. Such a time is unparseable as
// Unix nanoseconds, which the decoder reports as created_at_nanos == 0.
#include <gtest/gtest.h>

#include <string>

#include "ring/codec.h"
#include "ring/kv_store.h"

namespace ringwatch::ring {
namespace {

std::string seed_json(const std::string& created_at) {
  return R"({"UID":"4a9f6ed6-3c4a-4e0e-9d8e-3b0f2a2f6c11","created_at":")" + created_at +
         R"(","version":{"version":"3.10.0","revision":"abc","branch":"HEAD","goVersion":"go1.21.3"}})";
}

// Protobuf KeyValuePair{key, value, codec} written by hand (fields 1, 2, 3, length-delimited).
std::string kv_pair(const std::string& key, const std::string& value, const std::string& codec) {
  std::string out;
  auto field = [&](int number, const std::string& bytes) {
    out.push_back(static_cast<char>(number << 3 | 2));
    for (std::size_t n = bytes.size(); ; n >>= 7) {
      out.push_back(static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)));
      if (n < 0x80) break;
    }
    out += bytes;
  };
  field(1, key);
  field(2, value);
  field(3, codec);
  return out;
}

class OutOfRangeCreatedAt : public ::testing::TestWithParam<const char*> {};

// fuzz_usage_stats_seed's reproducer (crash-aae782b6...: year 2401), fuzz_kv_store's (crash-
// d8c1abe9...: year 6703), the last representable second and the first ones past each end.
INSTANTIATE_TEST_SUITE_P(FuzzRegressions, OutOfRangeCreatedAt,
                         ::testing::Values("2401-10-27T10:00:00.061728394Z", "6703-10-27T10:00:00.123456789Z",
                                           "2262-04-11T23:47:17Z", "1677-09-21T00:12:43Z", "9999-12-31T23:59:59Z",
                                           "0000-01-01T00:00:00Z"));

TEST_P(OutOfRangeCreatedAt, DecodesAsUnparseable) {
  auto seed = decode_usage_stats_seed(seed_json(GetParam()));
  ASSERT_TRUE(seed.ok()) << seed.error().detail;
  EXPECT_EQ(seed->created_at, GetParam());
  EXPECT_EQ(seed->created_at_nanos, 0);
}

TEST_P(OutOfRangeCreatedAt, GossipedSeedIsStoredWithoutATime) {
  KvStore store;
  std::vector<ChangeEvent> events;
  auto r = store.apply_user_message(kv_pair("usagestats_token", seed_json(GetParam()), "usagestats.jsonCodec"),
                                    Delivery{Clock::now(), "peer-a", Source::gossip}, events);
  ASSERT_EQ(r.status, ApplyStatus::changed) << apply_status_name(r.status);
  auto snap = store.snapshot();
  const KeySnapshot* k = snap->find("usagestats_token");
  ASSERT_NE(k, nullptr);
  ASSERT_NE(k->usage_stats, nullptr);
  EXPECT_EQ(k->usage_stats->created_at_nanos, 0);
}

TEST(InRangeCreatedAt, StillParses) {
  // The last nanosecond second Go's UnixNano represents, and dskit's usual value.
  auto last = decode_usage_stats_seed(seed_json("2262-04-11T23:47:16.854775807Z"));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->created_at_nanos, INT64_MAX);
  auto usual = decode_usage_stats_seed(seed_json("2023-10-27T10:00:00.123456789Z"));
  ASSERT_TRUE(usual.ok());
  EXPECT_EQ(usual->created_at_nanos, 1698400800123456789);
  auto first = decode_usage_stats_seed(seed_json("1677-09-21T00:12:44Z"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->created_at_nanos, -9223372036000000000);
}

}  // namespace
}  // namespace ringwatch::ring
