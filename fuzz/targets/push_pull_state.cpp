// ring/codec.h decode_push_pull_state: push/pull user state, [u32 BE len][KeyValuePair]...
#include "fuzz/common.h"
#include "ring/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  const std::string_view in = fuzz::chars(data, size);
  auto st = ring::decode_push_pull_state(in);
  // Every record is a length-prefixed prefix of the input: at least 4 bytes each.
  FUZZ_CHECK(st.records.size() * 4 <= size);
  // Records are the ones decode_key_value_pair gives for each length-delimited slice.
  std::size_t pos = 0;
  for (const auto& rec : st.records) {
    FUZZ_CHECK(size - pos >= 4);
    const std::size_t len = (std::size_t{data[pos]} << 24) | (std::size_t{data[pos + 1]} << 16) |
                            (std::size_t{data[pos + 2]} << 8) | data[pos + 3];
    pos += 4;
    FUZZ_CHECK(len <= size - pos);
    auto one = ring::decode_key_value_pair(in.substr(pos, len));
    FUZZ_CHECK(one.ok() && one->key == rec.key && one->value == rec.value && one->codec == rec.codec);
    pos += len;
  }
  if (!st.stopped) FUZZ_CHECK(pos == size);
  return 0;
}
