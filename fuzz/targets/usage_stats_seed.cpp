// ring/codec.h decode_usage_stats_seed (codec usagestats.jsonCodec): plain JSON.
#include "fuzz/common.h"
#include "ring/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  const std::string_view in = fuzz::chars(data, size);
  auto s = ring::decode_usage_stats_seed(in);
  if (s.ok() && !in.empty()) {
    FUZZ_CHECK(s->json == in);
    if (s->created_at.empty()) FUZZ_CHECK(s->created_at_nanos == 0);
  }
  return 0;
}
