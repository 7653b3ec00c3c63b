// gossip/stream.h parse_stream_message: one push/pull, user, ping, ack or err stream message,
// optionally labelled, compressed and encrypted. The first byte picks the options:
//   bit 0 expect_label (accepting side)   bit 1 keyring
//   bit 2 our label is "prod-eu"          bit 3 skip_label_check
//   bit 4 require_encryption off
// Property: the parser is incremental. When the whole input parses as a message of n bytes,
// every prefix of it asks for more bytes, and never for more than the message still needs.
#include "fuzz/common.h"
#include "gossip/stream.h"

namespace {
using namespace ringwatch;
using namespace ringwatch::gossip;

void check_prefix(ByteView whole, std::size_t k, std::size_t n, const StreamDecodeOptions& opts) {
  auto step = parse_stream_message(whole.first(k), opts);
  FUZZ_CHECK(step.ok());
  auto* more = std::get_if<NeedMore>(&*step);
  FUZZ_CHECK(more != nullptr);
  FUZZ_CHECK(more->at_least >= 1 && k + more->at_least <= n);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  StreamDecodeOptions opts;
  opts.expect_label = (data[0] & 1) != 0;
  if (data[0] & 2) opts.keyring = &fuzz::fixed_keyring();
  if (data[0] & 4) opts.label = std::string(fuzz::kLabel);
  opts.skip_label_check = (data[0] & 8) != 0;
  opts.require_encryption = (data[0] & 16) == 0;
  opts.limits.max_decompressed = 4u << 20;  // keeps each run fast; the cap's own path is the same
  const ByteView in = fuzz::view(data + 1, size - 1);
  auto step = parse_stream_message(in, opts);
  if (!step.ok()) return 0;
  if (auto* more = std::get_if<NeedMore>(&*step)) {
    FUZZ_CHECK(more->at_least >= 1);
    return 0;
  }
  const auto& d = std::get<StreamDecoded>(*step);
  FUZZ_CHECK(d.consumed >= 1 && d.consumed <= in.size());
  if (auto* pp = std::get_if<PushPull>(&d.message)) {
    FUZZ_CHECK(pp->user_state.size() <= opts.limits.max_push_state_bytes);
  }
  const std::size_t n = d.consumed;
  check_prefix(in, n - 1, n, opts);
  check_prefix(in, n / 2, n, opts);
  return 0;
}
