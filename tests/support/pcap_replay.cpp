#include "tests/support/pcap_replay.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>

namespace ringwatch::testing {

namespace {

struct Endpoint {
  std::uint32_t ip = 0;  // network order
  std::uint16_t port = 0;
  auto operator<=>(const Endpoint&) const = default;
};

std::string to_string(const Endpoint& e) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &e.ip, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(e.port);
}

// One direction of a connection: segments keyed by offset from the ISN.
struct Direction {
  bool have_isn = false;
  std::uint32_t isn = 0;
  std::map<std::uint32_t, std::vector<std::uint8_t>> segments;

  void add(std::uint32_t seq, const std::uint8_t* data, std::size_t n) {
    if (!have_isn || n == 0) return;
    const std::uint32_t offset = seq - (isn + 1);  // wraps correctly in uint32
    auto& seg = segments[offset];
    if (seg.size() < n) seg.assign(data, data + n);  // retransmissions keep the longest copy
  }
  std::vector<std::uint8_t> assemble() const {
    std::vector<std::uint8_t> out;
    for (const auto& [offset, data] : segments) {
      if (offset + data.size() <= out.size()) continue;  // fully duplicated
      if (offset > out.size()) break;                    // gap: stop at the hole
      out.insert(out.end(), data.begin() + (out.size() - offset), data.end());
    }
    return out;
  }
};

struct Building {
  TcpConnection conn;
  Endpoint client, server;
  Direction c2s, s2c;
};

}  // namespace

PcapReplay read_pcap_connections(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  std::unique_ptr<pcap_t, decltype(&pcap_close)> pcap(pcap_open_offline(path.c_str(), errbuf), &pcap_close);
  if (!pcap) throw std::runtime_error("pcap_open_offline(" + path + "): " + errbuf);
  std::size_t link_header = 0;
  switch (pcap_datalink(pcap.get())) {
    case DLT_EN10MB: link_header = 14; break;
    case DLT_NULL: link_header = 4; break;
    case DLT_RAW: link_header = 0; break;
    default: throw std::runtime_error("unsupported pcap link type");
  }

  PcapReplay out;
  std::vector<Building> conns;
  std::map<std::pair<Endpoint, Endpoint>, std::size_t> by_tuple;  // (client, server) -> latest conn
  bool first = true;

  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(pcap.get(), &hdr, &data) == 1) {
    const double ts = static_cast<double>(hdr->ts.tv_sec) + static_cast<double>(hdr->ts.tv_usec) / 1e6;
    if (first) out.first_packet_time = ts, first = false;
    const std::size_t len = hdr->caplen;
    if (len < link_header + 20) continue;
    if (link_header == 14 && (data[12] != 0x08 || data[13] != 0x00)) continue;  // IPv4 only
    const std::uint8_t* ip = data + link_header;
    if ((ip[0] >> 4) != 4 || ip[9] != 6) continue;
    const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
    const std::size_t ip_total = (std::size_t{ip[2]} << 8) | ip[3];
    if (link_header + ip_total > len || ip_total < ihl + 20) continue;
    const std::uint8_t* tcp = ip + ihl;
    const std::size_t tcp_header = std::size_t{static_cast<std::uint8_t>(tcp[12] >> 4)} * 4;
    if (ip_total < ihl + tcp_header) continue;
    Endpoint src, dst;
    std::memcpy(&src.ip, ip + 12, 4);
    std::memcpy(&dst.ip, ip + 16, 4);
    src.port = static_cast<std::uint16_t>((tcp[0] << 8) | tcp[1]);
    dst.port = static_cast<std::uint16_t>((tcp[2] << 8) | tcp[3]);
    const std::uint32_t seq = (std::uint32_t{tcp[4]} << 24) | (std::uint32_t{tcp[5]} << 16) |
                              (std::uint32_t{tcp[6]} << 8) | tcp[7];
    const std::uint8_t flags = tcp[13];
    const bool syn = flags & 0x02, ack = flags & 0x10, rst = flags & 0x04;
    const std::uint8_t* payload = tcp + tcp_header;
    const std::size_t payload_len = ip_total - ihl - tcp_header;

    if (syn && !ack) {
      Building b;
      b.client = src;
      b.server = dst;
      b.conn.client = to_string(src);
      b.conn.server = to_string(dst);
      b.conn.server_port = dst.port;
      b.conn.start_time = ts;
      b.c2s.have_isn = true;
      b.c2s.isn = seq;
      by_tuple[{src, dst}] = conns.size();
      conns.push_back(std::move(b));
      continue;
    }
    bool from_client = true;
    auto it = by_tuple.find({src, dst});
    if (it == by_tuple.end()) {
      it = by_tuple.find({dst, src});
      from_client = false;
      if (it == by_tuple.end()) continue;
    }
    Building& b = conns[it->second];
    if (rst) b.conn.reset = true;
    if (syn && ack && !from_client) {
      b.conn.accepted = true;
      b.s2c.have_isn = true;
      b.s2c.isn = seq;
      continue;
    }
    (from_client ? b.c2s : b.s2c).add(seq, payload, payload_len);
  }

  for (Building& b : conns) {
    b.conn.client_to_server = b.c2s.assemble();
    b.conn.server_to_client = b.s2c.assemble();
    out.connections.push_back(std::move(b.conn));
  }
  return out;
}

}  // namespace ringwatch::testing
