// A simulated dskit cluster in one process: N members gossiping heartbeat deltas of R rings of
// M instances to one target (ringwatch) over dskit's TCP transport, as the target would see them:
//
//  * every heartbeat of an instance is one delta (a ring.Desc holding that instance), encoded as
//    dskit encodes it (snappy block, KeyValuePair, memberlist user message with CRC, packet
//    frame with MD5) once, then delivered `copies` times, by distinct simulated members, each copy
//    on its own TCP connection from its member's own address (127.1.x.y), as dskit sends packets;
//  * copies = retransmit_mult * ceil(log10(members + 1)), memberlist's retransmit limit: each
//    member relays an update that many times to random members, so each member, the target
//    included, receives about that many copies; they arrive spread over the rounds gossip takes
//    to cover the cluster (log_{fanout+1}(members)) plus the rounds each relay takes to send
//    its copies (copies / fanout), at gossip_interval each;
//  * full push/pulls of every ring (and the N members' states) to the target every
//    push_pull_interval, the first one a join;
//  * the simulated members answer the target: packets are read and pings / indirect pings
//    acknowledged (so the target keeps them alive), push/pulls are answered with the full state.
//
// Senders run on a few threads with blocking sockets: a connection costs the same syscalls
// whatever the API, and a sender blocked in connect() is exactly the backpressure of a target
// whose accept queue is full.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ringwatch::bench {

using SteadyClock = std::chrono::steady_clock;

struct LoadConfig {
  std::string target_host = "127.0.0.1";  // the target's gossip address
  uint16_t target_port = 7946;
  std::string cluster_label;
  int members = 5000;
  int rings = 2;
  int instances = 3000;  // per ring
  int tokens = 512;      // per instance
  std::chrono::duration<double> heartbeat_period{5.0};  // per instance
  double messages_per_second = 0;  // > 0 overrides heartbeat_period: the total rate at the target
  int fanout = 3;                  // -memberlist.gossip-nodes
  int retransmit_mult = 4;         // -memberlist.retransmit-factor
  std::chrono::milliseconds gossip_interval{200};
  std::chrono::milliseconds push_pull_interval{0};  // 0: only the initial join push/pull
  int sender_threads = 3;
  // Keep (message_key, write time) of every message sent, to join with the target's receipts.
  bool record_sends = false;
};

// Identifies one delivered copy on both sides: the sender's advertised address and the start of
// the KeyValuePair (ring key, instance id, timestamp), which together are unique per copy (the
// copies of an update come from distinct members).
uint64_t message_key(std::string_view from, std::string_view key_value_pair);

struct SentMessage {
  uint64_t key;
  SteadyClock::time_point written;  // whole frame and its EOF in the target's socket (close() returned)
};

struct LoadStats {
  uint64_t sent = 0;         // packets written and closed
  uint64_t send_errors = 0;  // connect / write failures
  uint64_t pushpulls = 0;    // push/pulls the target answered
  uint64_t pushpull_errors = 0;
  double schedule_lag_p99_ms = 0;  // how late sends started against their schedule
  double schedule_lag_max_ms = 0;
};

class LoadGenerator {
 public:
  explicit LoadGenerator(LoadConfig config);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Copies per update and updates per second that follow from the configuration.
  int copies_per_update() const { return copies_; }
  double updates_per_second() const;
  double messages_per_second() const { return updates_per_second() * copies_; }

  // Binds the members' listener and pushes the full state (join). Throws on failure.
  void start();
  // Starts (or restarts at a new rate, keeping everything else) the heartbeat senders and,
  // with a push_pull_interval, the periodic push/pulls.
  void run_heartbeats(double messages_per_second);
  void stop_heartbeats();
  void stop();

  // One push/pull of the full state to the target; returns its duration, or nullopt on failure.
  std::optional<std::chrono::duration<double>> push_pull(bool join);

  // Statistics since the last call (resets them), and the recorded sends (moved out).
  LoadStats take_stats();
  std::vector<SentMessage> take_sends();

  // Full state bytes (push/pull user state) and the members' port.
  size_t full_state_bytes() const { return full_state_.size(); }
  uint16_t members_port() const { return members_port_; }

 private:
  struct Ring;
  struct Sender;

  void sender_loop(Sender& sender, size_t self, double messages_per_second, std::chrono::system_clock::time_point start_wall);
  void serve_members();
  void serve_connection(int fd);
  bool send_packet(int member, const std::vector<uint8_t>& payload_with_digest, SentMessage* record);
  std::string member_address(int member) const;

  LoadConfig config_;
  int copies_ = 1;
  std::vector<std::unique_ptr<Ring>> rings_;
  std::string full_state_;  // push/pull user state of every ring
  std::vector<uint8_t> push_pull_message_;  // our push/pull (members + full state), unwrapped
  int listener_ = -1;
  uint16_t members_port_ = 0;
  std::thread listener_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> heartbeats_running_{false};
  std::vector<std::unique_ptr<Sender>> senders_;
  std::thread push_pull_thread_;  // periodic full push/pulls while heartbeats run
  std::mutex stats_mu_;
  LoadStats stats_;
  std::vector<double> schedule_lags_ms_;
  std::vector<SentMessage> sends_;
};

}  // namespace ringwatch::bench
