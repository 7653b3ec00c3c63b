#include "exporter/config.h"
#include "exporter/member_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace std::chrono_literals;
using namespace ringwatch;

namespace {

// A temporary YAML file that is removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = std::filesystem::temp_directory_path() /
            ("ringwatch-config-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".yaml");
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

Config parse(std::vector<std::string> args) { return parse_command_line(args).config; }

std::string error_of(std::vector<std::string> args) {
  try {
    parse_command_line(args);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// A memberlist block as it appears in a Mimir or Loki configuration file.
const char* kMimirBlock = R"(
memberlist:
  node_name: observer
  randomize_node_name: false
  stream_timeout: 5s
  retransmit_factor: 2
  pull_push_interval: 1m30s
  gossip_interval: 100ms
  gossip_nodes: 5
  gossip_to_dead_nodes_time: 20s
  dead_node_reclaim_time: 0s
  compression_enabled: false
  notify_interval: 0s
  advertise_addr: 10.0.0.7
  advertise_port: 7947
  cluster_label: prod-eu
  cluster_label_verification_disabled: true
  join_members:
    - dns+gossip-ring.mimir.svc.cluster.local:7946
    - 10.0.0.1
  min_join_backoff: 2s
  max_join_backoff: 2m
  max_join_retries: 20
  abort_if_cluster_fast_join_fails: false
  abort_if_cluster_join_fails: true
  rejoin_interval: 10m
  left_ingesters_timeout: 10m
  obsolete_entries_timeout: 30s
  leave_timeout: 15s
  broadcast_timeout_for_local_updates_on_shutdown: 10s
  message_history_buffer_bytes: 0
  watch_prefix_buffer_size: 128
  bind_addr: [10.0.0.7]
  bind_port: 7946
  packet_dial_timeout: 2s
  packet_write_timeout: 5s
  max_concurrent_writes: 3
  acquire_writer_timeout: 250ms
  tls_enabled: true
  tls_cert_path: /certs/tls.crt
  tls_key_path: /certs/tls.key
  tls_ca_path: /certs/ca.crt
  tls_server_name: gossip.mimir
  tls_insecure_skip_verify: false
  tls_cipher_suites: ""
  tls_min_version: VersionTLS12
  zone_aware_routing:
    enabled: false
    instance_availability_zone: ""
    role: member
)";

}  // namespace

TEST(Config, DefaultsAreDskits) {
  Config c = parse({});
  EXPECT_TRUE(c.memberlist.randomize_node_name);
  EXPECT_EQ(c.memberlist.stream_timeout, 2s);
  EXPECT_EQ(c.memberlist.retransmit_factor, 4);
  EXPECT_EQ(c.memberlist.pull_push_interval, 30s);
  EXPECT_EQ(c.memberlist.gossip_interval, 200ms);
  EXPECT_EQ(c.memberlist.gossip_nodes, 3);
  EXPECT_EQ(c.memberlist.bind_port, 7946);
  EXPECT_EQ(c.memberlist.advertise_port, 7946);
  EXPECT_EQ(c.memberlist.left_ingesters_timeout, 5min);
  EXPECT_EQ(c.memberlist.min_join_backoff, 1s);
  EXPECT_EQ(c.memberlist.max_join_backoff, 1min);
  EXPECT_EQ(c.memberlist.max_join_retries, 10);
  EXPECT_TRUE(c.memberlist.compression_enabled);
  EXPECT_EQ(c.memberlist.transport, "tcp");
  EXPECT_EQ(c.web_listen_addresses, std::vector<std::string>{":10946"});
  EXPECT_EQ(c.web_telemetry_path, "/metrics");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_format, "logfmt");
}

TEST(Config, AcceptsAPastedMimirMemberlistBlock) {
  TempFile f(kMimirBlock);
  Config c = parse({"-config.file", f.path()});
  const auto& m = c.memberlist;
  EXPECT_EQ(m.node_name, "observer");
  EXPECT_FALSE(m.randomize_node_name);
  EXPECT_EQ(m.stream_timeout, 5s);
  EXPECT_EQ(m.retransmit_factor, 2);
  EXPECT_EQ(m.pull_push_interval, 90s);
  EXPECT_EQ(m.gossip_interval, 100ms);
  EXPECT_EQ(m.gossip_nodes, 5);
  EXPECT_FALSE(m.compression_enabled);
  EXPECT_EQ(m.advertise_addr, "10.0.0.7");
  EXPECT_EQ(m.advertise_port, 7947);
  EXPECT_EQ(m.cluster_label, "prod-eu");
  EXPECT_TRUE(m.cluster_label_verification_disabled);
  EXPECT_EQ(m.join_members,
            (std::vector<std::string>{"dns+gossip-ring.mimir.svc.cluster.local:7946", "10.0.0.1"}));
  EXPECT_TRUE(m.abort_if_join_fails);
  EXPECT_EQ(m.rejoin_interval, 10min);
  EXPECT_EQ(m.left_ingesters_timeout, 10min);
  EXPECT_EQ(m.bind_addr, std::vector<std::string>{"10.0.0.7"});
  EXPECT_TRUE(m.tls_enabled);
  EXPECT_EQ(m.tls_ca_path, "/certs/ca.crt");
  EXPECT_EQ(m.tls_server_name, "gossip.mimir");
  EXPECT_EQ(m.tls_min_version, "VersionTLS12");
}

TEST(Config, FlagsTakeOneOrTwoDashesAndEitherValueForm) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"-memberlist.bind-port=8000"},
           {"--memberlist.bind-port=8000"},
           {"-memberlist.bind-port", "8000"},
           {"--memberlist.bind-port", "8000"}}) {
    EXPECT_EQ(parse(args).memberlist.bind_port, 8000);
  }
}

