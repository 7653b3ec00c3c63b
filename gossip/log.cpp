#include "gossip/log.h"

#include <mutex>

namespace ringwatch::gossip {

std::shared_ptr<spdlog::logger> gossip_logger() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (auto existing = spdlog::get("gossip")) return existing;
  auto logger = spdlog::default_logger()->clone("gossip");
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace ringwatch::gossip
