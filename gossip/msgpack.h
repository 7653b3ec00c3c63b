// The msgpack subset memberlist speaks, with go-msgpack's exact rules.
//
// Writer emits what a Go node emits (memberlist-wire.md §2.2): strings and byte
// slices only in the legacy raw forms (fixstr a0-bf, da, db; never d9 or bin
// c4-c6), nil byte slices as c0, unsigned Go ints with unsigned forms, signed Go
// ints with signed forms (go-msgpack v2). Struct maps are written by the caller
// with keys in ascending byte order.
//
// Reader is as tolerant as Go's decoder (§2.3): any integer form that fits,
// str8/bin accepted for strings and byte slices, nil means zero value, unknown
// map keys skipped. Every length is checked against the remaining input before
// anything is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gossip/bytes.h"

namespace ringwatch::gossip::msgpack {

// How non-negative Go `int` values are written: go-msgpack v2 (memberlist
// >= 2025 forks, upstream v0.6.0) uses signed forms (200 -> d1 00 c8); v0.5.3
// (grafana fork 2022, the dskit 2023 captures) uses unsigned forms (cc c8).
enum class IntForm { signed_v2, unsigned_v05 };

class Writer {
 public:
  explicit Writer(Bytes& out, IntForm int_form = IntForm::signed_v2) : out_(out), int_form_(int_form) {}

  void map_header(std::uint32_t entries);
  void nil();
  void boolean(bool v);
  void uint(std::uint64_t v);         // Go uint8/16/32/64 fields
  void sint(std::int64_t v);          // Go int fields (v2 signed forms)
  void raw(ByteView v);               // raw string form (strings and non-nil []byte)
  void str(std::string_view v) { raw(as_bytes(v)); }
  void bytes_or_nil(ByteView v);      // []byte field: empty is written as nil (c0)
  void key(std::string_view name) { str(name); }

 private:
  Bytes& out_;
  IntForm int_form_;
};

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}

  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return in_.size() - pos_; }
  ByteView rest() const { return in_.subspan(pos_); }

  // Map header; nil reads as an empty map. Arrays are not accepted (Go never sends them).
  Result<std::uint32_t> map_header();
  Result<bool> boolean();                     // c2/c3, fixint 0/1, nil=false
  Result<std::uint64_t> uint(std::uint64_t max);  // any int form; negative or > max rejected
  Result<std::int64_t> sint();                // any int form that fits int64
  Result<std::string> str();                  // raw/str8/bin; nil = ""
  Result<Bytes> bytes();                      // raw/str8/bin; nil = empty
  Status skip();                              // skips one value of any type (depth-bounded)

  // Reads exactly n raw bytes that follow the msgpack values (user state, user payload).
  Result<ByteView> take(std::size_t n);

 private:
  // Any msgpack integer form (or nil = 0) as sign and magnitude.
  struct Int {
    bool negative = false;
    std::uint64_t magnitude = 0;  // |value|
  };
  Result<std::uint8_t> byte();
  Result<Int> integer();
  Result<std::size_t> raw_length();
  Status skip_depth(int depth);

  ByteView in_;
  std::size_t pos_ = 0;
};

}  // namespace ringwatch::gossip::msgpack
