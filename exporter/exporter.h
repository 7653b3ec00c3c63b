// Ties ringwatch together: the HTTP endpoints, the metrics registry and the readiness
// state that the gossip member sets once the first full cluster state has arrived.
#pragma once

#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <vector>

#include "exporter/config.h"
#include "exporter/http_server.h"
#include "exporter/web_config.h"

namespace ringwatch {

class Exporter {
 public:
  Exporter(const Config& config, WebConfig web);

  // Starts serving HTTP. Throws std::runtime_error when an address cannot be bound.
  void start();
  void stop();

  // /-/ready answers 200 once this is set: the first full state of the cluster arrived.
  void set_ready() { ready_.store(true); }
  bool ready() const { return ready_.load(); }

  void add_collectable(std::shared_ptr<prometheus::Collectable> c) { collectables_.push_back(std::move(c)); }
  HttpServer& http() { return http_; }

 private:
  HttpResponse landing_page() const;
  HttpResponse metrics_page() const;

  Config config_;
  HttpServer http_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::atomic<bool> ready_{false};
};

}  // namespace ringwatch
