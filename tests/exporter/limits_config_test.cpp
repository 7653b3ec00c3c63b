// -limits.*: defaults equal the member's and the store's own, flags and YAML reach both, bad
// values stop ringwatch with one line naming the field (KV limit hits on /metrics: collectors_test).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "exporter/config.h"
#include "exporter/member_config.h"

using namespace std::chrono_literals;
using namespace ringwatch;

namespace {

std::string error_of(std::vector<std::string> args) {
  try {
    parse_command_line(args);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

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
  const auto path = std::filesystem::temp_directory_path() / ("ringwatch-limits-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "limits:\n  max_connections: 9\n  read_deadline: 3s\n  max_packet_size: 1024\n"
                         "  max_stream_size: 1048576\n  max_decompressed_size: 2097152\n  max_keys: 10\n"
                         "  max_instances: 11\n  max_tokens: 12\n";
  const Config c = parse_command_line({"-config.file", path.string(), "-limits.max-keys=20"}).config;
  std::filesystem::remove(path);
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
