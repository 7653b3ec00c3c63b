#include "gossip/lzw.h"

#include <array>
#include <memory>
#include <vector>

namespace ringwatch::gossip {

namespace {

constexpr unsigned kLitWidth = 8;
constexpr std::uint32_t kClear = 1u << kLitWidth;  // 256
constexpr std::uint32_t kEof = kClear + 1;          // 257
constexpr std::uint32_t kMaxCode = (1u << 12) - 1;  // 4095
constexpr unsigned kMaxWidth = 12;

// LSB-first bit packer.
class BitWriter {
 public:
  explicit BitWriter(Bytes& out) : out_(out) {}
  void write(std::uint32_t code, unsigned width) {
    bits_ |= code << nbits_;
    nbits_ += width;
    while (nbits_ >= 8) {
      out_.push_back(static_cast<std::uint8_t>(bits_));
      bits_ >>= 8;
      nbits_ -= 8;
    }
  }
  void flush() {
    if (nbits_ > 0) out_.push_back(static_cast<std::uint8_t>(bits_));
    bits_ = 0;
    nbits_ = 0;
  }

 private:
  Bytes& out_;
  std::uint32_t bits_ = 0;
  unsigned nbits_ = 0;
};

// The encoder's dictionary: (prefix code, next byte) -> code, as an open
// addressing table sized like Go's (4 x 4096 slots, so it never fills up).
class Dictionary {
 public:
  static constexpr std::uint32_t kSize = 4u << 12;
  static constexpr std::uint32_t kEmpty = 0;  // entries always carry a code >= 258

  void clear() { table_.fill(kEmpty); }
  // Returns the code for key or 0 when absent; slot receives where it was or would go.
  std::uint32_t find(std::uint32_t key, std::uint32_t& slot) const {
    slot = (key >> 12 ^ key) & (kSize - 1);
    while (table_[slot] != kEmpty) {
      if (table_[slot] >> 12 == key) return table_[slot] & kMaxCode;
      slot = (slot + 1) & (kSize - 1);
    }
    return 0;
  }
  void insert(std::uint32_t slot, std::uint32_t key, std::uint32_t code) { table_[slot] = key << 12 | code; }

 private:
  std::array<std::uint32_t, kSize> table_{};
};

}  // namespace

Bytes lzw_compress(ByteView input) {
  Bytes out;
  BitWriter bw(out);
  auto dict = std::make_unique<Dictionary>();
  unsigned width = kLitWidth + 1;
  std::uint32_t hi = kEof;  // last assigned code
  std::uint32_t overflow = 1u << width;

  // Go's incHi: assigns the next code after each emitted code; widens at a
  // power of two; when code 4095 would be assigned it emits CLEAR instead and
  // starts over with an empty table (returns false in that case).
  auto next_code = [&]() {
    ++hi;
    if (hi == overflow) {
      ++width;
      overflow <<= 1;
    }
    if (hi == kMaxCode) {
      bw.write(kClear, width);
      width = kLitWidth + 1;
      hi = kEof;
      overflow = 1u << width;
      dict->clear();
      return false;
    }
    return true;
  };

  bw.write(kClear, width);  // Go always starts with a clear code
  if (input.empty()) {
    bw.write(kEof, width);
    bw.flush();
    return out;
  }
  std::uint32_t code = input[0];
  for (std::size_t i = 1; i < input.size(); ++i) {
    const std::uint32_t literal = input[i];
    const std::uint32_t key = code << 8 | literal;
    std::uint32_t slot = 0;
    if (std::uint32_t found = dict->find(key, slot); found != 0) {
      code = found;
      continue;
    }
    bw.write(code, width);
    code = literal;
    if (next_code()) dict->insert(slot, key, hi);
  }
  bw.write(code, width);
  next_code();
  bw.write(kEof, width);
  bw.flush();
  return out;
}

Result<Bytes> lzw_decompress(ByteView input, std::size_t max_output) {
  constexpr std::uint32_t kInvalid = 0xffff;
  std::array<std::uint8_t, 1u << kMaxWidth> suffix{};
  std::array<std::uint16_t, 1u << kMaxWidth> prefix{};
  std::array<std::uint8_t, 1u << kMaxWidth> scratch{};  // one expansion, built back to front

  Bytes out;
  unsigned width = kLitWidth + 1;
  std::uint32_t hi = kEof;  // next code to be defined
  std::uint32_t overflow = 1u << width;
  std::uint32_t last = kInvalid;
  std::uint32_t bits = 0;
  unsigned nbits = 0;
  std::size_t pos = 0;

  for (;;) {
    while (nbits < width) {
      if (pos == input.size()) return fail(Reject::decompress, "lzw: input ended before the EOF code");
      bits |= std::uint32_t{input[pos++]} << nbits;
      nbits += 8;
    }
    const std::uint32_t code = bits & ((1u << width) - 1);
    bits >>= width;
    nbits -= width;

    if (code == kClear) {
      width = kLitWidth + 1;
      hi = kEof;
      overflow = 1u << width;
      last = kInvalid;
      continue;
    }
    if (code == kEof) return out;
    if (code > hi) return fail(Reject::decompress, "lzw: invalid code");

    std::size_t i = scratch.size();
    std::uint32_t c = code;
    if (code >= kClear) {
      // KwKwK: the code being defined is last's expansion plus its first byte.
      // (With a full table, last is invalid and code == hi is already defined.)
      if (code == hi && last != kInvalid) {
        c = last;
        while (c >= kClear) c = prefix[c];
        scratch[--i] = static_cast<std::uint8_t>(c);
        c = last;
      }
      while (c >= kClear) {
        scratch[--i] = suffix[c];
        c = prefix[c];
      }
    }
    scratch[--i] = static_cast<std::uint8_t>(c);  // first byte of the expansion
    const std::size_t n = scratch.size() - i;
    if (n > max_output - out.size()) return over_limit(SizeLimit::decompressed, "lzw: output exceeds limit");
    out.insert(out.end(), scratch.begin() + static_cast<std::ptrdiff_t>(i), scratch.end());
    if (last != kInvalid) {
      suffix[hi] = static_cast<std::uint8_t>(c);
      prefix[hi] = static_cast<std::uint16_t>(last);
    }

    last = code;
    ++hi;
    if (hi >= overflow) {
      if (width == kMaxWidth) {
        // Table full: stop defining codes until the next CLEAR (deferred clear).
        last = kInvalid;
        --hi;
      } else {
        ++width;
        overflow = 1u << width;
      }
    }
  }
}

}  // namespace ringwatch::gossip
