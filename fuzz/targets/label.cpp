// gossip/packet.h split_label + check_label: the f4 LL <label> header of packets and streams.
#include "fuzz/common.h"
#include "gossip/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  using namespace ringwatch::gossip;
  auto s = split_label(fuzz::view(data, size));
  if (!s.ok()) {
    FUZZ_CHECK(s.error().reason == Reject::truncated || s.error().reason == Reject::bad_label);
    FUZZ_CHECK(size >= 1 && data[0] == 0xf4);
    return 0;
  }
  fuzz::touch(s->rest);
  FUZZ_CHECK(s->rest.data() + s->rest.size() == data + size);
  // Go's rule: absent equals "", ours must match unless skipped.
  for (std::string_view ours : {std::string_view(), fuzz::kLabel}) {
    const bool match = s->label.value_or("") == ours;
    FUZZ_CHECK(check_label(s->label, ours, false).ok() == match);
    FUZZ_CHECK(check_label(s->label, ours, true).ok());
  }
  // The header re-encodes byte for byte.
  Bytes again;
  if (s->label) {
    FUZZ_CHECK(!s->label->empty() && add_label(*s->label, again).ok());
  }
  append(again, s->rest);
  FUZZ_CHECK(again == Bytes(data, data + size));
  return 0;
}
