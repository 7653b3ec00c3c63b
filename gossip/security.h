// memberlist encryption (memberlist-wire.md §3.5): AES-GCM with a keyring,
// 12-byte nonce, 16-byte tag; version 0 (PKCS#7 padded) and 1 (unpadded).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "gossip/bytes.h"

namespace ringwatch::gossip {

// Keys in priority order; the first is the primary used to encrypt.
class Keyring {
 public:
  // Every key must be 16, 24 or 32 bytes (Reject::invalid otherwise) and at least one given.
  static Result<Keyring> make(std::vector<Bytes> keys);
  const std::vector<Bytes>& keys() const { return keys_; }
  const Bytes& primary() const { return keys_.front(); }

 private:
  std::vector<Bytes> keys_;
};

inline constexpr std::size_t kNonceSize = 12;
inline constexpr std::size_t kTagSize = 16;
// Stream frames longer than this are rejected before reading (maxPushStateBytes).
inline constexpr std::uint32_t kMaxEncryptedFrame = 20u * 1024 * 1024;

// Size of the encrypted payload for a message of n bytes.
std::size_t encrypted_length(int version, std::size_t n);

// [version][nonce][ciphertext||tag]. version is 0 or 1; nonce must be 12 bytes
// (callers pass fresh random bytes, see random_nonce()).
Result<Bytes> encrypt_payload(int version, ByteView key, ByteView nonce, ByteView plaintext,
                              ByteView aad);

// Tries every key in order. Reject::decrypt when none opens it or the framing is bad.
Result<Bytes> decrypt_payload(const Keyring& keyring, ByteView payload, ByteView aad);

// 12 bytes from OpenSSL's CSPRNG.
Bytes random_nonce();

// Stream form: `0a` + u32 BE length + encrypted payload; AAD = those 5 header
// bytes followed by the label.
Result<Bytes> encrypt_stream_frame(int version, ByteView key, ByteView nonce, ByteView plaintext,
                                   std::string_view label);

// Parses a stream frame from the start of buf (which begins with 0a). Returns
// the plaintext and how many bytes the frame took. Reject::truncated when buf
// holds less than the whole frame, Reject::oversize for a length over
// kMaxEncryptedFrame.
struct DecryptedFrame {
  Bytes plaintext;
  std::size_t consumed = 0;
};
Result<DecryptedFrame> decrypt_stream_frame(const Keyring& keyring, ByteView buf, std::string_view label);

}  // namespace ringwatch::gossip
