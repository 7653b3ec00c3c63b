// Unit tests of the pure wire codecs against the byte examples Go produced
// (memberlist-wire.md §2.5, dskit-kv-ring.md §1.3) and against bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "gossip/compression.h"
#include "gossip/lzw.h"
#include "gossip/messages.h"
#include "gossip/msgpack.h"
#include "gossip/packet.h"
#include "gossip/security.h"
#include "gossip/stream.h"
#include "gossip/transport_frame.h"

namespace ringwatch::gossip {
namespace {

Bytes hex(std::string_view s) {
  Bytes out;
  int hi = -1;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else continue;  // spaces
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

Bytes str_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// ---- §2.5 worked examples (Go's output) ----

const Bytes kAddr4 = hex("0a000001");
const char* kAliveHex =
    "04 86 a4 41 64 64 72 a4 0a 00 00 01 ab 49 6e 63 61 72 6e 61 74 69 6f 6e 01 a4 4d 65 74 61 c0"
    " a4 4e 6f 64 65 a6 6e 6f 64 65 2d 61 a4 50 6f 72 74 cd 1f 0a a3 56 73 6e a6 01 05 02 00 00 00";
const char* kPingHex = "00 82 a4 4e 6f 64 65 a6 6e 6f 64 65 2d 62 a5 53 65 71 4e 6f 2a";
const char* kSuspectHex =
    "03 83 a4 46 72 6f 6d a6 6e 6f 64 65 2d 61 ab 49 6e 63 61 72 6e 61 74 69 6f 6e 01 a4 4e 6f 64 65 a6 6e 6f 64 65 2d 62";

TEST(Messages, AliveWorkedExample) {
  Alive a;
  a.incarnation = 1;
  a.node = "node-a";
  a.addr = kAddr4;
  a.port = 7946;
  EXPECT_EQ(encode(a), hex(kAliveHex));
  EXPECT_EQ(encode(a).size(), 62u);
  auto back = decode_message(hex(kAliveHex));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<Alive>(*back), a);

  a.addr = *parse_ip("10.0.0.1", AddrForm::v4_mapped16);
  EXPECT_EQ(encode(a).size(), 74u);
  EXPECT_EQ(format_ip(a.addr), "10.0.0.1");
}

TEST(Messages, PingAckNackWorkedExamples) {
  Ping p{"node-b", 42, kAddr4, "node-a", 7946};
  EXPECT_EQ(encode(p), hex("00 85 a4 4e 6f 64 65 a6 6e 6f 64 65 2d 62 a5 53 65 71 4e 6f 2a"
                           " aa 53 6f 75 72 63 65 41 64 64 72 a4 0a 00 00 01"
                           " aa 53 6f 75 72 63 65 4e 6f 64 65 a6 6e 6f 64 65 2d 61"
                           " aa 53 6f 75 72 63 65 50 6f 72 74 cd 1f 0a"));
  EXPECT_EQ(encode(Ping{"node-b", 42, {}, {}, 0}), hex(kPingHex));
  EXPECT_EQ(encode(AckResp{42, {}}), hex("02 82 a7 50 61 79 6c 6f 61 64 c0 a5 53 65 71 4e 6f 2a"));
  EXPECT_EQ(encode(NackResp{42}), hex("0b 81 a5 53 65 71 4e 6f 2a"));
  auto back = decode_message(encode(p));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<Ping>(*back), p);
}

TEST(Messages, SuspectDeadIndirectWorkedExamples) {
  EXPECT_EQ(encode(Suspect{1, "node-b", "node-a"}), hex(kSuspectHex));
  EXPECT_EQ(encode(Dead{1, "node-a", "node-a"}),
            hex("05 83 a4 46 72 6f 6d a6 6e 6f 64 65 2d 61 ab 49 6e 63 61 72 6e 61 74 69 6f 6e 01 a4 4e 6f 64 65 "
                "a6 6e 6f 64 65 2d 61"));
  IndirectPingReq ind{true, "node-b", 7946, 300, kAddr4, "node-a", 7946, kAddr4};
  const Bytes enc = encode(ind);
  EXPECT_EQ(enc.size(), 97u);
  EXPECT_EQ(Bytes(enc.begin(), enc.begin() + 13), hex("01 88 a4 4e 61 63 6b c3 a4 4e 6f 64 65"));
  auto back = decode_message(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<IndirectPingReq>(*back), ind);
}

TEST(Messages, PushPullAndUserWorkedExamples) {
  Bytes h;
  encode(PushPullHeader{2, 200, true}, h);
  EXPECT_EQ(h, hex("83 a4 4a 6f 69 6e c3 a5 4e 6f 64 65 73 02 ac 55 73 65 72 53 74 61 74 65 4c 65 6e d1 00 c8"));
  Bytes big;
  encode(PushPullHeader{40000, 0, true}, big);
  const Bytes nodes40000 = hex("d2 00 00 9c 40");
  EXPECT_NE(std::search(big.begin(), big.end(), nodes40000.begin(), nodes40000.end()), big.end());
  // go-msgpack v0.5.3 (grafana fork 2022) writes non-negative ints unsigned (§2.6).
  Bytes old;
  encode(PushPullHeader{2, 200, true}, old, msgpack::IntForm::unsigned_v05);
  EXPECT_EQ(Bytes(old.end() - 2, old.end()), hex("cc c8"));
  // dskit-kv-ring.md §2.4 reference header.
  Bytes dskit{6};
  encode(PushPullHeader{2, 107, false}, dskit);
  EXPECT_EQ(dskit, hex("06 83 a44a6f696e c2 a54e6f646573 02 ac5573657253746174654c656e 6b"));

  PushPull pp;
  pp.join = true;
  PushNodeState n;
  n.name = "node-a";
  n.addr = kAddr4;
  n.port = 7946;
  n.incarnation = 1;
  pp.nodes.push_back(n);
  const Bytes want = hex(
      "06 83 a4 4a 6f 69 6e c3 a5 4e 6f 64 65 73 01 ac 55 73 65 72 53 74 61 74 65 4c 65 6e 00"
      " 87 a4 41 64 64 72 a4 0a 00 00 01 ab 49 6e 63 61 72 6e 61 74 69 6f 6e 01"
      " a4 4d 65 74 61 c0 a4 4e 61 6d 65 a6 6e 6f 64 65 2d 61 a4 50 6f 72 74 cd"
      " 1f 0a a5 53 74 61 74 65 00 a3 56 73 6e a6 01 05 02 00 00 00");
  EXPECT_EQ(encode_push_pull(pp), want);
  auto parsed = parse_stream_message(want, {});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(std::get<PushPull>(std::get<StreamDecoded>(*parsed).message), pp);

  EXPECT_EQ(encode_stream_user(str_bytes("hello")),
            hex("08 81 aa 55 73 65 72 4d 73 67 4c 65 6e 05 68 65 6c 6c 6f"));
  EXPECT_EQ(encode(UserPacket{str_bytes("hi")}), hex("08 68 69"));
  Alive meta;
  meta.meta.assign(40, 7);
  const Bytes m = encode(meta);
  const Bytes str16_40 = hex("da 00 28");
  EXPECT_NE(std::search(m.begin(), m.end(), str16_40.begin(), str16_40.end()), m.end());
}

TEST(Packet, CompoundCrcLabelCompressWorkedExamples) {
  const Bytes ping = hex(kPingHex), suspect = hex(kSuspectHex);
  const std::vector<Bytes> parts{ping, suspect};
  auto compound = build_compound(parts);
  ASSERT_TRUE(compound.ok());
  Bytes want = hex("07 02 00 15 00 27");
  append(want, ping);
  append(want, suspect);
  EXPECT_EQ(*compound, want);
  EXPECT_EQ(compound->size(), 66u);

  EXPECT_EQ(crc32_ieee(ping), 0x4f7fda50u);
  Bytes crc = hex("0c 4f 7f da 50");
  append(crc, ping);
  EXPECT_EQ(add_crc(ping), crc);

  Bytes labelled;
  ASSERT_TRUE(add_label("cluster", labelled).ok());
  append(labelled, ping);
  Bytes want_label = hex("f4 07 63 6c 75 73 74 65 72");
  append(want_label, ping);
  EXPECT_EQ(labelled, want_label);

  const Bytes lzw = hex("00 01 08 22 e5 e4 0d 99 32 a6 dc 18 2c d3 42 4c a9 29 65 e2 14 54 11 10");
  EXPECT_EQ(lzw_compress(ping), lzw);
  Bytes wrapped = hex("09 82 a4 41 6c 67 6f 00 a3 42 75 66 b8");
  append(wrapped, lzw);
  EXPECT_EQ(compress_message(ping), wrapped);
  // Not smaller than the message, so a packet goes out uncompressed.
  auto pkt = encode_packet(ping, {.compress = true});
  ASSERT_TRUE(pkt.ok());
  EXPECT_EQ(*pkt, ping);

  // Full pipeline: label, CRC, compound of two messages.
  PacketEncodeOptions enc{.label = "cluster", .crc = true};
  auto full = encode_packet(*compound, enc);
  ASSERT_TRUE(full.ok());
  auto dec = decode_packet(*full, {.label = "cluster"});
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->layers.label, "cluster");
  EXPECT_TRUE(dec->layers.crc);
  EXPECT_EQ(dec->layers.compound, 1);
  ASSERT_EQ(dec->messages.size(), 2u);
  EXPECT_EQ(std::get<Suspect>(dec->messages[1]), (Suspect{1, "node-b", "node-a"}));
}

