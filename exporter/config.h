// ringwatch's configuration: one table of options, each reachable as a flag with dskit's
// name and (for most) as a YAML key, so a memberlist block can be pasted from a Mimir or
// Loki configuration. Flags override the file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "exporter/duration.h"

namespace ringwatch {

// Mirrors dskit's memberlist KV and TCP transport configuration (YAML keys and defaults).
// Keys that only matter to a node that writes to the KV store are accepted for
// compatibility and have no effect; -help says which.
struct MemberlistOptions {
  std::string node_name;
  bool randomize_node_name = true;
  Duration stream_timeout = std::chrono::seconds(2);
  int retransmit_factor = 4;
  Duration pull_push_interval = std::chrono::seconds(30);
  Duration gossip_interval = std::chrono::milliseconds(200);
  int gossip_nodes = 3;
  Duration gossip_to_dead_nodes_time = std::chrono::seconds(30);
  Duration dead_node_reclaim_time{0};
  bool compression_enabled = true;
  Duration notify_interval{0};
  std::string advertise_addr;
  int advertise_port = 7946;
  std::string cluster_label;
  bool cluster_label_verification_disabled = false;
  std::vector<std::string> join_members;
  Duration min_join_backoff = std::chrono::seconds(1);
  Duration max_join_backoff = std::chrono::minutes(1);
  int max_join_retries = 10;
  bool abort_if_fast_join_fails = false;
  bool abort_if_join_fails = false;
  Duration rejoin_interval{0};
  Duration left_ingesters_timeout = std::chrono::minutes(5);
  Duration obsolete_entries_timeout = std::chrono::seconds(30);
  Duration leave_timeout = std::chrono::seconds(20);
  Duration broadcast_timeout_for_local_updates_on_shutdown = std::chrono::seconds(10);
  int message_history_buffer_bytes = 0;
  int watch_prefix_buffer_size = 128;
  // TCP transport.
  std::vector<std::string> bind_addr;  // empty = 0.0.0.0
  int bind_port = 7946;
  Duration packet_dial_timeout = std::chrono::seconds(2);
  Duration packet_write_timeout = std::chrono::seconds(5);
  int max_concurrent_writes = 3;
  Duration acquire_writer_timeout = std::chrono::milliseconds(250);
  bool transport_debug = false;
  bool tls_enabled = false;
  std::string tls_cert_path;
  std::string tls_key_path;
  std::string tls_ca_path;
  std::string tls_server_name;
  bool tls_insecure_skip_verify = false;
  std::string tls_cipher_suites;
  std::string tls_min_version;
  // Zone-aware routing (dskit, experimental): ringwatch has no zone and routes nothing.
  bool zone_aware_routing_enabled = false;
  std::string zone_aware_routing_instance_availability_zone;
  std::string zone_aware_routing_role = "member";
  // ringwatch extensions for plain memberlist clusters.
  std::string transport = "tcp";  // "tcp" = dskit's TCP transport, "udp" = memberlist's standard
  Duration probe_interval = std::chrono::seconds(5);  // dskit fixes 5s; plain memberlist uses 1s
  Duration probe_timeout = std::chrono::seconds(2);   // dskit fixes 2s; plain memberlist uses 500ms
  std::vector<std::string> encryption_keys;           // base64 AES keys; the first one encrypts
};

// Settings for one KV key, from the `rings:` list of the file.
struct RingOverride {
  std::string key;
  std::string name;                            // empty = the built-in name, or the key
  std::optional<Duration> heartbeat_timeout;   // empty = ring.heartbeat-timeout
  std::optional<Duration> heartbeat_period{};  // empty = estimated from the heartbeats
};

struct RingOptions {
  Duration heartbeat_timeout = std::chrono::minutes(1);  // dskit's -ring.heartbeat-timeout
  std::vector<std::string> names;                        // -ring.name KEY=NAME
  std::vector<RingOverride> overrides;                   // `rings:` in the file

  // The ring name of every known key: built-in defaults, then -ring.name, then the file.
  std::map<std::string, std::string> names_by_key() const;
  Duration heartbeat_timeout_for(const std::string& key) const;
  std::optional<Duration> heartbeat_period_for(const std::string& key) const;
  // Heartbeats further than this in the future count as clock skew.
  Duration clock_skew_tolerance = std::chrono::seconds(1);
};

struct MetricsOptions {
  std::string prefix;        // prepended with "_" to the ring_* and memberlist_* families
  bool per_member = false;   // per-instance series (cardinality: one per ring member)
  Duration minimum_window = std::chrono::minutes(10);  // rolling minimum of excess delays
  int probes = 1;            // passive members on consecutive ports, for convergence
};

// Bounds on what peers can make ringwatch hold (-limits.*). Sizes are bytes. The defaults fit
// the largest real clusters: thousands of members, rings of 10,000 instances with 512 tokens
// (a push/pull state of about 26 MB).
struct LimitsOptions {
  int max_connections = 256;                          // inbound gossip connections served at once
  Duration read_deadline = std::chrono::seconds(10);  // to receive a whole inbound packet connection
  int max_packet_size = 16 << 20;
  int max_stream_size = 64 << 20;
  int max_decompressed_size = 64 << 20;
  int max_keys = 65536;
  int max_instances = 32768;  // per KV value
  int max_tokens = 16 << 20;  // per ring value
};

struct Config {
  std::string config_file;
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::vector<std::string> web_listen_addresses = {":10946"};
  std::string web_telemetry_path = "/metrics";
  std::string web_config_file;
  MemberlistOptions memberlist;
  RingOptions ring;
  MetricsOptions metrics;
  LimitsOptions limits;
};

// One line, naming the field, for the user; main prints it and exits with status 1.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class OptionKind { string, boolean, integer, duration, string_list };

struct Option {
  std::string flag;  // without dashes, e.g. "memberlist.bind-port"
  std::string yaml;  // dotted YAML path, e.g. "memberlist.bind_port"; empty = flag only
  OptionKind kind;
  std::string help;
  std::function<std::string(const Config&)> render;  // current value as text
  // Parses and stores one value; returns an error text when invalid. For lists,
  // `append` adds one element (repeated flags, YAML sequences) after a reset.
  std::function<std::optional<std::string>(Config&, const std::string&)> set;
  std::function<void(Config&)> reset;  // lists only: empty the list before new values
};

const std::vector<Option>& options();

enum class Action { run, help, help_markdown, version };

struct CommandLine {
  Action action = Action::run;
  Config config;
};

// Parses Go-style flags (-name=value, -name value, --name, bare boolean flags),
// loads -config.file, applies flags over it and validates. Throws ConfigError.
CommandLine parse_command_line(const std::vector<std::string>& args);

// Loads a YAML configuration into `config` (strict: unknown keys are errors).
void load_yaml_file(const std::string& path, Config& config);
void load_yaml_text(const std::string& text, const std::string& source, Config& config);

// Checks cross-field rules and ranges. Throws ConfigError.
void validate(const Config& config);

std::string usage_text();           // -help
std::string version_text();         // -version
std::string options_markdown();     // the configuration reference table in README.md

}  // namespace ringwatch
