#include "exporter/propagation.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ringwatch {
namespace {

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

double unix_seconds(WallClock::time_point t) { return seconds(t.time_since_epoch()); }

// Keeps the last `n` samples of a per-member ring buffer in order, oldest first.
std::vector<double> in_order(const std::array<double, PropagationTracker::kRecentSamples>& a, size_t total) {
  const size_t n = std::min(total, a.size());
  std::vector<double> out;
  out.reserve(n);
  for (size_t i = total - n; i < total; ++i) out.push_back(a[i % a.size()]);
  return out;
}

}  // namespace

const std::vector<double>& delay_buckets() {
  static const std::vector<double> kBounds = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,   2.5,
                                              5,    10,    15,   30,  60,   120, 300, 600};
  return kBounds;
}

const std::vector<double>& delivery_buckets() {
  static const std::vector<double> kBounds = {0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100};
  return kBounds;
}

const std::vector<double>& loop_lag_buckets() {
  static const std::vector<double> kBounds = {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3,
                                              2.5e-3, 5e-3, 0.01, 0.025, 0.1, 0.25, 1};
  return kBounds;
}

void Histogram::observe(double value) {
  auto it = std::lower_bound(bounds_->begin(), bounds_->end(), value);
  ++counts_[static_cast<size_t>(it - bounds_->begin())];
  ++count_;
  sum_ += value;
}

double RollingMinimum::push(WallClock::time_point at, double value) {
  while (!samples_.empty() && samples_.back().second >= value) samples_.pop_back();
  samples_.emplace_back(at, value);
  while (samples_.front().first < at - window_) samples_.pop_front();
  return samples_.front().second;
}

std::optional<double> RollingMinimum::minimum() const {
  if (samples_.empty()) return std::nullopt;
  return samples_.front().second;
}

void PeriodEstimator::add(int64_t timestamp_diff_seconds, double arrival_diff_seconds) {
  if (timestamp_diff_seconds <= 0 || arrival_diff_seconds <= 0) return;
  Sample s{timestamp_diff_seconds, arrival_diff_seconds};
  if (samples_.size() < kWindow) {
    samples_.push_back(s);
  } else {
    samples_[next_] = s;
  }
  next_ = (next_ + 1) % kWindow;
}

std::optional<double> PeriodEstimator::estimate() const {
  if (samples_.empty()) return std::nullopt;
  std::vector<double> arrivals;
  arrivals.reserve(samples_.size());
  for (const auto& s : samples_) arrivals.push_back(s.arrival_diff);
  auto mid = arrivals.begin() + static_cast<std::ptrdiff_t>(arrivals.size() / 2);
  std::nth_element(arrivals.begin(), mid, arrivals.end());
  const double typical = *mid;
  double spanned_seconds = 0, periods = 0;
  for (const auto& s : samples_) {
    spanned_seconds += static_cast<double>(s.timestamp_diff);
    periods += std::max(1.0, std::round(static_cast<double>(s.timestamp_diff) / typical));
  }
  return spanned_seconds / periods;
}

PropagationTracker::PropagationTracker(PropagationOptions options) : options_(std::move(options)) {
  options_.probes = std::clamp<size_t>(options_.probes, 1, kMaxProbes);
  recent_.reserve(kRecentUpdates);
}

PropagationTracker::RingTrack& PropagationTracker::ring_for(const std::string& key) {
  auto it = rings_.find(key);
  if (it == rings_.end()) {
    it = rings_.emplace(key, RingTrack{}).first;
    it->second.stats.key = key;
    it->second.stats.name = options_.names.name_for(key);
  }
  return it->second;
}

void PropagationTracker::record(size_t probe, const std::vector<ring::ChangeEvent>& events,
                                SteadyClock::time_point steady) {
  if (events.empty()) return;
  std::lock_guard lock(mu_);
  if (events.front().source == ring::Source::pushpull) probes_ready_ |= uint64_t{1} << probe;
  RingTrack* ring = nullptr;
  for (const auto& e : events) {
    if (e.conflict_resolution) continue;  // a local consequence of a merge, not something received
    if (ring == nullptr || ring->stats.key != e.key) ring = &ring_for(e.key);
    if (probe == 0) measure(*ring, e);
    if (options_.probes > 1) converge(*ring, probe, e, steady);
  }
}