TEST(TransportFrame, DskitReferenceFrame) {
  const Bytes frame = hex(
      "010d31302e302e302e323a37393436f4056d696d69720cc5d962d1080a0f636f6c6c6563746f72732f72696e67124a49500a470a0a"
      "696e6765737465722d3112390a0d31302e0102bc313a393039351080e2cfaa06320801ac0280d0acf30e3a067a6f6e652d614080b5"
      "eda5064a0a696e6765737465722d311a0872696e67446573636bc06f0ed2f4c1ee80b62bc0a1e92337");
  auto f = parse_packet_frame(frame);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->from, "10.0.0.2:7946");
  EXPECT_TRUE(f->digest_ok);
  auto rebuilt = build_packet_frame(f->from, f->payload);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(*rebuilt, frame);
  auto p = decode_packet(f->payload, {.label = "mimir"});
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_TRUE(p->layers.crc);
  ASSERT_EQ(p->messages.size(), 1u);
  EXPECT_EQ(std::get<UserPacket>(p->messages[0]).payload.size(), f->payload.size() - 7 - 5 - 1);

  // A digest mismatch is reported but the payload still delivered, as dskit does.
  Bytes bad = frame;
  bad.back() ^= 1;
  auto g = parse_packet_frame(bad);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->digest_ok);
  EXPECT_EQ(g->payload, f->payload);
  for (std::size_t n = 0; n < 2 + 13 + 16; ++n) {
    auto t = parse_packet_frame(ByteView(frame).first(n));
    ASSERT_FALSE(t.ok()) << n;
    EXPECT_EQ(t.error().reason, Reject::truncated) << n;
  }
  EXPECT_EQ(parse_packet_frame(hex("03 00")).error().reason, Reject::unknown_type);
}

