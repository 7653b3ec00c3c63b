// ring/codec.h snappy_decode: the snappy block around every dskit codec value.
#include <snappy.h>

#include "fuzz/common.h"
#include "ring/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  const std::string_view in = fuzz::chars(data, size);
  auto out = ring::snappy_decode(in);  // the production cap
  if (out.ok()) {
    std::string again;
    snappy::Uncompress(in.data(), in.size(), &again);
    FUZZ_CHECK(again == *out);
  }
  auto capped = ring::snappy_decode(in, 64);
  if (capped.ok()) FUZZ_CHECK(capped->size() <= 64 && out.ok() && *capped == *out);
  return 0;
}
