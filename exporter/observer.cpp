#include "exporter/observer.h"

#include <spdlog/spdlog.h>

namespace ringwatch {

Observer::Observer(ring::StoreOptions options) : store_(std::move(options)) {}

void Observer::on_payload(const gossip::ReceivedPayload& payload) {
  std::string_view bytes(reinterpret_cast<const char*>(payload.bytes.data()), payload.bytes.size());
  std::string_view peer = payload.peer_name.empty() ? std::string_view(payload.peer_address) : payload.peer_name;
  ring::Delivery from{payload.received_wall, peer,
                      payload.via == gossip::Via::pushpull ? ring::Source::pushpull : ring::Source::gossip};
  std::lock_guard<std::mutex> lock(mu_);
  events_.clear();
  if (payload.via == gossip::Via::pushpull) {
    push_pull_states_.fetch_add(1, std::memory_order_relaxed);
    auto result = store_.apply_push_pull(bytes, from, events_);
    if (result.stopped) {
      push_pull_framing_errors_.fetch_add(1, std::memory_order_relaxed);
      if (auto log = spdlog::get("kv")) {
        log->debug("push/pull state from {} stopped after {} records: {}", peer, result.records,
                   result.stopped->detail);
      }
    }
  } else {
    user_messages_.fetch_add(1, std::memory_order_relaxed);
    store_.apply_user_message(bytes, from, events_);
  }
}

std::shared_ptr<const ring::StoreSnapshot> Observer::snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.snapshot();
}

}  // namespace ringwatch
