// Two C++ members over loopback (dskit TCP transport, then standard UDP), and
// hostile input thrown at a member's socket.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <thread>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include "gossip/compression.h"
#include "gossip/member.h"
#include "gossip/messages.h"
#include "gossip/packet.h"
#include "gossip/stream.h"
#include "gossip/transport_frame.h"

namespace ringwatch::gossip {
namespace {

using namespace std::chrono_literals;

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

MemberConfig fast_config(const std::string& name, TransportKind transport) {
  MemberConfig c;
  c.node_name = name;
  c.randomize_node_name = false;
  c.bind_addrs = {"127.0.0.1"};
  c.bind_port = 0;
  c.transport = transport;
  c.probe_interval = 200ms;
  c.probe_timeout = 100ms;
  c.gossip_interval = 50ms;
  c.pull_push_interval = 1s;
  c.leave_timeout = 2s;
  c.min_join_backoff = 100ms;
  c.max_join_backoff = 200ms;
  return c;
}

std::optional<MemberView> view_of(const Member& m, const std::string& name) {
  auto snap = m.snapshot();
  for (auto& v : snap->members)
    if (v.name == name) return v;
  return std::nullopt;
}

bool sees(const Member& m, const std::string& name, NodeState state) {
  auto v = view_of(m, name);
  return v && v->state == state;
}

class CountingSink : public EventSink {
 public:
  void on_payload(const ReceivedPayload&) override { ++payloads; }
  std::atomic<int> payloads{0};
};

class SenderSink : public EventSink {
 public:
  void on_payload(const ReceivedPayload& p) override {
    std::lock_guard lock(mu);
    senders.emplace_back(p.peer_name, p.peer_address);
  }
  std::vector<std::pair<std::string, std::string>> seen() {
    std::lock_guard lock(mu);
    return senders;
  }
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> senders;
};

class TwoMembers : public ::testing::TestWithParam<TransportKind> {};

TEST_P(TwoMembers, JoinProbeAndGracefulLeave) {
  Member seed(fast_config("seed", GetParam()), nullptr);
  seed.start();
  auto cfg = fast_config("joiner", GetParam());
  cfg.join_members = {"127.0.0.1:" + std::to_string(seed.bound_port())};
  Member joiner(cfg, nullptr);
  joiner.start();

  ASSERT_TRUE(wait_until([&] { return joiner.join_status() == JoinStatus::joined; }, 5s));
  ASSERT_TRUE(wait_until([&] { return sees(seed, "joiner", NodeState::alive) && sees(joiner, "seed", NodeState::alive); }, 5s));
  EXPECT_TRUE(joiner.full_state_received());
  EXPECT_GE(joiner.counters().pushpulls_out.load(), 1u);
  EXPECT_GE(seed.counters().pushpulls_in.load(), 1u);

  // Several probe rounds each way with acks, and nobody is ever suspected.
  auto acks_before = seed.counters().messages_received[static_cast<int>(MessageType::ack_resp)].load();
  std::this_thread::sleep_for(1500ms);  // observation window, not synchronisation
  EXPECT_GE(seed.counters().messages_received[static_cast<int>(MessageType::ack_resp)].load(), acks_before + 3);
  EXPECT_TRUE(sees(seed, "joiner", NodeState::alive));
  EXPECT_TRUE(sees(joiner, "seed", NodeState::alive));
  for (auto r : {Reject::truncated, Reject::decode, Reject::bad_label, Reject::bad_crc})
    EXPECT_EQ(seed.counters().rejected_count(r), 0u) << reject_name(r);

  joiner.leave(2s);
  EXPECT_TRUE(wait_until([&] { return sees(seed, "joiner", NodeState::left); }, 3s));
  std::this_thread::sleep_for(600ms);  // longer than the suspicion timeout: it must stay left
  EXPECT_TRUE(sees(seed, "joiner", NodeState::left));
}

TEST_P(TwoMembers, CrashedMemberBecomesSuspectThenDead) {
  Member seed(fast_config("seed", GetParam()), nullptr);
  seed.start();
  auto cfg = fast_config("victim", GetParam());
  cfg.join_members = {"127.0.0.1:" + std::to_string(seed.bound_port())};
  Member victim(cfg, nullptr);
  victim.start();
  ASSERT_TRUE(wait_until([&] { return sees(seed, "victim", NodeState::alive); }, 5s));
  victim.stop();
  EXPECT_TRUE(wait_until([&] { return sees(seed, "victim", NodeState::suspect); }, 3s));
  EXPECT_TRUE(wait_until([&] { return sees(seed, "victim", NodeState::dead); }, 3s));
}

TEST_P(TwoMembers, LabelMismatchKeepsClustersApart) {
  auto scfg = fast_config("seed", GetParam());
  scfg.cluster_label = "prod";
  Member seed(scfg, nullptr);
  seed.start();
  auto cfg = fast_config("other", GetParam());
  cfg.cluster_label = "dev";
  cfg.join_members = {"127.0.0.1:" + std::to_string(seed.bound_port())};
  cfg.max_join_retries = 1;
  Member other(cfg, nullptr);
  other.start();
  EXPECT_TRUE(wait_until([&] { return other.join_status() == JoinStatus::failed; }, 5s));
  EXPECT_GE(seed.counters().rejected_count(Reject::bad_label), 1u);
  EXPECT_FALSE(view_of(seed, "other"));
}

TEST_P(TwoMembers, EncryptedAndUncompressed) {
  auto scfg = fast_config("seed", GetParam());
  scfg.encryption_keys = {std::string(32, 'k')};
  scfg.compression_enabled = false;
  Member seed(scfg, nullptr);
  seed.start();
  auto cfg = scfg;
  cfg.node_name = "joiner";
  cfg.join_members = {"127.0.0.1:" + std::to_string(seed.bound_port())};
  Member joiner(cfg, nullptr);
  joiner.start();
  ASSERT_TRUE(wait_until([&] { return sees(seed, "joiner", NodeState::alive) && sees(joiner, "seed", NodeState::alive); }, 5s));
  joiner.leave(2s);
  EXPECT_TRUE(wait_until([&] { return sees(seed, "joiner", NodeState::left); }, 3s));
  EXPECT_EQ(seed.counters().rejected_count(Reject::decrypt), 0u);
}

INSTANTIATE_TEST_SUITE_P(Transports, TwoMembers, ::testing::Values(TransportKind::dskit_tcp, TransportKind::standard_udp),
                         [](const auto& info) { return info.param == TransportKind::dskit_tcp ? "dskit_tcp" : "udp"; });

// ---- leaving (memberlist's Leave) ----

TEST(Leave, AloneReturnsAtOnce) {
  Member solo(fast_config("solo", TransportKind::dskit_tcp), nullptr);
  solo.start();
  const auto t0 = std::chrono::steady_clock::now();
  solo.leave(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST(Leave, WaitsUntilTheDeadBroadcastWasSentRetransmitTimes) {
  Member seed(fast_config("seed", TransportKind::dskit_tcp), nullptr);
  seed.start();
  auto cfg = fast_config("leaver", TransportKind::dskit_tcp);
  cfg.join_members = {"127.0.0.1:" + std::to_string(seed.bound_port())};
  Member leaver(cfg, nullptr);
  leaver.start();
  ASSERT_TRUE(wait_until([&] { return sees(leaver, "seed", NodeState::alive) && sees(seed, "leaver", NodeState::alive); }, 5s));
  const auto dead = static_cast<std::size_t>(MessageType::dead);
  const auto t0 = std::chrono::steady_clock::now();
  leaver.leave(5s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  // Two members: 4 × ceil(log10(3)) = 4 transmissions before leave returns.
  EXPECT_GE(leaver.counters().messages_sent[dead].load(), 4u);
  EXPECT_TRUE(wait_until([&] { return sees(seed, "leaver", NodeState::left); }, 3s));
}

TEST(Leave, GivesUpAtTheTimeoutWhenTheBroadcastCannotGoOut) {
  Member seed(fast_config("seed", TransportKind::dskit_tcp), nullptr);
  seed.start();
  auto cfg = fast_config("leaver", TransportKind::dskit_tcp);
  cfg.join_members = {"127.0.0.1:" + std::to_string(seed.bound_port())};
  // Nothing would carry the broadcast: no gossip, no push/pull, and at most one
  // probe (which piggybacks it once) in the test's lifetime.
  cfg.gossip_nodes = 0;
  cfg.pull_push_interval = 0ms;
  cfg.probe_interval = 1h;
  Member leaver(cfg, nullptr);
  leaver.start();
  ASSERT_TRUE(wait_until([&] { return sees(leaver, "seed", NodeState::alive); }, 5s));
  seed.stop();  // so that no ping from it gets the broadcast piggybacked on our ack
  const auto t0 = std::chrono::steady_clock::now();
  leaver.leave(700ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 700ms);
  EXPECT_LT(took, 1500ms);
}

// ---- who sent a payload ----

TEST(PeerName, GossipPacketsAreNamedByTheFramesAdvertisedAddress) {
  SenderSink sink;
  Member m(fast_config("observer", TransportKind::dskit_tcp), &sink);
  m.start();
  asio::io_context io;
  auto send = [&](const std::string& from, const Bytes& payload) {
    auto frame = build_packet_frame(from, payload);
    ASSERT_TRUE(frame.ok());
    asio::ip::tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), m.bound_port()});
    asio::write(s, asio::buffer(*frame));
  };
  // A node announces itself at 127.0.0.1:7001 (nobody listens there; it is only a name).
  Alive a;
  a.incarnation = 1;
  a.node = "go-node";
  a.addr = *parse_ip("127.0.0.1");
  a.port = 7001;
  send("127.0.0.1:7001", encode(a));
  ASSERT_TRUE(wait_until([&] { return view_of(m, "go-node").has_value(); }, 2s));

  send("127.0.0.1:7001", encode(UserPacket{Bytes{1, 2, 3}}));
  send("127.0.0.1:7002", encode(UserPacket{Bytes{4, 5, 6}}));
  ASSERT_TRUE(wait_until([&] { return sink.seen().size() == 2; }, 2s));
  auto seen = sink.seen();
  std::sort(seen.begin(), seen.end(), [](auto& x, auto& y) { return x.second < y.second; });
  EXPECT_EQ(seen[0], (std::pair<std::string, std::string>{"go-node", "127.0.0.1:7001"}));
  EXPECT_EQ(seen[1], (std::pair<std::string, std::string>{"", "127.0.0.1:7002"}));  // not a member
}

// ---- hostile input on the dskit transport ----

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = fast_config("target", TransportKind::dskit_tcp);
    set_limits(cfg.limits);
    member_ = std::make_unique<Member>(cfg, nullptr);
    member_->start();
  }
  virtual void set_limits(MemberLimits& limits) {
    limits.max_packet_bytes = 4096;
    limits.connection_read_deadline = 300ms;
    limits.max_concurrent_connections = 8;
  }
  asio::ip::tcp::socket connect() {
    asio::ip::tcp::socket s(io_);
    s.connect({asio::ip::make_address("127.0.0.1"), member_->bound_port()});
    return s;
  }
  void send_and_close(const Bytes& bytes) {
    auto s = connect();
    asio::write(s, asio::buffer(bytes));
    s.close();
  }
  // For input the member may refuse before it has all been written.
  void send_until_hung_up(const Bytes& bytes) {
    auto s = connect();
    std::error_code ec;
    asio::write(s, asio::buffer(bytes), ec);
    s.close();
  }
  const GossipCounters& counters() { return member_->counters(); }

