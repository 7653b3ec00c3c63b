// gossip/lzw.h lzw_decompress: the LZW payload of a compress message (type 9, Algo 0).
#include "fuzz/common.h"
#include "gossip/lzw.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  constexpr std::size_t kCap = 1u << 20;
  auto out = gossip::lzw_decompress(fuzz::view(data, size), kCap);
  if (out.ok()) {
    FUZZ_CHECK(out->size() <= kCap);
    // Go's writer re-encodes any output; it must decode back to the same bytes.
    auto again = gossip::lzw_decompress(gossip::lzw_compress(*out), kCap);
    FUZZ_CHECK(again.ok() && *again == *out);
  } else {
    FUZZ_CHECK(out.error().reason == Reject::decompress || out.error().reason == Reject::oversize);
  }
  return 0;
}
