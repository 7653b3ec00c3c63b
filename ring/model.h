// Typed values of the dskit KV store (spec dskit-kv-ring.md §4, §5): what the codecs decode to.
// Compact, hand-decoded structs; the generated protobuf classes (ring/proto/*.proto) are used
// to cross-check them in tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ringwatch::ring {

// InstanceState of ring.proto. Values outside 0..4 are kept as received (proto3 open enum).
enum class InstanceState : int32_t { active = 0, leaving = 1, pending = 2, joining = 3, left = 4 };

// Upper-case name as the ring page and dskit's String() print it ("ACTIVE", ..., "LEFT").
const char* instance_state_name(InstanceState s);

struct InstanceDesc {
  std::string addr;
  int64_t timestamp = 0;  // last heartbeat, Unix seconds
  InstanceState state = InstanceState::active;
  std::vector<uint32_t> tokens;
  std::string zone;
  int64_t registered_timestamp = 0;
  std::string id;  // field 9 as sent; empty from writers older than 2023-10
  int64_t read_only_updated_timestamp = 0;
  bool read_only = false;
  std::map<uint64_t, uint64_t> versions;

  bool operator==(const InstanceDesc&) const = default;
};

// ring.Desc: instance ID (map key) -> instance. Tombstones (LEFT) included.
struct RingDesc {
  std::unordered_map<std::string, InstanceDesc> ingesters;
  bool operator==(const RingDesc&) const = default;
};

enum class PartitionState : int32_t { unknown = 0, pending = 1, active = 2, inactive = 3, deleted = 4 };
enum class OwnerState : int32_t { unknown = 0, active = 1, deleted = 2 };

struct PartitionDesc {
  std::vector<uint32_t> tokens;
  PartitionState state = PartitionState::unknown;
  int64_t state_timestamp = 0;  // Unix seconds
  int32_t id = 0;
  bool state_change_locked = false;
  int64_t state_change_locked_timestamp = 0;
  bool operator==(const PartitionDesc&) const = default;
};

struct OwnerDesc {
  int32_t owned_partition = 0;
  OwnerState state = OwnerState::unknown;
  int64_t updated_timestamp = 0;  // Unix seconds
  bool operator==(const OwnerDesc&) const = default;
};

struct PartitionRingDesc {
  std::map<int32_t, PartitionDesc> partitions;
  std::map<std::string, OwnerDesc> owners;
  bool operator==(const PartitionRingDesc&) const = default;
};

struct BeaconDesc {
  int64_t published_at = 0;  // Unix ms
  int64_t deleted_at = 0;    // Unix ms, 0 = live
  std::string published_by;
  bool operator==(const BeaconDesc&) const = default;
};

struct PropagationDelayTrackerDesc {
  std::map<uint64_t, BeaconDesc> beacons;
  bool operator==(const PropagationDelayTrackerDesc&) const = default;
};

// Mimir HA tracker value (spec §5.5).
struct ReplicaDesc {
  std::string replica;
  int64_t received_at = 0;  // Unix ms
  int64_t deleted_at = 0;
  int64_t elected_at = 0;
  int64_t elected_changes = 0;
  bool operator==(const ReplicaDesc&) const = default;
};

// usagestats.jsonCodec cluster seed (spec §4.3).
struct UsageStatsSeed {
  std::string uid;
  std::string created_at;        // RFC 3339 as sent
  int64_t created_at_nanos = 0;  // parsed; 0 when unparseable
  std::string json;              // the whole value, for the status page
  bool operator==(const UsageStatsSeed&) const = default;
};

}  // namespace ringwatch::ring
