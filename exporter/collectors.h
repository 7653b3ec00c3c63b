// Collectors in node_exporter's shape: each reads published snapshots and counters at
// scrape time and emits metric families; none waits for the gossip loop. Samples carry
// no timestamps.
#pragma once

#include <prometheus/collectable.h>

#include <chrono>
#include <string>
#include <vector>

#include "exporter/config.h"
#include "exporter/observer.h"
#include "exporter/propagation.h"
#include "gossip/member.h"

namespace ringwatch {

// dskit's family names with a product's prefix: ring_*, partition_ring_* and memberlist_*
// become P_ring_* and so on; ringwatch's own families keep their names.
std::string family_name(const std::string& prefix, const std::string& name);

// Whether memberlist node `member` is the process of ring instance `instance`: dskit names
// the node after the instance (its host name) and by default appends "-" and 8 hex digits.
bool member_is_instance(const std::string& member, const std::string& instance);

// Ring state (members, zones, partitions, tokens, clock skew, optional per-member series),
// propagation histograms and counters, and the KV store's keys.
class RingCollector : public prometheus::Collectable {
 public:
  RingCollector(Observer& observer, RingOptions rings, const PropagationTracker* tracker = nullptr,
                MetricsOptions metrics = {})
      : observer_(observer), rings_(std::move(rings)), tracker_(tracker), metrics_(std::move(metrics)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Observer& observer_;
  RingOptions rings_;  // heartbeat timeout and period per ring
  const PropagationTracker* tracker_;
  MetricsOptions metrics_;
};

// memberlist_members by state, gossip members against ring instances, and the member's
// traffic and rejection counters.
class GossipCollector : public prometheus::Collectable {
 public:
  // `probes` are ringwatch's own members (never counted as members without a ring instance).
  GossipCollector(const gossip::Member& member, Observer& observer, std::string prefix = "",
                  std::vector<std::string> probes = {})
      : member_(member), observer_(observer), prefix_(std::move(prefix)), probes_(std::move(probes)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const gossip::Member& member_;
  Observer& observer_;
  std::string prefix_;
  std::vector<std::string> probes_;
};

// ringwatch's own health: how far each probe's event loop lags behind the network, and the
// memory its rebuilt rings hold.
class SelfCollector : public prometheus::Collectable {
 public:
  explicit SelfCollector(std::vector<const Observer*> observers) : observers_(std::move(observers)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::vector<const Observer*> observers_;
};

}  // namespace ringwatch
