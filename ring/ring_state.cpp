#include "ring/ring_state.h"

#include <algorithm>
#include <array>
#include <bit>
#include <iterator>
#include <functional>
#include <limits>

namespace ringwatch::ring {

const char* source_name(Source s) { return s == Source::gossip ? "gossip" : "pushpull"; }

namespace {

constexpr uint32_t kNoSlot = std::numeric_limits<uint32_t>::max();

// token -> owning slot, open addressing with linear probing. Further owners of the same token
// (conflicts, or a duplicate within one first-value instance) go to `extra`, so "do conflicting
// tokens exist" — dskit's conflictingTokensExist over all instances — is `!extra.empty()`.
class TokenIndex {
 public:
  void clear() {
    cells_.clear();
    extra_.clear();
    used_ = 0;
  }

  void reserve(size_t tokens) {
    size_t cap = 1024;
    while (!fits(tokens, cap)) cap *= 2;
    if (cap > cells_.size()) rehash(cap);
  }

  void insert(uint32_t token, uint32_t slot) {
    if (!fits(used_ + 1, cells_.size())) rehash(std::max<size_t>(1024, cells_.size() * 2));
    size_t i = home(token);
    while (cells_[i].slot != kNoSlot) {
      if (cells_[i].token == token) {
        extra_[token].push_back(slot);
        return;
      }
      i = (i + 1) & mask_;
    }
    cells_[i] = {token, slot};
    ++used_;
  }

  void erase(uint32_t token, uint32_t slot) {
    const size_t i = find(token);
    if (i == npos) return;
    auto ex = extra_.find(token);
    if (cells_[i].slot == slot) {
      if (ex == extra_.end()) {
        erase_cell(i);
        return;
      }
      cells_[i].slot = ex->second.back();
      ex->second.pop_back();
    } else if (ex != extra_.end()) {
      auto pos = std::find(ex->second.begin(), ex->second.end(), slot);
      if (pos != ex->second.end()) ex->second.erase(pos);
    }
    if (ex != extra_.end() && ex->second.empty()) extra_.erase(ex);
  }

  bool has_conflicts() const { return !extra_.empty(); }

  // Calls f(token, owners) for every token with more than one occurrence.
  template <class F>
  void for_each_conflict(F&& f) const {
    std::vector<uint32_t> owners;
    for (const auto& [token, more] : extra_) {
      owners.assign(more.begin(), more.end());
      owners.push_back(cells_[find(token)].slot);
      f(token, owners);
    }
  }

  size_t memory_bytes() const {
    size_t n = cells_.capacity() * sizeof(Cell) + extra_.bucket_count() * sizeof(void*);
    for (const auto& e : extra_) n += 48 + e.second.capacity() * sizeof(uint32_t);
    return n;
  }

 private:
  struct Cell {
    uint32_t token;
    uint32_t slot;
  };
  static constexpr size_t npos = std::numeric_limits<size_t>::max();

  // Load factor up to 3/4: a 10,000 x 512 ring's 5.12 M tokens fit 2^23 cells (64 MiB) instead
  // of 2^24 at 1/2, which kept the index alone above 6x the raw token bytes. Linear probing
  // averages ~4 probes for a miss at that ring's load (0.61), 8.5 at the 3/4 bound.
  static bool fits(size_t entries, size_t cells) { return entries * 4 <= cells * 3; }

  size_t home(uint32_t token) const { return static_cast<size_t>((token * 0x9E3779B97F4A7C15ull) >> shift_) & mask_; }

  size_t find(uint32_t token) const {
    if (cells_.empty()) return npos;
    for (size_t i = home(token); cells_[i].slot != kNoSlot; i = (i + 1) & mask_)
      if (cells_[i].token == token) return i;
    return npos;
  }

