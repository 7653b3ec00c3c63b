// Ties ringwatch together: the HTTP endpoints, the metrics registry and the readiness
// state that the gossip member sets once the first full cluster state has arrived.
#pragma once

#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
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

  // /-/ready answers 200 once the first full state of the cluster arrived: when
  // set_ready() was called or the readiness check says so.
  void set_ready() { ready_.store(true); }
  void set_readiness_check(std::function<bool()> check) { readiness_check_ = std::move(check); }
  bool ready() const { return ready_.load() || (readiness_check_ && readiness_check_()); }

  void add_collectable(std::shared_ptr<prometheus::Collectable> c) { collectables_.push_back(std::move(c)); }
  // Serves a page at `path` and links it from the landing page. Call before start().
  void add_page(const std::string& path, const std::string& title, HttpServer::Handler handler);
  HttpServer& http() { return http_; }

 private:
  HttpResponse landing_page() const;
  HttpResponse metrics_page() const;

  Config config_;
  HttpServer http_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::vector<std::pair<std::string, std::string>> pages_;  // path, title
  std::atomic<bool> ready_{false};
  std::function<bool()> readiness_check_;
};

}  // namespace ringwatch
