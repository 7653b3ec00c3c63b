#include "gossip/transport.h"

#include <ifaddrs.h>
#include <net/if.h>

#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace ringwatch::gossip {

std::string endpoint_text(const Endpoint& ep) {
  auto ip = ep.address();
  if (ip.is_v6() && ip.to_v6().is_v4_mapped()) ip = asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6());
  if (ip.is_v6()) return fmt::format("[{}]:{}", ip.to_string(), ep.port());
  return fmt::format("{}:{}", ip.to_string(), ep.port());
}

namespace {

bool is_private_v4(const asio::ip::address_v4& a) {
  auto b = a.to_bytes();
  return b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
         (b[0] == 100 && (b[1] & 0xc0) == 64);  // RFC 6598 shared space, as go-sockaddr counts it
}

asio::ip::address first_interface_address(bool want_v6) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) throw std::system_error(errno, std::generic_category(), "getifaddrs");
  asio::ip::address found;
  bool have = false;
  for (auto* i = list; i != nullptr && !have; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
    if (!want_v6 && i->ifa_addr->sa_family == AF_INET) {
      asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
      asio::ip::address_v4 a(b);
      if (is_private_v4(a)) found = a, have = true;
    } else if (want_v6 && i->ifa_addr->sa_family == AF_INET6) {
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, 16);
      asio::ip::address_v6 a(b);
      if (!a.is_loopback() && !a.is_link_local()) found = a, have = true;
    }
  }
  freeifaddrs(list);
  if (!have) throw std::runtime_error(want_v6 ? "no IPv6 address found" : "no private IP address found");
  return found;
}

}  // namespace

asio::ip::address choose_advertise_ip(const MemberConfig& config) {
  if (!config.advertise_addr.empty()) return asio::ip::make_address(config.advertise_addr);
  auto first = config.bind_addrs.empty() ? std::string("0.0.0.0") : config.bind_addrs.front();
  auto ip = asio::ip::make_address(first);
  if (ip.is_unspecified()) return first_interface_address(ip.is_v6());
  return ip;
}

}  // namespace ringwatch::gossip
