// Shared helpers for the libFuzzer targets in fuzz/targets/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <span>
#include <string_view>

#include "gossip/bytes.h"
#include "gossip/security.h"

namespace ringwatch::fuzz {

using gossip::ByteView;
using gossip::Bytes;

inline ByteView view(const std::uint8_t* data, std::size_t size) { return {data, size}; }
inline std::string_view chars(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A property the decoder promises does not hold: abort, so libFuzzer saves the input.
#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

// Reads every byte of a view, so ASan checks that a view handed back by a decoder lies inside
// live memory (views are not copied by the decoders, so a bad bound would go unnoticed).
inline std::uint32_t touch(ByteView v) {
  std::uint32_t sum = 0;
  for (std::uint8_t b : v) sum += b;
  return sum;
}

// The keyring every encrypted seed and target uses: a 16-, a 24- and a 32-byte key, so both
// "first key opens it" and "a later key opens it" are reachable. Seeds encrypt with the
// 32-byte one (the last) or the 16-byte one (the primary).
inline const gossip::Keyring& fixed_keyring() {
  static const gossip::Keyring ring = [] {
    std::vector<Bytes> keys;
    for (std::size_t n : {16u, 24u, 32u}) {
      Bytes k(n);
      for (std::size_t i = 0; i < n; ++i) k[i] = static_cast<std::uint8_t>(0x40 + n + i);
      keys.push_back(std::move(k));
    }
    auto r = gossip::Keyring::make(std::move(keys));
    if (!r.ok()) std::abort();
    return *r;
  }();
  return ring;
}

// The cluster label used as AAD and label header by the seeds (the label-lzw capture's).
inline constexpr std::string_view kLabel = "prod-eu";

}  // namespace ringwatch::fuzz
