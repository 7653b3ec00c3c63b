// Minimal protobuf wire reader for the hand-written decoders of ring/codec.cpp (internal).
// Follows gogoproto's generated Unmarshal: a known field with the wrong wire type is an error,
// unknown fields are skipped, groups are rejected (no dskit schema uses them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringwatch::ring::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

class Reader {
 public:
  explicit Reader(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool done() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  bool varint(uint64_t& out) {
    if (p_ < end_ && *p_ < 0x80) {
      out = *p_++;
      return true;
    }
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        out = v;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }

  // Reads a tag; false on a malformed tag or field number 0.
  bool tag(uint32_t& field, uint32_t& wire_type) {
    uint64_t t;
    if (!varint(t) || (t >> 3) == 0 || (t >> 3) > 0x1fffffff) return false;
    field = static_cast<uint32_t>(t >> 3);
    wire_type = static_cast<uint32_t>(t & 7);
    return true;
  }

  bool bytes(std::string_view& out) {
    uint64_t n;
    if (!varint(n) || n > remaining()) return false;
    out = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
    p_ += n;
    return true;
  }

  bool skip(uint32_t wire_type) {
    switch (wire_type) {
      case kVarint: {
        uint64_t v;
        return varint(v);
      }
      case kFixed64: return advance(8);
      case kFixed32: return advance(4);
      case kLen: {
        std::string_view v;
        return bytes(v);
      }
      default: return false;
    }
  }

 private:
  bool advance(size_t n) {
    if (n > remaining()) return false;
    p_ += n;
    return true;
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace ringwatch::ring::wire
