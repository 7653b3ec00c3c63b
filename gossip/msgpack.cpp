#include "gossip/msgpack.h"

#include <cstdint>
#include <limits>
#include <string>

namespace ringwatch::gossip::msgpack {

namespace {

void put_be64(Bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// Deep enough for any memberlist struct; stops stack exhaustion from hostile nesting.
constexpr int kMaxSkipDepth = 32;

}  // namespace

void Writer::map_header(std::uint32_t n) {
  if (n < 16) {
    out_.push_back(static_cast<std::uint8_t>(0x80 | n));
  } else if (n <= 0xffff) {
    out_.push_back(0xde);
    put_be16(out_, static_cast<std::uint16_t>(n));
  } else {
    out_.push_back(0xdf);
    put_be32(out_, n);
  }
}

void Writer::nil() { out_.push_back(0xc0); }

void Writer::boolean(bool v) { out_.push_back(v ? 0xc3 : 0xc2); }

void Writer::uint(std::uint64_t v) {
  if (v <= 0x7f) {
    out_.push_back(static_cast<std::uint8_t>(v));
  } else if (v <= 0xff) {
    out_.push_back(0xcc);
    out_.push_back(static_cast<std::uint8_t>(v));
  } else if (v <= 0xffff) {
    out_.push_back(0xcd);
    put_be16(out_, static_cast<std::uint16_t>(v));
  } else if (v <= 0xffffffff) {
    out_.push_back(0xce);
    put_be32(out_, static_cast<std::uint32_t>(v));
  } else {
    out_.push_back(0xcf);
    put_be64(out_, v);
  }
}

void Writer::sint(std::int64_t v) {
  if (v >= 0 && int_form_ == IntForm::unsigned_v05) {
    uint(static_cast<std::uint64_t>(v));
  } else if (v >= 0 && v <= 127) {
    out_.push_back(static_cast<std::uint8_t>(v));
  } else if (v < 0 && v >= -32) {
    out_.push_back(static_cast<std::uint8_t>(v));
  } else if (v >= std::numeric_limits<std::int8_t>::min() && v <= std::numeric_limits<std::int8_t>::max()) {
    out_.push_back(0xd0);
    out_.push_back(static_cast<std::uint8_t>(v));
  } else if (v >= std::numeric_limits<std::int16_t>::min() && v <= std::numeric_limits<std::int16_t>::max()) {
    out_.push_back(0xd1);
    put_be16(out_, static_cast<std::uint16_t>(v));
  } else if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()) {
    out_.push_back(0xd2);
    put_be32(out_, static_cast<std::uint32_t>(v));
  } else {
    out_.push_back(0xd3);
    put_be64(out_, static_cast<std::uint64_t>(v));
  }
}

void Writer::raw(ByteView v) {
  const std::size_t n = v.size();
  if (n < 32) {
    out_.push_back(static_cast<std::uint8_t>(0xa0 | n));
  } else if (n <= 0xffff) {
    out_.push_back(0xda);
    put_be16(out_, static_cast<std::uint16_t>(n));
  } else {
    out_.push_back(0xdb);
    put_be32(out_, static_cast<std::uint32_t>(n));
  }
  append(out_, v);
}

void Writer::bytes_or_nil(ByteView v) {
  if (v.empty()) {
    nil();
  } else {
    raw(v);
  }
}

Result<std::uint8_t> Reader::byte() {
  if (pos_ >= in_.size()) return fail(Reject::truncated, "msgpack: unexpected end");
  return in_[pos_++];
}

Result<ByteView> Reader::take(std::size_t n) {
  if (n > remaining()) {
    return truncated_by(n - remaining(), "msgpack: need " + std::to_string(n) + " bytes, have " + std::to_string(remaining()));
  }
  ByteView out = in_.subspan(pos_, n);
  pos_ += n;
  return out;
}

Result<std::uint32_t> Reader::map_header() {
  auto b = byte();
  if (!b) return b.error();
  const std::uint8_t t = *b;
  if ((t & 0xf0) == 0x80) return std::uint32_t{t & 0x0fu};
  if (t == 0xc0) return std::uint32_t{0};
  std::size_t width = t == 0xde ? 2 : t == 0xdf ? 4 : 0;
  if (width == 0) return fail(Reject::decode, "msgpack: expected map");
  auto p = take(width);
  if (!p) return p.error();
  return width == 2 ? std::uint32_t{load_be16(p->data())} : load_be32(p->data());
}

Result<Reader::Int> Reader::integer() {
  auto b = byte();
  if (!b) return b.error();
  const std::uint8_t t = *b;
  if (t <= 0x7f) return Int{false, t};
  if (t >= 0xe0) return Int{true, static_cast<std::uint64_t>(0x100 - t)};
  if (t == 0xc0) return Int{};
  std::size_t width = 0;
  bool is_signed = false;
  switch (t) {
    case 0xcc: width = 1; break;
    case 0xcd: width = 2; break;
    case 0xce: width = 4; break;
    case 0xcf: width = 8; break;
    case 0xd0: width = 1; is_signed = true; break;
    case 0xd1: width = 2; is_signed = true; break;
    case 0xd2: width = 4; is_signed = true; break;
    case 0xd3: width = 8; is_signed = true; break;
    default: return fail(Reject::decode, "msgpack: expected integer");
  }
  auto p = take(width);
  if (!p) return p.error();
  std::uint64_t u = 0;
  for (std::uint8_t c : *p) u = (u << 8) | c;
  if (!is_signed) return Int{false, u};
  // Sign-extend from width bytes.
  const unsigned bits = static_cast<unsigned>(width * 8);
  const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
  if ((u & sign) == 0) return Int{false, u};
  const std::uint64_t mask = bits == 64 ? ~std::uint64_t{0} : (sign << 1) - 1;
  return Int{true, ((~u) & mask) + 1};
}

Result<std::uint64_t> Reader::uint(std::uint64_t max) {
  auto v = integer();
  if (!v) return v.error();
  if (v->negative || v->magnitude > max) return fail(Reject::decode, "msgpack: integer out of range");
  return v->magnitude;
}

Result<std::int64_t> Reader::sint() {
  auto v = integer();
  if (!v) return v.error();
  constexpr std::uint64_t kMaxPos = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!v->negative) {
    if (v->magnitude > kMaxPos) return fail(Reject::decode, "msgpack: integer out of range");
    return static_cast<std::int64_t>(v->magnitude);
  }
  if (v->magnitude > kMaxPos + 1) return fail(Reject::decode, "msgpack: integer out of range");
  return static_cast<std::int64_t>(~(v->magnitude - 1));
}