// ---- LZW ----

TEST(Lzw, GoVectors) {
  EXPECT_EQ(lzw_compress({}), hex("00 03 02"));
  EXPECT_EQ(lzw_compress(str_bytes("abababab")), hex("00 c3 88 11 48 50 4c 40"));
  EXPECT_EQ(*lzw_decompress(hex("00 03 02"), 10), Bytes{});
  EXPECT_EQ(*lzw_decompress(hex("00 c3 88 11 48 50 4c 40"), 100), str_bytes("abababab"));
}

TEST(Lzw, RoundTripAcrossWidthGrowthAndClearCodes) {
  std::mt19937 rng(7);
  for (std::size_t size : {1u, 300u, 5000u, 70000u, 300000u}) {
    for (int alphabet : {2, 16, 256}) {
      Bytes in(size);
      for (auto& b : in) b = static_cast<std::uint8_t>(rng() % alphabet);
      const Bytes enc = lzw_compress(in);
      auto dec = lzw_decompress(enc, in.size());
      ASSERT_TRUE(dec.ok()) << size << "/" << alphabet << ": " << dec.error().detail;
      EXPECT_EQ(*dec, in) << size << "/" << alphabet;
    }
  }
}

// Packs codes LSB-first with the decoder's width rule, as an encoder that never
// sends CLEAR would (Go's reader must then stop adding codes at 4095).
Bytes pack_codes_without_clear(const std::vector<std::uint32_t>& codes) {
  Bytes out;
  std::uint32_t bits = 0, hi = 257, width = 9;
  unsigned nbits = 0;
  auto put = [&](std::uint32_t c) {
    bits |= c << nbits;
    nbits += width;
    while (nbits >= 8) {
      out.push_back(static_cast<std::uint8_t>(bits));
      bits >>= 8;
      nbits -= 8;
    }
  };
  put(256);
  for (std::uint32_t c : codes) {
    put(c);
    if (++hi >= (1u << width)) {
      if (width == 12) --hi;
      else ++width;
    }
  }
  put(257);
  if (nbits) out.push_back(static_cast<std::uint8_t>(bits));
  return out;
}

