// gossip/lzw.h: compress then decompress gives the input back, for any input.
#include "fuzz/common.h"
#include "gossip/lzw.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  const gossip::Bytes in(data, data + size);
  const gossip::Bytes packed = gossip::lzw_compress(in);
  auto out = gossip::lzw_decompress(packed, size);  // the cap equal to the size still fits
  FUZZ_CHECK(out.ok() && *out == in);
  if (size > 0) {
    auto capped = gossip::lzw_decompress(packed, size - 1);
    FUZZ_CHECK(!capped.ok() && capped.error().reason == Reject::oversize);
  }
  return 0;
}
