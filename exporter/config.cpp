#include "exporter/config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include "exporter/base64.h"
#include "exporter/version.h"

namespace ringwatch {
namespace {

// ---- typed option builders ------------------------------------------------

template <class Field>
Option string_option(std::string flag, std::string yaml, std::string help, Field field) {
  return Option{std::move(flag), std::move(yaml), OptionKind::string, std::move(help),
                [field](const Config& c) { return field(const_cast<Config&>(c)); },
                [field](Config& c, const std::string& v) -> std::optional<std::string> {
                  field(c) = v;
                  return std::nullopt;
                },
                nullptr};
}

template <class Field>
Option choice_option(std::string flag, std::string yaml, std::string help, std::vector<std::string> choices,
                     Field field) {
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + (c.empty() ? std::string("\"\"") : c);
  return Option{std::move(flag), std::move(yaml), OptionKind::string, help + " One of: " + list + ".",
                [field](const Config& c) { return field(const_cast<Config&>(c)); },
                [field, choices, list](Config& c, const std::string& v) -> std::optional<std::string> {
                  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
                    return "must be one of " + list;
                  }
                  field(c) = v;
                  return std::nullopt;
                },
                nullptr};
}

template <class Field>
Option bool_option(std::string flag, std::string yaml, std::string help, Field field) {
  return Option{std::move(flag), std::move(yaml), OptionKind::boolean, std::move(help),
                [field](const Config& c) { return field(const_cast<Config&>(c)) ? "true" : "false"; },
                [field](Config& c, const std::string& v) -> std::optional<std::string> {
                  // The spellings Go's strconv.ParseBool accepts.
                  static const std::map<std::string, bool> kBools = {
                      {"1", true},  {"t", true},  {"T", true},  {"true", true},   {"TRUE", true},   {"True", true},
                      {"0", false}, {"f", false}, {"F", false}, {"false", false}, {"FALSE", false}, {"False", false}};
                  auto it = kBools.find(v);
                  if (it == kBools.end()) return "not a boolean (true or false)";
                  field(c) = it->second;
                  return std::nullopt;
                },
                nullptr};
}

template <class Field>
Option int_option(std::string flag, std::string yaml, std::string help, int min, int max, Field field) {
  return Option{std::move(flag), std::move(yaml), OptionKind::integer, std::move(help),
                [field](const Config& c) { return std::to_string(field(const_cast<Config&>(c))); },
                [field, min, max](Config& c, const std::string& v) -> std::optional<std::string> {
                  long long n = 0;
                  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
                  if (ec != std::errc() || end != v.data() + v.size()) return "not an integer";
                  if (n < min || n > max) {
                    return "out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]";
                  }
                  field(c) = static_cast<int>(n);
                  return std::nullopt;
                },
                nullptr};
}

template <class Field>
Option duration_option(std::string flag, std::string yaml, std::string help, Field field) {
  return Option{std::move(flag), std::move(yaml), OptionKind::duration, std::move(help),
                [field](const Config& c) { return format_go_duration(field(const_cast<Config&>(c))); },
                [field](Config& c, const std::string& v) -> std::optional<std::string> {
                  auto d = parse_go_duration(v);
                  if (!d) return "not a duration (Go syntax, e.g. 200ms, 1m30s)";
                  if (d->count() < 0) return "must not be negative";
                  field(c) = *d;
                  return std::nullopt;
                },
                nullptr};
}

template <class Field>
Option list_option(std::string flag, std::string yaml, std::string help, Field field) {
  return Option{std::move(flag), std::move(yaml), OptionKind::string_list, std::move(help),
                [field](const Config& c) {
                  std::string out;
                  for (const auto& v : field(const_cast<Config&>(c))) out += (out.empty() ? "" : ",") + v;
                  return out;
                },
                [field](Config& c, const std::string& v) -> std::optional<std::string> {
                  // Like dskit (since 2026-01), one value may hold several, comma-separated.
                  std::stringstream ss(v);
                  std::string item;
                  while (std::getline(ss, item, ',')) {
                    if (!item.empty()) field(c).push_back(item);
                  }
                  return std::nullopt;
                },
                [field](Config& c) { field(c).clear(); }};
}

#define ML(member) [](Config& c) -> auto& { return c.memberlist.member; }
#define TOP(member) [](Config& c) -> auto& { return c.member; }
#define LIM(member) [](Config& c) -> auto& { return c.limits.member; }

const char* const kNoEffect = " Accepted for compatibility with dskit configurations; no effect on a passive observer.";

std::vector<Option> build_options() {
  std::vector<Option> o;
  o.push_back(string_option("config.file", "", "YAML configuration file. Flags given on the command line override it.",
                            TOP(config_file)));
  o.push_back(choice_option("log.level", "log.level", "Only log messages with this severity or above.",
                            {"debug", "info", "warn", "error"}, TOP(log_level)));
  o.push_back(choice_option("log.format", "log.format", "Output format of log messages.", {"logfmt", "json"},
                            TOP(log_format)));
  o.push_back(list_option("web.listen-address", "web.listen_address",
                          "Addresses on which to expose metrics and the status pages, as [host]:port. "
                          "Repeatable. Port 10946 lies outside the fully allocated exporter range 9100-9999.",
                          TOP(web_listen_addresses)));
  o.push_back(string_option("web.telemetry-path", "web.telemetry_path", "Path under which to expose metrics.",
                            TOP(web_telemetry_path)));
  o.push_back(string_option("web.config.file", "web.config_file",
                            "Path to a web configuration file (Prometheus exporter-toolkit format) enabling TLS "
                            "and basic authentication.",
                            TOP(web_config_file)));

  // dskit's memberlist KV flags, with the same names, YAML keys and defaults.
  o.push_back(string_option("memberlist.nodename", "memberlist.node_name",
                            "Name of this member in the gossip cluster. Empty means the host name.", ML(node_name)));
  o.push_back(bool_option("memberlist.randomize-node-name", "memberlist.randomize_node_name",
                          "Append a random 8-hex-digit suffix to the node name, as dskit does.",
                          ML(randomize_node_name)));
  o.push_back(duration_option("memberlist.stream-timeout", "memberlist.stream_timeout",
                              "Deadline for dialing a peer and for a whole stream exchange (push/pull).",
                              ML(stream_timeout)));
  o.push_back(int_option("memberlist.retransmit-factor", "memberlist.retransmit_factor",
                         "Each membership broadcast is sent retransmit-factor * ceil(log10(members+1)) times.", 1,
                         1000, ML(retransmit_factor)));
  o.push_back(duration_option("memberlist.pullpush-interval", "memberlist.pull_push_interval",
                              "How often to exchange full state (push/pull) with a random member. ringwatch's rings "
                              "are complete again at most this long after a restart. 0 disables it.",
                              ML(pull_push_interval)));
  o.push_back(duration_option("memberlist.gossip-interval", "memberlist.gossip_interval",
                              "How often to gossip membership changes to random members.", ML(gossip_interval)));
  o.push_back(int_option("memberlist.gossip-nodes", "memberlist.gossip_nodes",
                         "How many random members to gossip to per gossip interval.", 1, 1000, ML(gossip_nodes)));
  o.push_back(duration_option("memberlist.gossip-to-dead-nodes-time", "memberlist.gossip_to_dead_nodes_time",
                              "How long to keep gossiping to a dead member so that it can refute its death.",
                              ML(gossip_to_dead_nodes_time)));
  o.push_back(duration_option("memberlist.dead-node-reclaim-time", "memberlist.dead_node_reclaim_time",
                              "How soon a dead member's name may be taken by a new address. 0 disables reclaiming.",
                              ML(dead_node_reclaim_time)));
  o.push_back(bool_option("memberlist.compression-enabled", "memberlist.compression_enabled",
                          "Compress outgoing messages with LZW when that makes them smaller. Incoming messages are "
                          "decompressed either way.",
                          ML(compression_enabled)));
  o.push_back(duration_option("memberlist.notify-interval", "memberlist.notify_interval",
                              std::string("How often dskit notifies KV watchers.") + kNoEffect, ML(notify_interval)));
  o.push_back(string_option("memberlist.advertise-addr", "memberlist.advertise_addr",
                            "IP address to advertise to the other members. Empty means a private address of this "
                            "host (or the first bind address).",
                            ML(advertise_addr)));
  o.push_back(int_option("memberlist.advertise-port", "memberlist.advertise_port",
                         "Port to advertise to the other members.", 0, 65535, ML(advertise_port)));
  o.push_back(string_option("memberlist.cluster-label", "memberlist.cluster_label",
                            "Cluster label sent with every packet and stream and required on everything received; "
                            "must equal the cluster's -memberlist.cluster-label.",
                            ML(cluster_label)));
  o.push_back(bool_option("memberlist.cluster-label-verification-disabled",
                          "memberlist.cluster_label_verification_disabled",
                          "Accept packets and streams whatever their cluster label.",
                          ML(cluster_label_verification_disabled)));
  o.push_back(list_option("memberlist.join", "memberlist.join_members",
                          "Members to join: ip[:port], host[:port], dns+host:port, dnssrv+name or dnssrvnoa+name; "
                          "the port defaults to 7946. Repeatable and comma-separated. Empty runs ringwatch alone "
                          "until members join it.",
                          ML(join_members)));
  o.push_back(duration_option("memberlist.min-join-backoff", "memberlist.min_join_backoff",
                              "First wait between attempts to join.", ML(min_join_backoff)));
  o.push_back(duration_option("memberlist.max-join-backoff", "memberlist.max_join_backoff",
                              "Longest wait between attempts to join.", ML(max_join_backoff)));
  o.push_back(int_option("memberlist.max-join-retries", "memberlist.max_join_retries",
                         "Join attempts before giving up, as dskit counts them; 0 retries forever.", 0, 1000000, ML(max_join_retries)));
  o.push_back(bool_option("memberlist.abort-if-fast-join-fails", "memberlist.abort_if_cluster_fast_join_fails",
                          "Exit if the first join attempt reaches no member.", ML(abort_if_fast_join_fails)));
  o.push_back(bool_option("memberlist.abort-if-join-fails", "memberlist.abort_if_cluster_join_fails",
                          "Exit if joining still fails after every retry.", ML(abort_if_join_fails)));
  o.push_back(duration_option("memberlist.rejoin-interval", "memberlist.rejoin_interval",
                              "If not 0, rejoin the join members this often, which heals a split cluster.",
                              ML(rejoin_interval)));
  o.push_back(duration_option("memberlist.left-ingesters-timeout", "memberlist.left_ingesters_timeout",
                              "How long LEFT tombstones stay in the rebuilt rings, as in dskit. 0 keeps them forever.",
                              ML(left_ingesters_timeout)));
  o.push_back(duration_option("memberlist.obsolete-entries-timeout", "memberlist.obsolete_entries_timeout",
                              "How long a KV key marked deleted is kept before it is removed.",
                              ML(obsolete_entries_timeout)));
  o.push_back(duration_option("memberlist.leave-timeout", "memberlist.leave_timeout",
                              "How long to wait for the leave message to be sent on shutdown.", ML(leave_timeout)));
  o.push_back(duration_option("memberlist.broadcast-timeout-for-local-updates-on-shutdown",
                              "memberlist.broadcast_timeout_for_local_updates_on_shutdown",
                              std::string("How long dskit flushes its own KV updates on shutdown.") + kNoEffect,
                              ML(broadcast_timeout_for_local_updates_on_shutdown)));
  o.push_back(int_option("memberlist.message-history-buffer-bytes", "memberlist.message_history_buffer_bytes",
                         std::string("Size of dskit's message history buffers.") + kNoEffect, 0, 1 << 30,
                         ML(message_history_buffer_bytes)));
  o.push_back(int_option("memberlist.watch-prefix-buffer-size", "memberlist.watch_prefix_buffer_size",
                         std::string("Size of dskit's prefix-watch channel.") + kNoEffect, 0, 1 << 30,
                         ML(watch_prefix_buffer_size)));
  o.push_back(list_option("memberlist.bind-addr", "memberlist.bind_addr",
                          "IP addresses to listen on for gossip. Repeatable. Empty means 0.0.0.0.", ML(bind_addr)));
  o.push_back(int_option("memberlist.bind-port", "memberlist.bind_port",
                         "Port to listen on for gossip, on every bind address. 0 lets the kernel choose.", 0, 65535,
                         ML(bind_port)));
  o.push_back(duration_option("memberlist.packet-dial-timeout", "memberlist.packet_dial_timeout",
                              "Deadline for connecting to a peer to send a packet.", ML(packet_dial_timeout)));
  o.push_back(duration_option("memberlist.packet-write-timeout", "memberlist.packet_write_timeout",
                              "Deadline for writing a packet to a peer.", ML(packet_write_timeout)));
  o.push_back(int_option("memberlist.max-concurrent-writes", "memberlist.max_concurrent_writes",
                         "Packets sent at the same time at most.", 1, 10000, ML(max_concurrent_writes)));
  o.push_back(duration_option("memberlist.acquire-writer-timeout", "memberlist.acquire_writer_timeout",
                              "How long a packet waits for a free writer before it is dropped.",
                              ML(acquire_writer_timeout)));
  o.push_back(bool_option("memberlist.transport-debug", "", "Log every transport event at debug level.",
                          ML(transport_debug)));
  o.push_back(bool_option("memberlist.tls-enabled", "memberlist.tls_enabled",
                          "Use TLS on every gossip connection, as dskit's -memberlist.tls-enabled.", ML(tls_enabled)));
  o.push_back(string_option("memberlist.tls-cert-path", "memberlist.tls_cert_path",
                            "Certificate (PEM) presented by ringwatch's gossip listener.", ML(tls_cert_path)));
  o.push_back(string_option("memberlist.tls-key-path", "memberlist.tls_key_path",
                            "Private key (PEM) of that certificate.", ML(tls_key_path)));
  o.push_back(string_option("memberlist.tls-ca-path", "memberlist.tls_ca_path",
                            "CA bundle (PEM) that peers' certificates must chain to. Empty means the system roots.",
                            ML(tls_ca_path)));
  o.push_back(string_option("memberlist.tls-server-name", "memberlist.tls_server_name",
                            "Name expected in peers' certificates. Empty means the dialed IP address.",
                            ML(tls_server_name)));
  o.push_back(bool_option("memberlist.tls-insecure-skip-verify", "memberlist.tls_insecure_skip_verify",
                          "Do not verify peers' certificates.", ML(tls_insecure_skip_verify)));
  o.push_back(string_option("memberlist.tls-cipher-suites", "memberlist.tls_cipher_suites",
                            "Comma-separated TLS 1.2 cipher suites by their Go names (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), "
                            "as dskit takes them. Empty means the library defaults.",
                            ML(tls_cipher_suites)));
  o.push_back(Option(choice_option("memberlist.tls-min-version", "memberlist.tls_min_version",
                                   "Lowest TLS version accepted. Empty means TLS 1.2.",
                                   {"", "VersionTLS10", "VersionTLS11", "VersionTLS12", "VersionTLS13"},
                                   ML(tls_min_version))));
  o.push_back(bool_option("memberlist.zone-aware-routing.enabled", "memberlist.zone_aware_routing.enabled",
                          std::string("dskit's zone-aware gossip routing.") + kNoEffect,
                          ML(zone_aware_routing_enabled)));
  o.push_back(string_option("memberlist.zone-aware-routing.instance-availability-zone",
                            "memberlist.zone_aware_routing.instance_availability_zone",
                            std::string("Zone of this node for zone-aware routing.") + kNoEffect,
                            ML(zone_aware_routing_instance_availability_zone)));
  o.push_back(choice_option("memberlist.zone-aware-routing.role", "memberlist.zone_aware_routing.role",
                            std::string("Role of this node for zone-aware routing.") + kNoEffect,
                            {"member", "bridge"}, ML(zone_aware_routing_role)));
  o.push_back(choice_option("memberlist.transport", "memberlist.transport",
                            "Gossip transport: tcp is dskit's TCP transport (Mimir, Loki, Tempo, Pyroscope, Cortex); "
                            "udp is memberlist's standard transport (UDP packets, TCP streams) for plain memberlist "
                            "clusters. A ringwatch extension.",
                            {"tcp", "udp"}, ML(transport)));
  o.push_back(duration_option("memberlist.probe-interval", "memberlist.probe_interval",
                              "How often to probe a random member. dskit fixes 5s; plain memberlist defaults to 1s. "
                              "A ringwatch extension.",
                              ML(probe_interval)));
  o.push_back(duration_option("memberlist.probe-timeout", "memberlist.probe_timeout",
                              "How long to wait for a probe's ack. dskit fixes 2s; plain memberlist defaults to "
                              "500ms. A ringwatch extension.",
                              ML(probe_timeout)));
  o.push_back(list_option("memberlist.encryption-key", "memberlist.encryption_keys",
                          "memberlist secret keys (base64 of 16, 24 or 32 bytes) for clusters that encrypt gossip; "
                          "the first encrypts, all decrypt. Repeatable. dskit clusters do not encrypt. A ringwatch "
                          "extension.",
                          ML(encryption_keys)));
  o.push_back(list_option("ring.name", "",
                          "Ring name for a KV key, as KEY=NAME (the `name` label of ring metrics). Repeatable. "
                          "Mimir, Loki, Tempo, Pyroscope and Cortex keys have built-in names; other keys are named "
                          "after themselves. In the file, use the `rings:` list (key, name, heartbeat_timeout, heartbeat_period).",
                          [](Config& c) -> auto& { return c.ring.names; }));
  o.push_back(duration_option("ring.heartbeat-timeout", "ring.heartbeat_timeout",
                              "An instance whose last heartbeat is older than this is Unhealthy, as dskit's "
                              "-ring.heartbeat-timeout.",
                              [](Config& c) -> auto& { return c.ring.heartbeat_timeout; }));
  o.push_back(duration_option("ring.clock-skew-tolerance", "ring.clock_skew_tolerance",
                              "A heartbeat timestamp further than this in the future counts in "
                              "ring_members_heartbeat_in_future (the writer's clock runs ahead of ringwatch's).",
                              [](Config& c) -> auto& { return c.ring.clock_skew_tolerance; }));
  o.push_back(string_option("metrics.prefix", "metrics.prefix",
                            "Prefix, followed by _, of the ring_*, partition_ring_* and memberlist_* metric families, "
                            "as products name them: cortex (Mimir, Cortex), loki, tempo, pyroscope, phlare. Empty "
                            "means dskit's plain names.",
                            [](Config& c) -> auto& { return c.metrics.prefix; }));
  o.push_back(bool_option("metrics.per-member", "metrics.per_member",
                          "Export per-instance series (ring_member_heartbeat_age_seconds, ring_member_tokens_owned, "
                          "ring_member_ownership_percent, ring_member_heartbeat_excess_delay_seconds): one series per "
                          "ring member each.",
                          [](Config& c) -> auto& { return c.metrics.per_member; }));
  o.push_back(duration_option("metrics.excess-delay-window", "metrics.excess_delay_window",
                              "Window of each member's rolling minimum heartbeat delay, which "
                              "ring_heartbeat_excess_delay_seconds subtracts. A lasting change of the delay shows as "
                              "excess for this long, then becomes the new minimum.",
                              [](Config& c) -> auto& { return c.metrics.minimum_window; }));
  o.push_back(int_option("probes", "probes",
                         "Passive gossip members ringwatch runs, on consecutive ports from -memberlist.bind-port "
                         "(and -memberlist.advertise-port). With 2 or more, ring_update_convergence_seconds measures "
                         "the time from the first probe's receipt of each update to the last one's, on one clock. "
                         "Every probe counts as a member of the cluster.",
                         1, 16, [](Config& c) -> auto& { return c.metrics.probes; }));
  const char* const kLimitHit = " Each rejection counts in ";
  o.push_back(int_option("limits.max-connections", "limits.max_connections",
                         std::string("Inbound gossip connections served at once; more are closed on accept.") +
                             kLimitHit + "ringwatch_gossip_limit_hits_total{limit=\"connections\"}.",
                         1, 65535, LIM(max_connections)));
  o.push_back(duration_option("limits.read-deadline", "limits.read_deadline",
                              std::string("Time an inbound packet connection has to deliver its whole packet "
                                          "(dskit sets none; streams have -memberlist.stream-timeout).") +
                                  kLimitHit + "ringwatch_gossip_limit_hits_total{limit=\"read_deadline\"}.",
                              LIM(read_deadline)));
  o.push_back(int_option("limits.max-packet-size", "limits.max_packet_size",
                         std::string("Largest inbound gossip packet, in bytes.") + kLimitHit +
                             "ringwatch_gossip_limit_hits_total{limit=\"packet_bytes\"}.",
                         1024, 1 << 30, LIM(max_packet_size)));
  o.push_back(int_option("limits.max-stream-size", "limits.max_stream_size",
                         std::string("Largest inbound stream message (a push/pull with the whole KV store), in "
                                     "bytes. A 10,000-instance ring of 512 tokens takes about 26 MB.") +
                             kLimitHit + "ringwatch_gossip_limit_hits_total{limit=\"stream_bytes\"}.",
                         1024, 1 << 30, LIM(max_stream_size)));
  o.push_back(int_option("limits.max-decompressed-size", "limits.max_decompressed_size",
                         std::string("Largest size a compressed packet or stream message may expand to, in bytes.") +
                             kLimitHit + "ringwatch_gossip_limit_hits_total{limit=\"decompressed_bytes\"}.",
                         1024, 1 << 30, LIM(max_decompressed_size)));
  o.push_back(int_option("limits.max-keys", "limits.max_keys",
                         std::string("KV keys held at most; values for further keys are dropped.") + kLimitHit +
                             "ringwatch_kv_limit_hits_total{limit=\"keys\"}.",
                         1, 1 << 24, LIM(max_keys)));
  o.push_back(int_option("limits.max-instances", "limits.max_instances",
                         std::string("Entries one KV value may hold: ring instances (LEFT included), partitions, "
                                     "partition owners or propagation beacons; a value that would exceed it is "
                                     "dropped whole.") +
                             kLimitHit + "ringwatch_kv_limit_hits_total{limit=\"instances\"}.",
                         1, 1 << 24, LIM(max_instances)));
  o.push_back(int_option("limits.max-tokens", "limits.max_tokens",
                         std::string("Tokens one ring or partition ring may hold over all its instances; a value "
                                     "that would exceed it is dropped whole.") +
                             kLimitHit + "ringwatch_kv_limit_hits_total{limit=\"tokens\"}.",
                         1, 1 << 30, LIM(max_tokens)));
  return o;
}

#undef LIM
#undef ML
#undef TOP

const Option* find_by_flag(const std::string& name) {
  for (const auto& o : options()) {
    if (o.flag == name) return &o;
  }
  return nullptr;
}

const Option* find_by_yaml(const std::string& path) {
  for (const auto& o : options()) {
    if (o.yaml == path) return &o;
  }
  return nullptr;
}

bool is_yaml_section(const std::string& path) {
  const std::string prefix = path + ".";
  return std::any_of(options().begin(), options().end(),
                     [&](const Option& o) { return o.yaml.compare(0, prefix.size(), prefix) == 0; });
}

std::string quote(const std::string& s) { return "\"" + s + "\""; }

// ---- YAML -------------------------------------------------------------------

void apply_rings(const YAML::Node& node, const std::string& source, Config& config);

void apply_yaml_node(const YAML::Node& node, const std::string& path, const std::string& source, Config& config) {
  auto where = [&](const YAML::Node& n) {
    return "config file " + quote(source) + ": line " + std::to_string(n.Mark().line + 1) + ": ";
  };
  if (!path.empty() && !node.IsMap()) {
    throw ConfigError(where(node) + path + ": expected a mapping");
  }
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    const std::string full = path.empty() ? key : path + "." + key;
    const YAML::Node& value = entry.second;
    if (full == "rings") {
      apply_rings(value, source, config);
      continue;
    }
    if (const Option* opt = find_by_yaml(full)) {
      if (value.IsNull()) continue;  // "key:" with no value keeps the default, as Go's yaml does
      if (opt->kind == OptionKind::string_list) {
        opt->reset(config);
        if (value.IsScalar()) {
          opt->set(config, value.Scalar());
        } else if (value.IsSequence()) {
          for (const auto& item : value) {
            if (!item.IsScalar()) throw ConfigError(where(item) + full + ": list items must be strings");
            opt->set(config, item.Scalar());
          }
        } else {
          throw ConfigError(where(value) + full + ": expected a list of strings");
        }
        continue;
      }
      if (!value.IsScalar()) throw ConfigError(where(value) + full + ": expected a single value");
      if (auto err = opt->set(config, value.Scalar())) {
        throw ConfigError(where(value) + full + ": invalid value " + quote(value.Scalar()) + ": " + *err);
      }
    } else if (is_yaml_section(full)) {
      if (!value.IsNull()) apply_yaml_node(value, full, source, config);
    } else {
      throw ConfigError(where(entry.first) + "unknown field " + quote(full));
    }
  }
}