// Probe 0's per-update measurements: counters, delays, excess delays, redundancy, period.
void PropagationTracker::measure(RingTrack& ring, const ring::ChangeEvent& e) {
  auto& s = ring.stats;
  const auto via = static_cast<size_t>(e.source);
  if (e.changed & ring::kChangedRemoved) {
    if (auto it = ring.members.find(e.instance_id); it != ring.members.end()) {
      if (it->second.counting) s.deliveries.observe(it->second.gossip_copies);
      ring.members.erase(it);
    }
    return;
  }
  ++s.updates[via];
  auto [it, added] = ring.members.try_emplace(e.instance_id, options_.minimum_window);
  MemberTrack& m = it->second;
  const bool is_gossip = e.source == ring::Source::gossip;

  if (e.changed == ring::kChangedNone) {
    // A copy of what we hold: gossip redundancy of the current update.
    if (is_gossip && m.counting && e.new_timestamp == m.last_timestamp) ++m.gossip_copies;
    return;
  }
  ++s.first_seen[via];
  if (m.counting) s.deliveries.observe(m.gossip_copies);
  m.gossip_copies = is_gossip ? 1 : 0;

  // An instance first seen in a full state at startup says nothing about propagation; one
  // that was known and has a newer timestamp is a heartbeat (or state change) that spread.
  const bool new_heartbeat = !(e.changed & ring::kChangedAdded) && e.old_timestamp != 0 &&
                             e.new_timestamp > e.old_timestamp && !added;
  m.counting = new_heartbeat;
  const bool heartbeat_only = e.changed == ring::kChangedHeartbeat;
  if (new_heartbeat) {
    const double delay = unix_seconds(e.arrival) - static_cast<double>(e.new_timestamp);
    if (delay >= 0) {
      s.delay.observe(delay);
      const double excess = delay - m.minimum.push(e.arrival, delay);
      s.excess.observe(excess);
      m.delays[m.heartbeats % kRecentSamples] = delay;
      m.excess[m.heartbeats % kRecentSamples] = excess;
      ++m.heartbeats;
      if (options_.probes == 1) {
        remember(UpdateRecord{e.key, s.name, e.instance_id, e.new_timestamp, e.arrival, delay, excess, e.source, 0,
                              std::nullopt, std::nullopt});
      }
    }
    // Intervals between plain heartbeats (state changes are written off the ticker), both
    // first learned by gossip so that the arrival difference is not a push/pull's lag.
    if (heartbeat_only && m.last_heartbeat_only && is_gossip && m.last_via_gossip &&
        e.old_timestamp == m.last_timestamp) {
      ring.period.add(e.new_timestamp - e.old_timestamp, seconds(e.arrival - m.last_arrival));
    }
  }
  m.last_timestamp = e.new_timestamp;
  m.last_arrival = e.arrival;
  m.last_heartbeat_only = heartbeat_only;
  m.last_via_gossip = is_gossip;
}

