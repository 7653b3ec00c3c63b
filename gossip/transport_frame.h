// dskit TCPTransport connection framing (dskit-kv-ring.md §1.2-§1.4).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "gossip/bytes.h"

namespace ringwatch::gossip {

// First byte written by the dialer of every connection.
enum class ConnectionType : std::uint8_t { packet = 1, stream = 2 };

inline constexpr std::size_t kDigestSize = 16;

struct PacketFrame {
  std::string from;   // advertised "ip:port" of the sender
  Bytes payload;      // the memberlist packet (label header included)
  bool digest_ok = false;  // dskit logs a mismatch but still delivers the payload
};

// Parses a complete packet connection (all bytes up to EOF, starting with 01).
// Reject::unknown_type if the first byte is not 01; Reject::truncated when the
// address or the 16-byte digest is incomplete.
Result<PacketFrame> parse_packet_frame(ByteView conn);

// 01, len, from, payload, MD5(payload). Reject::oversize if from exceeds 255 bytes.
Result<Bytes> build_packet_frame(std::string_view from, ByteView payload);

// MD5 of data.
std::array<std::uint8_t, kDigestSize> md5(ByteView data);

}  // namespace ringwatch::gossip