// `rings:` is a list of per-key settings, which the flat option table cannot express.
void apply_rings(const YAML::Node& node, const std::string& source, Config& config) {
  auto fail = [&](const YAML::Node& n, const std::string& what) -> void {
    throw ConfigError("config file " + quote(source) + ": line " + std::to_string(n.Mark().line + 1) + ": " + what);
  };
  if (node.IsNull()) return;
  if (!node.IsSequence()) fail(node, "rings: expected a list of {key, name, heartbeat_timeout, heartbeat_period}");
  config.ring.overrides.clear();
  for (const auto& item : node) {
    if (!item.IsMap()) fail(item, "rings: each entry must be a mapping");
    RingOverride r;
    for (const auto& e : item) {
      const std::string k = e.first.as<std::string>();
      if (!e.second.IsScalar()) fail(e.second, "rings." + k + ": expected a single value");
      const std::string v = e.second.Scalar();
      if (k == "key") {
        r.key = v;
      } else if (k == "name") {
        r.name = v;
      } else if (k == "heartbeat_timeout" || k == "heartbeat_period") {
        auto d = parse_go_duration(v);
        if (!d || d->count() <= 0) fail(e.second, "rings." + k + ": invalid value " + quote(v) + ": not a positive duration");
        (k == "heartbeat_timeout" ? r.heartbeat_timeout : r.heartbeat_period) = *d;
      } else {
        fail(e.first, "unknown field " + quote("rings." + k));
      }
    }
    if (r.key.empty()) fail(item, "rings: every entry needs a key");
    config.ring.overrides.push_back(std::move(r));
  }
}

