#include "tests/support/go_polling.h"

#include "tests/support/process.h"

namespace ringwatch::testing {

std::optional<std::vector<GoMember>> members_polled(GoPeer& peer, std::chrono::milliseconds timeout) {
  std::optional<std::vector<GoMember>> out;
  wait_until([&] { return (out = peer.members()).has_value(); }, timeout);
  return out;
}

std::optional<std::string> state_polled(GoPeer& observer, const std::string& name, std::chrono::milliseconds timeout) {
  auto members = members_polled(observer, timeout);
  if (!members) return std::nullopt;
  for (const auto& m : *members)
    if (m.name == name) return m.state;
  return std::string();
}

std::optional<std::uint64_t> stat_polled(GoPeer& peer, const std::string& counter, std::chrono::milliseconds timeout) {
  std::optional<nlohmann::json> stats;
  wait_until([&] { return (stats = peer.stats()).has_value(); }, timeout);
  if (!stats || !stats->contains(counter)) return std::nullopt;
  return stats->at(counter).get<std::uint64_t>();
}

}  // namespace ringwatch::testing
