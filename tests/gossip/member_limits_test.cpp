// MemberLimits on a live member: each limit, when hit, drops the input and counts both the
// rejection reason and the limit (ringwatch_gossip_limit_hits_total).
#include <gtest/gtest.h>

#include <functional>
#include <thread>

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
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

class MemberLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MemberConfig cfg;
    cfg.node_name = "target";
    cfg.randomize_node_name = false;
    cfg.bind_addrs = {"127.0.0.1"};
    cfg.bind_port = 0;
    cfg.limits.max_concurrent_connections = 4;
    cfg.limits.connection_read_deadline = 300ms;
    cfg.limits.max_stream_bytes = 64 * 1024;
    cfg.limits.max_decompressed_bytes = 256 * 1024;
    member_ = std::make_unique<Member>(cfg, nullptr);
    member_->start();
  }
  asio::ip::tcp::socket connect() {
    asio::ip::tcp::socket s(io_);
    s.connect({asio::ip::make_address("127.0.0.1"), member_->bound_port()});
    return s;
  }
  void send_and_close(const Bytes& bytes) {
    auto s = connect();
    std::error_code ec;
    asio::write(s, asio::buffer(bytes), ec);  // may fail once the member hangs up
    s.close();
  }
  const GossipCounters& counters() { return member_->counters(); }

  asio::io_context io_;
  std::unique_ptr<Member> member_;
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
  send_and_close(conn);
  EXPECT_TRUE(wait_until([&] { return counters().limit_count(Limit::stream_bytes) == 1; }, 2s));
  EXPECT_EQ(counters().rejected_count(Reject::oversize), 1u);
}

TEST_F(MemberLimitsTest, PacketExpandingPastTheDecompressedSizeIsCounted) {
  send_and_close(*build_packet_frame("127.0.0.1:1", compressed_user_message(1 << 20)));
  EXPECT_TRUE(wait_until([&] { return counters().limit_count(Limit::decompressed_bytes) == 1; }, 2s));
  EXPECT_EQ(counters().rejected_count(Reject::oversize), 1u);
  // Within the limit the same kind of packet is fine.
  send_and_close(*build_packet_frame("127.0.0.1:1", compressed_user_message(100 * 1024)));
  EXPECT_TRUE(wait_until([&] { return counters().packets_received.load() == 2; }, 2s));
  EXPECT_EQ(counters().limit_count(Limit::decompressed_bytes), 1u);
}

TEST_F(MemberLimitsTest, StreamExpandingPastTheDecompressedSizeIsCounted) {
  StreamEncodeOptions o;
  o.compress = true;
  Bytes conn{static_cast<std::uint8_t>(ConnectionType::stream)};
  append(conn, *encode_stream_message(encode_stream_user(Bytes(1 << 20, 0)), o));
  ASSERT_LT(conn.size(), 64u * 1024);
  send_and_close(conn);
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