TEST(Lzw, DecoderHandlesFullTableWithoutClear) {
  std::vector<std::uint32_t> codes;
  Bytes want;
  for (int i = 0; i < 6000; ++i) {
    codes.push_back(static_cast<std::uint32_t>(i * 7 % 256));
    want.push_back(static_cast<std::uint8_t>(i * 7 % 256));
  }
  auto dec = lzw_decompress(pack_codes_without_clear(codes), want.size());
  ASSERT_TRUE(dec.ok()) << dec.error().detail;
  EXPECT_EQ(*dec, want);
}

TEST(Lzw, RejectsMissingEofInvalidCodeAndOversize) {
  const Bytes in = str_bytes("the quick brown fox jumps over the lazy dog, the quick brown fox");
  const Bytes enc = lzw_compress(in);
  for (std::size_t n = 0; n < enc.size(); ++n) {
    auto r = lzw_decompress(ByteView(enc).first(n), 1000);
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().reason, Reject::decompress) << n;
  }
  auto small = lzw_decompress(enc, in.size() - 1);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().reason, Reject::oversize);
  // After CLEAR the first code 258 is beyond the next free code.
  EXPECT_EQ(lzw_decompress(hex("00 05"), 10).error().reason, Reject::decompress);
}

TEST(Compression, SnappyAndUnknownAlgo) {
  Bytes msg = encode(Alive{1, "node-a", kAddr4, 7946, {}, {}});
  Bytes wrapped = compress_message(msg, CompressionAlgo::snappy);
  auto c = decode_body<Compress>(ByteView(wrapped).subspan(1));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->algo, 1);
  EXPECT_EQ(*decompress(*c, 1000), msg);
  EXPECT_EQ(decompress(*c, msg.size() - 1).error().reason, Reject::oversize);
  c->algo = 2;
  EXPECT_EQ(decompress(*c, 1000).error().reason, Reject::decompress);
  c->algo = 1;
  c->buf = hex("ff ff ff ff 0f");  // claims 4 GiB
  EXPECT_EQ(decompress(*c, 1000).error().reason, Reject::oversize);

  // The ring values dskit stored are snappy blocks made by Go.
  std::ifstream f(std::string(RINGWATCH_FIXTURES_DIR) + "/dskit-2023/two-rings.collectors_ring.ringdesc.bin",
                  std::ios::binary);
  Compress ring{1, Bytes(std::istreambuf_iterator<char>(f), {})};
  ASSERT_EQ(ring.buf.size(), 369u);
  auto desc = decompress(ring, 1 << 20);
  ASSERT_TRUE(desc.ok());
  EXPECT_GT(desc->size(), ring.buf.size());
}

