// gossip/packet.h decode_packet with a keyring: an encrypted cluster's receive pipeline
// (label, decrypt with AAD = label, CRC, compress, compound, messages).
#include "fuzz/common.h"
#include "gossip/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  using namespace ringwatch::gossip;
  if (size < 1) return 0;
  PacketDecodeOptions opts;
  opts.label = (data[0] & 1) ? std::string(fuzz::kLabel) : std::string();
  opts.skip_label_check = (data[0] & 2) != 0;
  opts.keyring = &fuzz::fixed_keyring();
  auto p = decode_packet(fuzz::view(data + 1, size - 1), opts);
  if (p.ok()) {
    FUZZ_CHECK(p->layers.encrypted);
    for (const Message& m : p->messages) {
      Bytes b;
      encode(m, b);
      auto again = decode_message(b);
      FUZZ_CHECK(again.ok() && *again == m);
    }
  }
  return 0;
}
