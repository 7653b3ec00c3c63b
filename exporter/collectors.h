// Collectors in node_exporter's shape: each reads published snapshots and counters at
// scrape time and emits metric families; none waits for the gossip loop.
#pragma once

#include <prometheus/collectable.h>

#include <chrono>
#include <string>

#include "exporter/config.h"
#include "exporter/observer.h"
#include "gossip/member.h"

namespace ringwatch {

// ring_members, ring_oldest_member_timestamp, ring_tokens_total per ring, and the KV
// store's keys.
class RingCollector : public prometheus::Collectable {
 public:
  RingCollector(Observer& observer, RingOptions rings) : observer_(observer), rings_(std::move(rings)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Observer& observer_;
  RingOptions rings_;  // heartbeat timeout per ring
};

// memberlist_members by state, and the member's traffic and rejection counters.
class GossipCollector : public prometheus::Collectable {
 public:
  GossipCollector(const gossip::Member& member, const Observer& observer) : member_(member), observer_(observer) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const gossip::Member& member_;
  const Observer& observer_;
};

}  // namespace ringwatch
