// The "gossip" spdlog logger shared by the runtime (created on first use as a
// clone of the default logger, unless the application registered its own).
#pragma once

#include <memory>

#include <spdlog/spdlog.h>

namespace ringwatch::gossip {

std::shared_ptr<spdlog::logger> gossip_logger();

}  // namespace ringwatch::gossip