// ---- flags ------------------------------------------------------------------

struct FlagValue {
  const Option* option;
  std::string value;
};

std::string describe_kind(OptionKind k) {
  switch (k) {
    case OptionKind::string: return "string";
    case OptionKind::boolean: return "";
    case OptionKind::integer: return "int";
    case OptionKind::duration: return "duration";
    case OptionKind::string_list: return "value";
  }
  return "";
}

}  // namespace

std::map<std::string, std::string> RingOptions::names_by_key() const {
  std::map<std::string, std::string> out;
  for (const auto& n : names) {
    auto eq = n.find('=');
    out[n.substr(0, eq)] = n.substr(eq + 1);
  }
  for (const auto& r : overrides) {
    if (!r.name.empty()) out[r.key] = r.name;
  }
  return out;
}

Duration RingOptions::heartbeat_timeout_for(const std::string& key) const {
  for (const auto& r : overrides) {
    if (r.key == key && r.heartbeat_timeout) return *r.heartbeat_timeout;
  }
  return heartbeat_timeout;
}

std::optional<Duration> RingOptions::heartbeat_period_for(const std::string& key) const {
  for (const auto& r : overrides) {
    if (r.key == key && r.heartbeat_period) return r.heartbeat_period;
  }
  return std::nullopt;
}

