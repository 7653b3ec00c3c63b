// Logging with spdlog in logfmt or JSON, one named logger per component
// ("ringwatch", "gossip", "kv", "http"), all writing to stderr.
#pragma once

#include <string>

namespace ringwatch {

// level: debug, info, warn, error; format: logfmt, json. Replaces every registered logger.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace ringwatch
