// dskit's TCPTransport (dskit-kv-ring.md §1): one listener per bind address; each
// connection carries one packet (01 ...) or one stream (02 ...), optionally in TLS.
#include <algorithm>
#include <deque>
#include <optional>
#include <vector>

#include <asio/read.hpp>
#include "gossip/log.h"

#include "gossip/tcp_conn.h"
#include "gossip/tls_context.h"
#include "gossip/transport_frame.h"

namespace ringwatch::gossip {
namespace {

using asio::ip::tcp;
using detail::ConnectionLimiter;
using detail::lowest;
using detail::SocketStreamConn;
using detail::TlsSocket;

// Packet reads start small and double: most packets are a heartbeat of under 1 KiB, and each
// read's buffer is zero-filled by the resize.
constexpr std::size_t kFirstReadChunk = 4 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxQueuedPackets = 4096;

bool is_eof(const std::error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

class DskitTcpTransport final : public Transport {
 public:
  DskitTcpTransport(asio::io_context& io, const MemberConfig& config, GossipCounters& counters)
      : io_(io), config_(config), counters_(counters), log_(gossip_logger()),
        limiter_(std::make_shared<ConnectionLimiter>(config.limits.max_concurrent_connections)),
        alive_(std::make_shared<bool>(true)) {
    if (config_.tls.enabled) tls_ = make_tls_contexts(config_.tls);
  }
  ~DskitTcpTransport() override { stop(); }

  void start(PacketHandler on_packet, StreamHandler on_stream) override {
    on_packet_ = std::move(on_packet);
    on_stream_ = std::move(on_stream);
    std::uint16_t port = config_.bind_port;
    for (auto& addr : config_.bind_addrs) {
      tcp::endpoint ep(asio::ip::make_address(addr), port);
      auto& acc = acceptors_.emplace_back(io_);
      acc.open(ep.protocol());
      acc.set_option(tcp::acceptor::reuse_address(true));
      acc.bind(ep);
      acc.listen(asio::socket_base::max_listen_connections);
      if (port == 0) port = acc.local_endpoint().port();  // kernel-chosen port applies to all listeners
    }
    bound_port_ = port;
    advertise_ip_ = choose_advertise_ip(config_);
    advertise_port_ = config_.advertise_addr.empty() ? bound_port_ : config_.advertise_port;
    advertise_text_ = endpoint_text(Endpoint(advertise_ip_, advertise_port_));
    for (auto& acc : acceptors_) accept(acc);
  }

  void stop() override {
    *alive_ = false;
    for (auto& acc : acceptors_) {
      std::error_code ec;
      acc.close(ec);
    }
    queue_.clear();
  }

  std::uint16_t bound_port() const override { return bound_port_; }
  asio::ip::address advertise_ip() const override { return advertise_ip_; }
  std::uint16_t advertise_port() const override { return advertise_port_; }

  void send_packet(const Endpoint& to, Bytes payload) override {
    auto frame = build_packet_frame(advertise_text_, payload);
    if (!frame) {
      counters_.packet_send_errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (queue_.size() >= kMaxQueuedPackets) {
      counters_.limit(Limit::writers);
      return;
    }
    queue_.push_back(Outgoing{to, std::make_shared<const Bytes>(std::move(*frame)), std::chrono::steady_clock::now()});
    pump_writers();
  }

  void dial_stream(const Endpoint& to, std::chrono::milliseconds timeout, DialHandler handler) override {
    auto type_byte = std::make_shared<const Bytes>(Bytes{static_cast<std::uint8_t>(ConnectionType::stream)});
    connect(to, timeout, [handler, type_byte](std::error_code ec, std::shared_ptr<StreamConn> conn) {
      if (ec) return handler(ec, nullptr);
      conn->async_write(type_byte, [conn, handler](std::error_code ec) { handler(ec, ec ? nullptr : conn); });
    });
  }

 private:
  struct Outgoing {
    Endpoint to;
    std::shared_ptr<const Bytes> frame;
    std::chrono::steady_clock::time_point queued;
  };

  // ---- inbound ----

  void accept(tcp::acceptor& acc) {
    acc.async_accept([this, &acc, alive = alive_](std::error_code ec, tcp::socket socket) {
      if (!*alive || ec == asio::error::operation_aborted) return;
      if (!ec) on_accepted(std::move(socket));
      accept(acc);
    });
  }

  void on_accepted(tcp::socket socket) {
    auto slot = limiter_->acquire();
    if (!slot) {
      counters_.connections_refused.fetch_add(1, std::memory_order_relaxed);
      counters_.limit(Limit::connections);
      log_->debug("refusing connection: {} connections open", limiter_->active());
      return;  // socket closes here
    }
    counters_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    auto deadline = std::make_shared<asio::steady_timer>(io_, config_.limits.connection_read_deadline);
    if (tls_.server) {
      std::error_code ignored;
      auto remote = socket.remote_endpoint(ignored);
      std::string peer = ignored ? std::string("?") : endpoint_text(remote);
      auto tls = std::make_shared<TlsSocket>(std::move(socket), *tls_.server);
      arm_deadline(deadline, tls);
      tls->async_handshake(asio::ssl::stream_base::server, [this, tls, slot, deadline, peer, alive = alive_](std::error_code ec) {
        if (!*alive) return;
        if (ec) {
          // Closed by the peer (port probe, dying node) or by our deadline (counted there):
          // not a TLS rejection, as on plain listeners.
          if (!is_eof(ec) && ec != asio::error::operation_aborted) counters_.reject(Reject::tls);
          log_->debug("TLS handshake with {} failed: {}", peer, ec.message());
          deadline->cancel();
          return;
        }
        read_type(tls, slot, deadline);
      });
    } else {
      auto plain = std::make_shared<tcp::socket>(std::move(socket));
      arm_deadline(deadline, plain);
      read_type(plain, slot, deadline);
    }
  }

  template <class Socket>
  void arm_deadline(const std::shared_ptr<asio::steady_timer>& deadline, const std::shared_ptr<Socket>& socket) {
    std::weak_ptr<Socket> weak = socket;
    deadline->async_wait([this, weak, alive = alive_](std::error_code ec) {
      if (ec || !*alive) return;
      if (auto s = weak.lock()) {
        counters_.limit(Limit::read_deadline);
        log_->debug("closing connection that missed its read deadline");
        std::error_code ignored;
        lowest(*s).close(ignored);
      }
    });
  }

  template <class Socket>
  void read_type(std::shared_ptr<Socket> socket, std::shared_ptr<void> slot, std::shared_ptr<asio::steady_timer> deadline) {
    auto type = std::make_shared<std::uint8_t>(0);
    asio::async_read(*socket, asio::buffer(type.get(), 1),
                     [this, socket, slot, deadline, type, alive = alive_](std::error_code ec, std::size_t) {
                       if (!*alive) return;
                       if (ec) {
                         deadline->cancel();
                         if (!is_eof(ec) && ec != asio::error::operation_aborted) counters_.reject(Reject::truncated);
                         return;  // empty connections are normal (port probes, dying peers)
                       }
                       switch (*type) {
                         case static_cast<std::uint8_t>(ConnectionType::packet): {
                           auto buf = std::make_shared<Bytes>();
                           buf->push_back(*type);
                           read_packet(socket, slot, deadline, buf);
                           return;
                         }
                         case static_cast<std::uint8_t>(ConnectionType::stream):
                           // The member applies stream_timeout from here on.
                           deadline->cancel();
                           counters_.streams_received.fetch_add(1, std::memory_order_relaxed);
                           on_stream_(std::make_shared<SocketStreamConn<Socket>>(std::move(*socket), slot));
                           return;
                         default:
                           deadline->cancel();
                           counters_.reject(Reject::unknown_type);
                           log_->debug("unknown connection type byte 0x{:02x}", *type);
                           return;
                       }
                     });
  }

  template <class Socket>
  void read_packet(std::shared_ptr<Socket> socket, std::shared_ptr<void> slot, std::shared_ptr<asio::steady_timer> deadline,
                   std::shared_ptr<Bytes> buf) {
    const std::size_t old = buf->size();
    const std::size_t chunk = std::clamp(old, kFirstReadChunk, kReadChunk);
    buf->resize(old + chunk);
    socket->async_read_some(
        asio::buffer(buf->data() + old, chunk),
        [this, socket, slot, deadline, buf, old, alive = alive_](std::error_code ec, std::size_t n) {
          if (!*alive) return;
          buf->resize(old + n);
          if (!ec) {
            if (buf->size() > config_.limits.max_packet_bytes) {
              deadline->cancel();
              counters_.limit(Limit::packet_bytes);
              counters_.reject(Reject::oversize);
              log_->debug("dropping packet connection over {} bytes", config_.limits.max_packet_bytes);
              return;
            }
            read_packet(socket, slot, deadline, buf);
            return;
          }
          deadline->cancel();
          if (!is_eof(ec)) {
            // Closed by the deadline or reset by the peer before EOF.
            counters_.reject(Reject::truncated);
            log_->debug("packet connection failed before EOF: {}", ec.message());
            return;
          }
          deliver(*buf);
        });
  }

  void deliver(const Bytes& conn_bytes) {
    auto frame = parse_packet_frame(conn_bytes);
    if (!frame) {
      counters_.reject(frame.error().reason);
      log_->debug("bad packet frame: {} {}", reject_name(frame.error().reason), frame.error().detail);
      return;
    }
    if (!frame->digest_ok) {
      // dskit logs the mismatch and still delivers; we count it and do the same.
      counters_.reject(Reject::bad_digest);
      log_->debug("packet from {} has a bad MD5 digest", frame->from);
    }
    counters_.packets_received.fetch_add(1, std::memory_order_relaxed);
    counters_.bytes_received.fetch_add(conn_bytes.size(), std::memory_order_relaxed);
    on_packet_(InboundPacket{std::move(frame->payload), std::move(frame->from), std::chrono::system_clock::now(),
                             std::chrono::steady_clock::now()});
  }

  // ---- outbound ----

  // Opens a connection (TLS handshake included) within the timeout.
  void connect(const Endpoint& to, std::chrono::milliseconds timeout, DialHandler handler) {
    detail::connect_with_timeout(io_, to, timeout, [this, to, timeout, handler, alive = alive_](std::error_code ec, tcp::socket socket) {
      if (!*alive) return handler(asio::error::operation_aborted, nullptr);
      if (ec) return handler(ec, nullptr);
      if (!tls_.client) return handler({}, std::make_shared<SocketStreamConn<tcp::socket>>(std::move(socket), nullptr));
      auto tls = std::make_shared<TlsSocket>(std::move(socket), *tls_.client);
      prepare_client_tls(tls->native_handle(), config_.tls, to.address());
      auto deadline = std::make_shared<asio::steady_timer>(io_, timeout);
      arm_deadline(deadline, tls);
      tls->async_handshake(asio::ssl::stream_base::client, [tls, deadline, handler](std::error_code ec) {
        deadline->cancel();
        if (ec) return handler(ec, nullptr);
        handler({}, std::make_shared<SocketStreamConn<TlsSocket>>(std::move(*tls), nullptr));
      });
    });
  }

  void pump_writers() {
    const auto now = std::chrono::steady_clock::now();
    while (writers_ < static_cast<std::size_t>(std::max(1, config_.max_concurrent_writes)) && !queue_.empty()) {
      Outgoing item = std::move(queue_.front());
      queue_.pop_front();
      if (now - item.queued > config_.acquire_writer_timeout) {
        counters_.limit(Limit::writers);  // dskit drops it silently too
        continue;
      }
      write_packet(std::move(item));
    }
  }

  void write_packet(Outgoing item) {
    ++writers_;
    auto done = [this, alive = alive_, size = item.frame->size()](bool ok) {
      if (!*alive) return;
      --writers_;
      if (ok) {
        counters_.packets_sent.fetch_add(1, std::memory_order_relaxed);
        counters_.bytes_sent.fetch_add(size, std::memory_order_relaxed);
      } else {
        counters_.packet_send_errors.fetch_add(1, std::memory_order_relaxed);
      }
      pump_writers();
    };
    connect(item.to, config_.packet_dial_timeout, [this, item, done](std::error_code ec, std::shared_ptr<StreamConn> conn) {
      if (ec) {
        log_->debug("packet dial to {} failed: {}", endpoint_text(item.to), ec.message());
        return done(false);
      }
      auto deadline = std::make_shared<asio::steady_timer>(io_, config_.packet_write_timeout);
      deadline->async_wait([conn](std::error_code ec) {
        if (!ec) conn->close();
      });
      conn->async_write(item.frame, [conn, deadline, done](std::error_code ec) {
        deadline->cancel();
        conn->close();  // EOF ends the packet
        done(!ec);
      });
    });
  }

  asio::io_context& io_;
  const MemberConfig& config_;
  GossipCounters& counters_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<ConnectionLimiter> limiter_;
  std::shared_ptr<bool> alive_;  // handlers outliving stop() check it
  TlsContexts tls_;
  std::vector<tcp::acceptor> acceptors_;
  PacketHandler on_packet_;
  StreamHandler on_stream_;
  std::uint16_t bound_port_ = 0;
  asio::ip::address advertise_ip_;
  std::uint16_t advertise_port_ = 0;
  std::string advertise_text_;
  std::deque<Outgoing> queue_;
  std::size_t writers_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_dskit_tcp_transport(asio::io_context& io, const MemberConfig& config,
                                                    GossipCounters& counters) {
  return std::make_unique<DskitTcpTransport>(io, config, counters);
}

}  // namespace ringwatch::gossip
