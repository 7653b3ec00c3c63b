// gossip/security.h decrypt_payload and decrypt_stream_frame with a fixed keyring. The first
// byte picks the function (bit 0) and the AAD / label (bit 1: "prod-eu", else none).
#include "fuzz/common.h"
#include "gossip/security.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  using namespace ringwatch::gossip;
  if (size < 1) return 0;
  const std::string_view label = (data[0] & 2) ? fuzz::kLabel : std::string_view();
  const ByteView in = fuzz::view(data + 1, size - 1);
  const Keyring& keys = fuzz::fixed_keyring();
  if (data[0] & 1) {
    auto f = decrypt_stream_frame(keys, in, label);
    if (f.ok()) {
      FUZZ_CHECK(f->consumed <= in.size() && f->plaintext.size() < f->consumed);
    } else {
      const Reject r = f.error().reason;
      FUZZ_CHECK(r == Reject::truncated || r == Reject::oversize || r == Reject::decrypt);
    }
  } else {
    auto p = decrypt_payload(keys, in, as_bytes(label));
    if (p.ok()) {
      FUZZ_CHECK(p->size() < in.size());
    } else {
      FUZZ_CHECK(p.error().reason == Reject::decrypt);
    }
  }
  return 0;
}