// ---- msgpack tolerance ----

TEST(Msgpack, DecoderAcceptsEveryGoIntAndStringForm) {
  // SeqNo as uint16 / int16 / uint64; Node as str8; SourceAddr as bin8; unknown keys skipped; nil = zero.
  const Bytes body = hex(
      "86 a4 4e6f6465 d9 06 6e6f64652d62 a5 5365714e6f d1 00 2a a7 556e6b6e6f776e 92 c3 81 a1 78 c0"
      " aa 536f7572636541646472 c4 04 0a000001 aa 536f757263654e6f6465 c0 aa 536f75726365506f7274 cf 00 00 00 00 00 "
      "00 1f 0a");
  auto p = decode_body<Ping>(body);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(*p, (Ping{"node-b", 42, kAddr4, "", 7946}));
  // Negative into unsigned and overflow are errors.
  EXPECT_EQ(decode_body<NackResp>(hex("81 a5 5365714e6f ff")).error().reason, Reject::decode);
  EXPECT_EQ(decode_body<Ping>(hex("81 aa 536f75726365506f7274 ce 00 01 00 00")).error().reason, Reject::decode);
  // A huge declared string length never allocates: it is checked against the input.
  EXPECT_EQ(decode_body<ErrResp>(hex("81 a5 4572726f72 db ff ff ff ff 41")).error().reason, Reject::truncated);
  EXPECT_EQ(decode_body<Alive>(hex("81 a3 56736e a3 010502")).error().reason, Reject::invalid);
}

// ---- encryption ----

TEST(Security, RoundTripBothVersionsAllKeySizesAndWrongKey) {
  const Bytes msg = hex(kSuspectHex);
  const Bytes nonce = random_nonce();
  for (std::size_t key_size : {16u, 24u, 32u}) {
    const Bytes key(key_size, 0x42), other(key_size, 0x17);
    for (int version : {0, 1}) {
      auto enc = encrypt_payload(version, key, nonce, msg, str_bytes("prod"));
      ASSERT_TRUE(enc.ok());
      EXPECT_EQ(enc->size(), encrypted_length(version, msg.size()));
      EXPECT_EQ((*enc)[0], version);
      auto both = *Keyring::make({other, key});  // every key is tried
      EXPECT_EQ(*decrypt_payload(both, *enc, str_bytes("prod")), msg);
      auto wrong = *Keyring::make({other});
      EXPECT_EQ(decrypt_payload(wrong, *enc, str_bytes("prod")).error().reason, Reject::decrypt);
      EXPECT_EQ(decrypt_payload(both, *enc, str_bytes("test")).error().reason, Reject::decrypt);
      for (std::size_t n = 0; n < enc->size(); ++n) {
        EXPECT_EQ(decrypt_payload(both, ByteView(*enc).first(n), str_bytes("prod")).error().reason, Reject::decrypt);
      }
    }
  }
  EXPECT_FALSE(Keyring::make({Bytes(15)}).ok());
  EXPECT_FALSE(Keyring::make({}).ok());
}

