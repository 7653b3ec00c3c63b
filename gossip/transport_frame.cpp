#include "gossip/transport_frame.h"

#include <openssl/evp.h>

#include <algorithm>

namespace ringwatch::gossip {

std::array<std::uint8_t, kDigestSize> md5(ByteView data) {
  std::array<std::uint8_t, kDigestSize> digest{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_md5(), nullptr);
  return digest;
}

Result<PacketFrame> parse_packet_frame(ByteView conn) {
  if (conn.empty()) return fail(Reject::truncated, "empty connection");
  if (conn[0] != static_cast<std::uint8_t>(ConnectionType::packet)) {
    return fail(Reject::unknown_type, "not a packet connection: first byte " + std::to_string(conn[0]));
  }
  if (conn.size() < 2) return fail(Reject::truncated, "packet frame: no address length");
  const std::size_t addr_len = conn[1];
  if (conn.size() < 2 + addr_len) return fail(Reject::truncated, "packet frame: address incomplete");
  const ByteView rest = conn.subspan(2 + addr_len);
  if (rest.size() < kDigestSize) return fail(Reject::truncated, "packet frame: no digest");
  PacketFrame f;
  f.from = std::string(as_chars(conn.subspan(2, addr_len)));
  const ByteView payload = rest.first(rest.size() - kDigestSize);
  f.payload.assign(payload.begin(), payload.end());
  const auto want = md5(payload);
  f.digest_ok = std::equal(want.begin(), want.end(), rest.end() - kDigestSize);
  return f;
}

Result<Bytes> build_packet_frame(std::string_view from, ByteView payload) {
  if (from.size() > 255) return fail(Reject::oversize, "packet frame: address longer than 255 bytes");
  Bytes out;
  out.reserve(2 + from.size() + payload.size() + kDigestSize);
  out.push_back(static_cast<std::uint8_t>(ConnectionType::packet));
  out.push_back(static_cast<std::uint8_t>(from.size()));
  append(out, as_bytes(from));
  append(out, payload);
  const auto digest = md5(payload);
  out.insert(out.end(), digest.begin(), digest.end());
  return out;
}

}  // namespace ringwatch::gossip
