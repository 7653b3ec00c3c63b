// A passive memberlist member: joins, stays alive in Go nodes' views (answers
// pings, indirect pings and push/pulls, refutes suspicion, gossips membership),
// never writes a key and always sends an empty push/pull user state.
//
// Everything runs on one io_context driven by the member's own thread. Public
// methods are thread-safe: they post to the loop (or read published state).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <asio/io_context.hpp>

#include "gossip/config.h"
#include "gossip/events.h"
#include "gossip/join.h"

namespace ringwatch::gossip {

class Member {
 public:
  // sink may be null (membership only). The sink must outlive the member.
  Member(MemberConfig config, EventSink* sink);
  ~Member();  // stop() without leave
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;

  // Binds the listeners (throws std::system_error / std::runtime_error on failure),
  // starts the loop thread, probing, gossip, push/pull and the join attempts.
  void start();
  // Graceful leave: broadcasts dead{self, From: self}, waits until it has been sent
  // retransmit-limit times or the timeout passes, then stops. Blocks the caller.
  void leave(std::chrono::milliseconds timeout);
  // Stops without telling anyone (peers will detect the failure). Idempotent.
  void stop();

  const std::string& name() const { return name_; }
  std::uint16_t bound_port() const { return bound_port_.load(); }
  // "ip:port" we advertise.
  std::string advertise_address() const;

  // pending until the first full join finished; failed after max_join_retries failed
  // attempts (or a fast join that reached nobody with abort_if_fast_join_fails);
  // a later successful rejoin makes it joined.
  JoinStatus join_status() const { return join_status_.load(); }
  // True once at least one push/pull state has been merged (readiness).
  bool full_state_received() const { return full_state_received_.load(); }

  std::shared_ptr<const MembershipSnapshot> snapshot() const { return snapshot_.load(); }
  const GossipCounters& counters() const { return counters_; }

 private:
  class Loop;  // the state machine; lives on and is only touched from the loop thread

  MemberConfig config_;
  std::string name_;
  EventSink* sink_;
  GossipCounters counters_;
  SnapshotSlot snapshot_;
  std::atomic<std::uint16_t> bound_port_{0};
  std::atomic<JoinStatus> join_status_{JoinStatus::pending};
  std::atomic<bool> full_state_received_{false};
  asio::io_context io_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace ringwatch::gossip