// An update is identified by (key, instance, timestamp). A probe has it once its store holds
// that instance with this timestamp or a newer one (a newer heartbeat supersedes it).
void PropagationTracker::converge(RingTrack& ring, size_t probe, const ring::ChangeEvent& e,
                                  SteadyClock::time_point steady) {
  if (e.changed == ring::kChangedNone) return;
  auto& s = ring.stats;
  if (e.changed & ring::kChangedRemoved) {
    ring.convergence.erase(e.instance_id);
    return;
  }
  ConvergenceTrack& c = ring.convergence[e.instance_id];
  const uint64_t all = (uint64_t{1} << options_.probes) - 1;
  while (!c.pending.empty() && steady - c.pending.front().first_steady > options_.convergence_timeout) {
    ++s.convergence_incomplete;
    c.pending.pop_front();
  }
  if (e.new_timestamp > c.newest) {
    c.newest = e.new_timestamp;
    // Until every probe holds a full state, probes still catching up would count as slow.
    if (probes_ready_ == all) {
      c.pending.push_back(PendingUpdate{e.new_timestamp, steady, steady, e.arrival, 0, probe, probe, e.source});
    }
  }
  for (auto it = c.pending.begin(); it != c.pending.end();) {
    if (it->timestamp > e.new_timestamp) break;
    if (!(it->reached & (uint64_t{1} << probe))) {
      it->reached |= uint64_t{1} << probe;
      it->last_steady = steady;
      it->last_probe = probe;
    }
    if (it->reached == all) {
      const double convergence = seconds(it->last_steady - it->first_steady);
      s.convergence.observe(convergence);
      remember(UpdateRecord{e.key, s.name, e.instance_id, it->timestamp, it->first_wall,
                            unix_seconds(it->first_wall) - static_cast<double>(it->timestamp), std::nullopt, it->via,
                            it->first_probe, it->last_probe, convergence});
      it = c.pending.erase(it);
    } else {
      ++it;
    }
  }
}

void PropagationTracker::remember(UpdateRecord record) {
  if (recent_.size() < kRecentUpdates) {
    recent_.push_back(std::move(record));
  } else {
    recent_[recent_next_] = std::move(record);
  }
  recent_next_ = (recent_next_ + 1) % kRecentUpdates;
}

void PropagationTracker::record_beacons(size_t probe, const ring::PropagationDelayTrackerDesc& beacons,
                                        WallClock::time_point arrival) {
  if (probe != 0) return;
  const int64_t started_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.started.time_since_epoch()).count();
  const int64_t arrival_ms = std::chrono::duration_cast<std::chrono::milliseconds>(arrival.time_since_epoch()).count();
  std::lock_guard lock(mu_);
  for (const auto& [id, b] : beacons.beacons) {
    if (b.deleted_at != 0 || !beacons_seen_.emplace(id, b.published_at).second) continue;
    // As dskit: beacons published before we started, and negative delays, are not measured.
    if (b.published_at < started_ms || arrival_ms < b.published_at) continue;
    beacon_delay_.observe(static_cast<double>(arrival_ms - b.published_at) / 1000.0);
    ++beacons_measured_;
  }
  // Beacons live for 10 minutes in dskit; forget ids far older than that.
  if (beacons_seen_.size() > 4096) {
    std::erase_if(beacons_seen_, [&](const auto& b) { return b.second < arrival_ms - 3'600'000; });
  }
}

PropagationSnapshot PropagationTracker::snapshot(bool with_members) const {
  PropagationSnapshot out;
  std::vector<PeriodEstimator> periods;
  {
    std::lock_guard lock(mu_);
    out.probes = options_.probes;
    out.rings.reserve(rings_.size());
    for (const auto& [key, r] : rings_) {
      out.rings.push_back(r.stats);
      periods.push_back(r.period);
      if (!with_members) continue;
      auto& members = out.rings.back().members;
      members.reserve(r.members.size());
      for (const auto& [id, m] : r.members) {
        members.push_back(MemberPropagation{id, m.last_timestamp, m.minimum.minimum(), in_order(m.delays, m.heartbeats),
                                            in_order(m.excess, m.heartbeats), m.heartbeats});
      }
    }
    out.beacon_delay = beacon_delay_;
    out.beacons_measured = beacons_measured_;
    out.recent.reserve(recent_.size());
    for (size_t i = 0; i < recent_.size(); ++i) {
      out.recent.push_back(recent_[(recent_next_ + i) % recent_.size()]);
    }
  }
  for (size_t i = 0; i < out.rings.size(); ++i) out.rings[i].period = periods[i].estimate();
  for (auto& r : out.rings) {
    std::sort(r.members.begin(), r.members.end(),
              [](const MemberPropagation& a, const MemberPropagation& b) { return a.instance < b.instance; });
  }
  return out;
}

}  // namespace ringwatch
