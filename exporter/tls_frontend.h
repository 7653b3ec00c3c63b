// TLS for the HTTP endpoints, terminated with asio and OpenSSL in front of civetweb.
//
// Debian bookworm's civetweb 1.15 loads OpenSSL at run time by symbol name and expects
// SSL_get_peer_certificate, which OpenSSL 3 no longer exports: its own TLS crashes on the
// first request. So the frontend accepts TLS on the public addresses, applies the web
// configuration's tls_server_config (versions, client certificates), and relays the
// plaintext to civetweb on a loopback port. civetweb serves relayed connections only:
// the frontend records the local port of every relay connection, and the server refuses
// any other peer on that internal port.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exporter/web_config.h"

namespace ringwatch {

// Applies a tls_server_config to an OpenSSL context; returns an error naming the field, or "".
std::string configure_server_tls(SSL_CTX* ctx, const TlsServerConfig& tls);

class TlsFrontend {
 public:
  TlsFrontend(TlsServerConfig tls, std::vector<std::string> listen_addresses, uint16_t backend_port);
  ~TlsFrontend();
  TlsFrontend(const TlsFrontend&) = delete;
  TlsFrontend& operator=(const TlsFrontend&) = delete;

  // Binds every address and starts its thread. Throws std::runtime_error naming the address.
  void start();
  void stop();

  std::vector<int> ports() const { return ports_; }
  // Whether a connection arriving at the backend from this local port is one of ours.
  bool is_relay(uint16_t port) const;

 private:
  class Session;
  void accept(asio::ip::tcp::acceptor& acceptor);
  void add_relay(uint16_t port);
  void remove_relay(uint16_t port);

  TlsServerConfig tls_;
  std::vector<std::string> listen_addresses_;
  uint16_t backend_port_;
  // Declared before io_: sessions still queued in io_ touch these when io_ is destroyed.
  mutable std::mutex mu_;
  std::multiset<uint16_t> relay_ports_;
  asio::ssl::context ssl_;
  asio::io_context io_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  std::vector<int> ports_;
  std::thread thread_;
};

// Splits a Go listen address (":10946", "127.0.0.1:0", "[::1]:10946", "host:port") into an endpoint.
asio::ip::tcp::endpoint resolve_listen_address(const std::string& address);

}  // namespace ringwatch
