// ring/codec.h decode_ring_desc (codec ringDesc): snappy block of protobuf ring.Desc.
// Differential: every input protobuf's generated parser accepts, re-encoded by it, decodes to the
// same instances (the generated parser also rejects invalid UTF-8 that Go's gogo/protobuf
// accepts; those inputs are only fuzzed for memory safety).
#include "fuzz/codec_common.h"
#include "proto/ring.pb.h"
#include "ring/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  namespace rw = ringwatch::ring;  // ::ring is the generated protobuf package
  const std::string_view in = fuzz::chars(data, size);
  (void)fuzz::check_codec(in, rw::decode_ring_desc_proto, rw::decode_ring_desc);
  (void)rw::decode_instance_desc_proto(in);
  ::ring::Desc pb;
  if (!pb.ParseFromArray(data, static_cast<int>(size))) return 0;
  // Compared on protobuf's own re-encoding, where every field and map value occurs once: on
  // repeated map values Go's gogo code and ringwatch keep the last, C++ protobuf merges them.
  // C++ also keeps a known field with the wrong wire type as an unknown field, where Go's
  // generated code (and ringwatch) reject the message; unknown fields are dropped first.
  pb.DiscardUnknownFields();
  auto d = rw::decode_ring_desc_proto(pb.SerializeAsString());
  FUZZ_CHECK(d.ok());
  FUZZ_CHECK(static_cast<std::size_t>(pb.ingesters_size()) == d->ingesters.size());
  for (const auto& [id, want] : pb.ingesters()) {
    auto it = d->ingesters.find(id);
    FUZZ_CHECK(it != d->ingesters.end());
    const rw::InstanceDesc& got = it->second;
    FUZZ_CHECK(got.addr == want.addr() && got.timestamp == want.timestamp());
    FUZZ_CHECK(static_cast<int>(got.state) == static_cast<int>(want.state()));
    FUZZ_CHECK(got.tokens.size() == static_cast<std::size_t>(want.tokens_size()));
    for (int i = 0; i < want.tokens_size(); ++i) FUZZ_CHECK(got.tokens[i] == want.tokens(i));
    FUZZ_CHECK(got.zone == want.zone() && got.registered_timestamp == want.registered_timestamp());
    FUZZ_CHECK(got.id == want.id() && got.read_only == want.read_only());
    FUZZ_CHECK(got.read_only_updated_timestamp == want.read_only_updated_timestamp());
    FUZZ_CHECK(got.versions.size() == want.versions().size());
    for (const auto& [k, v] : want.versions()) FUZZ_CHECK(got.versions.count(k) && got.versions.at(k) == v);
  }
  return 0;
}