const std::vector<Option>& options() {
  static const std::vector<Option> kOptions = build_options();
  return kOptions;
}

void load_yaml_text(const std::string& text, const std::string& source, Config& config) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("config file " + quote(source) + ": line " + std::to_string(e.mark.line + 1) +
                      ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) return;  // an empty file keeps every default
  if (!root.IsMap()) throw ConfigError("config file " + quote(source) + ": expected a mapping at the top level");
  try {
    apply_yaml_node(root, "", source, config);
  } catch (const YAML::Exception& e) {  // e.g. a key that is a list or a mapping
    throw ConfigError("config file " + quote(source) + ": line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

void load_yaml_file(const std::string& path, Config& config) {
  std::ifstream in(path);
  if (!in) throw ConfigError("config file " + quote(path) + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  load_yaml_text(ss.str(), path, config);
}

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  std::vector<FlagValue> given;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      throw ConfigError("unexpected argument " + quote(arg) + " (flags start with -, see -help)");
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body;
    std::optional<std::string> value;
    if (auto eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
    }
    if (name == "h" || name == "help") {
      cl.action = Action::help;
      return cl;
    }
    if (name == "help.markdown") {
      cl.action = Action::help_markdown;
      return cl;
    }
    if (name == "version") {
      cl.action = Action::version;
      return cl;
    }
    const Option* opt = find_by_flag(name);
    if (!opt) throw ConfigError("unknown flag -" + name + " (see -help)");
    if (!value) {
      if (opt->kind == OptionKind::boolean) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        throw ConfigError("flag -" + name + " needs a value");
      }
    }
    given.push_back({opt, *value});
  }

  // The file first, then the flags over it; a repeated flag replaces the file's list.
  for (const auto& fv : given) {
    if (fv.option->flag == "config.file") cl.config.config_file = fv.value;
  }
  if (!cl.config.config_file.empty()) load_yaml_file(cl.config.config_file, cl.config);
  std::map<const Option*, bool> list_reset;
  for (const auto& fv : given) {
    if (fv.option->reset && !list_reset[fv.option]) {
      fv.option->reset(cl.config);
      list_reset[fv.option] = true;
    }
    if (auto err = fv.option->set(cl.config, fv.value)) {
      throw ConfigError("flag -" + fv.option->flag + ": invalid value " + quote(fv.value) + ": " + *err);
    }
  }
  validate(cl.config);
  return cl;
}

