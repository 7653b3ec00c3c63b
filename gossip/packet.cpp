#include "gossip/packet.h"

#include <zlib.h>

#include <algorithm>

namespace ringwatch::gossip {

// ---- label ----

Result<LabelSplit> split_label(ByteView in) {
  if (in.empty() || in[0] != static_cast<std::uint8_t>(MessageType::has_label)) return LabelSplit{std::nullopt, in};
  if (in.size() < 2) return fail(Reject::truncated, "label header: no length");
  const std::size_t len = in[1];
  if (len == 0) return fail(Reject::bad_label, "label header with empty label");
  if (in.size() < 2 + len) return fail(Reject::truncated, "label header: label incomplete");
  return LabelSplit{std::string(as_chars(in.subspan(2, len))), in.subspan(2 + len)};
}

Status check_label(const std::optional<std::string>& received, std::string_view ours, bool skip_check) {
  if (skip_check) return ok_status();
  const std::string_view got = received ? std::string_view(*received) : std::string_view();
  if (got != ours) {
    return fail(Reject::bad_label, "label \"" + std::string(got) + "\" != expected \"" + std::string(ours) + "\"");
  }
  return ok_status();
}

Status add_label(std::string_view label, Bytes& out) {
  if (label.empty()) return ok_status();
  if (label.size() > kMaxLabelSize) return fail(Reject::oversize, "label longer than 255 bytes");
  out.push_back(static_cast<std::uint8_t>(MessageType::has_label));
  out.push_back(static_cast<std::uint8_t>(label.size()));
  append(out, as_bytes(label));
  return ok_status();
}

// ---- CRC-32 (IEEE, Go's crc32.ChecksumIEEE: zlib's crc32) ----

namespace {
constexpr std::size_t kCrcHeader = 5;
}  // namespace

std::uint32_t crc32_ieee(ByteView data) {
  // zlib takes uInt lengths; packets and streams are bounded far below 4 GiB, but stay exact.
  uLong c = crc32(0L, Z_NULL, 0);
  while (!data.empty()) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(data.size(), 1u << 30));
    c = crc32(c, data.data(), n);
    data = data.subspan(n);
  }
  return static_cast<std::uint32_t>(c);
}

Result<ByteView> strip_crc(ByteView in, bool& had_crc) {
  had_crc = in.size() >= kCrcHeader && in[0] == static_cast<std::uint8_t>(MessageType::has_crc);
  if (!had_crc) return in;
  const ByteView msg = in.subspan(kCrcHeader);
  if (crc32_ieee(msg) != load_be32(in.data() + 1)) return fail(Reject::bad_crc, "CRC-32 mismatch");
  return msg;
}

Bytes add_crc(ByteView message) {
  Bytes out;
  out.reserve(kCrcHeader + message.size());
  out.push_back(static_cast<std::uint8_t>(MessageType::has_crc));
  put_be32(out, crc32_ieee(message));
  append(out, message);
  return out;
}

// ---- compound ----

Result<CompoundSplit> split_compound(ByteView body) {
  if (body.empty()) return fail(Reject::truncated, "compound: no count");
  const std::size_t n = body[0];
  if (body.size() < 1 + 2 * n) return fail(Reject::truncated, "compound: length table incomplete");
  CompoundSplit out;
  std::size_t pos = 1 + 2 * n;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t len = load_be16(body.data() + 1 + 2 * i);
    if (len > body.size() - pos) {
      out.truncated = true;  // Go drops this part and all following ones
      break;
    }
    out.parts.push_back(body.subspan(pos, len));
    pos += len;
  }
  return out;
}

Result<Bytes> build_compound(std::span<const Bytes> parts) {
  if (parts.size() > 255) return fail(Reject::oversize, "compound: more than 255 parts");
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(MessageType::compound));
  out.push_back(static_cast<std::uint8_t>(parts.size()));
  for (const Bytes& p : parts) {
    if (p.size() > 0xffff) return fail(Reject::oversize, "compound: part longer than 65535 bytes");
    put_be16(out, static_cast<std::uint16_t>(p.size()));
  }
  for (const Bytes& p : parts) append(out, p);
  return out;
}

// ---- pipeline ----

namespace {

// Handles one message as Go's packet dispatcher does; compound parts that fail
// are recorded and skipped, everything else propagates to the caller. budget is
// what is left of opts.max_decompressed for the whole packet: compound parts and
// nested compress layers share it, so a packet never expands past the cap.
Status handle_message(ByteView msg, int depth, const PacketDecodeOptions& opts, std::size_t& budget,
                      DecodedPacket& out) {
  if (msg.empty()) return fail(Reject::truncated, "empty message");
  if (depth > opts.max_nesting) return fail(Reject::invalid, "compress/compound nested too deeply");
  switch (static_cast<MessageType>(msg[0])) {
    case MessageType::compress: {
      msgpack::Reader r(msg.subspan(1));
      auto plain = read_compressed(r, budget);
      if (!plain) return plain.error();
      budget -= plain->size();
      ++out.layers.compress;
      return handle_message(*plain, depth + 1, opts, budget, out);
    }
    case MessageType::compound: {
      auto split = split_compound(msg.subspan(1));
      if (!split) return split.error();
      ++out.layers.compound;
      for (ByteView part : split->parts) {
        if (auto s = handle_message(part, depth + 1, opts, budget, out); !s) out.part_errors.push_back(s.error());
      }
      if (split->truncated) out.part_errors.push_back(fail(Reject::truncated, "compound: part past the end"));
      return ok_status();
    }
    default: {
      auto m = decode_message(msg);
      if (!m) return m.error();
      out.messages.push_back(std::move(*m));
      return ok_status();
    }
  }
}

}  // namespace

Result<DecodedPacket> decode_packet(ByteView packet, const PacketDecodeOptions& opts) {
  DecodedPacket out;
  auto label = split_label(packet);
  if (!label) return label.error();
  if (auto s = check_label(label->label, opts.label, opts.skip_label_check); !s) return s.error();
  out.layers.label = label->label;
  ByteView rest = label->rest;

  Bytes plain;
  if (opts.keyring) {
    // A packet without a header is treated as carrying our label (§3.3).
    const std::string_view aad = label->label ? std::string_view(*label->label) : std::string_view(opts.label);
    auto p = decrypt_payload(*opts.keyring, rest, as_bytes(aad));
    if (!p) return p.error();
    plain = std::move(*p);
    rest = plain;
    out.layers.encrypted = true;
  }

  auto msg = strip_crc(rest, out.layers.crc);
  if (!msg) return msg.error();
  std::size_t budget = opts.max_decompressed;
  if (auto s = handle_message(*msg, 0, opts, budget, out); !s) return s.error();
  return out;
}

Result<Bytes> encode_packet(ByteView message, const PacketEncodeOptions& opts) {
  Bytes msg(message.begin(), message.end());
  if (opts.compress) {
    Bytes c = compress_message(msg);
    if (c.size() < msg.size()) msg = std::move(c);
  }
  if (opts.crc) msg = add_crc(msg);
  if (opts.keyring) {
    auto enc = encrypt_payload(opts.encryption_version, opts.keyring->primary(), opts.nonce, msg,
                               as_bytes(opts.label));
    if (!enc) return enc.error();
    msg = std::move(*enc);
  }
  Bytes out;
  if (auto s = add_label(opts.label, out); !s) return s.error();
  append(out, msg);
  return out;
}

}  // namespace ringwatch::gossip
