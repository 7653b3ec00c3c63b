// What the member hands upward: received KV payloads (event sink, on the event
// loop), an immutable membership snapshot (any thread), and counters (any thread).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gossip/bytes.h"
#include "gossip/messages.h"
#include "gossip/result.h"

namespace ringwatch::gossip {

enum class Via { gossip, pushpull };

struct ReceivedPayload {
  Via via = Via::gossip;
  ByteView bytes;           // gossip: one KeyValuePair; pushpull: the whole user state
  // The member at the sender's advertised address (packets: the dskit frame's address
  // or the UDP source; push/pull we dialed: the dialed address). Inbound streams come
  // from ephemeral ports: named only when one member alone uses the source IP.
  // "" when unknown.
  std::string peer_name;
  std::string peer_address; // "ip:port" advertised by the sender; the TCP source when unknown
  std::chrono::system_clock::time_point received_wall;
  std::chrono::steady_clock::time_point received_steady;
  bool join = false;        // pushpull only
};

// Implemented by the KV layer. Called on the member's event loop; bytes are only
// valid during the call. Must not block.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_payload(const ReceivedPayload& payload) = 0;
};

struct MemberView {
  std::string name;
  std::string address;  // IP text
  std::uint16_t port = 0;
  NodeState state = NodeState::alive;
  std::uint32_t incarnation = 0;
  Bytes meta;
  std::chrono::system_clock::time_point state_changed;
};

struct MembershipSnapshot {
  std::string self_name;
  std::vector<MemberView> members;  // ourselves included, sorted by name
  bool full_state_received = false; // at least one push/pull merged (for /-/ready)
  std::chrono::system_clock::time_point taken;
};

// Published by the loop, read by scrapes; readers never wait for the loop.
class SnapshotSlot {
 public:
  std::shared_ptr<const MembershipSnapshot> load() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  void store(std::shared_ptr<const MembershipSnapshot> s) {
    std::lock_guard lock(mu_);
    current_ = std::move(s);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const MembershipSnapshot> current_ = std::make_shared<MembershipSnapshot>();
};

// Why something hit a configured limit.
enum class Limit {
  connections,       // max concurrent inbound connections
  packet_bytes,      // inbound packet frame over max_packet_bytes
  read_deadline,     // inbound connection did not finish in time
  pushpulls,         // concurrent inbound push/pulls
  writers,           // no packet writer free within acquire_writer_timeout
  stream_bytes,        // inbound stream message over max_stream_bytes
  decompressed_bytes,  // compressed payload expanding past max_decompressed_bytes
};
inline constexpr std::size_t kLimitCount = 7;
inline const char* limit_name(Limit l) {
  switch (l) {
    case Limit::connections: return "connections";
    case Limit::packet_bytes: return "packet_bytes";
    case Limit::read_deadline: return "read_deadline";
    case Limit::pushpulls: return "pushpulls";
    case Limit::writers: return "writers";
    case Limit::stream_bytes: return "stream_bytes";
    case Limit::decompressed_bytes: return "decompressed_bytes";
  }
  return "unknown";
}

inline constexpr std::size_t kRejectCount = 11;  // entries of ringwatch::Reject

// Monotonic counters, relaxed atomics. Message counters are indexed by the
// memberlist type byte (0..13); index 14 collects anything else.
struct GossipCounters {
  static constexpr std::size_t kTypes = 15;
  static std::size_t type_index(std::uint8_t t) { return t < kTypes - 1 ? t : kTypes - 1; }

  std::array<std::atomic<std::uint64_t>, kTypes> messages_received{};
  std::array<std::atomic<std::uint64_t>, kTypes> messages_sent{};
  std::atomic<std::uint64_t> packets_received{0}, packets_sent{0}, packet_send_errors{0};
  std::atomic<std::uint64_t> bytes_received{0}, bytes_sent{0};
  std::atomic<std::uint64_t> streams_received{0};
  std::atomic<std::uint64_t> pushpulls_in{0}, pushpulls_out{0}, pushpull_failures{0};
  std::atomic<std::uint64_t> connections_accepted{0}, connections_refused{0};
  std::array<std::atomic<std::uint64_t>, kRejectCount> rejected{};
  std::array<std::atomic<std::uint64_t>, kLimitCount> limit_hits{};

  void reject(Reject r) { rejected[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed); }
  void limit(Limit l) { limit_hits[static_cast<std::size_t>(l)].fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t rejected_count(Reject r) const { return rejected[static_cast<std::size_t>(r)].load(); }
  std::uint64_t limit_count(Limit l) const { return limit_hits[static_cast<std::size_t>(l)].load(); }
  void received(std::uint8_t type) { messages_received[type_index(type)].fetch_add(1, std::memory_order_relaxed); }
  void sent(std::uint8_t type) { messages_sent[type_index(type)].fetch_add(1, std::memory_order_relaxed); }
};

}  // namespace ringwatch::gossip
