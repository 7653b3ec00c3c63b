// ring/codec.h decode_partition_ring_desc (codec partitionRingDesc), differential against
// protobuf's generated parser (see ring_desc.cpp).
#include "fuzz/codec_common.h"
#include "proto/partition_ring_desc.pb.h"
#include "ring/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  namespace rw = ringwatch::ring;  // ::ring is the generated protobuf package
  const std::string_view in = fuzz::chars(data, size);
  (void)fuzz::check_codec(in, rw::decode_partition_ring_desc_proto, rw::decode_partition_ring_desc);
  ::ring::PartitionRingDesc pb;
  if (!pb.ParseFromArray(data, static_cast<int>(size))) return 0;
  // Compared on protobuf's own re-encoding, where every field and map value occurs once: on
  // repeated map values Go's gogo code and ringwatch keep the last, C++ protobuf merges them.
  // C++ also keeps a known field with the wrong wire type as an unknown field, where Go's
  // generated code (and ringwatch) reject the message; unknown fields are dropped first.
  pb.DiscardUnknownFields();
  auto d = rw::decode_partition_ring_desc_proto(pb.SerializeAsString());
  FUZZ_CHECK(d.ok());
  FUZZ_CHECK(d->partitions.size() == pb.partitions().size());
  for (const auto& [id, want] : pb.partitions()) {
    FUZZ_CHECK(d->partitions.count(id));
    const rw::PartitionDesc& got = d->partitions.at(id);
    FUZZ_CHECK(got.tokens.size() == static_cast<std::size_t>(want.tokens_size()));
    for (int i = 0; i < want.tokens_size(); ++i) FUZZ_CHECK(got.tokens[i] == want.tokens(i));
    FUZZ_CHECK(static_cast<int>(got.state) == static_cast<int>(want.state()));
    FUZZ_CHECK(got.state_timestamp == want.statetimestamp() && got.id == want.id());
    FUZZ_CHECK(got.state_change_locked == want.statechangelocked());
    FUZZ_CHECK(got.state_change_locked_timestamp == want.statechangelockedtimestamp());
  }
  FUZZ_CHECK(d->owners.size() == pb.owners().size());
  for (const auto& [id, want] : pb.owners()) {
    FUZZ_CHECK(d->owners.count(id));
    const rw::OwnerDesc& got = d->owners.at(id);
    FUZZ_CHECK(got.owned_partition == want.ownedpartition() && got.updated_timestamp == want.updatedtimestamp());
    FUZZ_CHECK(static_cast<int>(got.state) == static_cast<int>(want.state()));
  }
  return 0;
}
