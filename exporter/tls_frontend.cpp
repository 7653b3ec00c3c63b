#include "exporter/tls_frontend.h"

#include <spdlog/spdlog.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace ringwatch {
namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

int tls_version(const std::string& name) {
  if (name == "TLS10") return TLS1_VERSION;
  if (name == "TLS11") return TLS1_1_VERSION;
  if (name == "TLS13") return TLS1_3_VERSION;
  return TLS1_2_VERSION;
}

}  // namespace

std::string configure_server_tls(SSL_CTX* ctx, const TlsServerConfig& t) {
  if (SSL_CTX_use_certificate_chain_file(ctx, t.cert_file.c_str()) != 1) {
    return "tls_server_config.cert_file: cannot load " + t.cert_file;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, t.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return "tls_server_config.key_file: cannot load " + t.key_file + " or it does not match the certificate";
  }
  SSL_CTX_set_min_proto_version(ctx, tls_version(t.min_version));
  if (!t.max_version.empty()) SSL_CTX_set_max_proto_version(ctx, tls_version(t.max_version));
  if (!t.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, t.client_ca_file.c_str(), nullptr) != 1) {
      return "tls_server_config.client_ca_file: cannot load " + t.client_ca_file;
    }
    SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(t.client_ca_file.c_str()));
  }
  // The exporter toolkit's client_auth_type values as OpenSSL verify modes. The two
  // "Any/Request" modes ask for a certificate but accept it unverified, as Go does.
  const std::string& a = t.client_auth_type;
  if (a == "RequireAndVerifyClientCert") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else if (a == "VerifyClientCertIfGiven") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else if (a == "RequireAnyClientCert") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, [](int, X509_STORE_CTX*) { return 1; });
  } else if (a == "RequestClientCert") {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return "";
}

asio::ip::tcp::endpoint resolve_listen_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("listen address " + address + " has no port");
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  asio::error_code ec;
  auto results = resolver.resolve(host, port, asio::ip::resolver_base::numeric_service, ec);
  if (ec || results.empty()) throw std::runtime_error("cannot resolve listen address " + address);
  return results.begin()->endpoint();
}

// One TLS client relayed to the backend: handshake, connect, then copy both ways until
// either side closes.
class TlsFrontend::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(TlsFrontend& owner, asio::ip::tcp::socket socket)
      : owner_(owner), client_(std::move(socket), owner.ssl_), backend_(owner.io_), timer_(owner.io_) {}

  ~Session() {
    if (relay_port_ != 0) owner_.remove_relay(relay_port_);
  }

  void start() {
    timer_.expires_after(kHandshakeTimeout);
    timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->close();
    });
    client_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](const asio::error_code& ec) {
      if (ec) return self->close();
      self->connect_backend();
    });
  }

 private:
  void connect_backend() {
    asio::ip::tcp::endpoint backend(asio::ip::address_v4::loopback(), owner_.backend_port_);
    backend_.async_connect(backend, [self = shared_from_this()](const asio::error_code& ec) {
      if (ec) return self->close();
      self->timer_.cancel();
      asio::error_code lec;
      self->relay_port_ = self->backend_.local_endpoint(lec).port();
      self->owner_.add_relay(self->relay_port_);
      self->client_to_backend();
      self->backend_to_client();
    });
  }

  void client_to_backend() {
    client_.async_read_some(asio::buffer(up_), [self = shared_from_this()](const asio::error_code& ec, size_t n) {
      if (ec) return self->close();
      asio::async_write(self->backend_, asio::buffer(self->up_, n),
                        [self](const asio::error_code& wec, size_t) {
                          if (wec) return self->close();
                          self->client_to_backend();
                        });
    });
  }

  void backend_to_client() {
    backend_.async_read_some(asio::buffer(down_), [self = shared_from_this()](const asio::error_code& ec, size_t n) {
      if (ec) return self->close();
      asio::async_write(self->client_, asio::buffer(self->down_, n),
                        [self](const asio::error_code& wec, size_t) {
                          if (wec) return self->close();
                          self->backend_to_client();
                        });
    });
  }

  void close() {
    asio::error_code ignored;
    timer_.cancel();
    client_.lowest_layer().close(ignored);
    backend_.close(ignored);
  }

  TlsFrontend& owner_;
  asio::ssl::stream<asio::ip::tcp::socket> client_;
  asio::ip::tcp::socket backend_;
  asio::steady_timer timer_;
  uint16_t relay_port_ = 0;
  std::array<char, 16384> up_{};
  std::array<char, 16384> down_{};
};

TlsFrontend::TlsFrontend(TlsServerConfig tls, std::vector<std::string> listen_addresses, uint16_t backend_port)
    : tls_(std::move(tls)),
      listen_addresses_(std::move(listen_addresses)),
      backend_port_(backend_port),
      ssl_(asio::ssl::context::tls_server) {}


TlsFrontend::~TlsFrontend() { stop(); }

void TlsFrontend::start() {
  if (std::string err = configure_server_tls(ssl_.native_handle(), tls_); !err.empty()) {
    throw std::runtime_error(err);
  }
  for (const auto& address : listen_addresses_) {
    auto endpoint = resolve_listen_address(address);
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(io_);
    asio::error_code ec;
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("cannot listen on " + address + ": " + ec.message());
    ports_.push_back(acceptor->local_endpoint().port());
    accept(*acceptor);
    acceptors_.push_back(std::move(acceptor));
  }
  thread_ = std::thread([this] { io_.run(); });
}

void TlsFrontend::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

void TlsFrontend::accept(asio::ip::tcp::acceptor& acceptor) {
  acceptor.async_accept([this, &acceptor](const asio::error_code& ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(*this, std::move(socket))->start();
    accept(acceptor);
  });
}

void TlsFrontend::add_relay(uint16_t port) {
  std::lock_guard<std::mutex> lock(mu_);
  relay_ports_.insert(port);
}

void TlsFrontend::remove_relay(uint16_t port) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = relay_ports_.find(port); it != relay_ports_.end()) relay_ports_.erase(it);
}

bool TlsFrontend::is_relay(uint16_t port) const {
  std::lock_guard<std::mutex> lock(mu_);
  return relay_ports_.count(port) > 0;
}

}  // namespace ringwatch
