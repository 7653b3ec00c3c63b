// Codecs against real dskit data, the spec's reference encodings and libprotobuf's parser.
#include <gtest/gtest.h>
#include <snappy.h>

#include <filesystem>
#include <random>

#include "proto/ha_tracker.pb.h"
#include "proto/kv.pb.h"
#include "proto/partition_ring_desc.pb.h"
#include "proto/propagation_tracker.pb.h"
#include "proto/ring.pb.h"
#include "ring/codec.h"
#include "ring_test_util.h"

namespace ringwatch::ring {
namespace {

using testing::fixture_path;
using testing::read_file;
using testing::read_json;
using testing::unhex;

// Spec §4.4 reference encodings (Go's bytes).
constexpr const char* kInstanceHex =
    "0a0d31302e302e302e313a393039351080e2cfaa06320801ac0280d0acf30e3a067a6f6e652d614080b5eda5064a0a696e6765737465722d31";
constexpr const char* kDescHex =
    "0a470a0a696e6765737465722d3112390a0d31302e302e302e313a393039351080e2cfaa06320801ac0280d0acf30e3a067a6f6e652d614080b5"
    "eda5064a0a696e6765737465722d31";
constexpr const char* kSnappyDescHex =
    "49500a470a0a696e6765737465722d3112390a0d31302e0102bc313a393039351080e2cfaa06320801ac0280d0acf30e3a067a6f6e652d61408"
    "0b5eda5064a0a696e6765737465722d31";
constexpr const char* kKvpHex =
    "0a0f636f6c6c6563746f72732f72696e67124a49500a470a0a696e6765737465722d3112390a0d31302e0102bc313a393039351080e2cfaa0632"
    "0801ac0280d0acf30e3a067a6f6e652d614080b5eda5064a0a696e6765737465722d311a0872696e6744657363";
constexpr const char* kDeletedSuffixHex = "200128fbd095ffbc31";
constexpr const char* kLeftHex =
    "0a0d31302e302e302e313a3930393510e4e2cfaa0618043a067a6f6e652d614080b5eda5064a0a696e6765737465722d31";
constexpr const char* kLeavingReadOnlyHex =
    "0a0d31302e302e302e313a393039351080e2cfaa061801320801ac0280d0acf30e3a067a6f6e652d614080b5eda5064a0a696e6765737465722d3"
    "15081e2cfaa065801620408011002";
constexpr const char* kEmptyInstanceDescHex = "0a050a01781200";
constexpr const char* kPartitionRingHex =
    "0a0f0800120b0a010710021880e2cfaa06121d0a11696e6765737465722d7a6f6e652d612d30120810011880e2cfaa06";
constexpr const char* kBeaconsHex = "0a13082a120f08fbd095ffbc311a066e6f64652d31";

InstanceDesc reference_instance() {
  InstanceDesc d;
  d.id = "ingester-1";
  d.addr = "10.0.0.1:9095";
  d.timestamp = 1700000000;
  d.tokens = {1, 300, 4000000000u};
  d.zone = "zone-a";
  d.registered_timestamp = 1690000000;
  return d;
}

// Field-by-field equality of our struct and libprotobuf's message.
void expect_same(const InstanceDesc& mine, const ::ring::InstanceDesc& pb) {
  EXPECT_EQ(mine.addr, pb.addr());
  EXPECT_EQ(mine.timestamp, pb.timestamp());
  EXPECT_EQ(static_cast<int>(mine.state), static_cast<int>(pb.state()));
  EXPECT_EQ(mine.tokens, std::vector<uint32_t>(pb.tokens().begin(), pb.tokens().end()));
  EXPECT_EQ(mine.zone, pb.zone());
  EXPECT_EQ(mine.registered_timestamp, pb.registered_timestamp());
  EXPECT_EQ(mine.id, pb.id());
  EXPECT_EQ(mine.read_only_updated_timestamp, pb.read_only_updated_timestamp());
  EXPECT_EQ(mine.read_only, pb.read_only());
  const std::map<uint64_t, uint64_t> versions(pb.versions().begin(), pb.versions().end());
  EXPECT_EQ(mine.versions, versions);
}

void expect_same(const RingDesc& mine, const ::ring::Desc& pb) {
  ASSERT_EQ(mine.ingesters.size(), pb.ingesters().size());
  for (const auto& [id, inst] : pb.ingesters()) {
    auto it = mine.ingesters.find(id);
    ASSERT_NE(it, mine.ingesters.end()) << id;
    expect_same(it->second, inst);
  }
}

TEST(RingDescFixtures, EveryRingdescBinDecodesToItsTruth) {
  size_t checked = 0;
  for (const auto& f : std::filesystem::directory_iterator(fixture_path("dskit-2023"))) {
    if (f.path().extension() != ".json") continue;
    const auto truth = read_json(f.path().string());
    const auto& frd = truth.at("final_ring_desc");
    for (const auto& [key, file] : frd.at("files").items()) {
      SCOPED_TRACE(f.path().filename().string() + " " + key);
      const std::string bytes = read_file(fixture_path("dskit-2023/" + file.at("file").get<std::string>()));
      ASSERT_EQ(bytes.size(), file.at("bytes").get<size_t>());
      auto raw = snappy_decode(bytes);
      ASSERT_TRUE(raw.ok()) << raw.error().detail;
      EXPECT_EQ(raw->size(), file.at("protobuf_bytes").get<size_t>());
      auto ring = decode_ring_desc(bytes);
      ASSERT_TRUE(ring.ok()) << ring.error().detail;
      testing::expect_ring_matches_truth(*ring, frd.at("decoded").at(key), key);

      ::ring::Desc pb;
      ASSERT_TRUE(pb.ParseFromString(*raw));
      expect_same(*ring, pb);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 5u);  // 3 single-ring captures + two-rings' two keys
}

TEST(RingDescFixtures, BenchRingAndDelta) {
  const std::string ring_bytes = read_file(fixture_path("dskit-2023/bench/ring1000.bin"));
  const std::string delta_bytes = read_file(fixture_path("dskit-2023/bench/delta1000.bin"));
  auto ring = decode_ring_desc(ring_bytes);
  ASSERT_TRUE(ring.ok()) << ring.error().detail;
  ASSERT_EQ(ring->ingesters.size(), 1000u);
  for (const auto& [id, d] : ring->ingesters) {
    EXPECT_EQ(d.tokens.size(), 512u) << id;
    EXPECT_TRUE(std::is_sorted(d.tokens.begin(), d.tokens.end())) << id;
    EXPECT_EQ(d.state, InstanceState::active);
  }
  EXPECT_EQ(snappy_decode(ring_bytes)->size(), 2617578u);
  auto delta = decode_ring_desc(delta_bytes);
  ASSERT_TRUE(delta.ok());
  ASSERT_EQ(delta->ingesters.size(), 1u);
  const auto& [id, d] = *delta->ingesters.begin();
  EXPECT_EQ(id, "ingester-zone-b-248");
  EXPECT_EQ(d.timestamp, 1698400012);
  EXPECT_EQ(ring->ingesters.at(id).timestamp, 1698399997);
  auto expected = ring->ingesters.at(id);
  expected.timestamp = d.timestamp;
  EXPECT_EQ(d, expected);
}

TEST(ReferenceEncodings, InstanceDescAndDesc) {
  auto inst = decode_instance_desc_proto(unhex(kInstanceHex));
  ASSERT_TRUE(inst.ok());
  EXPECT_EQ(*inst, reference_instance());

  auto desc = decode_ring_desc_proto(unhex(kDescHex));
  ASSERT_TRUE(desc.ok());
  ASSERT_EQ(desc->ingesters.size(), 1u);
  EXPECT_EQ(desc->ingesters.at("ingester-1"), reference_instance());

  auto from_snappy = decode_ring_desc(unhex(kSnappyDescHex));
  ASSERT_TRUE(from_snappy.ok());
  EXPECT_EQ(*from_snappy, *desc);

  for (const char* hex : {kInstanceHex, kLeftHex, kLeavingReadOnlyHex}) {
    ::ring::InstanceDesc pb;
    ASSERT_TRUE(pb.ParseFromString(unhex(hex)));
    auto mine = decode_instance_desc_proto(unhex(hex));
    ASSERT_TRUE(mine.ok());
    expect_same(*mine, pb);
  }
  ::ring::Desc pb;
  ASSERT_TRUE(pb.ParseFromString(unhex(kDescHex)));
  expect_same(*desc, pb);
}

TEST(ReferenceEncodings, LeftAndLeavingReadOnly) {
  auto left = decode_instance_desc_proto(unhex(kLeftHex));
  ASSERT_TRUE(left.ok());
  InstanceDesc expected = reference_instance();
  expected.timestamp = 1700000100;
  expected.state = InstanceState::left;
  expected.tokens.clear();
  EXPECT_EQ(*left, expected);

  auto leaving = decode_instance_desc_proto(unhex(kLeavingReadOnlyHex));
  ASSERT_TRUE(leaving.ok());
  expected = reference_instance();
  expected.state = InstanceState::leaving;
  expected.read_only = true;
  expected.read_only_updated_timestamp = 1700000001;
  expected.versions = {{1, 2}};
  EXPECT_EQ(*leaving, expected);
}

TEST(ReferenceEncodings, EmptyInstanceMapValue) {
  auto desc = decode_ring_desc_proto(unhex(kEmptyInstanceDescHex));
  ASSERT_TRUE(desc.ok());
  ASSERT_EQ(desc->ingesters.size(), 1u);
  EXPECT_EQ(desc->ingesters.at("x"), InstanceDesc{});
}

TEST(ReferenceEncodings, KeyValuePair) {
  auto kv = decode_key_value_pair(unhex(kKvpHex));
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->key, "collectors/ring");
  EXPECT_EQ(kv->codec, "ringDesc");
  EXPECT_EQ(kv->value, unhex(kSnappyDescHex));
  EXPECT_FALSE(kv->deleted);
  EXPECT_EQ(kv->update_time_millis, 0);

  auto del = decode_key_value_pair(unhex(std::string(kKvpHex) + kDeletedSuffixHex));
  ASSERT_TRUE(del.ok());
  EXPECT_TRUE(del->deleted);
  EXPECT_EQ(del->update_time_millis, 1700000000123);

  ::memberlist::KeyValuePair pb;
  ASSERT_TRUE(pb.ParseFromString(unhex(std::string(kKvpHex) + kDeletedSuffixHex)));
  EXPECT_EQ(pb.key(), del->key);
  EXPECT_EQ(pb.value(), del->value);
  EXPECT_EQ(pb.codec(), del->codec);
  EXPECT_EQ(pb.deleted(), del->deleted);
  EXPECT_EQ(pb.update_time_millis(), del->update_time_millis);
}

TEST(ReferenceEncodings, PartitionRingAndBeacons) {
  auto pr = decode_partition_ring_desc_proto(unhex(kPartitionRingHex));
  ASSERT_TRUE(pr.ok());
  ASSERT_EQ(pr->partitions.size(), 1u);
  const PartitionDesc& p = pr->partitions.at(0);
  EXPECT_EQ(p.tokens, std::vector<uint32_t>{7});
  EXPECT_EQ(p.state, PartitionState::active);
  EXPECT_EQ(p.state_timestamp, 1700000000);
  ASSERT_EQ(pr->owners.size(), 1u);
  const OwnerDesc& o = pr->owners.at("ingester-zone-a-0");
  EXPECT_EQ(o.owned_partition, 0);
  EXPECT_EQ(o.state, OwnerState::active);
  EXPECT_EQ(o.updated_timestamp, 1700000000);
  ::ring::PartitionRingDesc pb;
  ASSERT_TRUE(pb.ParseFromString(unhex(kPartitionRingHex)));
  EXPECT_EQ(pb.partitions().at(0).statetimestamp(), p.state_timestamp);
  EXPECT_EQ(pb.owners().at("ingester-zone-a-0").updatedtimestamp(), o.updated_timestamp);

  auto beacons = decode_propagation_tracker_proto(unhex(kBeaconsHex));
  ASSERT_TRUE(beacons.ok());
  ASSERT_EQ(beacons->beacons.size(), 1u);
  EXPECT_EQ(beacons->beacons.at(42), (BeaconDesc{1700000000123, 0, "node-1"}));
  ::memberlist::PropagationDelayTrackerDesc bpb;
  ASSERT_TRUE(bpb.ParseFromString(unhex(kBeaconsHex)));
  EXPECT_EQ(bpb.beacons().at(42).published_by(), "node-1");
}

TEST(ReferenceEncodings, SnappyOfEmptyIsEmptyRing) {
  auto raw = snappy_decode(unhex("00"));
  ASSERT_TRUE(raw.ok());
  EXPECT_TRUE(raw->empty());
  auto ring = decode_ring_desc(unhex("00"));
  ASSERT_TRUE(ring.ok());
  EXPECT_TRUE(ring->ingesters.empty());
  // dskit treats an empty value as the encoding of an empty value.
  EXPECT_TRUE(decode_ring_desc("").ok());
}

TEST(PushPull, ReferenceRecordAndTruncation) {
  const std::string kv = unhex(kKvpHex);
  ASSERT_EQ(kv.size(), 0x67u);
  const std::string record = unhex("00000067") + kv;
  auto one = decode_push_pull_state(record);
  ASSERT_EQ(one.records.size(), 1u);
  EXPECT_FALSE(one.stopped.has_value());
  EXPECT_EQ(one.records[0].key, "collectors/ring");

  EXPECT_TRUE(decode_push_pull_state("").records.empty());
  EXPECT_FALSE(decode_push_pull_state("").stopped.has_value());

  // Two good records, then a record whose length runs past the end: the first two stay.
  auto cut = decode_push_pull_state(record + record + record.substr(0, record.size() - 1));
  EXPECT_EQ(cut.records.size(), 2u);
  ASSERT_TRUE(cut.stopped.has_value());
  EXPECT_EQ(cut.stopped->reason, Reject::truncated);

  auto short_len = decode_push_pull_state(record + std::string("\x00\x00", 2));
  EXPECT_EQ(short_len.records.size(), 1u);
  EXPECT_TRUE(short_len.stopped.has_value());

  // A huge declared length is a stop, not an allocation.
  auto huge = decode_push_pull_state(record + std::string("\xff\xff\xff\xff", 4) + "abc");
  EXPECT_EQ(huge.records.size(), 1u);
  EXPECT_TRUE(huge.stopped.has_value());

  // A record that is not a KeyValuePair stops parsing too.
  auto garbage = decode_push_pull_state(record + unhex("00000002") + "\xff\xff" + record);
  EXPECT_EQ(garbage.records.size(), 1u);
  ASSERT_TRUE(garbage.stopped.has_value());
  EXPECT_EQ(garbage.stopped->reason, Reject::decode);
}

TEST(UsageStats, JsonSeed) {
  auto seed = decode_usage_stats_seed(R"({"UID":"abc","created_at":"2023-10-27T10:00:00.5+02:00","version":{}})");
  ASSERT_TRUE(seed.ok());
  EXPECT_EQ(seed->uid, "abc");
  EXPECT_EQ(seed->created_at_nanos, 1698393600500000000);  // 08:00:00.5 UTC
  EXPECT_FALSE(decode_usage_stats_seed("not json").ok());
  EXPECT_FALSE(decode_usage_stats_seed("[1]").ok());
}

TEST(ReplicaDescCodec, GeneratedParser) {
  ::distributor::ReplicaDesc pb;
  pb.set_replica("replica-1");
  pb.set_received_at(1700000000123);
  pb.set_elected_changes(3);
  const std::string raw = pb.SerializeAsString();
  std::string value;
  snappy::Compress(raw.data(), raw.size(), &value);
  auto r = decode_replica_desc(value);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (ReplicaDesc{"replica-1", 1700000000123, 0, 0, 3}));
  EXPECT_FALSE(decode_replica_desc_proto(unhex("0a056162")).ok());
}

// Random rings written by libprotobuf decode to the same content with our decoder.
::ring::Desc random_desc(std::mt19937_64& rng) {
  ::ring::Desc d;
  const int n = static_cast<int>(rng() % 8);
  for (int i = 0; i < n; ++i) {
    std::string id = "inst-" + std::to_string(rng() % 1000);
    ::ring::InstanceDesc& inst = (*d.mutable_ingesters())[id];
    if (rng() % 2) inst.set_addr("10.0.0." + std::to_string(rng() % 256) + ":9095");
    inst.set_timestamp(static_cast<int64_t>(rng() % 2000000000));
    inst.set_state(static_cast<::ring::InstanceState>(rng() % 5));
    const int tokens = static_cast<int>(rng() % 40);
    for (int t = 0; t < tokens; ++t) inst.add_tokens(static_cast<uint32_t>(rng()));
    if (rng() % 2) inst.set_zone("zone-" + std::to_string(rng() % 3));
    inst.set_registered_timestamp(static_cast<int64_t>(rng() % 2000000000));
    if (rng() % 2) inst.set_id(id);
    if (rng() % 4 == 0) {
      inst.set_read_only(true);
      inst.set_read_only_updated_timestamp(static_cast<int64_t>(rng() % 2000000000));
    }
    if (rng() % 4 == 0) (*inst.mutable_versions())[rng() % 4] = rng();
  }
  return d;
}

TEST(CrossCheck, RandomRingsAgreeWithLibprotobuf) {
  std::mt19937_64 rng(20231027);
  for (int iter = 0; iter < 500; ++iter) {
    const ::ring::Desc pb = random_desc(rng);
    const std::string raw = pb.SerializeAsString();
    auto mine = decode_ring_desc_proto(raw);
    ASSERT_TRUE(mine.ok()) << iter;
    expect_same(*mine, pb);
    std::string value;
    snappy::Compress(raw.data(), raw.size(), &value);
    auto via_codec = decode_ring_desc(value);
    ASSERT_TRUE(via_codec.ok());
    EXPECT_EQ(*via_codec, *mine);
  }
}

// Every prefix of a valid encoding: we accept exactly the prefixes libprotobuf accepts.
TEST(Malformed, TruncatedProtobufAgreesWithLibprotobuf) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 40; ++iter) {
    const std::string raw = random_desc(rng).SerializeAsString();
    for (size_t len = 0; len < raw.size(); ++len) {
      const std::string prefix = raw.substr(0, len);
      ::ring::Desc pb;
      const bool pb_ok = pb.ParseFromString(prefix);
      auto mine = decode_ring_desc_proto(prefix);
      ASSERT_EQ(mine.ok(), pb_ok) << "iter " << iter << " prefix " << len << " of " << raw.size();
      if (pb_ok) expect_same(*mine, pb);
    }
  }
}

