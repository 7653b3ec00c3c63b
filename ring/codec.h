// dskit KV wire formats: KeyValuePair, push/pull user state framing, and the value codecs
// (spec dskit-kv-ring.md §3.4, §3.5, §4). Pure functions from bytes to typed values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gossip/result.h"
#include "ring/model.h"

namespace ringwatch::ring {

// Upper bound on one decompressed value. A 10,000-instance ring is ~26 MB; memberlist caps a
// decompressed payload near 21 MiB, but push/pull streams are not capped, so allow headroom.
inline constexpr size_t kMaxValueBytes = 256u << 20;

struct KeyValuePair {
  std::string key;
  std::string value;  // codec-encoded
  std::string codec;
  bool deleted = false;
  int64_t update_time_millis = 0;
};

// One protobuf KeyValuePair (a gossip user message body, type byte already removed).
Result<KeyValuePair> decode_key_value_pair(std::string_view bytes);

// Push/pull user state: [uint32 BE length][KeyValuePair] records. Like dskit, parsing stops at the
// first short/oversized length or protobuf error; records before it are returned.
struct PushPullState {
  std::vector<KeyValuePair> records;
  std::optional<Error> stopped;  // why parsing stopped early, if it did
};
PushPullState decode_push_pull_state(std::string_view bytes);

// Snappy block format (not framed). Rejects declared lengths above max_bytes before allocating.
Result<std::string> snappy_decode(std::string_view compressed, size_t max_bytes = kMaxValueBytes);

// Codec IDs (spec §4.1) and the value kind a codec ID selects.
enum class Codec { ring_desc, partition_ring_desc, propagation_delay_tracker, replica_desc, usage_stats_json, unknown };
Codec codec_from_id(std::string_view codec_id);
const char* codec_id(Codec c);

// Protobuf decoders (input already snappy-decoded).
Result<RingDesc> decode_ring_desc_proto(std::string_view protobuf);
Result<InstanceDesc> decode_instance_desc_proto(std::string_view protobuf);
Result<PartitionRingDesc> decode_partition_ring_desc_proto(std::string_view protobuf);
Result<PropagationDelayTrackerDesc> decode_propagation_tracker_proto(std::string_view protobuf);
Result<ReplicaDesc> decode_replica_desc_proto(std::string_view protobuf);

// Whole codec values (snappy block ∘ protobuf, or JSON for usagestats.jsonCodec).
Result<RingDesc> decode_ring_desc(std::string_view value);
Result<PartitionRingDesc> decode_partition_ring_desc(std::string_view value);
Result<PropagationDelayTrackerDesc> decode_propagation_tracker(std::string_view value);
Result<ReplicaDesc> decode_replica_desc(std::string_view value);
Result<UsageStatsSeed> decode_usage_stats_seed(std::string_view value);

}  // namespace ringwatch::ring