TEST(Security, EncryptedPacketAndStreamPipelines) {
  auto ring = *Keyring::make({Bytes(32, 1)});
  const Bytes ping = hex(kPingHex);
  PacketEncodeOptions enc{.label = "prod-eu", .crc = true, .compress = true, .keyring = &ring, .nonce = random_nonce()};
  auto pkt = encode_packet(ping, enc);
  ASSERT_TRUE(pkt.ok());
  auto dec = decode_packet(*pkt, {.label = "prod-eu", .keyring = &ring});
  ASSERT_TRUE(dec.ok()) << dec.error().detail;
  EXPECT_TRUE(dec->layers.encrypted);
  EXPECT_TRUE(dec->layers.crc);
  EXPECT_EQ(std::get<Ping>(dec->messages.at(0)).seq_no, 42u);
  EXPECT_EQ(decode_packet(*pkt, {.label = "prod-eu"}).error().reason, Reject::decode);

  PushPull pp;
  pp.user_state = Bytes(3000, 9);
  for (int i = 0; i < 3; ++i) pp.nodes.push_back(PushNodeState{"n" + std::to_string(i), kAddr4, 7946, {}, 1, {}, {}});
  StreamEncodeOptions senc{.label = "prod-eu", .compress = true, .keyring = &ring, .nonce = random_nonce()};
  auto stream = encode_stream_message(encode_push_pull(pp), senc);
  ASSERT_TRUE(stream.ok());
  StreamDecodeOptions sdec{.expect_label = true, .label = "prod-eu", .keyring = &ring};
  // Incremental: every prefix asks for more, the whole buffer yields the message.
  for (std::size_t n = 0; n < stream->size(); n += 97) {
    auto step = parse_stream_message(ByteView(*stream).first(n), sdec);
    ASSERT_TRUE(step.ok()) << n << ": " << step.error().detail;
    ASSERT_TRUE(std::holds_alternative<NeedMore>(*step)) << n;
  }
  auto step = parse_stream_message(*stream, sdec);
  ASSERT_TRUE(step.ok());
  const auto& d = std::get<StreamDecoded>(*step);
  EXPECT_EQ(std::get<PushPull>(d.message), pp);
  EXPECT_TRUE(d.layers.encrypted && d.layers.compressed);
  EXPECT_EQ(d.consumed, stream->size());
  // Unencrypted stream when a keyring is configured: rejected like Go.
  auto plain = parse_stream_message(encode_push_pull(pp), {.keyring = &ring});
  EXPECT_EQ(plain.error().reason, Reject::decrypt);
}

// ---- bad input ----

TEST(CodecBadInput, LabelAndCrc) {
  const Bytes ping = hex(kPingHex);
  Bytes labelled;
  ASSERT_TRUE(add_label("prod-eu", labelled).ok());
  append(labelled, ping);
  EXPECT_EQ(decode_packet(labelled, {}).error().reason, Reject::bad_label);
  EXPECT_EQ(decode_packet(labelled, {.label = "prod-us"}).error().reason, Reject::bad_label);
  EXPECT_EQ(decode_packet(ping, {.label = "prod-eu"}).error().reason, Reject::bad_label);
  EXPECT_TRUE(decode_packet(labelled, {.label = "other", .skip_label_check = true}).ok());
  EXPECT_EQ(decode_packet(hex("f4 00 00"), {}).error().reason, Reject::bad_label);
  Bytes huge;
  EXPECT_EQ(add_label(std::string(256, 'x'), huge).error().reason, Reject::oversize);

  Bytes crc = add_crc(ping);
  crc.back() ^= 0x40;
  EXPECT_EQ(decode_packet(crc, {}).error().reason, Reject::bad_crc);
}

