// OpenSSL contexts for dskit's memberlist TLS (dskit-kv-ring.md §1.7): the
// listener presents its certificate and asks for none; the dialer verifies the
// server against the CA (unless insecure_skip_verify) for the configured server
// name or, without one, the dialed IP.
#pragma once

#include <memory>
#include <string>

#include <asio/ip/address.hpp>
#include <asio/ssl.hpp>

#include "gossip/config.h"

namespace ringwatch::gossip {

struct TlsContexts {
  std::unique_ptr<asio::ssl::context> server;
  std::unique_ptr<asio::ssl::context> client;
};

// Maps dskit's -memberlist.tls-cipher-suites (comma-separated Go crypto/tls names) to an
// OpenSSL cipher list for TLS <= 1.2. TLS 1.3 names are accepted and dropped: Go does
// not let them be configured either. Throws std::runtime_error naming an unknown suite.
std::string openssl_cipher_list(const std::string& go_suites);

// Throws std::runtime_error with the OpenSSL reason when files or settings are bad.
TlsContexts make_tls_contexts(const TlsConfig& tls);

// Sets SNI and the expected peer identity on a client connection.
void prepare_client_tls(SSL* ssl, const TlsConfig& tls, const asio::ip::address& dialed);

}  // namespace ringwatch::gossip
