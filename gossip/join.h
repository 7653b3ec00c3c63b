// -memberlist.join entries: parsing, DNS resolution, retry backoff and node naming.
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
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/ip/address.hpp>

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

// Node name as dskit builds it: configured name or the host name, plus "-" and
// 8 random lowercase hex digits when randomize is set.
std::string make_node_name(const std::string& configured, bool randomize, std::mt19937_64& rng);

}  // namespace ringwatch::gossip
