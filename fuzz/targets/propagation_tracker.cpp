// ring/codec.h decode_propagation_tracker (codec propagationDelayTracker), differential against
// protobuf's generated parser (see ring_desc.cpp).
#include "fuzz/codec_common.h"
#include "proto/propagation_tracker.pb.h"
#include "ring/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  const std::string_view in = fuzz::chars(data, size);
  (void)fuzz::check_codec(in, ring::decode_propagation_tracker_proto, ring::decode_propagation_tracker);
  ::memberlist::PropagationDelayTrackerDesc pb;
  if (!pb.ParseFromArray(data, static_cast<int>(size))) return 0;
  // Compared on protobuf's own re-encoding, where every field and map value occurs once: on
  // repeated map values Go's gogo code and ringwatch keep the last, C++ protobuf merges them.
  // C++ also keeps a known field with the wrong wire type as an unknown field, where Go's
  // generated code (and ringwatch) reject the message; unknown fields are dropped first.
  pb.DiscardUnknownFields();
  auto d = ring::decode_propagation_tracker_proto(pb.SerializeAsString());
  FUZZ_CHECK(d.ok());
  FUZZ_CHECK(d->beacons.size() == pb.beacons().size());
  for (const auto& [id, want] : pb.beacons()) {
    FUZZ_CHECK(d->beacons.count(id));
    const ring::BeaconDesc& got = d->beacons.at(id);
    FUZZ_CHECK(got.published_at == want.published_at() && got.deleted_at == want.deleted_at());
    FUZZ_CHECK(got.published_by == want.published_by());
  }
  return 0;
}
