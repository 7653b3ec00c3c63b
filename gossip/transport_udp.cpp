// memberlist's standard NetTransport (memberlist-wire.md §1.3): UDP datagrams for
// packets, sent from the bind port; plain TCP connections for streams on the
// same port, with no framing of their own.
#include <array>
#include <vector>

#include <asio/ip/udp.hpp>
#include "gossip/log.h"

#include "gossip/tcp_conn.h"

namespace ringwatch::gossip {
namespace {

using asio::ip::tcp;
using asio::ip::udp;
using detail::ConnectionLimiter;
using detail::SocketStreamConn;

constexpr std::size_t kDatagramSize = 65536;

class UdpTransport final : public Transport {
 public:
  UdpTransport(asio::io_context& io, const MemberConfig& config, GossipCounters& counters)
      : io_(io), config_(config), counters_(counters), log_(gossip_logger()),
        limiter_(std::make_shared<ConnectionLimiter>(config.limits.max_concurrent_connections)),
        alive_(std::make_shared<bool>(true)) {
  }
  ~UdpTransport() override { stop(); }

  void start(PacketHandler on_packet, StreamHandler on_stream) override {
    on_packet_ = std::move(on_packet);
    on_stream_ = std::move(on_stream);
    std::uint16_t port = config_.bind_port;
    for (auto& addr : config_.bind_addrs) {
      auto ip = asio::ip::make_address(addr);
      auto& acc = acceptors_.emplace_back(io_);
      tcp::endpoint tep(ip, port);
      acc.open(tep.protocol());
      acc.set_option(tcp::acceptor::reuse_address(true));
      acc.bind(tep);
      acc.listen(asio::socket_base::max_listen_connections);
      if (port == 0) port = acc.local_endpoint().port();
      auto& sock = sockets_.emplace_back(std::make_unique<Datagram>(io_));
      udp::endpoint uep(ip, port);
      sock->socket.open(uep.protocol());
      sock->socket.bind(uep);
    }
    bound_port_ = port;
    advertise_ip_ = choose_advertise_ip(config_);
    advertise_port_ = config_.advertise_addr.empty() ? bound_port_ : config_.advertise_port;
    for (auto& acc : acceptors_) accept(acc);
    for (auto& s : sockets_) receive(*s);
  }

  void stop() override {
    *alive_ = false;
    std::error_code ec;
    for (auto& acc : acceptors_) acc.close(ec);
    for (auto& s : sockets_) s->socket.close(ec);
  }

  std::uint16_t bound_port() const override { return bound_port_; }
  asio::ip::address advertise_ip() const override { return advertise_ip_; }
  std::uint16_t advertise_port() const override { return advertise_port_; }

  void send_packet(const Endpoint& to, Bytes payload) override {
    if (sockets_.empty()) return;
    auto data = std::make_shared<const Bytes>(std::move(payload));
    udp::endpoint dest(to.address(), to.port());
    auto& sock = sockets_.front()->socket;
    std::error_code ec;
    auto local = sock.local_endpoint(ec);  // fails once stop() closed the socket: nothing to send then
    if (ec) return;
    if (local.address().is_v4() && dest.address().is_v6() && dest.address().to_v6().is_v4_mapped())
      dest = udp::endpoint(asio::ip::make_address_v4(asio::ip::v4_mapped, dest.address().to_v6()), dest.port());
    sock.async_send_to(asio::buffer(*data), dest, [this, data, alive = alive_](std::error_code ec, std::size_t n) {
      if (!*alive) return;
      if (ec) {
        counters_.packet_send_errors.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      counters_.packets_sent.fetch_add(1, std::memory_order_relaxed);
      counters_.bytes_sent.fetch_add(n, std::memory_order_relaxed);
    });
  }

  void dial_stream(const Endpoint& to, std::chrono::milliseconds timeout, DialHandler handler) override {
    detail::connect_with_timeout(io_, to, timeout, [handler](std::error_code ec, tcp::socket socket) {
      if (ec) return handler(ec, nullptr);
      handler({}, std::make_shared<SocketStreamConn<tcp::socket>>(std::move(socket), nullptr));
    });
  }

 private:
  struct Datagram {
    explicit Datagram(asio::io_context& io) : socket(io) {}
    udp::socket socket;
    udp::endpoint sender;
    std::array<std::uint8_t, kDatagramSize> buffer{};
  };

  void receive(Datagram& d) {
    d.socket.async_receive_from(asio::buffer(d.buffer), d.sender, [this, &d, alive = alive_](std::error_code ec, std::size_t n) {
      if (!*alive || ec == asio::error::operation_aborted) return;
      if (!ec && n > 0) {
        counters_.packets_received.fetch_add(1, std::memory_order_relaxed);
        counters_.bytes_received.fetch_add(n, std::memory_order_relaxed);
        on_packet_(InboundPacket{Bytes(d.buffer.begin(), d.buffer.begin() + static_cast<std::ptrdiff_t>(n)),
                                 endpoint_text(Endpoint(d.sender.address(), d.sender.port())),
                                 std::chrono::system_clock::now(), std::chrono::steady_clock::now()});
      }
      receive(d);
    });
  }

  void accept(tcp::acceptor& acc) {
    acc.async_accept([this, &acc, alive = alive_](std::error_code ec, tcp::socket socket) {
      if (!*alive || ec == asio::error::operation_aborted) return;
      if (!ec) {
        if (auto slot = limiter_->acquire()) {
          counters_.connections_accepted.fetch_add(1, std::memory_order_relaxed);
          counters_.streams_received.fetch_add(1, std::memory_order_relaxed);
          on_stream_(std::make_shared<SocketStreamConn<tcp::socket>>(std::move(socket), std::move(slot)));
        } else {
          counters_.connections_refused.fetch_add(1, std::memory_order_relaxed);
          counters_.limit(Limit::connections);
        }
      }
      accept(acc);
    });
  }

  asio::io_context& io_;
  const MemberConfig& config_;
  GossipCounters& counters_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<ConnectionLimiter> limiter_;
  std::shared_ptr<bool> alive_;
  std::vector<tcp::acceptor> acceptors_;
  std::vector<std::unique_ptr<Datagram>> sockets_;
  PacketHandler on_packet_;
  StreamHandler on_stream_;
  std::uint16_t bound_port_ = 0;
  asio::ip::address advertise_ip_;
  std::uint16_t advertise_port_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_udp_transport(asio::io_context& io, const MemberConfig& config,
                                              GossipCounters& counters) {
  return std::make_unique<UdpTransport>(io, config, counters);
}

}  // namespace ringwatch::gossip