Result<bool> Reader::boolean() {
  auto b = byte();
  if (!b) return b.error();
  switch (*b) {
    case 0xc2: case 0xc0: case 0x00: return false;
    case 0xc3: case 0x01: return true;
    default: return fail(Reject::decode, "msgpack: expected bool");
  }
}

// Length of a string-like value (raw/str8/bin), or SIZE_MAX for nil.
Result<std::size_t> Reader::raw_length() {
  auto b = byte();
  if (!b) return b.error();
  const std::uint8_t t = *b;
  if ((t & 0xe0) == 0xa0) return std::size_t{t & 0x1fu};
  if (t == 0xc0) return SIZE_MAX;
  std::size_t width = 0;
  switch (t) {
    case 0xd9: case 0xc4: width = 1; break;
    case 0xda: case 0xc5: width = 2; break;
    case 0xdb: case 0xc6: width = 4; break;
    default: return fail(Reject::decode, "msgpack: expected string or bytes");
  }
  auto p = take(width);
  if (!p) return p.error();
  std::size_t n = 0;
  for (std::uint8_t c : *p) n = (n << 8) | c;
  return n;
}

Result<std::string> Reader::str() {
  auto n = raw_length();
  if (!n) return n.error();
  if (*n == SIZE_MAX) return std::string{};
  auto p = take(*n);  // checks the length against the input before allocating
  if (!p) return p.error();
  return std::string(as_chars(*p));
}

Result<Bytes> Reader::bytes() {
  auto n = raw_length();
  if (!n) return n.error();
  if (*n == SIZE_MAX) return Bytes{};
  auto p = take(*n);
  if (!p) return p.error();
  return Bytes(p->begin(), p->end());
}

Status Reader::skip() { return skip_depth(0); }

Status Reader::skip_depth(int depth) {
  if (depth > kMaxSkipDepth) return fail(Reject::decode, "msgpack: nesting too deep");
  auto b = byte();
  if (!b) return b.error();
  const std::uint8_t t = *b;
  std::size_t data = 0;    // payload bytes to skip
  std::uint64_t items = 0; // nested values to skip
  if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) return ok_status();
  if ((t & 0xf0) == 0x80) {
    items = 2u * (t & 0x0fu);
  } else if ((t & 0xf0) == 0x90) {
    items = t & 0x0fu;
  } else if ((t & 0xe0) == 0xa0) {
    data = t & 0x1fu;
  } else {
    auto read_len = [&](std::size_t width) -> Result<std::uint64_t> {
      auto p = take(width);
      if (!p) return p.error();
      std::uint64_t n = 0;
      for (std::uint8_t c : *p) n = (n << 8) | c;
      return n;
    };
    Result<std::uint64_t> n = std::uint64_t{0};
    switch (t) {
      case 0xcc: case 0xd0: data = 1; break;
      case 0xcd: case 0xd1: data = 2; break;
      case 0xce: case 0xd2: case 0xca: data = 4; break;
      case 0xcf: case 0xd3: case 0xcb: data = 8; break;
      case 0xd4: data = 2; break;  // fixext 1: type + 1
      case 0xd5: data = 3; break;
      case 0xd6: data = 5; break;
      case 0xd7: data = 9; break;
      case 0xd8: data = 17; break;
      case 0xc4: case 0xd9: n = read_len(1); if (!n) return n.error(); data = *n; break;
      case 0xc5: case 0xda: n = read_len(2); if (!n) return n.error(); data = *n; break;
      case 0xc6: case 0xdb: n = read_len(4); if (!n) return n.error(); data = *n; break;
      case 0xc7: n = read_len(1); if (!n) return n.error(); data = *n + 1; break;
      case 0xc8: n = read_len(2); if (!n) return n.error(); data = *n + 1; break;
      case 0xc9: n = read_len(4); if (!n) return n.error(); data = *n + 1; break;
      case 0xdc: n = read_len(2); if (!n) return n.error(); items = *n; break;
      case 0xdd: n = read_len(4); if (!n) return n.error(); items = *n; break;
      case 0xde: n = read_len(2); if (!n) return n.error(); items = 2 * *n; break;
      case 0xdf: n = read_len(4); if (!n) return n.error(); items = 2 * *n; break;
      default: return fail(Reject::decode, "msgpack: invalid type byte");
    }
  }
  if (data > 0) {
    if (auto p = take(data); !p) return p.error();
  }
  // Every nested value takes at least one byte, so a count beyond the input is truncation.
  if (items > remaining()) return fail(Reject::truncated, "msgpack: container longer than input");
  for (std::uint64_t i = 0; i < items; ++i) {
    if (auto s = skip_depth(depth + 1); !s) return s;
  }
  return ok_status();
}

}  // namespace ringwatch::gossip::msgpack