  // Backward-shift deletion keeps probe chains intact without tombstone cells.
  void erase_cell(size_t i) {
    size_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (cells_[j].slot == kNoSlot) break;
      const size_t k = home(cells_[j].token);
      const bool movable = (i <= j) ? (k <= i || k > j) : (k <= i && k > j);
      if (movable) {
        cells_[i] = cells_[j];
        i = j;
      }
    }
    cells_[i].slot = kNoSlot;
    --used_;
  }

  void rehash(size_t cap) {
    std::vector<Cell> old = std::move(cells_);
    cells_.assign(cap, Cell{0, kNoSlot});
    mask_ = cap - 1;
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(cap));
    used_ = 0;
    for (const Cell& c : old) {
      if (c.slot == kNoSlot) continue;
      size_t i = home(c.token);
      while (cells_[i].slot != kNoSlot) i = (i + 1) & mask_;
      cells_[i] = c;
      ++used_;
    }
  }

  std::vector<Cell> cells_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> extra_;
  size_t used_ = 0;
  size_t mask_ = 0;
  unsigned shift_ = 64;
};

struct Slot {
  InstancePtr inst;  // null when the slot is free
  uint32_t generation = 0;
  // Last distinct timestamps delivered for this instance, to flag redeliveries.
  std::array<int64_t, 4> seen{};
  uint8_t seen_count = 0;
  uint8_t seen_next = 0;

  bool was_seen(int64_t ts) const {
    for (uint8_t i = 0; i < seen_count; ++i)
      if (seen[i] == ts) return true;
    return false;
  }
  void remember(int64_t ts) {
    if (was_seen(ts)) return;
    seen[seen_next] = ts;
    seen_next = static_cast<uint8_t>((seen_next + 1) % seen.size());
    seen_count = static_cast<uint8_t>(std::min<size_t>(seen_count + 1, seen.size()));
  }
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

bool strictly_increasing(const std::vector<uint32_t>& t) {
  return std::adjacent_find(t.begin(), t.end(), std::greater_equal<uint32_t>()) == t.end();
}

// Tokens that resolveConflicts would rewrite even without a conflict of their own.
bool irregular(const InstanceDesc& d) {
  return d.state == InstanceState::left ? !d.tokens.empty() : !strictly_increasing(d.tokens);
}

uint32_t diff(const InstanceDesc* before, const InstanceDesc& after) {
  if (!before) return kChangedAdded;
  uint32_t f = kChangedNone;
  if (before->timestamp != after.timestamp) f |= kChangedHeartbeat;
  if (before->state != after.state) f |= kChangedState;
  if (before->tokens != after.tokens) f |= kChangedTokens;
  if (before->zone != after.zone) f |= kChangedZone;
  if (before->read_only != after.read_only || before->read_only_updated_timestamp != after.read_only_updated_timestamp)
    f |= kChangedReadOnly;
  if (before->addr != after.addr || before->registered_timestamp != after.registered_timestamp ||
      before->id != after.id || before->versions != after.versions)
    f |= kChangedOther;
  return f;
}

size_t heap_string_bytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

}  // namespace

struct RingState::Impl {
  std::vector<Slot> slots;
  std::vector<uint32_t> free_slots;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> by_id;
  size_t tombstones = 0;
  size_t tokens = 0;  // over all stored instances

  struct Pending {
    int64_t timestamp;
    uint32_t slot;
    uint32_t generation;
    bool operator>(const Pending& o) const { return timestamp > o.timestamp; }
  };
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> tombstone_heap;

  bool index_built = false;
  TokenIndex index;
  std::unordered_set<uint32_t> irregular_slots;

  mutable std::shared_ptr<const RingView> view;

  uint32_t slot_for(const std::string& id) {
    if (auto it = by_id.find(id); it != by_id.end()) return it->second;
    uint32_t s;
    if (!free_slots.empty()) {
      s = free_slots.back();
      free_slots.pop_back();
    } else {
      s = static_cast<uint32_t>(slots.size());
      slots.emplace_back();
    }
    by_id.emplace(id, s);
    return s;
  }