TEST(Malformed, GarbageNeverCrashes) {
  std::mt19937_64 rng(99);
  const std::string ring_value = read_file(fixture_path("dskit-2023/two-rings.collectors_ring.ringdesc.bin"));
  const std::string raw = *snappy_decode(ring_value);
  size_t rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string a = (iter % 2) ? ring_value : raw;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) a[rng() % a.size()] = static_cast<char>(rng());
    if (iter % 3 == 0) a.resize(rng() % a.size());
    rejected += !decode_ring_desc(a).ok();
    rejected += !decode_ring_desc_proto(a).ok();
    rejected += !decode_partition_ring_desc(a).ok();
    rejected += !decode_propagation_tracker(a).ok();
    rejected += !decode_key_value_pair(a).ok();
    (void)decode_push_pull_state(a);
    (void)decode_usage_stats_seed(a);
  }
  EXPECT_GT(rejected, 0u);
}

TEST(Malformed, HugeDeclaredSizes) {
  // Snappy header claiming 4 GiB with 3 bytes of body.
  auto huge = snappy_decode(unhex("ffffffff0f000000"));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().reason, Reject::oversize);
  // Plausible-looking length (1 MiB) far beyond what 4 bytes can expand to.
  auto inflated = snappy_decode(unhex("8080400000"));
  EXPECT_FALSE(inflated.ok());
  // Length-delimited field claiming 2^62 bytes.
  EXPECT_FALSE(decode_ring_desc_proto(unhex("0a808080808080808040")).ok());
  EXPECT_FALSE(decode_key_value_pair(unhex("12ffffffff0f")).ok());
  // 11-byte varint.
  EXPECT_FALSE(decode_instance_desc_proto(unhex("10ffffffffffffffffffff01")).ok());
  // Field number 0 and group wire types.
  EXPECT_FALSE(decode_ring_desc_proto(unhex("0000")).ok());
  EXPECT_FALSE(decode_ring_desc_proto(unhex("0b0c")).ok());
  // Snappy that is not snappy.
  EXPECT_FALSE(decode_ring_desc("\x05garbage").ok());
}

}  // namespace
}  // namespace ringwatch::ring
