#include "ring/kv_store.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace ringwatch::ring {

namespace {

// Values below are seconds (ring, partitions) or milliseconds (beacons) compared with
// time.Unix(v, 0).Before(limit) / time.UnixMilli(v).Before(limit): v < ceil(limit).
int64_t ceil_seconds(Clock::time_point t) {
  return std::chrono::ceil<std::chrono::seconds>(t.time_since_epoch()).count();
}
int64_t ceil_millis(Clock::time_point t) {
  return std::chrono::ceil<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// PartitionRingDesc.Merge with localCAS=false (§6.4); true if anything changed.
bool merge_partition_ring(PartitionRingDesc& local, PartitionRingDesc&& in) {
  bool changed = false;
  for (auto& [id, p] : in.partitions) {
    auto it = local.partitions.find(id);
    if (it == local.partitions.end()) {
      local.partitions.emplace(id, std::move(p));
      changed = true;
      continue;
    }
    PartitionDesc& l = it->second;
    if (p.state_timestamp > l.state_timestamp ||
        (p.state_timestamp == l.state_timestamp && p.state == PartitionState::deleted &&
         l.state != PartitionState::deleted)) {
      l.state = p.state;
      l.state_timestamp = p.state_timestamp;
      changed = true;
    }
    if (p.state_change_locked_timestamp > l.state_change_locked_timestamp) {
      l.state_change_locked = p.state_change_locked;
      l.state_change_locked_timestamp = p.state_change_locked_timestamp;
      changed = true;
    }
  }
  for (auto& [id, o] : in.owners) {
    auto it = local.owners.find(id);
    const OwnerDesc l = it == local.owners.end() ? OwnerDesc{} : it->second;  // absent = zero value
    if (o.updated_timestamp > l.updated_timestamp ||
        (o.updated_timestamp == l.updated_timestamp && o.state == OwnerState::deleted && l.state != OwnerState::deleted)) {
      local.owners.insert_or_assign(id, o);
      changed = true;
    }
  }
  return changed;
}

size_t remove_partition_tombstones(PartitionRingDesc& d, Clock::time_point limit) {
  const int64_t cutoff = ceil_seconds(limit);
  const size_t removed =
      std::erase_if(d.partitions, [&](const auto& p) { return p.second.state == PartitionState::deleted && p.second.state_timestamp < cutoff; }) +
      std::erase_if(d.owners, [&](const auto& o) { return o.second.state == OwnerState::deleted && o.second.updated_timestamp < cutoff; });
  return removed;
}

// PropagationDelayTrackerDesc.Merge with localCAS=false (§6.5).
bool merge_beacons(PropagationDelayTrackerDesc& local, PropagationDelayTrackerDesc&& in) {
  bool changed = false;
  for (auto& [id, b] : in.beacons) {
    auto it = local.beacons.find(id);
    if (it == local.beacons.end()) {
      local.beacons.emplace(id, std::move(b));
      changed = true;
    } else if (b.published_at > it->second.published_at ||
               (b.published_at == it->second.published_at && b.deleted_at > it->second.deleted_at)) {
      it->second = std::move(b);
      changed = true;
    }
  }
  return changed;
}

size_t remove_beacon_tombstones(PropagationDelayTrackerDesc& d, Clock::time_point limit) {
  const int64_t cutoff = ceil_millis(limit);
  return std::erase_if(d.beacons, [&](const auto& b) { return b.second.deleted_at != 0 && b.second.deleted_at < cutoff; });
}

// Mimir's ReplicaDesc merge rules are not in the spec (§5.5 UNVERIFIED). Assumed: the entry with
// the later received_at wins; on a tie, the one marked for deletion later wins.
bool merge_replica(ReplicaDesc& local, ReplicaDesc&& in) {
  if (in.received_at > local.received_at || (in.received_at == local.received_at && in.deleted_at > local.deleted_at)) {
    local = std::move(in);
    return true;
  }
  return false;
}

// usagestats seed (§4.3): older created_at wins, then the smaller UID.
bool merge_seed(UsageStatsSeed& local, UsageStatsSeed&& in) {
  if (in.created_at_nanos < local.created_at_nanos ||
      (in.created_at_nanos == local.created_at_nanos && in.uid < local.uid)) {
    local = std::move(in);
    return true;
  }
  return false;
}

// What a value would make a key hold, for StoreLimits. Counted generously: an incoming
// instance that will lose the merge counts as if it won, so nothing slips past a limit.
struct ValueSize {
  size_t instances = 0;  // entries of the largest kind (instances, partitions, owners, beacons)
  size_t tokens = 0;
};

ValueSize ring_size_after(const RingState* stored, const RingDesc& in) {
  ValueSize s{stored ? stored->size() : 0, stored ? stored->token_count() : 0};
  for (const auto& [id, inst] : in.ingesters) {
    const InstancePtr old = stored ? stored->find(id) : nullptr;
    if (!old) {
      ++s.instances;
      s.tokens += inst.tokens.size();
    } else if (inst.tokens.size() > old->desc.tokens.size()) {
      s.tokens += inst.tokens.size() - old->desc.tokens.size();
    }
  }
  return s;
}

// merge_partition_ring adds partitions and owners but never replaces a partition's tokens.
ValueSize partition_ring_size_after(const PartitionRingDesc* stored, const PartitionRingDesc& in) {
  size_t partitions = stored ? stored->partitions.size() : 0;
  size_t owners = stored ? stored->owners.size() : 0;
  size_t tokens = 0;
  if (stored) {
    for (const auto& [id, p] : stored->partitions) tokens += p.tokens.size();
  }
  for (const auto& [id, p] : in.partitions) {
    if (!stored || !stored->partitions.contains(id)) {
      ++partitions;
      tokens += p.tokens.size();
    }
  }
  for (const auto& [id, o] : in.owners) {
    if (!stored || !stored->owners.contains(id)) ++owners;
  }
  return {std::max(partitions, owners), tokens};
}

ValueSize beacons_size_after(const PropagationDelayTrackerDesc* stored, const PropagationDelayTrackerDesc& in) {
  size_t beacons = stored ? stored->beacons.size() : 0;
  for (const auto& [id, b] : in.beacons) {
    if (!stored || !stored->beacons.contains(id)) ++beacons;
  }
  return {beacons, 0};
}

}  // namespace

const char* store_limit_name(StoreLimit l) {
  switch (l) {
    case StoreLimit::keys: return "keys";
    case StoreLimit::instances: return "instances";
    case StoreLimit::tokens: return "tokens";
  }
  return "unknown";
}

const char* apply_status_name(ApplyStatus s) {
  switch (s) {
    case ApplyStatus::changed: return "changed";
    case ApplyStatus::unchanged: return "unchanged";
    case ApplyStatus::ignored_deleted: return "ignored_deleted";
    case ApplyStatus::invalid: return "invalid";
    case ApplyStatus::decode_error: return "decode_error";
    case ApplyStatus::unknown_codec: return "unknown_codec";
    case ApplyStatus::over_limit: return "over_limit";
  }
  return "unknown";
}

const KeySnapshot* StoreSnapshot::find(std::string_view key) const {
  auto it = std::lower_bound(keys.begin(), keys.end(), key, [](const KeySnapshot& k, std::string_view v) { return k.key < v; });
  return it != keys.end() && it->key == key ? &*it : nullptr;
}

struct KvStore::Entry {
  std::string key;
  std::string codec;
  Codec kind = Codec::unknown;
  size_t last_value_bytes = 0;
  size_t last_full_value_bytes = 0;
  bool deleted = false;
  int64_t update_time_millis = 0;
  uint64_t version = 0;
  Clock::time_point last_update;
  Clock::time_point last_received;
  Source last_source = Source::gossip;
  std::string last_peer;

