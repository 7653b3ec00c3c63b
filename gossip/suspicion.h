// Suspicion timeouts (memberlist-wire.md §5.7): a suspect node is declared dead
// after a timeout that starts at `max` and shrinks towards `min` as independent
// accusers confirm the suspicion.
#pragma once

#include <chrono>
#include <cstddef>
#include <set>
#include <string>

namespace ringwatch::gossip {

using SteadyTime = std::chrono::steady_clock::time_point;

class Suspicion {
 public:
  // n = table size when the suspicion starts; `from` is the first accuser.
  Suspicion(std::string from, std::size_t n, int suspicion_mult, int max_timeout_mult,
            std::chrono::milliseconds probe_interval, SteadyTime start);

  // Registers an accuser. True if it is a new confirmation (the caller re-broadcasts
  // the suspect message and re-arms its timer with remaining()).
  bool confirm(const std::string& from);

  // Time left until the node is declared dead (may be negative: fire now).
  std::chrono::milliseconds remaining(SteadyTime now) const;

  std::chrono::milliseconds min_timeout() const { return min_; }
  std::chrono::milliseconds max_timeout() const { return max_; }
  int needed_confirmations() const { return k_; }
  std::chrono::milliseconds current_timeout() const;

 private:
  int k_;
  std::chrono::milliseconds min_, max_;
  SteadyTime start_;
  std::set<std::string> confirmers_;  // includes the first accuser, who never counts
};

}  // namespace ringwatch::gossip
