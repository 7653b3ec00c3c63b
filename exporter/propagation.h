// Propagation measurements from the KV store's change events: heartbeat delays, each
// member's rolling minimum delay (excess delay), heartbeat period estimates, gossip
// redundancy, beacon delays and, with several probes, convergence across probes.
//
// Every method takes its times as arguments (the event's arrival, the payload's steady
// receipt), so that tests inject their clocks. record() runs on the gossip threads and costs
// O(events) hash lookups; everything sorted or aggregated is computed by readers on copies.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ring/model.h"
#include "ring/ring_names.h"
#include "ring/ring_state.h"

namespace ringwatch {

using WallClock = std::chrono::system_clock;
using SteadyClock = std::chrono::steady_clock;

// A cumulative histogram with fixed upper bounds (seconds, counts, ...).
class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds) : bounds_(bounds), counts_(bounds->size() + 1, 0) {}
  void observe(double value);
  const std::vector<double>& bounds() const { return *bounds_; }
  // Non-cumulative count per bucket; the last one is +Inf.
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  const std::vector<double>* bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

// Delay buckets, 10 ms to 10 min.
const std::vector<double>& delay_buckets();
// Copies per update: 0 (gossip missed it) to 100.
const std::vector<double>& delivery_buckets();
// Receive-to-observe latency on the gossip loop: 10 us to 1 s.
const std::vector<double>& loop_lag_buckets();

// Minimum of the values pushed during the last `window` (monotonic deque: amortized O(1)).
class RollingMinimum {
 public:
  explicit RollingMinimum(std::chrono::nanoseconds window) : window_(window) {}
  // Adds a sample taken at `at` (non-decreasing) and returns the minimum including it.
  double push(WallClock::time_point at, double value);
  std::optional<double> minimum() const;

 private:
  std::chrono::nanoseconds window_;
  std::deque<std::pair<WallClock::time_point, double>> samples_;  // increasing values
};

// A ring's heartbeat period from successive heartbeats of its members. Heartbeat timestamps
// are whole seconds, so one interval alone is off by up to a second; the estimate is the
// sum of timestamp differences over the number of periods they span, where the span of each
// difference is rounded against the median interval between arrivals (sub-second, so a
// 1.5 s period's alternating 1 s and 2 s differences each count as one period, and a missed
// heartbeat's double difference counts as two).
class PeriodEstimator {
 public:
  static constexpr size_t kWindow = 256;
  void add(int64_t timestamp_diff_seconds, double arrival_diff_seconds);
  // Estimate in seconds; nullopt until there are samples.
  std::optional<double> estimate() const;

 private:
  struct Sample {
    int64_t timestamp_diff;
    double arrival_diff;
  };
  std::vector<Sample> samples_;  // ring buffer of the last kWindow samples
  size_t next_ = 0;
};

struct PropagationOptions {
  ring::RingNames names = ring::RingNames::defaults();
  // Window of each member's rolling minimum delay (what excess delays are relative to).
  std::chrono::nanoseconds minimum_window = std::chrono::minutes(10);
  size_t probes = 1;  // independent passive members feeding the tracker
  // An update not seen by every probe within this time is dropped from convergence.
  std::chrono::nanoseconds convergence_timeout = std::chrono::minutes(10);
  WallClock::time_point started = WallClock::now();  // beacons published before are not measured
};

// One update of an instance as the status page lists it.
struct UpdateRecord {
  std::string key;
  std::string name;
  std::string instance;
  int64_t timestamp = 0;              // the heartbeat timestamp (Unix s)
  WallClock::time_point first_arrival;
  double delay = 0;                   // first arrival - timestamp, seconds
  std::optional<double> excess;       // probe 0's excess delay (single probe)
  ring::Source via = ring::Source::gossip;
  size_t first_probe = 0;
  std::optional<size_t> last_probe;   // probes >= 2: the probe that received it last
  std::optional<double> convergence;  // probes >= 2: first to last probe receipt, seconds
};

