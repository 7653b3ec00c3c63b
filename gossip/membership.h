// The SWIM membership table and memberlist's processing rules for alive,
// suspect and dead (memberlist-wire.md §5.5-§5.7, §4.3). No I/O and no timers:
// the member feeds it decoded messages with the current time and arms a timer
// whenever on_suspicion_timer asks for one. Everything runs on the event loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "gossip/broadcast_queue.h"
#include "gossip/messages.h"
#include "gossip/suspicion.h"

namespace ringwatch::gossip {

using SystemTime = std::chrono::system_clock::time_point;

struct NodeEntry {
  std::string name;
  Bytes addr;
  std::uint16_t port = 0;
  Bytes meta;
  Vsn vsn;
  std::uint32_t incarnation = 0;
  NodeState state = NodeState::dead;
  SteadyTime state_change{};
  SystemTime state_change_wall{};
};

struct MembershipConfig {
  std::string self_name;
  std::uint16_t bind_port = 7946;  // substituted for a received port 0
  int retransmit_factor = 4;
  int suspicion_mult = 4;
  int suspicion_max_timeout_mult = 6;
  std::chrono::milliseconds probe_interval{5000};
  std::chrono::milliseconds gossip_to_dead_time{30000};
  std::chrono::milliseconds dead_node_reclaim_time{0};
  int awareness_max_multiplier = 8;
};

// Why an incoming alive/suspect/dead changed nothing; kept for debug logs and tests.
enum class Outcome {
  applied,          // state changed (and the message was queued for re-broadcast)
  refuted,          // it was about us: incarnation raised, alive queued
  confirmed,        // a new accuser of an existing suspicion
  ignored_stale,    // incarnation too old / nothing new
  ignored_unknown,  // node not in the table
  ignored_conflict, // alive with another address for a live node
  ignored_state,    // suspect of a non-alive node, dead of a dead/left node
  ignored_version,  // invalid protocol version range
  ignored_left,     // alive about ourselves after we left
};
const char* outcome_name(Outcome o);

class Membership {
 public:
  // Called when the suspicion timer of `node` must be (re)armed to fire after the
  // duration, or cancelled (nullopt).
  using SuspicionTimerHook = std::function<void(const std::string& node, std::optional<std::chrono::milliseconds>)>;

  Membership(MembershipConfig config, std::uint64_t seed);

  void set_suspicion_timer_hook(SuspicionTimerHook hook) { timer_hook_ = std::move(hook); }

  // Registers ourselves (incarnation 1, state alive). Call once before anything else.
  void bootstrap_self(Bytes addr, std::uint16_t port, Bytes meta, Vsn vsn, SteadyTime now);

  Outcome alive(const Alive& a, SteadyTime now);
  Outcome suspect(const Suspect& s, SteadyTime now);
  Outcome dead(const Dead& d, SteadyTime now);
  // The suspicion timer of `node` fired: declares it dead if still the same suspicion.
  Outcome suspicion_expired(const std::string& node, SteadyTime now);

  // Validates the protocol versions of a remote state (memberlist's verifyProtocol).
  bool verify_protocol(const std::vector<PushNodeState>& remote) const;
  // Applies a remote push/pull node list (§4.3 step 3). False if the protocol check failed.
  bool merge_remote(std::vector<PushNodeState> remote, SteadyTime now);
  // Our whole table in push/pull form, ourselves included.
  std::vector<PushNodeState> local_state() const;

  // Starts a graceful leave: processes dead{self, From: self}. Afterwards alive
  // messages about ourselves are ignored. Returns the queued dead message.
  Dead leave(SteadyTime now);
  // The port actually bound (bind_port 0 lets the kernel choose): what a received port 0 means.
  void set_bind_port(std::uint16_t port) { config_.bind_port = port; }
  bool has_left() const { return left_; }
  // True while our leave broadcast is still queued (not yet sent L times).
  bool leave_pending() const { return broadcasts_.pending(config_.self_name); }

  const NodeEntry& self() const { return nodes_.at(index_.at(config_.self_name)); }
  const NodeEntry* find(const std::string& name) const;
  const std::vector<NodeEntry>& nodes() const { return nodes_; }
  std::size_t size() const { return nodes_.size(); }
  std::size_t alive_count() const;  // alive or suspect, not counting ourselves

  BroadcastQueue& broadcasts() { return broadcasts_; }
  int awareness() const { return awareness_; }
  void adjust_awareness(int delta);

  // Next node to probe (round robin over the table, skipping ourselves, dead and
  // left). At every wrap-around, dead/left entries older than gossip_to_dead_time
  // are reaped and the order is shuffled. nullopt if there is nobody to probe.
  std::optional<NodeEntry> next_probe_target(SteadyTime now);
  // Up to k random entries (not ourselves) accepted by the predicate.
  std::vector<NodeEntry> random_nodes(std::size_t k, const std::function<bool(const NodeEntry&)>& accept);

  std::uint32_t next_seq_no() { return ++seq_no_; }

 private:
  NodeEntry* find_mutable(const std::string& name);
  void set_state(NodeEntry& e, NodeState s, SteadyTime now);
  void refute(NodeEntry& me, std::uint32_t accused_incarnation);
  void queue_broadcast(const std::string& subject, Bytes message) { broadcasts_.queue(subject, std::move(message)); }
  void cancel_suspicion(const std::string& node);
  void reap(SteadyTime now);

  MembershipConfig config_;
  std::mt19937_64 rng_;
  std::vector<NodeEntry> nodes_;  // in probe order
  std::unordered_map<std::string, std::size_t> index_;
  std::map<std::string, Suspicion> suspicions_;
  BroadcastQueue broadcasts_;
  SuspicionTimerHook timer_hook_;
  std::size_t probe_index_ = 0;
  std::uint32_t seq_no_ = 0;
  int awareness_ = 0;
  bool left_ = false;
};

}  // namespace ringwatch::gossip