void validate(const Config& c) {
  auto is_ip = [](const std::string& s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
  };
  if (c.web_telemetry_path.empty() || c.web_telemetry_path[0] != '/') {
    throw ConfigError("web.telemetry-path: must start with /");
  }
  for (const auto& path : {"/", "/-/healthy", "/-/ready", "/ring", "/memberlist", "/propagation"}) {
    if (c.web_telemetry_path == path) throw ConfigError("web.telemetry-path: " + quote(path) + " is reserved");
  }
  if (c.web_listen_addresses.empty()) throw ConfigError("web.listen-address: at least one address is required");
  for (const auto& a : c.web_listen_addresses) {
    auto colon = a.rfind(':');
    if (colon == std::string::npos || colon + 1 == a.size()) {
      throw ConfigError("web.listen-address: " + quote(a) + " must be [host]:port");
    }
  }
  const auto& m = c.memberlist;
  for (const auto& a : m.bind_addr) {
    if (!is_ip(a)) throw ConfigError("memberlist.bind-addr: " + quote(a) + " is not an IP address");
  }
  if (!m.advertise_addr.empty() && !is_ip(m.advertise_addr)) {
    throw ConfigError("memberlist.advertise-addr: " + quote(m.advertise_addr) + " is not an IP address");
  }
  if (m.cluster_label.size() > 255) throw ConfigError("memberlist.cluster-label: longer than 255 bytes");
  if (m.node_name.size() > 255) throw ConfigError("memberlist.nodename: longer than 255 bytes");
  if (m.gossip_interval.count() <= 0) throw ConfigError("memberlist.gossip-interval: must be greater than 0");
  if (m.stream_timeout.count() <= 0) throw ConfigError("memberlist.stream-timeout: must be greater than 0");
  if (m.min_join_backoff > m.max_join_backoff) {
    throw ConfigError("memberlist.min-join-backoff: must not exceed memberlist.max-join-backoff");
  }
  if (m.tls_enabled && (m.tls_cert_path.empty() != m.tls_key_path.empty())) {
    throw ConfigError("memberlist.tls-cert-path: certificate and key must be given together");
  }
  if (m.probe_timeout >= m.probe_interval) {
    throw ConfigError("memberlist.probe-timeout: must be shorter than memberlist.probe-interval");
  }
  if (c.ring.heartbeat_timeout.count() <= 0) throw ConfigError("ring.heartbeat-timeout: must be greater than 0");
  for (const auto& n : c.ring.names) {
    auto eq = n.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == n.size()) {
      throw ConfigError("ring.name: \"" + n + "\" must be KEY=NAME");
    }
  }
  const auto& p = c.metrics.prefix;
  if (!p.empty() && (std::isdigit(static_cast<unsigned char>(p[0])) ||
                     !std::all_of(p.begin(), p.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; }))) {
    throw ConfigError("metrics.prefix: " + quote(p) + " is not a metric name prefix ([a-zA-Z_][a-zA-Z0-9_]*)");
  }
  if (c.metrics.minimum_window.count() <= 0) throw ConfigError("metrics.excess-delay-window: must be greater than 0");
  if (c.metrics.probes > 1) {
    if (m.bind_port != 0 && m.bind_port + c.metrics.probes - 1 > 65535) {
      throw ConfigError("probes: memberlist.bind-port + probes - 1 exceeds 65535");
    }
    if (!m.advertise_addr.empty() && m.advertise_port + c.metrics.probes - 1 > 65535) {
      throw ConfigError("probes: memberlist.advertise-port + probes - 1 exceeds 65535");
    }
  }
  for (const auto& k : m.encryption_keys) {
    auto key = base64_decode(k);
    size_t n = key ? key->size() : 0;
    if (n != 16 && n != 24 && n != 32) {
      throw ConfigError("memberlist.encryption-key: not the base64 of a 16, 24 or 32 byte key");
    }
  }
  if (c.limits.read_deadline.count() <= 0) throw ConfigError("limits.read-deadline: must be greater than 0");
  if (m.tls_enabled && m.transport == "udp") {
    throw ConfigError("memberlist.tls-enabled: TLS needs the tcp transport");
  }
}

