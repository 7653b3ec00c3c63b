#include "exporter/observer.h"

#include <spdlog/spdlog.h>

#include "ring/codec.h"

namespace ringwatch {

Observer::Observer(ring::StoreOptions options, PropagationTracker* tracker, size_t probe)
    : store_(std::move(options)), tracker_(tracker), probe_(probe) {}

// Beacons are read before the merge: the tracker needs the beacons this value carries,
// which the store keeps only as a merged whole.
void Observer::apply(ring::KeyValuePair kv, const ring::Delivery& from) {
  if (tracker_ != nullptr && ring::codec_from_id(kv.codec) == ring::Codec::propagation_delay_tracker) {
    if (auto beacons = ring::decode_propagation_tracker(kv.value)) {
      tracker_->record_beacons(probe_, *beacons, from.arrival);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  store_.apply(std::move(kv), from, events_);
}

void Observer::on_payload(const gossip::ReceivedPayload& payload) {
  std::string_view bytes(reinterpret_cast<const char*>(payload.bytes.data()), payload.bytes.size());
  std::string_view peer = payload.peer_name.empty() ? std::string_view(payload.peer_address) : payload.peer_name;
  ring::Delivery from{payload.received_wall, peer,
                      payload.via == gossip::Via::pushpull ? ring::Source::pushpull : ring::Source::gossip};
  events_.clear();
  if (payload.via == gossip::Via::pushpull) {
    push_pull_states_.fetch_add(1, std::memory_order_relaxed);
    ring::PushPullState state = ring::decode_push_pull_state(bytes);
    for (auto& kv : state.records) apply(std::move(kv), from);
    if (state.stopped) {
      push_pull_framing_errors_.fetch_add(1, std::memory_order_relaxed);
      if (auto log = spdlog::get("kv")) {
        log->debug("push/pull state from {} stopped after {} records: {}", peer, state.records.size(),
                   state.stopped->detail);
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    store_bytes_.store(store_.memory_bytes(), std::memory_order_relaxed);
  } else {
    user_messages_.fetch_add(1, std::memory_order_relaxed);
    if (auto kv = ring::decode_key_value_pair(bytes)) {
      apply(std::move(*kv), from);
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      store_.apply_user_message(bytes, from, events_);  // counts it as invalid, as dskit does
    }
  }
  if (tracker_ != nullptr) tracker_->record(probe_, events_, payload.received_steady);
  if (payload.via == gossip::Via::gossip) {
    const double lag = std::chrono::duration<double>(SteadyClock::now() - payload.received_steady).count();
    std::lock_guard<std::mutex> lock(lag_mu_);
    loop_lag_.observe(lag);
  }
}

std::shared_ptr<const ring::StoreSnapshot> Observer::snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.snapshot();
}

Histogram Observer::loop_lag() const {
  std::lock_guard<std::mutex> lock(lag_mu_);
  return loop_lag_;
}

}  // namespace ringwatch