TEST(CodecBadInput, TruncatedAtEveryOffset) {
  const Bytes alive = hex(kAliveHex);
  for (std::size_t n = 1; n < alive.size(); ++n) {
    auto r = decode_message(ByteView(alive).first(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().reason, Reject::truncated) << n;
  }
  // A compound whose second part runs past the end keeps the first part.
  Bytes compound = *build_compound(std::vector<Bytes>{hex(kPingHex), hex(kSuspectHex)});
  for (std::size_t n = 1; n < compound.size(); ++n) {
    auto r = decode_packet(ByteView(compound).first(n), {});
    if (n < 6) {
      ASSERT_FALSE(r.ok()) << n;
      EXPECT_EQ(r.error().reason, Reject::truncated);
      continue;
    }
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_EQ(r->messages.size(), n >= 6 + 21 ? 1u : 0u) << n;
    ASSERT_FALSE(r->part_errors.empty()) << n;
    EXPECT_EQ(r->part_errors.back().reason, Reject::truncated);
  }
  // A push/pull stream truncated anywhere is incomplete, never an error.
  PushPull pp;
  pp.nodes.push_back(PushNodeState{"node-a", kAddr4, 7946, {}, 1, {}, {}});
  pp.user_state = str_bytes("kv");
  const Bytes s = encode_push_pull(pp);
  for (std::size_t n = 0; n < s.size(); ++n) {
    auto r = parse_stream_message(ByteView(s).first(n), {});
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_TRUE(std::holds_alternative<NeedMore>(*r)) << n;
  }
}

TEST(CodecBadInput, OversizeLengths) {
  Bytes pp{6};
  encode(PushPullHeader{2'000'000, 0, false}, pp);
  EXPECT_EQ(parse_stream_message(pp, {}).error().reason, Reject::oversize);
  Bytes us{6};
  encode(PushPullHeader{0, 30 << 20, false}, us);
  EXPECT_EQ(parse_stream_message(us, {}).error().reason, Reject::oversize);
  Bytes neg{6};
  encode(PushPullHeader{-1, 0, false}, neg);
  EXPECT_EQ(parse_stream_message(neg, {}).error().reason, Reject::invalid);
  Bytes um{8};
  encode(UserMsgHeader{1000}, um);
  EXPECT_EQ(parse_stream_message(um, {.limits = {.max_push_state_bytes = 999}}).error().reason, Reject::oversize);
  auto ring = *Keyring::make({Bytes(16, 1)});
  EXPECT_EQ(parse_stream_message(hex("0a 01 40 00 01"), {.keyring = &ring}).error().reason, Reject::oversize);
  // A compressed packet that inflates past the cap.
  Bytes zeros(100000, 0);
  EXPECT_EQ(decode_packet(compress_message(zeros), {.max_decompressed = 99999}).error().reason, Reject::oversize);
  EXPECT_EQ(parse_stream_message(hex("0e"), {}).error().reason, Reject::unknown_type);
}

TEST(CodecBadInput, GarbageNeverCrashes) {
  std::mt19937 rng(1);
  auto ring = *Keyring::make({Bytes(16, 1)});
  const Bytes seeds[] = {hex(kAliveHex), hex(kSuspectHex), compress_message(hex(kAliveHex)),
                         *build_compound(std::vector<Bytes>{hex(kPingHex), hex(kSuspectHex)})};
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes b;
    if (i % 2) {
      b.resize(rng() % 64);
      for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    } else {
      b = seeds[rng() % 4];
      for (int k = 0; k < 3; ++k) b[rng() % b.size()] = static_cast<std::uint8_t>(rng());
    }
    decoded += decode_packet(b, {}).ok();
    (void)decode_packet(b, {.keyring = &ring});
    (void)parse_stream_message(b, {.expect_label = true});
    (void)lzw_decompress(b, 1 << 16);
  }
  EXPECT_GT(decoded, 0);
}

TEST(Addresses, Forms) {
  EXPECT_EQ(*parse_ip("127.0.0.1", AddrForm::v4_4byte), hex("7f000001"));
  EXPECT_EQ(*parse_ip("127.0.0.1"), hex("00000000000000000000ffff7f000001"));
  EXPECT_EQ(format_ip(hex("00000000000000000000ffff7f000001")), "127.0.0.1");
  EXPECT_EQ(format_host_port(*parse_ip("fd00::1"), 7946), "[fd00::1]:7946");
  EXPECT_FALSE(parse_ip("peer-a").ok());
  EXPECT_EQ(format_ip(hex("0102")), "");
}

}  // namespace
}  // namespace ringwatch::gossip
