#include "bench/synthetic_ring.h"

#include <snappy.h>

#include <algorithm>

#include "proto/kv.pb.h"

namespace ringwatch::bench {
namespace {

// murmur3's finalizer: a bijection on 32 bits, so distinct inputs give distinct tokens
// without a set of the tokens already used (5 M of them for 10,000 instances).
uint32_t mix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bU;
  h ^= h >> 13;
  h *= 0xc2b2ae35U;
  h ^= h >> 16;
  return h;
}

}  // namespace

std::string instance_id(int index) {
  return "ingester-zone-" + std::string(1, static_cast<char>('a' + index % 3)) + "-" + std::to_string(index / 3);
}

::ring::Desc synthetic_ring(const RingShape& shape) {
  ::ring::Desc d;
  const uint32_t base = shape.seed * 0x9e3779b9U;
  std::vector<uint32_t> tokens(static_cast<size_t>(shape.tokens_per_instance));
  for (int i = 0; i < shape.instances; ++i) {
    const std::string id = instance_id(i);
    auto& inst = (*d.mutable_ingesters())[id];
    inst.set_addr("10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." +
                  std::to_string(i % 256) + ":9095");
    inst.set_timestamp(shape.heartbeat - static_cast<int64_t>(mix32(base + static_cast<uint32_t>(i)) % 15));
    inst.set_zone(std::string("zone-") + static_cast<char>('a' + i % 3));
    inst.set_registered_timestamp(shape.heartbeat - 3600 - static_cast<int64_t>(mix32(static_cast<uint32_t>(i)) % 2592000));
    inst.set_id(id);
    for (size_t t = 0; t < tokens.size(); ++t) {
      tokens[t] = mix32(base + static_cast<uint32_t>(static_cast<size_t>(i) * tokens.size() + t));
    }
    std::sort(tokens.begin(), tokens.end());
    for (uint32_t t : tokens) inst.add_tokens(t);
  }
  return d;
}

std::string snappy_of(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

std::string key_value_pair(std::string_view key, std::string_view value, std::string_view codec) {
  ::memberlist::KeyValuePair kv;
  kv.set_key(std::string(key));
  kv.set_value(std::string(value));
  kv.set_codec(std::string(codec));
  return kv.SerializeAsString();
}

void append_push_pull_record(std::string& state, std::string_view key_value_pair) {
  const auto n = static_cast<uint32_t>(key_value_pair.size());
  for (int shift = 24; shift >= 0; shift -= 8) state.push_back(static_cast<char>(n >> shift));
  state.append(key_value_pair);
}

}  // namespace ringwatch::bench
