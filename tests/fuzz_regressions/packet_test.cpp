// decode_packet's decompressed-size cap (PacketDecodeOptions::max_decompressed) held for each
// compress wrapper on its own, not for the packet: a compound of compressed parts, or
// compressed compounds nested up to max_nesting deep, multiplied it. A packet of about 6 KB
// (a compress of a compound of 255 compress parts of 40 MiB each) decoded to ~10 GB of
// messages with the default 40 MiB cap. Found reading the code behind fuzz/targets/packet.cpp;
// one packet per connection, so this is a remote out-of-memory.
#include <gtest/gtest.h>

#include <vector>

#include "gossip/compression.h"
#include "gossip/messages.h"
#include "gossip/packet.h"

namespace ringwatch::gossip {
namespace {

// Bytes of user payload a decoded packet holds.
std::size_t payload_bytes(const DecodedPacket& p) {
  std::size_t n = 0;
  for (const Message& m : p.messages) {
    if (auto* u = std::get_if<UserPacket>(&m)) n += u->payload.size();
  }
  return n;
}

// A compound of `parts` compress wrappers, each a user message of `each` bytes.
Bytes compound_of_compressed(std::size_t parts, std::size_t each) {
  const Bytes part = compress_message(encode(UserPacket{Bytes(each, 'a')}));
  EXPECT_LT(part.size(), 0xffffu);
  auto c = build_compound(std::vector<Bytes>(parts, part));
  EXPECT_TRUE(c.ok());
  return *c;
}

TEST(PacketDecompressionCap, HoldsForTheWholePacketNotEachCompressWrapper) {
  PacketDecodeOptions opts;
  opts.max_decompressed = 1u << 20;
  // 4 parts of 400 KB: each under the 1 MiB cap, together over it.
  auto p = decode_packet(compound_of_compressed(4, 400'000), opts);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_LE(payload_bytes(*p), opts.max_decompressed);
  ASSERT_FALSE(p->part_errors.empty());
  EXPECT_EQ(p->part_errors.back().reason, Reject::oversize);
}

TEST(PacketDecompressionCap, CountsNestedCompressLayers) {
  PacketDecodeOptions opts;
  opts.max_decompressed = 1u << 20;
  // compress(compound(3 x compress(user 400 KB))): every layer under 1 MiB, 1.2 MB in all.
  auto p = decode_packet(compress_message(compound_of_compressed(3, 400'000)), opts);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(p->layers.compress, 3);  // the outer one and the first two parts
  EXPECT_LE(payload_bytes(*p), opts.max_decompressed);
  ASSERT_FALSE(p->part_errors.empty());
  EXPECT_EQ(p->part_errors.back().reason, Reject::oversize);
}

TEST(PacketDecompressionCap, PacketsUnderTheCapDecodeWhole) {
  PacketDecodeOptions opts;
  opts.max_decompressed = 1u << 20;
  auto p = decode_packet(compound_of_compressed(2, 400'000), opts);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(payload_bytes(*p), 800'000u);
  EXPECT_TRUE(p->part_errors.empty());
}

}  // namespace
}  // namespace ringwatch::gossip
