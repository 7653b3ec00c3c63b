// One ring key's merged state, kept so that merging a one-instance delta costs O(that instance),
// whatever the ring size, while producing exactly dskit's Desc.Merge result (spec §6.1-§6.3).
//
// Why this shape:
// * Instances are immutable shared_ptr<const Instance>: a merge replaces one pointer (no clone of
//   the ring as dskit does), and a reader snapshot is a vector of pointers sharing the token
//   vectors — copy-on-write per instance.
// * LEFT tombstones sit in a min-heap keyed on their timestamp, so the removal run of §6.3 step 5
//   pops only what expired instead of scanning the ring.
// * A token -> owner hash index (built on the first merge that changes tokens, then maintained)
//   answers dskit's conflictingTokensExist in O(1) and tells which instances conflict resolution
//   touches, so resolution rewrites only those instances.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ring/model.h"

namespace ringwatch::ring {

using Clock = std::chrono::system_clock;

// Where a value came from.
enum class Source : uint8_t { gossip, pushpull };
const char* source_name(Source s);

// An instance as stored: its ring ID (the map key) and its descriptor. Never mutated once shared.
struct Instance {
  std::string id;
  InstanceDesc desc;
};
using InstancePtr = std::shared_ptr<const Instance>;

// What changed in one instance (bit set of ChangeEvent::changed).
enum ChangeFlag : uint32_t {
  kChangedNone = 0,
  kChangedHeartbeat = 1u << 0,  // timestamp
  kChangedState = 1u << 1,
  kChangedTokens = 1u << 2,
  kChangedZone = 1u << 3,
  kChangedReadOnly = 1u << 4,  // read_only or read_only_updated_timestamp
  kChangedOther = 1u << 5,     // addr, registered_timestamp, id or versions
  kChangedAdded = 1u << 6,     // the instance was not in the store before
  kChangedRemoved = 1u << 7,   // tombstone expired and removed from the store
};

// One instance delivered by a merge, changed or not. Non-changing deliveries are reported too
// (changed == kChangedNone) so that metrics can count gossip redundancy via `duplicate`.
struct ChangeEvent {
  std::string key;
  std::string instance_id;
  uint32_t changed = kChangedNone;
  int64_t old_timestamp = 0;  // 0 when the instance was new
  int64_t new_timestamp = 0;
  InstanceState old_state = InstanceState::active;
  InstanceState new_state = InstanceState::active;
  Clock::time_point arrival;
  std::string peer;
  Source source = Source::gossip;
  // This exact (instance, timestamp) arrived before for this key (redelivery by gossip).
  bool duplicate = false;
  // Tokens changed only because token conflict resolution (§6.2) took some away.
  bool conflict_resolution = false;
};

// Who delivered a value and when; copied into events.
struct Delivery {
  Clock::time_point arrival;
  std::string_view peer;
  Source source = Source::gossip;
};

// The ring as dskit's ring clients see it: no tombstones, sorted by instance ID. Immutable.
struct RingView {
  std::vector<InstancePtr> instances;
  size_t tombstones = 0;  // LEFT entries still held by the store (not in `instances`)
  int64_t oldest_tombstone_timestamp = 0;  // Unix seconds of the oldest LEFT entry; 0 when none
  size_t tokens = 0;      // sum of token counts over `instances`
};

class RingState {
 public:
  RingState();
  ~RingState();
  RingState(const RingState&) = delete;
  RingState& operator=(const RingState&) = delete;

  // The key's first value: stored as received (dskit neither normalises nor resolves conflicts).
  void assign(RingDesc&& desc, const std::string& key, const Delivery& from, std::vector<ChangeEvent>* events);

  // Desc.Merge(incoming, localCAS=false). Returns true if some instance was "updated" (dskit's
  // non-empty change). Appends one event per incoming instance and per conflict-resolved one.
  bool merge(RingDesc&& incoming, const std::string& key, const Delivery& from, std::vector<ChangeEvent>* events);

  // RemoveTombstones(limit): LEFT entries with timestamp (s) strictly before limit are deleted.
  // Returns how many were removed.
  size_t remove_tombstones(Clock::time_point limit, const std::string& key, const Delivery& from,
                           std::vector<ChangeEvent>* events);

  size_t size() const;        // instances including tombstones
  size_t tombstones() const;  // LEFT entries
  size_t token_count() const;
  bool empty() const { return size() == 0; }

  // Lookup of the stored entry (tombstones included); nullptr if absent.
  InstancePtr find(std::string_view id) const;

  // Reader view, cached until the next change (cost O(instances) pointer copies on rebuild).
  std::shared_ptr<const RingView> view() const;

  // The stored value as a plain Desc (tombstones included), e.g. for tests and /memberlist pages.
  RingDesc to_desc() const;

  // Bytes held by this ring's own structures (instances, tokens, index, heap), for accounting.
  size_t memory_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringwatch::ring