  asio::io_context io_;
  std::unique_ptr<Member> member_;
};

TEST_F(BadInput, GarbageConnectionTypeIsCounted) {
  send_and_close(Bytes{0x16, 0x03, 0x01, 0x00});  // a TLS ClientHello at a plain listener
  EXPECT_TRUE(wait_until([&] { return counters().rejected_count(Reject::unknown_type) == 1; }, 2s));
}

TEST_F(BadInput, TruncatedPacketFrameIsCounted) {
  send_and_close(Bytes{0x01, 50, '1', '2', '7'});  // address cut short, no digest
  EXPECT_TRUE(wait_until([&] { return counters().rejected_count(Reject::truncated) == 1; }, 2s));
}

TEST_F(BadInput, OversizePacketIsCutOff) {
  Bytes big(64 * 1024, 0xab);
  big[0] = 0x01;
  big[1] = 0;
  auto s = connect();
  std::error_code ec;
  asio::write(s, asio::buffer(big), ec);  // may fail once the member hangs up
  EXPECT_TRUE(wait_until([&] { return counters().limit_count(Limit::packet_bytes) == 1; }, 2s));
  EXPECT_GE(counters().rejected_count(Reject::oversize), 1u);
}

TEST_F(BadInput, SlowConnectionIsClosedAtTheDeadline) {
  auto s = connect();
  asio::write(s, asio::buffer(Bytes{0x01, 0x00}));  // a packet that never ends
  EXPECT_TRUE(wait_until([&] { return counters().limit_count(Limit::read_deadline) >= 1; }, 2s));
  std::uint8_t b;
  std::error_code ec;
  s.read_some(asio::buffer(&b, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST_F(BadInput, ConnectionFloodIsCapped) {
  std::vector<asio::ip::tcp::socket> idle;
  for (int i = 0; i < 12; ++i) idle.push_back(connect());
  EXPECT_TRUE(wait_until([&] { return counters().connections_refused.load() >= 4; }, 2s));
  idle.clear();
  // Once they are gone (closed or timed out) the member still answers properly.
  send_and_close(Bytes{0x07});
  EXPECT_TRUE(wait_until([&] { return counters().rejected_count(Reject::unknown_type) >= 1; }, 2s));
}

TEST_F(BadInput, BadPacketPayloadIsCountedByReason) {
  // A well-framed packet whose payload is a ping with a broken msgpack body.
  Bytes payload{0x00, 0x85, 0xa4};
  Bytes frame{0x01, 0x0e};
  std::string from = "127.0.0.1:7946";
  frame.insert(frame.end(), from.begin(), from.end());
  frame.insert(frame.end(), payload.begin(), payload.end());
  frame.insert(frame.end(), 16, 0);  // wrong MD5: counted, still decoded
  send_and_close(frame);
  EXPECT_TRUE(wait_until([&] { return counters().rejected_count(Reject::bad_digest) == 1; }, 2s));
  EXPECT_TRUE(wait_until([&] {
    return counters().rejected_count(Reject::truncated) + counters().rejected_count(Reject::decode) >= 1;
  }, 2s));
}

// ---- configured limits: each, when hit, drops the input and counts both the rejection
// reason and the limit (ringwatch_gossip_limit_hits_total) ----

class MemberLimitsTest : public BadInput {
 protected:
  void set_limits(MemberLimits& limits) override {
    limits.max_concurrent_connections = 4;
    limits.connection_read_deadline = 300ms;
    limits.max_stream_bytes = 64 * 1024;
    limits.max_decompressed_bytes = 256 * 1024;
  }
};

// A user message of `n` zero bytes, LZW-compressed into a few KiB.
Bytes compressed_user_message(std::size_t n) {
  Bytes user{static_cast<std::uint8_t>(MessageType::user)};
  user.resize(n, 0);
  return compress_message(user);
}

TEST_F(MemberLimitsTest, ConnectionsOverTheLimitAreCounted) {
  std::vector<asio::ip::tcp::socket> idle;
  for (int i = 0; i < 7; ++i) idle.push_back(connect());
  EXPECT_TRUE(wait_until([&] { return counters().limit_count(Limit::connections) >= 3; }, 2s));
  EXPECT_EQ(counters().limit_count(Limit::connections), counters().connections_refused.load());
}

TEST_F(MemberLimitsTest, StreamDeclaringMoreThanTheStreamSizeIsCounted) {
  Bytes msg{static_cast<std::uint8_t>(MessageType::push_pull)};
  encode(PushPullHeader{0, 64 * 1024 + 1, false}, msg);
  Bytes conn{static_cast<std::uint8_t>(ConnectionType::stream)};
  append(conn, msg);
  send_until_hung_up(conn);
  EXPECT_TRUE(wait_until([&] { return counters().limit_count(Limit::stream_bytes) == 1; }, 2s));
  EXPECT_EQ(counters().rejected_count(Reject::oversize), 1u);
}

TEST_F(MemberLimitsTest, PacketExpandingPastTheDecompressedSizeIsCounted) {
  send_until_hung_up(*build_packet_frame("127.0.0.1:1", compressed_user_message(1 << 20)));
  EXPECT_TRUE(wait_until([&] { return counters().limit_count(Limit::decompressed_bytes) == 1; }, 2s));
  EXPECT_EQ(counters().rejected_count(Reject::oversize), 1u);
  // Within the limit the same kind of packet is fine.
  send_until_hung_up(*build_packet_frame("127.0.0.1:1", compressed_user_message(100 * 1024)));
  EXPECT_TRUE(wait_until([&] { return counters().packets_received.load() == 2; }, 2s));
  EXPECT_EQ(counters().limit_count(Limit::decompressed_bytes), 1u);
}

TEST_F(MemberLimitsTest, StreamExpandingPastTheDecompressedSizeIsCounted) {
  StreamEncodeOptions o;
  o.compress = true;
  Bytes conn{static_cast<std::uint8_t>(ConnectionType::stream)};
  append(conn, *encode_stream_message(encode_stream_user(Bytes(1 << 20, 0)), o));
  ASSERT_LT(conn.size(), 64u * 1024);
  send_until_hung_up(conn);
  EXPECT_TRUE(wait_until([&] { return counters().limit_count(Limit::decompressed_bytes) == 1; }, 2s));
}

TEST(StreamLimits, DefaultStreamSizeTakesTheLargestRealPushPull) {
  // A 10,000-instance ring of 512 tokens makes a push/pull user state of about 26 MB: the
  // member's default limit must let its header through (memberlist's own cap is 20 MiB).
  Bytes msg{static_cast<std::uint8_t>(MessageType::push_pull)};
  encode(PushPullHeader{0, 26'000'000, false}, msg);
  StreamDecodeOptions opts;
  opts.limits.max_push_state_bytes = MemberLimits{}.max_stream_bytes;
  auto step = parse_stream_message(msg, opts);
  ASSERT_TRUE(step) << step.error().detail;
  EXPECT_TRUE(std::holds_alternative<NeedMore>(*step));

  opts.limits.max_push_state_bytes = 20u << 20;
  step = parse_stream_message(msg, opts);
  ASSERT_FALSE(step);
  EXPECT_EQ(step.error().reason, Reject::oversize);
  EXPECT_EQ(step.error().limit, SizeLimit::message);
}

}  // namespace
}  // namespace ringwatch::gossip
