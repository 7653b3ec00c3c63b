// memberlist packet layers (memberlist-wire.md §3.1-§3.3, §3.6): label header,
// CRC-32, compound, and the full receive/send pipeline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gossip/bytes.h"
#include "gossip/compression.h"
#include "gossip/messages.h"
#include "gossip/security.h"

namespace ringwatch::gossip {

// ---- label header: f4 LL <label> ----

inline constexpr std::size_t kMaxLabelSize = 255;

struct LabelSplit {
  std::optional<std::string> label;  // nullopt when the input had no label header
  ByteView rest;
};
// Splits an optional label header. Reject::bad_label for LL = 0, Reject::truncated
// when the label bytes are incomplete.
Result<LabelSplit> split_label(ByteView in);

// Go's receive rule (§3.3): the received label (absent = "") must equal ours
// unless verification is skipped. Reject::bad_label otherwise.
Status check_label(const std::optional<std::string>& received, std::string_view ours, bool skip_check);

// Appends f4 LL label; appends nothing for an empty label. Reject::oversize over 255 bytes.
Status add_label(std::string_view label, Bytes& out);

// ---- CRC layer: 0c <crc32 BE> <message> ----

std::uint32_t crc32_ieee(ByteView data);
// If in is >= 5 bytes and starts with 0c, verifies and strips the header
// (Reject::bad_crc on mismatch); otherwise returns in unchanged. had_crc tells which.
Result<ByteView> strip_crc(ByteView in, bool& had_crc);
Bytes add_crc(ByteView message);

// ---- compound: 07 N, N x u16 BE lengths, parts ----

struct CompoundSplit {
  std::vector<ByteView> parts;
  bool truncated = false;  // a declared part ran past the end; it and later parts were dropped
};
// body is what follows the 07 byte. Reject::truncated when the count or the
// length table is incomplete (Go drops the whole compound).
Result<CompoundSplit> split_compound(ByteView body);
// At most 255 parts of at most 65535 bytes each (Reject::oversize otherwise).
Result<Bytes> build_compound(std::span<const Bytes> parts);

// ---- full pipeline ----

struct PacketDecodeOptions {
  std::string label{};            // our cluster label ("" = none)
  bool skip_label_check = false;
  const Keyring* keyring = nullptr;  // decrypt when set
  std::size_t max_decompressed = kDefaultMaxDecompressed;  // for the whole packet, all layers
  int max_nesting = 8;          // compound/compress recursion bound
};

struct PacketLayers {
  std::optional<std::string> label;  // label header as received
  bool encrypted = false;
  bool crc = false;
  int compress = 0;  // compress wrappers unwrapped, at any depth
  int compound = 0;  // compound messages split, at any depth
};

struct DecodedPacket {
  PacketLayers layers;
  std::vector<Message> messages;  // in wire order, compounds flattened
  // Parts Go would drop while still handling the rest: undecodable compound
  // parts, truncated compound tails, unsupported nested types.
  std::vector<Error> part_errors;
};

// label -> check -> decrypt -> CRC -> message (compress/compound recursively).
// Errors of the outer layers (label, decrypt, CRC, empty packet) fail the whole
// packet; a single top-level message that does not decode fails it too.
Result<DecodedPacket> decode_packet(ByteView packet, const PacketDecodeOptions& opts);

struct PacketEncodeOptions {
  std::string label{};
  bool crc = false;       // Go: destination node known with PMax >= 5
  bool compress = false;  // LZW, used only when strictly smaller
  const Keyring* keyring = nullptr;
  int encryption_version = 1;
  Bytes nonce{};  // 12 bytes when encrypting (random_nonce())
};

// message is one complete message (possibly a compound). Builds what a Go node
// sends: compress if smaller -> CRC -> encrypt (AAD = label) -> label header.
Result<Bytes> encode_packet(ByteView message, const PacketEncodeOptions& opts);

}  // namespace ringwatch::gossip
