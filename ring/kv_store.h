// A passive replica of dskit's memberlist KV store (spec §3.6): every key's value merged the way
// a Go node merges it, fed from gossip user messages and push/pull user state.
//
// Single-threaded: the gossip thread applies; readers get immutable snapshots (snapshot()),
// which share instance data with the store, so publishing one per scrape is cheap: the
// per-key views are cached and rebuilt only for keys that changed since the last snapshot.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gossip/result.h"
#include "ring/codec.h"
#include "ring/model.h"
#include "ring/ring_names.h"
#include "ring/ring_state.h"

namespace ringwatch::ring {

// Bounds on what gossip can make the store hold, so that a hostile or broken writer cannot
// exhaust memory. A value that would take the store past one is rejected whole (nothing of
// it is merged) and counted. Defaults leave room for the largest real clusters: thousands of
// keys (Mimir's HA tracker writes one per tenant and cluster) and rings of 10,000 instances
// with 512 tokens each (5,120,000 tokens).
struct StoreLimits {
  size_t max_keys = 65536;
  // Entries of one value: ring instances (LEFT tombstones included), partitions, partition
  // owners, propagation beacons.
  size_t max_instances = 32768;
  // Tokens of one ring or partition ring value, over all its instances or partitions.
  size_t max_tokens = 16u << 20;
};

// Which StoreLimits bound a rejected value ran into.
enum class StoreLimit { keys, instances, tokens };
inline constexpr size_t kStoreLimitCount = 3;
const char* store_limit_name(StoreLimit l);

struct StoreOptions {
  // -memberlist.left-ingesters-timeout; 0 keeps tombstones forever.
  std::chrono::milliseconds left_ingesters_timeout = std::chrono::minutes(5);
  RingNames names = RingNames::defaults();
  StoreLimits limits{};
};

enum class ApplyStatus {
  changed,          // the stored value or its deleted flag changed
  unchanged,        // merged, nothing new
  ignored_deleted,  // deleted=true for a key we do not hold (deletions never create keys)
  invalid,          // KeyValuePair does not parse or has an empty key
  decode_error,     // the value does not decode with its codec; nothing stored
  unknown_codec,    // kept as raw bytes and counted, never merged
  over_limit,       // merging it would exceed a StoreLimits bound; nothing stored
};
const char* apply_status_name(ApplyStatus s);

struct ApplyResult {
  ApplyStatus status = ApplyStatus::unchanged;
  std::optional<Error> error;  // for invalid / decode_error / over_limit
};

struct PushPullResult {
  size_t records = 0;           // KeyValuePairs parsed
  size_t changed = 0;           // records that changed a key
  size_t failed = 0;            // records rejected (invalid / decode_error)
  std::optional<Error> stopped;  // framing error that ended parsing early
};

struct StoreCounters {
  uint64_t applied = 0;  // KeyValuePairs handed to apply(), any outcome
  uint64_t changed = 0;
  uint64_t unchanged = 0;
  uint64_t ignored_deleted = 0;
  uint64_t invalid = 0;
  uint64_t decode_errors = 0;
  uint64_t unknown_codec = 0;
  uint64_t tombstones_removed = 0;
  uint64_t obsolete_removed = 0;  // deleted keys dropped by remove_obsolete_entries
  std::array<uint64_t, kStoreLimitCount> limit_hits{};  // values rejected, by StoreLimit
  uint64_t limit_count(StoreLimit l) const { return limit_hits[static_cast<size_t>(l)]; }
};

// One key as readers see it. Values are tombstone-free views, shared and immutable.
struct KeySnapshot {
  std::string key;
  std::string ring_name;  // from StoreOptions::names (the key itself if unknown)
  std::string codec;      // codec ID as received
  Codec kind = Codec::unknown;
  size_t last_value_bytes = 0;       // size of the last received encoded value (delta or full)
  size_t last_full_value_bytes = 0;  // size of the last value received via push/pull
  bool deleted = false;
  int64_t deleted_update_time_millis = 0;
  uint64_t version = 0;          // local version: +1 per change, as dskit counts it
  Clock::time_point last_update;  // arrival of the last change
  Source last_source = Source::gossip;
  std::string last_peer;
  Clock::time_point last_received;  // arrival of the last value, changed or not
  size_t tombstones = 0;            // tombstones held (LEFT / Deleted entries)

  std::shared_ptr<const RingView> ring;                            // ringDesc
  std::shared_ptr<const PartitionRingDesc> partition_ring;         // partitionRingDesc
  std::shared_ptr<const PropagationDelayTrackerDesc> beacons;      // propagationDelayTracker
  std::shared_ptr<const ReplicaDesc> replica;                      // replicaDesc
  std::shared_ptr<const UsageStatsSeed> usage_stats;               // usagestats.jsonCodec
  std::shared_ptr<const std::string> raw;                          // any other codec
};

struct StoreSnapshot {
  std::vector<KeySnapshot> keys;  // sorted by key
  StoreCounters counters;
  const KeySnapshot* find(std::string_view key) const;
};

class KvStore {
 public:
  explicit KvStore(StoreOptions options = {});
  ~KvStore();
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  // A gossip user message body (the bytes after memberlist's type byte 8).
  ApplyResult apply_user_message(std::string_view key_value_pair, const Delivery& from,
                                 std::vector<ChangeEvent>& events);
  // Push/pull user state; records are applied in order until a framing error.
  PushPullResult apply_push_pull(std::string_view user_state, const Delivery& from,
                                 std::vector<ChangeEvent>& events);
  // One decoded KeyValuePair (§3.6 steps 1-8).
  ApplyResult apply(KeyValuePair kv, const Delivery& from, std::vector<ChangeEvent>& events);

  // -memberlist.obsolete-entries-timeout sweep (§3.9): drops keys marked deleted whose update
  // time is older than now - timeout. Returns how many keys were removed.
  size_t remove_obsolete_entries(Clock::time_point now, std::chrono::milliseconds timeout);

  std::shared_ptr<const StoreSnapshot> snapshot();

  // Direct access to a ring key's merged state (tombstones included); nullptr if not a ring.
  const RingState* ring(std::string_view key) const;
  const StoreCounters& counters() const { return counters_; }
  size_t key_count() const;
  // Bytes held by ring structures (instances, tokens, indexes), for memory accounting.
  size_t memory_bytes() const;

 private:
  struct Entry;
  Entry* find_entry(std::string_view key);
  ApplyResult reject_over_limit(StoreLimit limit, const std::string& key, size_t would_hold, const Delivery& from);

  StoreOptions options_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
  StoreCounters counters_;
  std::shared_ptr<const StoreSnapshot> cached_snapshot_;
  std::array<Clock::time_point, kStoreLimitCount> last_limit_log_{};
  std::array<uint64_t, kStoreLimitCount> unlogged_limit_hits_{};
};

}  // namespace ringwatch::ring
