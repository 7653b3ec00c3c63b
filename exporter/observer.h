// The KV layer's side of the gossip member: every received user message and push/pull
// state is merged into ringwatch's copy of the cluster's KV store, as a dskit node
// would merge it, and the resulting change events feed the propagation tracker.
// Scrapes and status pages read immutable snapshots.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "exporter/propagation.h"
#include "gossip/events.h"
#include "ring/kv_store.h"

namespace ringwatch {

class Observer : public gossip::EventSink {
 public:
  // `tracker` may be null (no propagation measurements); `probe` is this member's index
  // among the probes that feed it.
  explicit Observer(ring::StoreOptions options, PropagationTracker* tracker = nullptr, size_t probe = 0);

  // On the member's event loop. Costs the merge plus O(1) per instance received.
  void on_payload(const gossip::ReceivedPayload& payload) override;

  // Any thread. The lock is held only while the store hands out its cached,
  // immutable views (pointer copies), never while a scrape renders them.
  std::shared_ptr<const ring::StoreSnapshot> snapshot();

  uint64_t push_pull_states() const { return push_pull_states_.load(std::memory_order_relaxed); }
  uint64_t user_messages() const { return user_messages_.load(std::memory_order_relaxed); }
  uint64_t push_pull_framing_errors() const { return push_pull_framing_errors_.load(std::memory_order_relaxed); }
  // Bytes held by the rebuilt rings, as of the last full state merged.
  uint64_t store_bytes() const { return store_bytes_.load(std::memory_order_relaxed); }
  // Receive-to-observe latency of gossip packets (transport arrival to measurements recorded).
  Histogram loop_lag() const;

 private:
  void apply(ring::KeyValuePair kv, const ring::Delivery& from);

  std::mutex mu_;
  ring::KvStore store_;
  PropagationTracker* tracker_;
  size_t probe_;
  std::vector<ring::ChangeEvent> events_;  // reused per payload, only on the member's loop
  std::atomic<uint64_t> push_pull_states_{0};
  std::atomic<uint64_t> user_messages_{0};
  std::atomic<uint64_t> push_pull_framing_errors_{0};
  std::atomic<uint64_t> store_bytes_{0};
  mutable std::mutex lag_mu_;
  Histogram loop_lag_{&loop_lag_buckets()};
};

}  // namespace ringwatch