  // The stored value, tombstones included. Only the member matching `kind` is used.
  RingState ring;
  PartitionRingDesc partitions;
  PropagationDelayTrackerDesc beacons;
  ReplicaDesc replica;
  UsageStatsSeed seed;
  std::shared_ptr<const std::string> raw;

  // Reader views of the small values, rebuilt after a change.
  std::shared_ptr<const PartitionRingDesc> partitions_view;
  std::shared_ptr<const PropagationDelayTrackerDesc> beacons_view;
  std::shared_ptr<const ReplicaDesc> replica_view;
  std::shared_ptr<const UsageStatsSeed> seed_view;

  size_t tombstones() const {
    switch (kind) {
      case Codec::ring_desc: return ring.tombstones();
      case Codec::partition_ring_desc:
        return static_cast<size_t>(
            std::count_if(partitions.partitions.begin(), partitions.partitions.end(), [](const auto& p) { return p.second.state == PartitionState::deleted; }) +
            std::count_if(partitions.owners.begin(), partitions.owners.end(), [](const auto& o) { return o.second.state == OwnerState::deleted; }));
      case Codec::propagation_delay_tracker:
        return static_cast<size_t>(std::count_if(beacons.beacons.begin(), beacons.beacons.end(), [](const auto& b) { return b.second.deleted_at != 0; }));
      default: return 0;
    }
  }

