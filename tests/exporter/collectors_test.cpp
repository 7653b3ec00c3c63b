// Ring metrics from the KV store: names, per-ring heartbeat timeouts and dskit's states.
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "exporter/collectors.h"
#include "exporter/member_config.h"
#include "exporter/metrics.h"

using namespace std::chrono_literals;
using namespace ringwatch;

namespace {

// dskit-kv-ring.md §4.4: Go's encoding of KeyValuePair{collectors/ring, snappy(Desc{ingester-1:
// ACTIVE, timestamp 1700000000, tokens [1, 300, 4000000000], zone-a}), ringDesc}.
const char* kKeyValuePairHex =
    "0a0f636f6c6c6563746f72732f72696e67124a49500a470a0a696e6765737465722d3112390a0d31302e0102bc313a393039351080e2cf"
    "aa06320801ac0280d0acf30e3a067a6f6e652d614080b5eda5064a0a696e6765737465722d311a0872696e6744657363";

std::vector<uint8_t> unhex(const std::string& h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

std::string scrape(Observer& observer, const RingOptions& rings) {
  return render_text({std::make_shared<RingCollector>(observer, rings)});
}

void deliver(Observer& observer) {
  auto bytes = unhex(kKeyValuePairHex);
  gossip::ReceivedPayload p;
  p.via = gossip::Via::gossip;
  p.bytes = gossip::ByteView(bytes.data(), bytes.size());
  p.peer_address = "10.0.0.2:7946";
  p.received_wall = std::chrono::system_clock::now();
  observer.on_payload(p);
}

}  // namespace

TEST(RingCollector, CountsStatesAsDskitWithTheRingsTimeout) {
  Observer observer(ring::StoreOptions{});
  deliver(observer);

  RingOptions rings;  // 1m: a heartbeat from 2023 is long stale
  std::string text = scrape(observer, rings);
  EXPECT_NE(text.find("ring_members{key=\"collectors/ring\",name=\"ingester\",state=\"Unhealthy\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ring_members{key=\"collectors/ring\",name=\"ingester\",state=\"ACTIVE\"} 0"), std::string::npos);
  EXPECT_NE(text.find("ring_oldest_member_timestamp{key=\"collectors/ring\",name=\"ingester\",state=\"Unhealthy\"} "
                      "1700000000"),
            std::string::npos);
  EXPECT_NE(text.find("ring_tokens_total{key=\"collectors/ring\",name=\"ingester\"} 3"), std::string::npos);

  // A per-ring timeout long enough makes the same instance healthy.
  rings.overrides.push_back({"collectors/ring", "", std::chrono::hours(24 * 365 * 100)});
  text = scrape(observer, rings);
  EXPECT_NE(text.find("ring_members{key=\"collectors/ring\",name=\"ingester\",state=\"ACTIVE\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("ring_oldest_member_timestamp{key=\"collectors/ring\",name=\"ingester\",state=\"ACTIVE\"} "
                      "1700000000"),
            std::string::npos);
}

TEST(RingCollector, UsesConfiguredRingNames) {
  ring::RingNames names = ring::RingNames::defaults();
  names.set("collectors/ring", "ingester-eu");
  Observer observer(ring::StoreOptions{std::chrono::minutes(5), names});
  deliver(observer);
  std::string text = scrape(observer, RingOptions{});
  EXPECT_NE(text.find("ring_tokens_total{key=\"collectors/ring\",name=\"ingester-eu\"} 3"), std::string::npos) << text;
}

TEST(MemberConfig, DecodesEncryptionKeysToRawBytes) {
  Config c;
  c.memberlist.encryption_keys = {"cmluZ3dhdGNoLXRlc3Qta2V5MTIzNDU2Nzg5MGFiY2Q="};
  EXPECT_EQ(member_config(c).encryption_keys, std::vector<std::string>{"ringwatch-test-key1234567890abcd"});
}

TEST(RingCollector, ExportsKvLimitHits) {
  ring::StoreOptions options;
  options.limits.max_keys = 0;  // every new key is over the limit
  Observer observer(options);
  deliver(observer);
  deliver(observer);
  const std::string text = scrape(observer, RingOptions{});
  EXPECT_NE(text.find("ringwatch_kv_limit_hits_total{limit=\"keys\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("ringwatch_kv_limit_hits_total{limit=\"instances\"} 0"), std::string::npos);
  EXPECT_NE(text.find("ringwatch_kv_limit_hits_total{limit=\"tokens\"} 0"), std::string::npos);
  EXPECT_NE(text.find("ringwatch_kv_updates_total{outcome=\"over_limit\"} 2"), std::string::npos);
  EXPECT_NE(text.find("ringwatch_kv_keys 0"), std::string::npos);
}
