// dskit's memberlist TLS settings mapped onto OpenSSL: Go suite names, minimum
// version, and what a handshake with the resulting contexts negotiates.
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "gossip/tls_context.h"
#include "tests/support/tls_certs.h"

namespace ringwatch::gossip {
namespace {

using testing::TestPki;

const TestPki& pki() {
  static const TestPki p = testing::make_test_pki(std::string(RINGWATCH_BINARY_DIR) + "/test-logs/gossip/pki-" + std::to_string(::getpid()));
  return p;
}

// Handshakes a client SSL against a server SSL through an in-memory BIO pair.
// Returns the negotiated cipher name, or "" when the handshake failed.
std::string handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, const std::function<void(SSL*)>& prepare_client = {}) {
  SSL* server = SSL_new(server_ctx);
  SSL* client = SSL_new(client_ctx);
  if (prepare_client) prepare_client(client);
  BIO *s_bio = nullptr, *c_bio = nullptr;
  BIO_new_bio_pair(&s_bio, 0, &c_bio, 0);
  SSL_set_bio(server, s_bio, s_bio);
  SSL_set_bio(client, c_bio, c_bio);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  bool s_done = false, c_done = false, failed = false;
  for (int i = 0; i < 100 && !(s_done && c_done) && !failed; ++i) {
    for (auto [ssl, done] : {std::pair{client, &c_done}, std::pair{server, &s_done}}) {
      if (*done) continue;
      int r = SSL_do_handshake(ssl);
      if (r == 1) *done = true;
      else if (int e = SSL_get_error(ssl, r); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) failed = true;
    }
  }
  std::string cipher = s_done && c_done ? SSL_get_cipher_name(client) : "";
  SSL_free(server);
  SSL_free(client);
  ERR_clear_error();
  return cipher;
}

// A client that only speaks TLS 1.2 with the given OpenSSL suites.
SSL_CTX* tls12_client(const char* ciphers) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(ctx, ciphers);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  return ctx;
}

TlsConfig server_config() {
  TlsConfig c;
  c.enabled = true;
  c.cert_path = pki().cert;
  c.key_path = pki().key;
  return c;
}

TEST(TlsCipherSuites, GoNamesMapToOpenSslNames) {
  EXPECT_EQ(openssl_cipher_list("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(openssl_cipher_list("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_RSA_WITH_AES_256_GCM_SHA384"),
            "ECDHE-ECDSA-CHACHA20-POLY1305:AES256-GCM-SHA384");
  // TLS 1.3 suites are valid names that Go does not let configure.
  EXPECT_EQ(openssl_cipher_list("TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"), "ECDHE-RSA-AES256-SHA");
}

TEST(TlsCipherSuites, UnknownNamesAreRejectedByName) {
  for (const char* bad : {"ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256",
                          "TLS_FOO", "TLS_AES_128_GCM_SHA256,"}) {
    try {
      openssl_cipher_list(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("unsupported TLS cipher suite"), std::string::npos) << e.what();
    }
  }
  auto cfg = server_config();
  cfg.cipher_suites = "TLS_NOT_A_SUITE";
  EXPECT_THROW(make_tls_contexts(cfg), std::runtime_error);
  cfg.cipher_suites.clear();
  cfg.min_version = "TLS1.2";
  EXPECT_THROW(make_tls_contexts(cfg), std::runtime_error);
}

TEST(TlsCipherSuites, ConfiguredSuitesRestrictTheHandshake) {
  auto cfg = server_config();
  cfg.cipher_suites = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
  auto ctx = make_tls_contexts(cfg);
  SSL_CTX* want = tls12_client("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384");
  SSL_CTX* other = tls12_client("ECDHE-RSA-AES256-GCM-SHA384");
  EXPECT_EQ(handshake(ctx.server->native_handle(), want), "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(handshake(ctx.server->native_handle(), other), "");
  // Without a restriction the same client gets its suite.
  auto open = make_tls_contexts(server_config());
  EXPECT_EQ(handshake(open.server->native_handle(), other), "ECDHE-RSA-AES256-GCM-SHA384");
  SSL_CTX_free(want);
  SSL_CTX_free(other);
}

TEST(TlsMinVersion, OlderClientsAreRefused) {
  auto cfg = server_config();
  cfg.min_version = "VersionTLS13";
  auto ctx = make_tls_contexts(cfg);
  SSL_CTX* old = tls12_client("ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(handshake(ctx.server->native_handle(), old), "");
  EXPECT_NE(handshake(make_tls_contexts(server_config()).server->native_handle(), old), "");
  SSL_CTX_free(old);
}

// The dialer's identity checks (dskit-kv-ring.md §1.7), against our own listener context.
class TlsVerify : public ::testing::Test {
 protected:
  std::string dial(TlsConfig client_cfg, const char* dialed_ip = "127.0.0.1") {
    auto server = make_tls_contexts(server_config());
    client_cfg.enabled = true;
    auto client = make_tls_contexts(client_cfg);
    return handshake(server.server->native_handle(), client.client->native_handle(),
                     [&](SSL* ssl) { prepare_client_tls(ssl, client_cfg, asio::ip::make_address(dialed_ip)); });
  }
};

TEST_F(TlsVerify, DialedIpMustBeInTheCertificate) {
  TlsConfig c;
  c.ca_path = pki().ca_cert;
  EXPECT_NE(dial(c, "127.0.0.1"), "");
  EXPECT_EQ(dial(c, "127.0.0.2"), "");
}

TEST_F(TlsVerify, ServerNameReplacesTheDialedIp) {
  TlsConfig c;
  c.ca_path = pki().ca_cert;
  c.server_name = TestPki::kDnsName;
  EXPECT_NE(dial(c, "127.0.0.2"), "");
  c.server_name = "other.ringwatch.test";
  EXPECT_EQ(dial(c), "");
  c.server_name = "127.0.0.1";  // an IP server name is checked against the IP SANs
  EXPECT_NE(dial(c, "127.0.0.2"), "");
}

TEST_F(TlsVerify, UnknownCaFailsUnlessVerificationIsSkipped) {
  TlsConfig c;
  c.ca_path = pki().other_ca_cert;
  EXPECT_EQ(dial(c), "");
  c.insecure_skip_verify = true;
  EXPECT_NE(dial(c), "");
  c.server_name = "other.ringwatch.test";  // not checked either
  EXPECT_NE(dial(c, "127.0.0.2"), "");
}

}  // namespace
}  // namespace ringwatch::gossip