  void invalidate_views() {
    partitions_view.reset();
    beacons_view.reset();
    replica_view.reset();
    seed_view.reset();
  }
};

KvStore::KvStore(StoreOptions options) : options_(std::move(options)) {}
KvStore::~KvStore() = default;

KvStore::Entry* KvStore::find_entry(std::string_view key) {
  auto it = entries_.find(std::string(key));
  return it == entries_.end() ? nullptr : it->second.get();
}

ApplyResult KvStore::apply_user_message(std::string_view bytes, const Delivery& from, std::vector<ChangeEvent>& events) {
  auto kv = decode_key_value_pair(bytes);
  if (!kv) {
    ++counters_.applied;
    ++counters_.invalid;
    return {ApplyStatus::invalid, kv.error()};
  }
  return apply(std::move(*kv), from, events);
}

PushPullResult KvStore::apply_push_pull(std::string_view user_state, const Delivery& from, std::vector<ChangeEvent>& events) {
  PushPullState state = decode_push_pull_state(user_state);
  PushPullResult out;
  out.records = state.records.size();
  out.stopped = std::move(state.stopped);
  for (KeyValuePair& kv : state.records) {
    const ApplyResult r = apply(std::move(kv), from, events);
    if (r.status == ApplyStatus::changed) ++out.changed;
    if (r.status == ApplyStatus::invalid || r.status == ApplyStatus::decode_error || r.status == ApplyStatus::over_limit) {
      ++out.failed;
    }
  }
  return out;
}

ApplyResult KvStore::apply(KeyValuePair kv, const Delivery& from, std::vector<ChangeEvent>& events) {
  ++counters_.applied;
  cached_snapshot_.reset();
  if (kv.key.empty()) {
    ++counters_.invalid;
    return {ApplyStatus::invalid, fail(Reject::invalid, "KeyValuePair with empty key")};
  }
  const Codec kind = codec_from_id(kv.codec);
  Entry* entry = find_entry(kv.key);

  if (kind == Codec::unknown) {
    // A Go node drops these; we keep the latest bytes so the status page can show the key.
    ++counters_.unknown_codec;
    if (!entry && kv.deleted) return {ApplyStatus::unknown_codec, std::nullopt};
    if (!entry && entries_.size() >= options_.limits.max_keys) {
      return reject_over_limit(StoreLimit::keys, kv.key, entries_.size() + 1, from);
    }
    if (!entry) {
      auto e = std::make_unique<Entry>();
      e->key = kv.key;
      entry = entries_.emplace(kv.key, std::move(e)).first->second.get();
    }
    if (entry->kind != Codec::unknown && entry->version > 0) return {ApplyStatus::unknown_codec, std::nullopt};
    entry->codec = kv.codec;
    entry->last_value_bytes = kv.value.size();
    if (from.source == Source::pushpull) entry->last_full_value_bytes = kv.value.size();
    entry->last_received = entry->last_update = from.arrival;
    entry->last_source = from.source;
    entry->last_peer = from.peer;
    entry->raw = std::make_shared<const std::string>(std::move(kv.value));
    ++entry->version;
    return {ApplyStatus::unknown_codec, std::nullopt};
  }

  // Step 1: decode with the record's codec.
  RingDesc ring_value;
  PartitionRingDesc partition_value;
  PropagationDelayTrackerDesc beacon_value;
  ReplicaDesc replica_value;
  UsageStatsSeed seed_value;
  std::optional<Error> error;
  auto take = [&](auto result, auto& into) {
    if (result)
      into = std::move(*result);
    else
      error = result.error();
  };
  switch (kind) {
    case Codec::ring_desc: take(decode_ring_desc(kv.value), ring_value); break;
    case Codec::partition_ring_desc: take(decode_partition_ring_desc(kv.value), partition_value); break;
    case Codec::propagation_delay_tracker: take(decode_propagation_tracker(kv.value), beacon_value); break;
    case Codec::replica_desc: take(decode_replica_desc(kv.value), replica_value); break;
    case Codec::usage_stats_json: take(decode_usage_stats_seed(kv.value), seed_value); break;
    case Codec::unknown: break;
  }
  if (!error && entry && entry->kind != kind && entry->version > 0)
    error = fail(Reject::decode, "codec " + kv.codec + " does not match the stored value's " + entry->codec);
  if (error) {
    ++counters_.decode_errors;
    return {ApplyStatus::decode_error, std::move(error)};
  }

  // Step 2: deletions never create keys.
  if (!entry && kv.deleted) {
    ++counters_.ignored_deleted;
    return {ApplyStatus::ignored_deleted, std::nullopt};
  }

  // Limits: a value that would take the store past one is dropped whole. Its own size first,
  // so that an oversized value counts as such whether or not there is room for its key.
  ValueSize after;
  switch (kind) {
    case Codec::ring_desc: after = ring_size_after(entry ? &entry->ring : nullptr, ring_value); break;
    case Codec::partition_ring_desc:
      after = partition_ring_size_after(entry ? &entry->partitions : nullptr, partition_value);
      break;
    case Codec::propagation_delay_tracker:
      after = beacons_size_after(entry ? &entry->beacons : nullptr, beacon_value);
      break;
    default: break;
  }
  if (after.instances > options_.limits.max_instances) {
    return reject_over_limit(StoreLimit::instances, kv.key, after.instances, from);
  }
  if (after.tokens > options_.limits.max_tokens) return reject_over_limit(StoreLimit::tokens, kv.key, after.tokens, from);
  if (!entry && entries_.size() >= options_.limits.max_keys) {
    return reject_over_limit(StoreLimit::keys, kv.key, entries_.size() + 1, from);
  }

  // Step 3: merge (or store a first value as received).
  const bool is_new = entry == nullptr;
  std::unique_ptr<Entry> fresh;
  if (is_new) {
    fresh = std::make_unique<Entry>();
    fresh->key = kv.key;
    fresh->codec = kv.codec;
    fresh->kind = kind;
    entry = fresh.get();
  }
  const size_t first_event = events.size();
  bool content_changed = false;
  switch (kind) {
    case Codec::ring_desc:
      if (is_new) {
        content_changed = !ring_value.ingesters.empty();
        entry->ring.assign(std::move(ring_value), entry->key, from, &events);
      } else {
        content_changed = entry->ring.merge(std::move(ring_value), entry->key, from, &events);
      }
      break;
    case Codec::partition_ring_desc:
      if (is_new) {
        content_changed = !partition_value.partitions.empty() || !partition_value.owners.empty();
        entry->partitions = std::move(partition_value);
      } else {
        content_changed = merge_partition_ring(entry->partitions, std::move(partition_value));
      }
      break;
    case Codec::propagation_delay_tracker:
      if (is_new) {
        content_changed = !beacon_value.beacons.empty();
        entry->beacons = std::move(beacon_value);
      } else {
        content_changed = merge_beacons(entry->beacons, std::move(beacon_value));
      }
      break;
    case Codec::replica_desc:
      content_changed = is_new || merge_replica(entry->replica, std::move(replica_value));
      if (is_new) entry->replica = std::move(replica_value);
      break;
    case Codec::usage_stats_json:
      content_changed = is_new || merge_seed(entry->seed, std::move(seed_value));
      if (is_new) entry->seed = std::move(seed_value);
      break;
    case Codec::unknown: break;
  }

  // Step 4: the deleted flag only ever turns on, with a later update time.
  const bool deleted_changed = kv.deleted && kv.update_time_millis != 0 &&
                               kv.update_time_millis > entry->update_time_millis && !entry->deleted;
  const bool update_time_later = kv.deleted && kv.update_time_millis != 0 && kv.update_time_millis > entry->update_time_millis;

  entry->last_received = from.arrival;
  entry->last_value_bytes = kv.value.size();
  if (from.source == Source::pushpull) entry->last_full_value_bytes = kv.value.size();

  // Step 5: nothing new -> nothing stored (a first value with no content is dropped).
  if (!content_changed && !deleted_changed) {
    if (is_new) events.resize(first_event);
    ++counters_.unchanged;
    return {ApplyStatus::unchanged, std::nullopt};
  }
  if (update_time_later) {
    entry->deleted = true;
    entry->update_time_millis = kv.update_time_millis;
  }

  // Step 6: tombstone removal runs with every stored change.
  if (options_.left_ingesters_timeout.count() > 0) {
    const Clock::time_point limit = from.arrival - options_.left_ingesters_timeout;
    size_t removed = 0;
    switch (kind) {
      case Codec::ring_desc: removed = entry->ring.remove_tombstones(limit, entry->key, from, &events); break;
      case Codec::partition_ring_desc: removed = remove_partition_tombstones(entry->partitions, limit); break;
      case Codec::propagation_delay_tracker: removed = remove_beacon_tombstones(entry->beacons, limit); break;
      default: break;
    }
    counters_.tombstones_removed += removed;
  }

  // Step 8.
  ++entry->version;
  entry->last_update = from.arrival;
  entry->last_source = from.source;
  entry->last_peer = from.peer;
  entry->invalidate_views();
  if (fresh) entries_.emplace(kv.key, std::move(fresh));
  ++counters_.changed;
  return {ApplyStatus::changed, std::nullopt};
}

ApplyResult KvStore::reject_over_limit(StoreLimit limit, const std::string& key, size_t would_hold,
                                       const Delivery& from) {
  const auto i = static_cast<size_t>(limit);
  const size_t max = limit == StoreLimit::keys        ? options_.limits.max_keys
                     : limit == StoreLimit::instances ? options_.limits.max_instances
                                                      : options_.limits.max_tokens;
  std::string detail = limit == StoreLimit::keys
                           ? "new key " + key + " would make " + std::to_string(would_hold) + " keys"
                           : "key " + key + " would hold " + std::to_string(would_hold) + " " + store_limit_name(limit);
  detail += ", limit " + std::to_string(max);
  ++counters_.limit_hits[i];
  // One warning per limit a minute at most: a writer that keeps sending such values must not flood the log.
  if (last_limit_log_[i] == Clock::time_point{} || from.arrival - last_limit_log_[i] >= std::chrono::minutes(1)) {
    if (auto log = spdlog::get("kv")) {
      log->warn("rejected a value from {} over the {} limit: {} ({} more rejected since the last warning)", from.peer,
                store_limit_name(limit), detail, unlogged_limit_hits_[i]);
    }
    last_limit_log_[i] = from.arrival;
    unlogged_limit_hits_[i] = 0;
  } else {
    ++unlogged_limit_hits_[i];
  }
  return {ApplyStatus::over_limit, fail(Reject::oversize, std::move(detail))};
}

size_t KvStore::remove_obsolete_entries(Clock::time_point now, std::chrono::milliseconds timeout) {
  const int64_t limit_ms = std::chrono::duration_cast<std::chrono::milliseconds>((now - timeout).time_since_epoch()).count();
  const size_t removed = std::erase_if(entries_, [&](const auto& e) { return e.second->deleted && e.second->update_time_millis < limit_ms; });
  if (removed) cached_snapshot_.reset();
  counters_.obsolete_removed += removed;
  return removed;
}

std::shared_ptr<const StoreSnapshot> KvStore::snapshot() {
  if (cached_snapshot_) return cached_snapshot_;
  auto snap = std::make_shared<StoreSnapshot>();
  snap->counters = counters_;
  snap->keys.reserve(entries_.size());
  for (auto& [key, e] : entries_) {
    KeySnapshot k;
    k.key = key;
    k.ring_name = options_.names.name_for(key);
    k.codec = e->codec;
    k.kind = e->kind;
    k.last_value_bytes = e->last_value_bytes;
    k.last_full_value_bytes = e->last_full_value_bytes;
    k.deleted = e->deleted;
    k.deleted_update_time_millis = e->update_time_millis;
    k.version = e->version;
    k.last_update = e->last_update;
    k.last_source = e->last_source;
    k.last_peer = e->last_peer;
    k.last_received = e->last_received;
    k.tombstones = e->tombstones();
    switch (e->kind) {
      case Codec::ring_desc: k.ring = e->ring.view(); break;
      case Codec::partition_ring_desc:
        if (!e->partitions_view) {
          auto v = std::make_shared<PartitionRingDesc>(e->partitions);
          std::erase_if(v->partitions, [](const auto& p) { return p.second.state == PartitionState::deleted; });
          std::erase_if(v->owners, [](const auto& o) { return o.second.state == OwnerState::deleted; });
          e->partitions_view = std::move(v);
        }
        k.partition_ring = e->partitions_view;
        break;
      case Codec::propagation_delay_tracker:
        if (!e->beacons_view) {
          auto v = std::make_shared<PropagationDelayTrackerDesc>(e->beacons);
          std::erase_if(v->beacons, [](const auto& b) { return b.second.deleted_at != 0; });
          e->beacons_view = std::move(v);
        }
        k.beacons = e->beacons_view;
        break;
      case Codec::replica_desc:
        if (!e->replica_view) e->replica_view = std::make_shared<const ReplicaDesc>(e->replica);
        k.replica = e->replica_view;
        break;
      case Codec::usage_stats_json:
        if (!e->seed_view) e->seed_view = std::make_shared<const UsageStatsSeed>(e->seed);
        k.usage_stats = e->seed_view;
        break;
      case Codec::unknown: k.raw = e->raw; break;
    }
    snap->keys.push_back(std::move(k));
  }
  std::sort(snap->keys.begin(), snap->keys.end(), [](const KeySnapshot& a, const KeySnapshot& b) { return a.key < b.key; });
  cached_snapshot_ = std::move(snap);
  return cached_snapshot_;
}

const RingState* KvStore::ring(std::string_view key) const {
  auto it = entries_.find(std::string(key));
  return it == entries_.end() || it->second->kind != Codec::ring_desc ? nullptr : &it->second->ring;
}

size_t KvStore::key_count() const { return entries_.size(); }

size_t KvStore::memory_bytes() const {
  size_t n = 0;
  for (const auto& [key, e] : entries_) n += sizeof(Entry) + key.capacity() + e->ring.memory_bytes();
  return n;
}

}  // namespace ringwatch::ring
