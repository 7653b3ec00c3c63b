// -memberlist.join entries: parsing, DNS resolution, retry backoff, node naming,
// and the Joiner that runs dskit's join sequence (fast join, full join, rejoin).
//
// Forms (dskit-kv-ring.md §8.7): ip, ip:port, [ipv6]:port, host, host:port with an
// optional "nodename/" prefix (resolved as memberlist does: IP literals as is, names
// via A/AAAA), dns+host:port (A/AAAA, port mandatory), dnssrv+name[:port] (SRV, then
// A/AAAA of each target), dnssrvnoa+name[:port] (SRV, targets resolved later like a
// plain host name). Default port 7946, independent of the bind port.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "gossip/result.h"

namespace ringwatch::gossip {

inline constexpr std::uint16_t kDefaultJoinPort = 7946;

struct JoinTarget {
  enum class Kind { ip, host, dns, dnssrv, dnssrvnoa };
  Kind kind = Kind::ip;
  std::string host;                  // IP literal, host name or SRV query name
  std::optional<std::uint16_t> port; // explicit port, if given
};

// Parses one join entry. Fails (Reject::invalid) on an unknown "x+" prefix, a
// missing port in dns+, a bad port number or an empty host.
Result<JoinTarget> parse_join_address(std::string_view entry);

struct JoinEndpoint {
  asio::ip::address ip;
  std::uint16_t port = kDefaultJoinPort;
  friend bool operator==(const JoinEndpoint&, const JoinEndpoint&) = default;
};

// Resolves a target to endpoints with glibc (getaddrinfo for A/AAAA, res_nquery for
// SRV). Blocking: call it off the event loop (JoinResolver). NXDOMAIN yields an empty
// list, like dskit's resolver.
std::vector<JoinEndpoint> resolve_join_target(const JoinTarget& target);

// A single worker thread for blocking lookups. Jobs run in order; the destructor
// waits for the running job and drops queued ones.
class JoinResolver {
 public:
  JoinResolver();
  ~JoinResolver();
  JoinResolver(const JoinResolver&) = delete;
  JoinResolver& operator=(const JoinResolver&) = delete;

  void submit(std::function<void()> job);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

// dskit's join retry schedule: attempt k waits a random delay in
// [min·2^k, min·2^(k+1)) capped at max (full jitter with a floor).
class JoinBackoff {
 public:
  JoinBackoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}
  std::chrono::milliseconds next(std::mt19937_64& rng);
  int attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds min_, max_;
  int attempts_ = 0;
};

enum class JoinStatus { pending, joined, failed };

struct JoinSettings {
  std::vector<std::string> members;          // -memberlist.join entries
  int retransmit_factor = 4;                 // sizes the fast join
  std::chrono::milliseconds min_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
  int max_retries = 10;                      // full-join attempts; 0 = unlimited (dskit's backoff)
  bool abort_if_fast_join_fails = false;     // fast join reaching nobody ends joining: failed
  bool abort_if_join_fails = false;          // the caller exits on failed: no rejoin after it
  std::chrono::milliseconds rejoin_interval{0};  // 0 = never rejoin
};

// dskit's join sequence (dskit-kv-ring.md §8.7), on the member's event loop:
//  1. fast join: resolve, shuffle, join one node at a time until
//     retransmit_factor × ceil(log10(resolved + 1)) nodes were reached or none is left;
//  2. full join: every resolved address one by one, resolving again before each
//     batch of 100 addresses; success = one node reached; else retried with
//     backoff, resolving again, up to max_retries attempts, then failed;
//  3. rejoin: every rejoin_interval (also after a failed join unless abort_if_join_fails),
//     resolve and join all.
// Resolution is blocking and runs on a worker thread; joins are asynchronous.
class Joiner {
 public:
  using Endpoint = asio::ip::tcp::endpoint;
  using ResolveFn = std::function<std::vector<JoinEndpoint>(const JoinTarget&)>;
  // One join push/pull with a node; done(true) when it answered.
  using JoinOneFn = std::function<void(const Endpoint&, std::function<void(bool)> done)>;
  using StatusFn = std::function<void(JoinStatus)>;

  Joiner(asio::io_context& io, JoinSettings settings, ResolveFn resolve, JoinOneFn join_one, StatusFn on_status,
         std::uint64_t seed);
  ~Joiner();  // stop()
  Joiner(const Joiner&) = delete;
  Joiner& operator=(const Joiner&) = delete;

  // Starts the sequence (on the loop). With no join members the status is joined at once.
  void start();
  // Cancels timers; pending resolutions and joins are ignored when they complete.
  void stop();

  JoinStatus status() const { return status_; }
  // Nodes the fast join reached; nullopt until it finished.
  std::optional<int> fast_join_reached() const { return fast_reached_; }
  int full_join_attempts() const { return attempts_; }
  int rejoins() const { return rejoins_; }

 private:
  using Endpoints = std::vector<Endpoint>;
  void resolve(std::function<void(Endpoints)> then);
  void fast_join(std::shared_ptr<Endpoints> nodes, std::size_t i, int to_join, int reached);
  void full_join_attempt();
  void full_join_batch(std::shared_ptr<std::set<std::string>> attempted, int reached, Endpoints nodes);
  void join_each(std::shared_ptr<Endpoints> batch, std::size_t i, int reached, std::function<void(int)> done);
  void full_join_finished(int reached);
  void schedule_rejoin();
  void set_status(JoinStatus s);

  asio::io_context& io_;
  JoinSettings settings_;
  ResolveFn resolve_;
  JoinOneFn join_one_;
  StatusFn on_status_;
  std::mt19937_64 rng_;
  asio::steady_timer retry_timer_, rejoin_timer_;
  std::optional<JoinBackoff> backoff_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<JoinResolver> worker_;
  JoinStatus status_ = JoinStatus::pending;
  std::optional<int> fast_reached_;
  int attempts_ = 0;
  int rejoins_ = 0;
};

// Node name as dskit builds it: configured name or the host name, plus "-" and
// 8 random lowercase hex digits when randomize is set.
std::string make_node_name(const std::string& configured, bool randomize, std::mt19937_64& rng);

}  // namespace ringwatch::gossip
