// Replays a classic pcap of TCP traffic as reassembled connections, so tests
// can feed real captured byte streams to the decoders.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ringwatch::testing {

struct TcpConnection {
  std::string client;  // dialer "ip:port" (sent the SYN)
  std::string server;  // "ip:port"
  std::uint16_t server_port = 0;
  double start_time = 0;  // pcap timestamp of the SYN, unix seconds
  std::vector<std::uint8_t> client_to_server;
  std::vector<std::uint8_t> server_to_client;
  bool accepted = false;  // the server answered with SYN+ACK
  bool reset = false;     // a RST was seen

  bool refused() const { return !accepted; }
  bool empty() const { return client_to_server.empty() && server_to_client.empty(); }
};

struct PcapReplay {
  double first_packet_time = 0;
  std::vector<TcpConnection> connections;  // in SYN order
};

// Reads an EN10MB (or raw/null loopback) IPv4 TCP capture. Connections start at
// a SYN without ACK; each direction is reassembled by sequence number.
// Segments of connections whose SYN is not in the capture are ignored.
// Throws std::runtime_error when the file cannot be read.
PcapReplay read_pcap_connections(const std::string& path);

}  // namespace ringwatch::testing