  // Replaces a slot's instance (nullptr frees the slot) and keeps every index in step.
  void put(uint32_t s, InstancePtr next) {
    Slot& slot = slots[s];
    const InstancePtr prev = std::move(slot.inst);
    const bool same_tokens = prev && next && prev->desc.tokens == next->desc.tokens;
    if (prev) {
      tokens -= prev->desc.tokens.size();
      if (prev->desc.state == InstanceState::left) --tombstones;
      if (index_built && !same_tokens)
        for (uint32_t t : prev->desc.tokens) index.erase(t, s);
    }
    ++slot.generation;
    if (next) {
      tokens += next->desc.tokens.size();
      if (next->desc.state == InstanceState::left) {
        ++tombstones;
        tombstone_heap.push({next->desc.timestamp, s, slot.generation});
      }
      if (index_built && !same_tokens)
        for (uint32_t t : next->desc.tokens) index.insert(t, s);
      if (irregular(next->desc))
        irregular_slots.insert(s);
      else
        irregular_slots.erase(s);
      slot.inst = std::move(next);
    } else {
      irregular_slots.erase(s);
      by_id.erase(prev->id);
      const uint32_t generation = slot.generation;  // keeps queued heap entries stale
      slot = Slot{};
      slot.generation = generation;
      free_slots.push_back(s);
    }
    view.reset();
  }

  void build_index() {
    index.clear();
    index.reserve(tokens);
    for (uint32_t s = 0; s < slots.size(); ++s)
      if (slots[s].inst)
        for (uint32_t t : slots[s].inst->desc.tokens) index.insert(t, s);
    index_built = true;
  }

  // dskit's resolveConflicts, applied only to the instances it can change.
  void resolve_conflicts(const std::string& key, const Delivery& from, std::vector<ChangeEvent>* events) {
    std::unordered_map<uint32_t, std::vector<uint32_t>> lost;  // slot -> tokens it loses
    std::unordered_set<uint32_t> affected(irregular_slots.begin(), irregular_slots.end());
    index.for_each_conflict([&](uint32_t token, const std::vector<uint32_t>& owners) {
      uint32_t winner = kNoSlot;
      for (uint32_t o : owners) {
        affected.insert(o);
        const InstanceDesc& d = slots[o].inst->desc;
        if (d.state == InstanceState::left) continue;
        if (winner == kNoSlot) {
          winner = o;
          continue;
        }
        const Instance& w = *slots[winner].inst;
        const bool w_leaving = w.desc.state == InstanceState::leaving;
        const bool o_leaving = d.state == InstanceState::leaving;
        if (w_leaving != o_leaving ? w_leaving : slots[o].inst->id < w.id) winner = o;
      }
      for (uint32_t o : owners)
        if (o != winner) lost[o].push_back(token);
    });
    for (uint32_t s : affected) {
      const InstancePtr& cur = slots[s].inst;
      std::vector<uint32_t> kept;
      if (cur->desc.state != InstanceState::left) {
        kept = cur->desc.tokens;
        std::sort(kept.begin(), kept.end());
        kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
        if (auto l = lost.find(s); l != lost.end()) {
          std::sort(l->second.begin(), l->second.end());
          std::vector<uint32_t> remaining;
          remaining.reserve(kept.size());
          std::set_difference(kept.begin(), kept.end(), l->second.begin(), l->second.end(),
                              std::back_inserter(remaining));
          kept = std::move(remaining);
        }
      }
      if (kept == cur->desc.tokens) continue;
      auto next = std::make_shared<Instance>(*cur);
      next->desc.tokens = std::move(kept);
      if (events) {
        ChangeEvent e;
        e.key = key;
        e.instance_id = next->id;
        e.changed = kChangedTokens;
        e.old_timestamp = e.new_timestamp = next->desc.timestamp;
        e.old_state = e.new_state = next->desc.state;
        e.arrival = from.arrival;
        e.peer = from.peer;
        e.source = from.source;
        e.conflict_resolution = true;
        events->push_back(std::move(e));
      }
      put(s, std::move(next));
    }
  }
};

