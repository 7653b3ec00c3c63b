// Helpers for the codec targets: each takes the protobuf (or JSON) bytes of a value, decodes
// them directly, as a snappy-compressed codec value (the way they arrive), and as a raw value
// (usually not valid snappy), and checks the hand decoder against protobuf's generated parser.
#pragma once

#include <google/protobuf/stubs/logging.h>
#include <snappy.h>

#include <string>
#include <string_view>

#include "fuzz/common.h"

namespace ringwatch::fuzz {

// The generated parsers log every proto3 string with invalid UTF-8; the fuzzer makes millions.
inline const bool kQuietProtobuf = [] {
  google::protobuf::SetLogHandler(nullptr);
  return true;
}();

inline std::string snappy_value(std::string_view plain) {
  std::string out;
  snappy::Compress(plain.data(), plain.size(), &out);
  return out;
}

// Both paths of a codec agree: value = snappy(proto) decodes exactly when proto does, to the
// same result. An empty value is the empty descriptor.
template <class DecodeProto, class DecodeValue>
auto check_codec(std::string_view proto, DecodeProto&& decode_proto, DecodeValue&& decode_value) {
  auto direct = decode_proto(proto);
  if (!proto.empty()) {
    auto via_value = decode_value(snappy_value(proto));
    FUZZ_CHECK(via_value.ok() == direct.ok());
    if (direct.ok()) FUZZ_CHECK(*via_value == *direct);
  }
  (void)decode_value(proto);
  return direct;
}

}  // namespace ringwatch::fuzz
