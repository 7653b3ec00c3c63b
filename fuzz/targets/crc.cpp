// gossip/packet.h strip_crc: the 0c <crc32 BE> header.
#include "fuzz/common.h"
#include "gossip/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  using namespace ringwatch::gossip;
  bool had_crc = false;
  auto m = strip_crc(fuzz::view(data, size), had_crc);
  if (!m.ok()) {
    FUZZ_CHECK(had_crc && m.error().reason == Reject::bad_crc);
    return 0;
  }
  fuzz::touch(*m);
  if (had_crc) {
    FUZZ_CHECK(add_crc(*m) == Bytes(data, data + size));
  } else {
    FUZZ_CHECK(m->data() == data && m->size() == size);
  }
  return 0;
}