RingState::RingState() : impl_(std::make_unique<Impl>()) {}
RingState::~RingState() = default;

void RingState::assign(RingDesc&& desc, const std::string& key, const Delivery& from,
                       std::vector<ChangeEvent>* events) {
  impl_ = std::make_unique<Impl>();
  impl_->slots.reserve(desc.ingesters.size());
  impl_->by_id.reserve(desc.ingesters.size());
  for (auto& [id, d] : desc.ingesters) {
    const uint32_t s = impl_->slot_for(id);
    impl_->slots[s].remember(d.timestamp);
    if (events) {
      ChangeEvent e;
      e.key = key;
      e.instance_id = id;
      e.changed = kChangedAdded;
      e.new_timestamp = d.timestamp;
      e.new_state = d.state;
      e.arrival = from.arrival;
      e.peer = from.peer;
      e.source = from.source;
      events->push_back(std::move(e));
    }
    impl_->put(s, std::make_shared<Instance>(Instance{id, std::move(d)}));
  }
}

bool RingState::merge(RingDesc&& incoming, const std::string& key, const Delivery& from,
                      std::vector<ChangeEvent>* events) {
  Impl& m = *impl_;
  bool updated = false;
  bool tokens_changed = false;
  static const std::vector<uint32_t> kNoTokens;
  for (auto& [id, in] : incoming.ingesters) {
    // Normalise the incoming side only (§6.1 step 1).
    if (in.state == InstanceState::left) {
      in.tokens.clear();
    } else if (!strictly_increasing(in.tokens)) {
      std::sort(in.tokens.begin(), in.tokens.end());
      in.tokens.erase(std::unique(in.tokens.begin(), in.tokens.end()), in.tokens.end());
    }
    auto found = m.by_id.find(id);
    const Instance* cur = found == m.by_id.end() ? nullptr : m.slots[found->second].inst.get();
    // An absent instance compares as the zero InstanceDesc: timestamp 0, state ACTIVE.
    const int64_t cur_ts = cur ? cur->desc.timestamp : 0;
    const InstanceState cur_state = cur ? cur->desc.state : InstanceState::active;
    const bool take = in.timestamp > cur_ts ||
                      (in.timestamp == cur_ts && cur_state != InstanceState::left && in.state == InstanceState::left);
    const bool duplicate = cur && m.slots[found->second].was_seen(in.timestamp);

    ChangeEvent e;
    if (events) {
      e.key = key;
      e.instance_id = id;
      e.old_timestamp = cur_ts;
      e.old_state = cur_state;
      e.new_timestamp = cur_ts;
      e.new_state = cur_state;
      e.arrival = from.arrival;
      e.peer = from.peer;
      e.source = from.source;
      e.duplicate = duplicate;
    }
    if (take) {
      // dskit notes token changes only for newer timestamps, not for the equal-timestamp LEFT case.
      if (in.timestamp > cur_ts && (cur ? cur->desc.tokens : kNoTokens) != in.tokens) tokens_changed = true;
      if (events) {
        e.changed = diff(cur ? &cur->desc : nullptr, in);
        e.new_timestamp = in.timestamp;
        e.new_state = in.state;
      }
      const int64_t ts = in.timestamp;
      const uint32_t s = found == m.by_id.end() ? m.slot_for(id) : found->second;
      m.put(s, std::make_shared<Instance>(Instance{id, std::move(in)}));
      m.slots[s].remember(ts);
      updated = true;
    } else if (found != m.by_id.end()) {
      m.slots[found->second].remember(in.timestamp);
    }
    if (events) events->push_back(std::move(e));
  }
  if (!updated) return false;
  if (tokens_changed) {
    if (!m.index_built) m.build_index();
    if (m.index.has_conflicts()) m.resolve_conflicts(key, from, events);
  }
  return true;
}