TEST(Config, BooleanFlagsStandAloneOrTakeAValue) {
  EXPECT_TRUE(parse({"-memberlist.tls-insecure-skip-verify"}).memberlist.tls_insecure_skip_verify);
  EXPECT_FALSE(parse({"-memberlist.randomize-node-name=false"}).memberlist.randomize_node_name);
  EXPECT_TRUE(parse({"--memberlist.cluster-label-verification-disabled=true"})
                  .memberlist.cluster_label_verification_disabled);
}

TEST(Config, RepeatableFlagsAccumulateAndSplitCommas) {
  Config c = parse({"-memberlist.join", "a:7946", "-memberlist.join=b", "--memberlist.join=c:1,d:2"});
  EXPECT_EQ(c.memberlist.join_members, (std::vector<std::string>{"a:7946", "b", "c:1", "d:2"}));
  c = parse({"-web.listen-address=127.0.0.1:1", "-web.listen-address=127.0.0.1:2"});
  EXPECT_EQ(c.web_listen_addresses, (std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2"}));
}

TEST(Config, FlagsOverrideTheFileWhateverTheirOrder) {
  TempFile f("memberlist:\n  bind_port: 7000\n  join_members: [x, y]\n  gossip_nodes: 7\n");
  Config c = parse({"-memberlist.bind-port=7100", "-config.file", f.path(), "-memberlist.join=z"});
  EXPECT_EQ(c.memberlist.bind_port, 7100);
  EXPECT_EQ(c.memberlist.join_members, std::vector<std::string>{"z"});  // replaced, not appended
  EXPECT_EQ(c.memberlist.gossip_nodes, 7);                              // from the file
}

TEST(Config, EmptyFileAndNullValuesKeepDefaults) {
  TempFile empty("");
  EXPECT_EQ(parse({"-config.file", empty.path()}).memberlist.bind_port, 7946);
  TempFile nulls("memberlist:\n  bind_port:\n  cluster_label:\n");
  EXPECT_EQ(parse({"-config.file", nulls.path()}).memberlist.bind_port, 7946);
}

TEST(Config, AcceptsScalarWhereAListIsExpected) {
  TempFile f("memberlist:\n  join_members: seed:7946\n");
  EXPECT_EQ(parse({"-config.file", f.path()}).memberlist.join_members, std::vector<std::string>{"seed:7946"});
}

TEST(Config, ErrorsNameTheFieldInOneLine) {
  struct Case {
    std::string yaml;
    std::string expected;  // a substring of the error
  };
  std::vector<Case> cases = {
      {"memberlist:\n  bind_port: abc\n", "line 2: memberlist.bind_port: invalid value \"abc\": not an integer"},
      {"memberlist:\n  bind_port: 70000\n", "memberlist.bind_port: invalid value \"70000\": out of range"},
      {"memberlist:\n  gossip_interval: 5\n", "memberlist.gossip_interval: invalid value \"5\": not a duration"},
      {"memberlist:\n  compression_enabled: maybe\n", "memberlist.compression_enabled: invalid value \"maybe\""},
      {"memberlist:\n  unknown_key: 1\n", "line 2: unknown field \"memberlist.unknown_key\""},
      {"memberlst:\n  bind_port: 1\n", "line 1: unknown field \"memberlst\""},
      {"memberlist: 5\n", "memberlist: expected a mapping"},
      {"memberlist:\n  join_members:\n    a: b\n", "memberlist.join_members: expected a list of strings"},
      {"memberlist:\n  bind_port: [1, 2]\n", "memberlist.bind_port: expected a single value"},
      {"memberlist:\n  bind_addr: [example.com]\n", "memberlist.bind-addr: \"example.com\" is not an IP address"},
      {"memberlist:\n  zone_aware_routing:\n    role: boss\n", "memberlist.zone_aware_routing.role"},
      {"log:\n  level: chatty\n", "log.level: invalid value \"chatty\": must be one of debug, info, warn, error"},
      {"memberlist: [\n", "invalid YAML"},
  };
  for (const auto& c : cases) {
    TempFile f(c.yaml);
    std::string err = error_of({"-config.file", f.path()});
    EXPECT_NE(err.find(c.expected), std::string::npos) << "yaml:\n" << c.yaml << "error: " << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
  }
}

TEST(Config, FlagErrorsNameTheFlag) {
  EXPECT_EQ(error_of({"-no.such-flag=1"}), "unknown flag -no.such-flag (see -help)");
  EXPECT_EQ(error_of({"-memberlist.gossip-nodes=three"}),
            "flag -memberlist.gossip-nodes: invalid value \"three\": not an integer");
  EXPECT_EQ(error_of({"-memberlist.pullpush-interval=10"}),
            "flag -memberlist.pullpush-interval: invalid value \"10\": not a duration (Go syntax, e.g. 200ms, 1m30s)");
  EXPECT_EQ(error_of({"-memberlist.stream-timeout=-1s"}),
            "flag -memberlist.stream-timeout: invalid value \"-1s\": must not be negative");
  EXPECT_EQ(error_of({"-memberlist.bind-port"}), "flag -memberlist.bind-port needs a value");
  EXPECT_EQ(error_of({"positional"}), "unexpected argument \"positional\" (flags start with -, see -help)");
  EXPECT_EQ(error_of({"-log.format=xml"}), "flag -log.format: invalid value \"xml\": must be one of logfmt, json");
  EXPECT_EQ(error_of({"-config.file=/nonexistent/ringwatch.yaml"}),
            "config file \"/nonexistent/ringwatch.yaml\": cannot be read");
}

TEST(Config, ValidationRulesNameTheField) {
  EXPECT_EQ(error_of({"-web.telemetry-path=metrics"}), "web.telemetry-path: must start with /");
  EXPECT_EQ(error_of({"-web.telemetry-path=/-/ready"}), "web.telemetry-path: \"/-/ready\" is reserved");
  EXPECT_EQ(error_of({"-web.listen-address=10946"}), "web.listen-address: \"10946\" must be [host]:port");
  EXPECT_EQ(error_of({"-memberlist.advertise-addr=host.example"}),
            "memberlist.advertise-addr: \"host.example\" is not an IP address");
  EXPECT_EQ(error_of({"-memberlist.cluster-label=" + std::string(256, 'x')}),
            "memberlist.cluster-label: longer than 255 bytes");
  EXPECT_EQ(error_of({"-memberlist.gossip-interval=0s"}), "memberlist.gossip-interval: must be greater than 0");
  EXPECT_EQ(error_of({"-memberlist.min-join-backoff=2m", "-memberlist.max-join-backoff=1m"}),
            "memberlist.min-join-backoff: must not exceed memberlist.max-join-backoff");
  EXPECT_EQ(error_of({"-memberlist.tls-enabled", "-memberlist.transport=udp"}),
            "memberlist.tls-enabled: TLS needs the tcp transport");
}

TEST(Config, HelpAndVersionAreActions) {
  EXPECT_EQ(parse_command_line({"-help"}).action, Action::help);
  EXPECT_EQ(parse_command_line({"--help"}).action, Action::help);
  EXPECT_EQ(parse_command_line({"-h"}).action, Action::help);
  EXPECT_EQ(parse_command_line({"-version"}).action, Action::version);
  EXPECT_EQ(parse_command_line({"--version"}).action, Action::version);
}

TEST(Config, HelpListsEveryFlagWithDefaultAndMeaning) {
  std::string help = usage_text();
  for (const auto& o : options()) {
    bool listed = help.find("  -" + o.flag + " ") != std::string::npos || help.find("  -" + o.flag + "\n") != std::string::npos;
    EXPECT_TRUE(listed) << o.flag;
    EXPECT_FALSE(o.help.empty()) << o.flag;
  }
  EXPECT_NE(help.find("-memberlist.bind-port int\n"), std::string::npos);
  EXPECT_NE(help.find("(default 7946) [YAML: memberlist.bind_port]"), std::string::npos);
  EXPECT_NE(help.find("(default 200ms)"), std::string::npos);
}

TEST(Config, EveryYamlKeyIsReachable) {
  // Each option's YAML path must parse back to the same option with a valid value.
  Config defaults;
  for (const auto& o : options()) {
    if (o.yaml.empty()) continue;
    std::string value = o.render(defaults);
    std::string yaml;
    std::string indent;
    size_t start = 0;
    for (size_t dot; (dot = o.yaml.find('.', start)) != std::string::npos; start = dot + 1) {
      yaml += indent + o.yaml.substr(start, dot - start) + ":\n";
      indent += "  ";
    }
    std::string leaf = o.yaml.substr(start);
    if (o.kind == OptionKind::string_list) {
      yaml += indent + leaf + ": [" + value + "]\n";
    } else {
      yaml += indent + leaf + ": \"" + value + "\"\n";
    }
    TempFile f(yaml);
    EXPECT_EQ(error_of({"-config.file", f.path()}), "") << yaml;
  }
}

TEST(Config, RingNamesAndPerRingHeartbeatTimeouts) {
  TempFile f(R"(
ring:
  heartbeat_timeout: 2m
rings:
  - key: collectors/ring
    name: ingester-eu
    heartbeat_timeout: 30s
  - key: custom/key
    name: custom
)");
  Config c = parse({"-config.file", f.path(), "-ring.name=other/key=other", "-ring.name=custom/key=overridden"});
  auto names = c.ring.names_by_key();
  EXPECT_EQ(names["collectors/ring"], "ingester-eu");
  EXPECT_EQ(names["other/key"], "other");
  EXPECT_EQ(names["custom/key"], "custom");  // the file's list is the more specific setting
  EXPECT_EQ(c.ring.heartbeat_timeout_for("collectors/ring"), 30s);
  EXPECT_EQ(c.ring.heartbeat_timeout_for("custom/key"), 2min);
  EXPECT_EQ(c.ring.heartbeat_timeout_for("unknown"), 2min);
}

TEST(Config, RingListErrorsNameTheField) {
  for (auto [yaml, expected] : std::vector<std::pair<std::string, std::string>>{
           {"rings: 5\n", "rings: expected a list"},
           {"rings:\n  - name: x\n", "rings: every entry needs a key"},
           {"rings:\n  - key: k\n    timeout: 1m\n", "unknown field \"rings.timeout\""},
           {"rings:\n  - key: k\n    heartbeat_timeout: soon\n", "rings.heartbeat_timeout: invalid value \"soon\""}}) {
    TempFile f(yaml);
    std::string err = error_of({"-config.file", f.path()});
    EXPECT_NE(err.find(expected), std::string::npos) << yaml << " -> " << err;
  }
  EXPECT_EQ(error_of({"-ring.name=justakey"}), "ring.name: \"justakey\" must be KEY=NAME");
}

TEST(Config, EncryptionKeysAreBase64Of16To32Bytes) {
  Config c = parse({"-memberlist.encryption-key=cmluZ3dhdGNoLXRlc3Qta2V5MTIzNDU2Nzg5MGFiY2Q="});
  ASSERT_EQ(c.memberlist.encryption_keys.size(), 1u);
  const std::string expected = "not the base64 of a 16, 24 or 32 byte key";
  for (const char* bad : {"c2hvcnQ=", "not base64!", "cmluZ3dhdGNoLXRlc3Qta2V5MTIzNDU2Nzg5MGFiY2Q"}) {
    EXPECT_NE(error_of({std::string("-memberlist.encryption-key=") + bad}).find(expected), std::string::npos) << bad;
  }
}

// -limits.*: defaults equal the member's and the store's own, flags and YAML reach both, bad
// values stop ringwatch with one line naming the field.
TEST(LimitsConfig, DefaultsAreTheMembersAndTheStores) {
  const Config c;
  const gossip::MemberLimits member;
  const ring::StoreLimits store;
  const auto g = member_config(c).limits;
  EXPECT_EQ(g.max_concurrent_connections, member.max_concurrent_connections);
  EXPECT_EQ(g.connection_read_deadline, member.connection_read_deadline);
  EXPECT_EQ(g.max_packet_bytes, member.max_packet_bytes);
  EXPECT_EQ(g.max_stream_bytes, member.max_stream_bytes);
  EXPECT_EQ(g.max_decompressed_bytes, member.max_decompressed_bytes);
  EXPECT_EQ(g.max_concurrent_pushpulls, member.max_concurrent_pushpulls);
  const auto s = store_options(c, ring::RingNames::defaults()).limits;
  EXPECT_EQ(s.max_keys, store.max_keys);
  EXPECT_EQ(s.max_instances, store.max_instances);
  EXPECT_EQ(s.max_tokens, store.max_tokens);
  // Room for the largest real rings: 10,000 instances of 512 tokens, a ~26 MB push/pull.
  EXPECT_GE(s.max_instances, 10'000u);
  EXPECT_GE(s.max_tokens, 10'000u * 512);
  EXPECT_GE(g.max_stream_bytes, 40u << 20);
  EXPECT_GE(g.max_decompressed_bytes, 40u << 20);
}

TEST(LimitsConfig, FlagsReachTheMemberAndTheStore) {
  const Config c = parse_command_line({"-limits.max-connections=8", "-limits.read-deadline=1500ms",
                                       "-limits.max-packet-size=2048", "-limits.max-stream-size=4096",
                                       "-limits.max-decompressed-size=8192", "-limits.max-keys=3",
                                       "-limits.max-instances=4", "-limits.max-tokens=5"})
                       .config;
  const auto g = member_config(c).limits;
  EXPECT_EQ(g.max_concurrent_connections, 8u);
  EXPECT_EQ(g.connection_read_deadline, 1500ms);
  EXPECT_EQ(g.max_packet_bytes, 2048u);
  EXPECT_EQ(g.max_stream_bytes, 4096u);
  EXPECT_EQ(g.max_decompressed_bytes, 8192u);
  const auto s = store_options(c, ring::RingNames::defaults());
  EXPECT_EQ(s.limits.max_keys, 3u);
  EXPECT_EQ(s.limits.max_instances, 4u);
  EXPECT_EQ(s.limits.max_tokens, 5u);
  EXPECT_EQ(s.left_ingesters_timeout, 5min);
}

TEST(LimitsConfig, YamlKeys) {
  TempFile f(
      "limits:\n  max_connections: 9\n  read_deadline: 3s\n  max_packet_size: 1024\n"
      "  max_stream_size: 1048576\n  max_decompressed_size: 2097152\n  max_keys: 10\n"
      "  max_instances: 11\n  max_tokens: 12\n");
  const Config c = parse({"-config.file", f.path(), "-limits.max-keys=20"});
  EXPECT_EQ(c.limits.max_connections, 9);
  EXPECT_EQ(c.limits.read_deadline, 3s);
  EXPECT_EQ(c.limits.max_packet_size, 1024);
  EXPECT_EQ(c.limits.max_stream_size, 1 << 20);
  EXPECT_EQ(c.limits.max_decompressed_size, 2 << 20);
  EXPECT_EQ(c.limits.max_keys, 20);  // the flag wins
  EXPECT_EQ(c.limits.max_instances, 11);
  EXPECT_EQ(c.limits.max_tokens, 12);
}

TEST(LimitsConfig, InvalidValuesNameTheField) {
  EXPECT_EQ(error_of({"-limits.max-connections=0"}),
            "flag -limits.max-connections: invalid value \"0\": out of range [1, 65535]");
  EXPECT_EQ(error_of({"-limits.max-stream-size=1MiB"}),
            "flag -limits.max-stream-size: invalid value \"1MiB\": not an integer");
  EXPECT_EQ(error_of({"-limits.max-packet-size=100"}),
            "flag -limits.max-packet-size: invalid value \"100\": out of range [1024, 1073741824]");
  EXPECT_EQ(error_of({"-limits.max-tokens=-1"}), "flag -limits.max-tokens: invalid value \"-1\": out of range [1, 1073741824]");
  EXPECT_EQ(error_of({"-limits.read-deadline=0s"}), "limits.read-deadline: must be greater than 0");
  EXPECT_EQ(error_of({"-limits.read-deadline=10"}),
            "flag -limits.read-deadline: invalid value \"10\": not a duration (Go syntax, e.g. 200ms, 1m30s)");
}
