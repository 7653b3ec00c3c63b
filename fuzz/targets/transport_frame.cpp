// gossip/transport_frame.h parse_packet_frame: a whole dskit packet connection (01 ...).
#include "fuzz/common.h"
#include "gossip/transport_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  using namespace ringwatch::gossip;
  auto f = parse_packet_frame(fuzz::view(data, size));
  if (!f.ok()) {
    FUZZ_CHECK(f.error().reason == Reject::truncated || f.error().reason == Reject::unknown_type);
    return 0;
  }
  FUZZ_CHECK(f->from.size() <= 255 && f->payload.size() + f->from.size() + 2 + kDigestSize == size);
  // A frame whose digest verifies is exactly what build_packet_frame writes.
  auto again = build_packet_frame(f->from, f->payload);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK((*again == Bytes(data, data + size)) == f->digest_ok);
  return 0;
}
