// Rings shaped like tests/fixtures/dskit-2023/bench/ring1000.bin at any size: zones a/b/c, ids
// ingester-zone-X-K, 512 (or any number of) unique random sorted tokens per instance, encoded
// the way dskit encodes them (snappy block of a protobuf ring.Desc inside a KeyValuePair).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/ring.pb.h"

namespace ringwatch::bench {

struct RingShape {
  int instances = 1000;
  int tokens_per_instance = 512;
  int64_t heartbeat = 1698400000;  // Unix seconds; instances get this minus 0..14 s
  uint32_t seed = 1;               // different seeds give different token sets
};

::ring::Desc synthetic_ring(const RingShape& shape);
std::string instance_id(int index);

std::string snappy_of(std::string_view raw);

// A serialized memberlist.KeyValuePair (dskit's gossip user message).
std::string key_value_pair(std::string_view key, std::string_view value, std::string_view codec);

// dskit's push/pull user state: records of [u32 big-endian length][KeyValuePair].
void append_push_pull_record(std::string& state, std::string_view key_value_pair);

}  // namespace ringwatch::bench
