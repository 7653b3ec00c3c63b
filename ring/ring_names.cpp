#include "ring/ring_names.h"

namespace ringwatch::ring {

RingNames RingNames::defaults() {
  // Full keys with the products' default prefixes (spec §3.11), named like the `name` label the
  // products give their ring clients.
  static const std::pair<const char*, const char*> kDefaults[] = {
      {"collectors/ring", "ingester"},
      {"collectors/distributor", "distributor"},
      {"collectors/store-gateway", "store-gateway"},
      {"collectors/compactor", "compactor"},
      {"collectors/query-scheduler", "query-scheduler"},
      {"collectors/scheduler", "scheduler"},
      {"collectors/overrides-exporter", "overrides-exporter"},
      {"collectors/index-gateway", "index-gateway"},
      {"collectors/ingester-partitions", "ingester-partitions"},
      {"collectors/ingester-partitions-key", "ingester-partitions"},
      {"collectors/usage-tracker-instances", "usage-tracker"},
      {"collectors/usage-tracker-partitions", "usage-tracker-partitions"},
      {"collectors/usagestats_token", "usagestats"},
      {"collectors/pattern-ring", "pattern-ingester"},
      {"collectors/ingest-limits", "ingest-limits"},
      {"collectors/ingest-limits-frontend", "ingest-limits-frontend"},
      {"collectors/dataobj-consumer", "dataobj-consumer"},
      {"collectors/dataobj-consumer-partitions-key", "dataobj-consumer-partitions"},
      {"collectors/ui", "ui"},
      {"collectors/bloom-gateway", "bloom-gateway"},
      {"collectors/metrics-generator", "metrics-generator"},
      {"collectors/backend-worker", "backend-worker"},
      {"collectors/live-store", "live-store"},
      {"collectors/livestore-partitions", "livestore-partitions"},
      {"collectors/segment-writer-ring", "segment-writer"},
      {"collectors/versions", "versions"},
      {"rulers/ring", "ruler"},
      {"rulers/rulers", "ruler"},
      {"alertmanagers/alertmanager", "alertmanager"},
      {"memberlist-propagation-delay-tracker", "propagation-delay-tracker"},
  };
  RingNames n;
  for (const auto& [key, name] : kDefaults) n.set(key, name);
  return n;
}

void RingNames::set(std::string key, std::string name) { names_.insert_or_assign(std::move(key), std::move(name)); }

std::string RingNames::name_for(std::string_view key) const {
  if (auto it = names_.find(key); it != names_.end()) return it->second;
  if (key.starts_with("ha-tracker/")) return "ha-tracker";  // one key per tenant and cluster
  return std::string(key);
}

}  // namespace ringwatch::ring