// What probe 0 knows about one member, for the per-member series and the status pages.
struct MemberPropagation {
  std::string instance;
  int64_t last_timestamp = 0;
  std::optional<double> minimum_delay;  // rolling minimum, seconds
  std::vector<double> recent_delays;    // oldest first, up to kRecentSamples
  std::vector<double> recent_excess;    // oldest first
  size_t heartbeats = 0;                // new heartbeats measured
};

struct RingPropagation {
  std::string key;
  std::string name;
  Histogram delay{&delay_buckets()};
  Histogram excess{&delay_buckets()};
  Histogram convergence{&delay_buckets()};
  Histogram deliveries{&delivery_buckets()};
  std::array<uint64_t, 2> updates{};     // by ring::Source
  std::array<uint64_t, 2> first_seen{};  // by ring::Source
  uint64_t convergence_incomplete = 0;
  std::optional<double> period;  // estimate, seconds
  std::vector<MemberPropagation> members;  // only when asked for
};

struct PropagationSnapshot {
  size_t probes = 1;
  std::vector<RingPropagation> rings;  // sorted by key
  Histogram beacon_delay{&delay_buckets()};
  uint64_t beacons_measured = 0;
  std::vector<UpdateRecord> recent;  // most recent last
};

class PropagationTracker {
 public:
  static constexpr size_t kRecentSamples = 16;
  static constexpr size_t kRecentUpdates = 512;
  static constexpr size_t kMaxProbes = 16;

  explicit PropagationTracker(PropagationOptions options);

  // The change events one payload produced in probe `probe`'s store, received at `steady`.
  void record(size_t probe, const std::vector<ring::ChangeEvent>& events, SteadyClock::time_point steady);
  // Beacons of dskit's propagation delay tracker as a probe decoded them, received at `arrival`.
  void record_beacons(size_t probe, const ring::PropagationDelayTrackerDesc& beacons, WallClock::time_point arrival);

  PropagationSnapshot snapshot(bool with_members) const;
  size_t probes() const { return options_.probes; }

 private:
  struct MemberTrack {
    explicit MemberTrack(std::chrono::nanoseconds window) : minimum(window) {}
    int64_t last_timestamp = 0;
    WallClock::time_point last_arrival;
    bool last_heartbeat_only = false;  // the last update changed nothing but the timestamp
    bool last_via_gossip = false;
    uint32_t gossip_copies = 0;  // of the current update
    bool counting = false;       // gossip_copies belongs to an update seen new
    RollingMinimum minimum;
    std::array<double, kRecentSamples> delays{};
    std::array<double, kRecentSamples> excess{};
    size_t heartbeats = 0;
  };
  struct PendingUpdate {
    int64_t timestamp;
    SteadyClock::time_point first_steady;
    SteadyClock::time_point last_steady;
    WallClock::time_point first_wall;
    uint64_t reached = 0;  // bit per probe
    size_t first_probe;
    size_t last_probe;
    ring::Source via;
  };
  struct ConvergenceTrack {
    int64_t newest = 0;  // newest timestamp a pending update was opened for
    std::deque<PendingUpdate> pending;
  };
  struct RingTrack {
    RingPropagation stats;
    PeriodEstimator period;
    std::unordered_map<std::string, MemberTrack> members;
    std::unordered_map<std::string, ConvergenceTrack> convergence;
  };

  RingTrack& ring_for(const std::string& key);
  void measure(RingTrack& ring, const ring::ChangeEvent& e);
  void converge(RingTrack& ring, size_t probe, const ring::ChangeEvent& e, SteadyClock::time_point steady);
  void remember(UpdateRecord record);

  PropagationOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, RingTrack> rings_;
  Histogram beacon_delay_{&delay_buckets()};
  uint64_t beacons_measured_ = 0;
  std::unordered_map<uint64_t, int64_t> beacons_seen_;  // id -> published_at (ms)
  uint64_t probes_ready_ = 0;                            // bit per probe that merged a full state
  std::vector<UpdateRecord> recent_;                  // ring buffer
  size_t recent_next_ = 0;
};

}  // namespace ringwatch
