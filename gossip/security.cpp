#include "gossip/security.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace ringwatch::gossip {

namespace {

constexpr std::size_t kBlockSize = 16;
constexpr std::uint8_t kEncryptMsg = 10;

const EVP_CIPHER* gcm_for(std::size_t key_size) {
  switch (key_size) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    case 32: return EVP_aes_256_gcm();
    default: return nullptr;
  }
}

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// GCM seal: returns ciphertext || tag.
bool gcm_seal(ByteView key, ByteView nonce, ByteView plaintext, ByteView aad, Bytes& out) {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), gcm_for(key.size()), nullptr, key.data(), nonce.data()) != 1) return false;
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return false;
  }
  const std::size_t start = out.size();
  out.resize(start + plaintext.size() + kTagSize);
  if (!plaintext.empty() && EVP_EncryptUpdate(ctx.get(), out.data() + start, &len, plaintext.data(),
                                              static_cast<int>(plaintext.size())) != 1) {
    return false;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + start + plaintext.size(), &len) != 1) return false;
  return EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                             out.data() + start + plaintext.size()) == 1;
}

// GCM open of ciphertext || tag; false when authentication fails.
bool gcm_open(ByteView key, ByteView nonce, ByteView sealed, ByteView aad, Bytes& out) {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  const ByteView ct = sealed.first(sealed.size() - kTagSize);
  Bytes tag(sealed.end() - kTagSize, sealed.end());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), gcm_for(key.size()), nullptr, key.data(), nonce.data()) != 1) return false;
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return false;
  }
  out.assign(ct.size(), 0);
  if (!ct.empty() &&
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, ct.data(), static_cast<int>(ct.size())) != 1) {
    return false;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1) return false;
  std::uint8_t final_block[kBlockSize];
  return EVP_DecryptFinal_ex(ctx.get(), final_block, &len) == 1;
}

}  // namespace

Result<Keyring> Keyring::make(std::vector<Bytes> keys) {
  if (keys.empty()) return fail(Reject::invalid, "keyring: no keys");
  for (const Bytes& k : keys) {
    if (!gcm_for(k.size())) return fail(Reject::invalid, "keyring: key must be 16, 24 or 32 bytes");
  }
  Keyring ring;
  ring.keys_ = std::move(keys);
  return ring;
}

std::size_t encrypted_length(int version, std::size_t n) {
  if (version == 0) return 1 + kNonceSize + (n / kBlockSize + 1) * kBlockSize + kTagSize;
  return 1 + kNonceSize + n + kTagSize;
}

Bytes random_nonce() {
  Bytes nonce(kNonceSize);
  RAND_bytes(nonce.data(), static_cast<int>(nonce.size()));
  return nonce;
}

Result<Bytes> encrypt_payload(int version, ByteView key, ByteView nonce, ByteView plaintext, ByteView aad) {
  if (version != 0 && version != 1) return fail(Reject::invalid, "encryption version must be 0 or 1");
  if (!gcm_for(key.size())) return fail(Reject::invalid, "key must be 16, 24 or 32 bytes");
  if (nonce.size() != kNonceSize) return fail(Reject::invalid, "nonce must be 12 bytes");
  Bytes padded;
  if (version == 0) {
    // PKCS#7: always 1..16 bytes of padding, each holding the pad length.
    const std::size_t pad = kBlockSize - plaintext.size() % kBlockSize;
    padded.assign(plaintext.begin(), plaintext.end());
    padded.insert(padded.end(), pad, static_cast<std::uint8_t>(pad));
    plaintext = padded;
  }
  Bytes out;
  out.reserve(encrypted_length(version, plaintext.size()));
  out.push_back(static_cast<std::uint8_t>(version));
  append(out, nonce);
  if (!gcm_seal(key, nonce, plaintext, aad, out)) return fail(Reject::invalid, "AES-GCM seal failed");
  return out;
}

Result<Bytes> decrypt_payload(const Keyring& keyring, ByteView payload, ByteView aad) {
  if (payload.empty()) return fail(Reject::decrypt, "empty encrypted payload");
  const int version = payload[0];
  if (version > 1) return fail(Reject::decrypt, "unknown encryption version " + std::to_string(version));
  if (payload.size() < encrypted_length(version, 0)) return fail(Reject::decrypt, "encrypted payload too short");
  const ByteView nonce = payload.subspan(1, kNonceSize);
  const ByteView sealed = payload.subspan(1 + kNonceSize);
  Bytes plain;
  for (const Bytes& key : keyring.keys()) {
    if (!gcm_open(key, nonce, sealed, aad, plain)) continue;
    if (version == 0) {
      const std::size_t pad = plain.empty() ? 0 : plain.back();
      if (pad == 0 || pad > plain.size()) return fail(Reject::decrypt, "bad PKCS#7 padding");
      plain.resize(plain.size() - pad);
    }
    return plain;
  }
  return fail(Reject::decrypt, "no key in the keyring opens the payload");
}

Result<Bytes> encrypt_stream_frame(int version, ByteView key, ByteView nonce, ByteView plaintext,
                                   std::string_view label) {
  Bytes frame;
  frame.push_back(kEncryptMsg);
  put_be32(frame, static_cast<std::uint32_t>(encrypted_length(version, plaintext.size())));
  Bytes aad(frame);
  append(aad, as_bytes(label));
  auto body = encrypt_payload(version, key, nonce, plaintext, aad);
  if (!body) return body.error();
  append(frame, *body);
  return frame;
}

Result<DecryptedFrame> decrypt_stream_frame(const Keyring& keyring, ByteView buf, std::string_view label) {
  if (buf.empty() || buf[0] != kEncryptMsg) return fail(Reject::decrypt, "not an encrypt frame");
  if (buf.size() < 5) return fail(Reject::truncated, "encrypt frame: length incomplete");
  const std::uint32_t len = load_be32(buf.data() + 1);
  if (len > kMaxEncryptedFrame) return fail(Reject::oversize, "encrypt frame longer than 20 MiB");
  if (buf.size() - 5 < len) return fail(Reject::truncated, "encrypt frame: body incomplete");
  Bytes aad(buf.begin(), buf.begin() + 5);
  append(aad, as_bytes(label));
  auto plain = decrypt_payload(keyring, buf.subspan(5, len), aad);
  if (!plain) return plain.error();
  return DecryptedFrame{std::move(*plain), 5 + std::size_t{len}};
}

}  // namespace ringwatch::gossip
