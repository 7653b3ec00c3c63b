#include "ring/health.h"

#include <algorithm>
#include <map>

namespace ringwatch::ring {

bool is_healthy(const InstanceDesc& instance, Clock::time_point now, std::chrono::nanoseconds heartbeat_timeout) {
  // Go: now.Sub(time.Unix(ts, 0)) <= timeout. Compared in seconds + remainder to avoid overflow
  // with absurd wire timestamps.
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const int64_t now_s = now_ns / 1'000'000'000;
  const int64_t timeout_ns = heartbeat_timeout.count();
  if (instance.timestamp > now_s) return true;
  const __int128 age = static_cast<__int128>(now_ns) - static_cast<__int128>(instance.timestamp) * 1'000'000'000;
  return age <= timeout_ns;
}

const char* member_state_label(MemberState s) {
  switch (s) {
    case MemberState::unhealthy: return "Unhealthy";
    case MemberState::active: return "ACTIVE";
    case MemberState::leaving: return "LEAVING";
    case MemberState::pending: return "PENDING";
    case MemberState::joining: return "JOINING";
  }
  return "";
}

std::string ring_page_state(const InstanceDesc& instance, Clock::time_point now, std::chrono::nanoseconds heartbeat_timeout) {
  return is_healthy(instance, now, heartbeat_timeout) ? instance_state_name(instance.state) : "UNHEALTHY";
}

RingMembers count_members(const RingView& ring, Clock::time_point now, std::chrono::nanoseconds heartbeat_timeout) {
  RingMembers m;
  for (const InstancePtr& p : ring.instances) {
    const InstanceDesc& d = p->desc;
    m.tokens += d.tokens.size();
    MemberState s;
    if (!is_healthy(d, now, heartbeat_timeout)) {
      s = MemberState::unhealthy;
    } else {
      switch (d.state) {
        case InstanceState::active: s = MemberState::active; break;
        case InstanceState::leaving: s = MemberState::leaving; break;
        case InstanceState::pending: s = MemberState::pending; break;
        case InstanceState::joining: s = MemberState::joining; break;
        default: continue;
      }
    }
    const size_t i = static_cast<size_t>(s);
    ++m.members[i];
    if (m.oldest_timestamp[i] == 0 || d.timestamp < m.oldest_timestamp[i]) m.oldest_timestamp[i] = d.timestamp;
  }
  return m;
}

RingOwnership compute_ownership(const RingView& ring) {
  constexpr double kRange = 4294967295.0;  // math.MaxUint32
  RingOwnership out;
  out.instances.resize(ring.instances.size());
  // zone -> (token, instance index) of every instance in that zone.
  std::map<std::string_view, std::vector<std::pair<uint32_t, uint32_t>>> by_zone;
  std::map<std::string_view, size_t> zone_instances;
  for (uint32_t i = 0; i < ring.instances.size(); ++i) {
    const InstanceDesc& d = ring.instances[i]->desc;
    ++zone_instances[d.zone];
    auto& list = by_zone[d.zone];
    for (uint32_t t : d.tokens) list.emplace_back(t, i);
  }
  for (auto& [zone, list] : by_zone) {
    // A token held twice (an unresolved conflict) goes to the instance sorted first, i.e. the
    // smaller ID; dskit picks one by map iteration order.
    std::sort(list.begin(), list.end());
    ZoneOwnership z;
    z.zone = std::string(zone);
    z.instances = zone_instances[zone];
    z.tokens = list.size();
    for (size_t k = 0; k < list.size(); ++k) {
      const uint32_t prev = list[k == 0 ? list.size() - 1 : k - 1].first;
      const uint32_t cur = list[k].first;
      // Go's tokenDistance: to-from, or MaxUint32-from+to+1 when wrapping (or equal).
      const uint64_t dist = prev < cur ? uint64_t{cur} - prev : (uint64_t{1} << 32) - prev + cur;
      out.instances[list[k].second].owned += dist;
      z.owned += dist;
    }
    z.percent = static_cast<double>(z.owned) * 100.0 / kRange;
    out.zones.push_back(std::move(z));
  }
  for (auto& [zone, n] : zone_instances)
    if (!by_zone.contains(zone)) out.zones.push_back({std::string(zone), n, 0, 0, 0.0});
  std::sort(out.zones.begin(), out.zones.end(), [](const ZoneOwnership& a, const ZoneOwnership& b) { return a.zone < b.zone; });
  for (auto& o : out.instances) o.percent = static_cast<double>(o.owned) * 100.0 / kRange;
  return out;
}

}  // namespace ringwatch::ring
