// KV key -> ring name (the `name` label of dskit's ring metrics), spec §3.11.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace ringwatch::ring {

class RingNames {
 public:
  // Built-in defaults for Mimir, Loki, Tempo, Pyroscope/Phlare and Cortex keys.
  static RingNames defaults();
  // No built-in names: every key is named after itself unless configured.
  RingNames() = default;

  // Configured names override defaults.
  void set(std::string key, std::string name);
  // Name for a key; the key itself when nothing is known about it.
  std::string name_for(std::string_view key) const;
  const std::map<std::string, std::string, std::less<>>& entries() const { return names_; }

 private:
  std::map<std::string, std::string, std::less<>> names_;
};

}  // namespace ringwatch::ring