std::string usage_text() {
  std::ostringstream out;
  out << "Usage: ringwatch [flags]\n\n"
         "ringwatch joins a memberlist gossip cluster (Grafana Mimir, Loki, Tempo, Pyroscope, Cortex) as a\n"
         "passive member, rebuilds every hash ring in its KV store and exports ring health and gossip\n"
         "propagation metrics for Prometheus. Flags take one or two dashes and =value or a separate value.\n\n";
  for (const auto& o : options()) {
    out << "  -" << o.flag;
    if (auto k = describe_kind(o.kind); !k.empty()) out << " " << k;
    out << "\n        " << o.help;
    Config defaults;
    std::string def = o.render(defaults);
    if (!def.empty()) out << " (default " << (o.kind == OptionKind::string ? quote(def) : def) << ")";
    if (!o.yaml.empty()) out << " [YAML: " << o.yaml << "]";
    out << "\n";
  }
  out << "  -help\n        Show this help and exit.\n"
         "  -help.markdown\n        Print the configuration reference as a Markdown table and exit.\n"
         "  -version\n        Show version information and exit.\n";
  return out.str();
}

std::string version_text() {
  std::ostringstream out;
  out << "ringwatch, version " << build::kVersion << " (branch: " << build::kBranch
      << ", revision: " << build::kRevision << ")\n  compiler: " << build::kCompiler << "\n";
  return out.str();
}

std::string options_markdown() {
  std::ostringstream out;
  out << "| Flag | YAML key | Type | Default | Description |\n|---|---|---|---|---|\n";
  Config defaults;
  for (const auto& o : options()) {
    std::string kind = o.kind == OptionKind::boolean ? "bool" : describe_kind(o.kind);
    if (o.kind == OptionKind::string_list) kind = "list of strings";
    std::string def = o.render(defaults);
    out << "| `-" << o.flag << "` | " << (o.yaml.empty() ? "—" : "`" + o.yaml + "`") << " | " << kind << " | "
        << (def.empty() ? "" : "`" + def + "`") << " | " << o.help << " |\n";
  }
  return out.str();
}

}  // namespace ringwatch
