// Everything a passive memberlist member needs, with dskit's defaults.
// The exporter maps its YAML/flags onto this struct; nothing here reads files.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ringwatch::gossip {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

enum class TransportKind {
  dskit_tcp,     // dskit TCPTransport: packets and streams over TCP (memberlist-wire §1.4)
  standard_udp,  // memberlist NetTransport: UDP packets + TCP streams on one port (§1.3)
};

struct TlsConfig {
  bool enabled = false;
  std::string cert_path;
  std::string key_path;
  std::string ca_path;           // empty = system roots
  std::string server_name;       // empty = the dialed IP
  bool insecure_skip_verify = false;
  std::string min_version;       // "", "VersionTLS10" .. "VersionTLS13"
  std::string cipher_suites;     // comma-separated Go crypto/tls names; "" = library defaults
};

struct MemberLimits {
  std::size_t max_concurrent_connections = 256;   // inbound connections being served at once
  milliseconds connection_read_deadline = 10s;    // whole inbound packet connection
  std::size_t max_stream_bytes = 64u << 20;       // one inbound stream message (push/pull)
  std::size_t max_decompressed_bytes = 64u << 20;
  std::size_t max_packet_bytes = 16u << 20;       // one inbound dskit packet frame / datagram
  std::size_t max_concurrent_pushpulls = 127;     // memberlist serves 127, closes the 128th
};

struct MemberConfig {
  // Identity.
  std::string node_name;                 // "" = host name
  bool randomize_node_name = true;       // append "-" + 8 random hex digits

  // Listening and advertising.
  std::vector<std::string> bind_addrs = {"0.0.0.0"};
  std::uint16_t bind_port = 7946;        // 0 = kernel-chosen
  std::string advertise_addr;            // "" = derived from the first bind address
  std::uint16_t advertise_port = 7946;   // used only with advertise_addr
  TransportKind transport = TransportKind::dskit_tcp;

  // Joining.
  std::vector<std::string> join_members;
  milliseconds min_join_backoff = 1s;
  milliseconds max_join_backoff = 60s;
  int max_join_retries = 10;
  bool abort_if_join_fails = false;       // no rejoin after failing; the caller exits on join_status() == failed
  bool abort_if_fast_join_fails = false;  // fast join reaching nobody: join_status() == failed
  milliseconds rejoin_interval = 0ms;    // 0 = never rejoin

  // Cluster label.
  std::string cluster_label;
  bool cluster_label_verification_disabled = false;

  // Gossip and anti-entropy.
  milliseconds gossip_interval = 200ms;
  int gossip_nodes = 3;
  milliseconds pull_push_interval = 30s;
  int retransmit_factor = 4;
  milliseconds gossip_to_dead_time = 30s;
  milliseconds dead_node_reclaim_time = 0ms;
  std::size_t packet_budget_bytes = 10u << 20;  // dskit's UDPBufferSize; standard transport: 1400

  // Failure detection.
  milliseconds probe_interval = 5s;
  milliseconds probe_timeout = 2s;
  int suspicion_mult = 4;
  int suspicion_max_timeout_mult = 6;
  int indirect_checks = 3;
  int awareness_max_multiplier = 8;

  // Streams and packets.
  milliseconds stream_timeout = 2s;
  milliseconds packet_dial_timeout = 2s;
  milliseconds packet_write_timeout = 5s;
  int max_concurrent_writes = 3;
  milliseconds acquire_writer_timeout = 250ms;
  milliseconds leave_timeout = 20s;

  bool compression_enabled = true;

  TlsConfig tls;

  // memberlist encryption keyring (16/24/32-byte AES keys, first is primary). Empty = off.
  std::vector<std::string> encryption_keys;
  bool gossip_verify_incoming = true;
  bool gossip_verify_outgoing = true;

  MemberLimits limits;
};

}  // namespace ringwatch::gossip