size_t RingState::remove_tombstones(Clock::time_point limit, const std::string& key, const Delivery& from,
                                    std::vector<ChangeEvent>* events) {
  Impl& m = *impl_;
  // time.Unix(ts, 0).Before(limit)  <=>  ts < ceil(limit in seconds)
  const int64_t cutoff = std::chrono::ceil<std::chrono::seconds>(limit.time_since_epoch()).count();
  size_t removed = 0;
  while (!m.tombstone_heap.empty() && m.tombstone_heap.top().timestamp < cutoff) {
    const auto top = m.tombstone_heap.top();
    m.tombstone_heap.pop();
    const Slot& slot = m.slots[top.slot];
    if (slot.generation != top.generation || !slot.inst) continue;  // replaced since it was queued
    if (events) {
      ChangeEvent e;
      e.key = key;
      e.instance_id = slot.inst->id;
      e.changed = kChangedRemoved;
      e.old_timestamp = e.new_timestamp = slot.inst->desc.timestamp;
      e.old_state = e.new_state = InstanceState::left;
      e.arrival = from.arrival;
      e.peer = from.peer;
      e.source = from.source;
      events->push_back(std::move(e));
    }
    m.put(top.slot, nullptr);
    ++removed;
  }
  return removed;
}

size_t RingState::size() const { return impl_->by_id.size(); }
size_t RingState::tombstones() const { return impl_->tombstones; }
size_t RingState::token_count() const { return impl_->tokens; }

InstancePtr RingState::find(std::string_view id) const {
  auto it = impl_->by_id.find(id);
  return it == impl_->by_id.end() ? nullptr : impl_->slots[it->second].inst;
}

std::shared_ptr<const RingView> RingState::view() const {
  if (impl_->view) return impl_->view;
  auto v = std::make_shared<RingView>();
  v->instances.reserve(impl_->by_id.size() - impl_->tombstones);
  for (const Slot& s : impl_->slots) {
    if (!s.inst) continue;
    if (s.inst->desc.state == InstanceState::left) {
      const int64_t ts = s.inst->desc.timestamp;
      if (v->oldest_tombstone_timestamp == 0 || ts < v->oldest_tombstone_timestamp) v->oldest_tombstone_timestamp = ts;
      continue;
    }
    v->tokens += s.inst->desc.tokens.size();
    v->instances.push_back(s.inst);
  }
  std::sort(v->instances.begin(), v->instances.end(), [](const InstancePtr& a, const InstancePtr& b) { return a->id < b->id; });
  v->tombstones = impl_->tombstones;
  impl_->view = std::move(v);
  return impl_->view;
}

RingDesc RingState::to_desc() const {
  RingDesc d;
  for (const Slot& s : impl_->slots)
    if (s.inst) d.ingesters.emplace(s.inst->id, s.inst->desc);
  return d;
}

size_t RingState::memory_bytes() const {
  const Impl& m = *impl_;
  size_t n = sizeof(Impl) + m.slots.capacity() * sizeof(Slot) + m.free_slots.capacity() * sizeof(uint32_t) +
             m.by_id.bucket_count() * sizeof(void*) + m.tombstone_heap.size() * sizeof(Impl::Pending) +
             m.index.memory_bytes();
  for (const Slot& s : m.slots) {
    if (!s.inst) continue;
    const Instance& i = *s.inst;
    // make_shared block (control block + Instance), token vector, strings, versions map nodes,
    // and the by_id node with its own copy of the ID.
    n += sizeof(Instance) + 16 + i.desc.tokens.capacity() * sizeof(uint32_t) + heap_string_bytes(i.id) +
         heap_string_bytes(i.desc.addr) + heap_string_bytes(i.desc.zone) + heap_string_bytes(i.desc.id) +
         i.desc.versions.size() * 48 + 48 + heap_string_bytes(i.id);
  }
  return n;
}

}  // namespace ringwatch::ring
