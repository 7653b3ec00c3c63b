#include "gossip/suspicion.h"

#include <algorithm>
#include <cmath>

namespace ringwatch::gossip {

Suspicion::Suspicion(std::string from, std::size_t n, int suspicion_mult, int max_timeout_mult,
                     std::chrono::milliseconds probe_interval, SteadyTime start)
    : start_(start) {
  k_ = suspicion_mult - 2;
  if (static_cast<long>(n) - 2 < k_) k_ = 0;
  // Go: mult × floor(max(1, log10(max(1, n))) × 1000) × interval / 1000.
  double scale = std::max(1.0, std::log10(std::max(1.0, static_cast<double>(n))));
  auto scaled = static_cast<long long>(std::floor(scale * 1000.0));
  min_ = std::chrono::milliseconds(suspicion_mult * scaled * probe_interval.count() / 1000);
  max_ = max_timeout_mult * min_;
  confirmers_.insert(std::move(from));
}

bool Suspicion::confirm(const std::string& from) {
  if (static_cast<int>(confirmers_.size()) - 1 >= k_) return false;
  return confirmers_.insert(from).second;
}

std::chrono::milliseconds Suspicion::current_timeout() const {
  int c = static_cast<int>(confirmers_.size()) - 1;
  if (k_ < 1) return min_;
  double frac = std::log(c + 1.0) / std::log(k_ + 1.0);
  auto t = max_.count() - static_cast<long long>(std::floor(frac * static_cast<double>((max_ - min_).count())));
  return std::max(min_, std::chrono::milliseconds(t));
}

std::chrono::milliseconds Suspicion::remaining(SteadyTime now) const {
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_);
  return current_timeout() - elapsed;
}

}  // namespace ringwatch::gossip
