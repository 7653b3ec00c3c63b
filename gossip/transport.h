// Transports carry memberlist packets and streams (memberlist-wire.md §1.3, §1.4).
// Both run on the member's io_context; handlers are invoked on it.
//
//  * DskitTcpTransport: dskit's TCPTransport. Every packet is its own TCP
//    connection (01 + advertised address + payload + MD5, then close); every
//    stream is a connection starting with 02. Optional TLS around everything.
//  * UdpTransport: memberlist's NetTransport. Packets are UDP datagrams sent from
//    the bind port; streams are plain TCP connections on the same port.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "gossip/bytes.h"
#include "gossip/config.h"
#include "gossip/events.h"

namespace ringwatch::gossip {

using Endpoint = asio::ip::tcp::endpoint;

// "ip:port" (IPv6 in brackets), as Go's net.JoinHostPort writes it.
std::string endpoint_text(const Endpoint& ep);

struct InboundPacket {
  Bytes payload;      // the memberlist packet (label header included)
  std::string from;   // the sender's advertised "ip:port" (dskit) or datagram source (UDP)
  std::chrono::system_clock::time_point received_wall;
  std::chrono::steady_clock::time_point received_steady;
};

// One stream connection, already past the transport's own framing (dskit's 02
// byte). Closing is idempotent; destroying it closes it.
class StreamConn {
 public:
  using ReadHandler = std::function<void(std::error_code, std::size_t)>;
  using WriteHandler = std::function<void(std::error_code)>;
  virtual ~StreamConn() = default;
  virtual void async_read_some(asio::mutable_buffer buf, ReadHandler handler) = 0;
  // Writes all of data (kept alive by the connection until the handler runs).
  virtual void async_write(std::shared_ptr<const Bytes> data, WriteHandler handler) = 0;
  virtual void close() = 0;
  virtual std::string peer() const = 0;
};

class Transport {
 public:
  using PacketHandler = std::function<void(InboundPacket)>;
  using StreamHandler = std::function<void(std::shared_ptr<StreamConn>)>;
  using DialHandler = std::function<void(std::error_code, std::shared_ptr<StreamConn>)>;

  virtual ~Transport() = default;
  // Binds every listener and starts accepting. Throws std::system_error on bind failure.
  virtual void start(PacketHandler on_packet, StreamHandler on_stream) = 0;
  // Closes listeners and outstanding connections.
  virtual void stop() = 0;
  // The port actually bound by the first listener (differs from config when 0).
  virtual std::uint16_t bound_port() const = 0;
  // The IP our packets claim to come from and others should contact.
  virtual asio::ip::address advertise_ip() const = 0;
  virtual std::uint16_t advertise_port() const = 0;
  // Fire and forget, like memberlist: failures are counted, never reported.
  virtual void send_packet(const Endpoint& to, Bytes payload) = 0;
  // Opens a stream connection (dskit: writes 02 first) within the timeout.
  virtual void dial_stream(const Endpoint& to, std::chrono::milliseconds timeout, DialHandler handler) = 0;
};

std::unique_ptr<Transport> make_dskit_tcp_transport(asio::io_context& io, const MemberConfig& config,
                                                    GossipCounters& counters);
std::unique_ptr<Transport> make_udp_transport(asio::io_context& io, const MemberConfig& config,
                                              GossipCounters& counters);

// The advertised IP per dskit's rules (dskit-kv-ring.md §1.6): advertise_addr if
// set, else a private address of the host for 0.0.0.0, the first IPv6 address for
// "::", else the first bind address.
asio::ip::address choose_advertise_ip(const MemberConfig& config);

}  // namespace ringwatch::gossip
