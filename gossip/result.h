// A value or a decode error: what every pure decoder in ringwatch returns.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <variant>

namespace ringwatch {

// Why input from the network was rejected. The names are the `reason` label of
// the rejected-input counters, so they stay short, stable and snake_case.
enum class Reject {
  truncated,       // input ended before a length, header or field was complete
  oversize,        // a length or count exceeds a configured or protocol limit
  bad_label,       // cluster label missing, malformed or not ours
  bad_crc,         // CRC-32 mismatch
  bad_digest,      // MD5 trailer mismatch (dskit still delivers these)
  decode,          // msgpack or protobuf that does not parse as the expected type
  unknown_type,    // message or connection type byte we do not handle
  decompress,      // LZW/snappy payload that does not decompress
  decrypt,         // no key of the keyring opens the payload, or bad framing
  invalid,         // well-formed but semantically invalid (empty key, bad Vsn, ...)
  tls,             // TLS handshake failed (e.g. a plain connection to a TLS listener)
};

const char* reject_name(Reject r);

// The configured size limit an oversize input ran into, so that callers can count
// limit hits apart from protocol violations (both are Reject::oversize).
enum class SizeLimit {
  none,          // a protocol limit (e.g. a label over 255 bytes), not a configured one
  decompressed,  // output of LZW/snappy over the decompressed-size limit
  message,       // a stream message (push/pull state, user message) over the stream-size limit
};

struct Error {
  Reject reason;
  std::string detail;
  SizeLimit limit = SizeLimit::none;
  // Reject::truncated only: at least this many more bytes are needed (0: unknown).
  std::size_t missing = 0;
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error fail(Reject reason, std::string detail = {}) { return Error{reason, std::move(detail)}; }
inline Error over_limit(SizeLimit limit, std::string detail) { return Error{Reject::oversize, std::move(detail), limit}; }
inline Error truncated_by(std::size_t missing, std::string detail) {
  return Error{Reject::truncated, std::move(detail), SizeLimit::none, missing};
}

inline const char* reject_name(Reject r) {
  switch (r) {
    case Reject::truncated: return "truncated";
    case Reject::oversize: return "oversize";
    case Reject::bad_label: return "label";
    case Reject::bad_crc: return "crc";
    case Reject::bad_digest: return "digest";
    case Reject::decode: return "decode";
    case Reject::unknown_type: return "unknown_type";
    case Reject::decompress: return "decompress";
    case Reject::decrypt: return "decrypt";
    case Reject::invalid: return "invalid";
    case Reject::tls: return "tls";
  }
  return "unknown";
}

}  // namespace ringwatch
