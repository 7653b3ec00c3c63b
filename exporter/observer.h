// The KV layer's side of the gossip member: every received user message and push/pull
// state is merged into ringwatch's copy of the cluster's KV store, as a dskit node
// would merge it. Scrapes and status pages read immutable snapshots.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "gossip/events.h"
#include "ring/kv_store.h"

namespace ringwatch {

class Observer : public gossip::EventSink {
 public:
  explicit Observer(ring::StoreOptions options);

  // On the member's event loop.
  void on_payload(const gossip::ReceivedPayload& payload) override;

  // Any thread. The lock is held only while the store hands out its cached,
  // immutable views (pointer copies), never while a scrape renders them.
  std::shared_ptr<const ring::StoreSnapshot> snapshot();

  uint64_t push_pull_states() const { return push_pull_states_.load(std::memory_order_relaxed); }
  uint64_t user_messages() const { return user_messages_.load(std::memory_order_relaxed); }
  uint64_t push_pull_framing_errors() const { return push_pull_framing_errors_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  ring::KvStore store_;
  std::vector<ring::ChangeEvent> events_;  // reused per payload
  std::atomic<uint64_t> push_pull_states_{0};
  std::atomic<uint64_t> user_messages_{0};
  std::atomic<uint64_t> push_pull_framing_errors_{0};
};

}  // namespace ringwatch
