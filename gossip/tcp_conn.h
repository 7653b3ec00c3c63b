// Internal to the transports: a StreamConn over a plain or TLS socket, the
// inbound connection limiter, and connect-with-timeout.
#pragma once

#include <memory>
#include <type_traits>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include "gossip/transport.h"

namespace ringwatch::gossip::detail {

using TlsSocket = asio::ssl::stream<asio::ip::tcp::socket>;

inline asio::ip::tcp::socket& lowest(asio::ip::tcp::socket& s) { return s; }
inline asio::ip::tcp::socket& lowest(TlsSocket& s) { return s.next_layer(); }

// Counts inbound connections being served; a slot is released when its holder dies.
class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  explicit ConnectionLimiter(std::size_t max) : max_(max) {}
  // nullptr when the limit is reached.
  std::shared_ptr<void> acquire() {
    if (active_ >= max_) return nullptr;
    ++active_;
    auto self = shared_from_this();
    // Points at the limiter only to be non-null; the deleter releases the slot.
    return std::shared_ptr<void>(static_cast<void*>(this), [self](void*) { --self->active_; });
  }
  std::size_t active() const { return active_; }

 private:
  std::size_t max_;
  std::size_t active_ = 0;  // touched only on the event loop
};

template <class Socket>
class SocketStreamConn final : public StreamConn {
 public:
  SocketStreamConn(Socket socket, std::shared_ptr<void> slot) : socket_(std::move(socket)), slot_(std::move(slot)) {
    std::error_code ec;
    auto ep = lowest(socket_).remote_endpoint(ec);
    if (!ec) peer_ = endpoint_text(ep);
  }
  ~SocketStreamConn() override { close(); }

  void async_read_some(asio::mutable_buffer buf, ReadHandler handler) override {
    socket_.async_read_some(buf, std::move(handler));
  }
  void async_write(std::shared_ptr<const Bytes> data, WriteHandler handler) override {
    asio::async_write(socket_, asio::buffer(*data),
                      [data, handler = std::move(handler)](std::error_code ec, std::size_t) { handler(ec); });
  }
  void close() override {
    std::error_code ec;
    lowest(socket_).shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    lowest(socket_).close(ec);
  }
  std::string peer() const override { return peer_; }

 private:
  Socket socket_;
  std::shared_ptr<void> slot_;
  std::string peer_;
};

// Connects within the timeout; handler(ec, socket).
template <class Handler>
void connect_with_timeout(asio::io_context& io, const Endpoint& to, std::chrono::milliseconds timeout, Handler handler) {
  auto socket = std::make_shared<asio::ip::tcp::socket>(io);
  auto timer = std::make_shared<asio::steady_timer>(io, timeout);
  timer->async_wait([socket](std::error_code ec) {
    if (!ec) {
      std::error_code ignored;
      socket->close(ignored);
    }
  });
  socket->async_connect(to, [socket, timer, handler = std::move(handler)](std::error_code ec) mutable {
    const bool timed_out = timer->expiry() <= std::chrono::steady_clock::now();
    timer->cancel();
    if (!ec && !socket->is_open()) ec = asio::error::timed_out;
    if (ec && timed_out) ec = asio::error::timed_out;
    handler(ec, std::move(*socket));
  });
}

}  // namespace ringwatch::gossip::detail
