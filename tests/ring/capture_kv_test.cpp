// Replays each real dskit capture through the gossip decoders into KvStore, in capture order, and
// compares the final rings with the truth files' expected_final_state_from_wire.
#include <gtest/gtest.h>

#include <variant>

#include "gossip/packet.h"
#include "gossip/stream.h"
#include "gossip/transport_frame.h"
#include "ring/kv_store.h"
#include "ring_test_util.h"
#include "tests/support/pcap_replay.h"

namespace ringwatch::ring {
namespace {

std::string_view chars(gossip::ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

struct Replay {
  KvStore store;
  std::vector<ChangeEvent> events;
  size_t user_messages = 0;
  size_t push_pulls = 0;
};

void feed_stream(gossip::ByteView bytes, bool from_dialer, const std::string& label, const Delivery& from, Replay& r) {
  gossip::StreamDecodeOptions opts;
  opts.expect_label = from_dialer;
  opts.label = label;
  auto step = gossip::parse_stream_message(bytes, opts);
  ASSERT_TRUE(step.ok()) << step.error().detail;
  auto* d = std::get_if<gossip::StreamDecoded>(&*step);
  ASSERT_NE(d, nullptr);
  if (auto* pp = std::get_if<gossip::PushPull>(&d->message)) {
    ++r.push_pulls;
    const PushPullResult res = r.store.apply_push_pull(chars(pp->user_state), from, r.events);
    EXPECT_FALSE(res.stopped.has_value()) << res.stopped->detail;
    EXPECT_EQ(res.failed, 0u);
  }
}

void replay(const std::string& name) {
  const auto truth = testing::read_json(testing::fixture_path("dskit-2023/" + name + ".truth.json"));
  const std::string label = truth.at("cluster_label").is_string() ? truth.at("cluster_label").get<std::string>() : "";
  const auto pcap = ringwatch::testing::read_pcap_connections(testing::fixture_path("dskit-2023/" + name + ".pcap"));
  Replay r;
  for (const auto& c : pcap.connections) {
    if (c.client_to_server.empty()) continue;
    const Delivery from{Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.start_time))),
                        c.client, Source::gossip};
    const gossip::ByteView c2s(c.client_to_server);
    if (c2s[0] == static_cast<uint8_t>(gossip::ConnectionType::packet)) {
      auto frame = gossip::parse_packet_frame(c2s);
      ASSERT_TRUE(frame.ok()) << frame.error().detail;
      gossip::PacketDecodeOptions opts;
      opts.label = label;
      auto packet = gossip::decode_packet(frame->payload, opts);
      ASSERT_TRUE(packet.ok()) << packet.error().detail;
      for (const gossip::Message& m : packet->messages) {
        if (auto* u = std::get_if<gossip::UserPacket>(&m)) {
          ++r.user_messages;
          const ApplyResult res = r.store.apply_user_message(chars(u->payload), from, r.events);
          EXPECT_TRUE(res.status == ApplyStatus::changed || res.status == ApplyStatus::unchanged)
              << apply_status_name(res.status);
        }
      }
    } else {
      const Delivery client{from.arrival, c.client, Source::pushpull};
      const Delivery server{from.arrival, c.server, Source::pushpull};
      feed_stream(c2s.subspan(1), true, label, client, r);
      if (!c.server_to_client.empty()) feed_stream(gossip::ByteView(c.server_to_client), false, label, server, r);
    }
  }
  EXPECT_GT(r.user_messages, 0u);
  EXPECT_GT(r.push_pulls, 0u);

  const auto& expected = truth.at("expected_final_state_from_wire").at("state");
  auto snap = r.store.snapshot();
  EXPECT_EQ(snap->keys.size(), expected.size());
  for (const auto& [key, instances] : expected.items()) {
    const RingState* ring = r.store.ring(key);
    ASSERT_NE(ring, nullptr) << key;
    testing::expect_ring_matches_truth(ring->to_desc(), instances, name + " " + key);
    // Readers see the same minus tombstones.
    const KeySnapshot* k = snap->find(key);
    ASSERT_NE(k, nullptr);
    size_t live = 0;
    for (const auto& [id, t] : instances.items()) live += t.at("state") != "LEFT";
    EXPECT_EQ(k->ring->instances.size(), live);
  }
  // Gossip redundancy is visible: the same heartbeat arrives many times.
  size_t duplicates = 0;
  for (const auto& e : r.events) duplicates += e.duplicate && e.changed == kChangedNone;
  EXPECT_GT(duplicates, 0u);
}

TEST(CaptureKv, NolabelLzw) { replay("nolabel-lzw"); }
TEST(CaptureKv, LabelLzw) { replay("label-lzw"); }
TEST(CaptureKv, Nocompress) { replay("nocompress"); }
TEST(CaptureKv, TwoRings) { replay("two-rings"); }

}  // namespace
}  // namespace ringwatch::ring
