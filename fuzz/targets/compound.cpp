// gossip/packet.h split_compound: the body of a compound message (after 07).
#include "fuzz/common.h"
#include "gossip/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  using namespace ringwatch::gossip;
  auto s = split_compound(fuzz::view(data, size));
  if (!s.ok()) {
    FUZZ_CHECK(s.error().reason == Reject::truncated);
    return 0;
  }
  FUZZ_CHECK(s->parts.size() <= data[0]);
  FUZZ_CHECK(s->truncated == (s->parts.size() < data[0]));
  std::vector<Bytes> parts;
  for (ByteView p : s->parts) {
    fuzz::touch(p);
    parts.emplace_back(p.begin(), p.end());
  }
  // An untruncated compound is a prefix-exact re-encoding (Go ignores trailing bytes).
  if (!s->truncated) {
    auto again = build_compound(parts);
    FUZZ_CHECK(again.ok() && again->size() <= size + 1);
    FUZZ_CHECK(std::equal(again->begin() + 1, again->end(), data));
  }
  return 0;
}
