#include "gossip/membership.h"

#include <algorithm>
#include <limits>

namespace ringwatch::gossip {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::applied: return "applied";
    case Outcome::refuted: return "refuted";
    case Outcome::confirmed: return "confirmed";
    case Outcome::ignored_stale: return "stale";
    case Outcome::ignored_unknown: return "unknown_node";
    case Outcome::ignored_conflict: return "conflicting_address";
    case Outcome::ignored_state: return "state";
    case Outcome::ignored_version: return "version";
    case Outcome::ignored_left: return "left";
  }
  return "unknown";
}

Membership::Membership(MembershipConfig config, std::uint64_t seed)
    : config_(std::move(config)), rng_(seed), broadcasts_(config_.retransmit_factor) {}

void Membership::bootstrap_self(Bytes addr, std::uint16_t port, Bytes meta, Vsn vsn, SteadyTime now) {
  NodeEntry me;
  me.name = config_.self_name;
  me.addr = std::move(addr);
  me.port = port;
  me.meta = std::move(meta);
  me.vsn = vsn;
  me.incarnation = 1;
  me.state = NodeState::alive;
  me.state_change = now;
  me.state_change_wall = std::chrono::system_clock::now();
  index_[me.name] = nodes_.size();
  nodes_.push_back(me);
  Alive a{me.incarnation, me.name, me.addr, me.port, me.meta, me.vsn};
  queue_broadcast(me.name, encode(a));
}

const NodeEntry* Membership::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &nodes_[it->second];
}

NodeEntry* Membership::find_mutable(const std::string& name) {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &nodes_[it->second];
}

std::size_t Membership::alive_count() const {
  return static_cast<std::size_t>(std::count_if(nodes_.begin(), nodes_.end(), [&](const NodeEntry& e) {
    return e.name != config_.self_name && (e.state == NodeState::alive || e.state == NodeState::suspect);
  }));
}

void Membership::set_state(NodeEntry& e, NodeState s, SteadyTime now) {
  e.state = s;
  e.state_change = now;
  e.state_change_wall = std::chrono::system_clock::now();
}

void Membership::adjust_awareness(int delta) {
  awareness_ = std::clamp(awareness_ + delta, 0, config_.awareness_max_multiplier - 1);
}

void Membership::cancel_suspicion(const std::string& node) {
  if (suspicions_.erase(node) > 0 && timer_hook_) timer_hook_(node, std::nullopt);
}

// §5.6: beat the accusation, tell everyone.
void Membership::refute(NodeEntry& me, std::uint32_t accused_incarnation) {
  std::uint32_t inc = me.incarnation + 1;
  if (accused_incarnation >= inc) inc = accused_incarnation + 1;
  me.incarnation = inc;
  adjust_awareness(1);
  Alive a{me.incarnation, me.name, me.addr, me.port, me.meta, me.vsn};
  queue_broadcast(me.name, encode(a));
}

Outcome Membership::alive(const Alive& a, SteadyTime now) {
  const bool about_self = a.node == config_.self_name;
  if (left_ && about_self) return Outcome::ignored_left;
  if (a.vsn.pmin() == 0 || a.vsn.pmax() == 0 || a.vsn.pmin() > a.vsn.pmax()) return Outcome::ignored_version;

  NodeEntry* s = find_mutable(a.node);
  bool address_change = false;
  if (s == nullptr) {
    NodeEntry e;
    e.name = a.node;
    e.addr = a.addr;
    e.port = a.port;
    e.meta = a.meta;
    e.vsn = a.vsn;
    e.state = NodeState::dead;
    e.state_change = now;
    e.state_change_wall = std::chrono::system_clock::now();
    // Random position, as memberlist does, so probe order differs between nodes.
    std::uniform_int_distribution<std::size_t> pos(0, nodes_.size());
    auto at = pos(rng_);
    nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(at), std::move(e));
    for (std::size_t i = at; i < nodes_.size(); ++i) index_[nodes_[i].name] = i;
    if (probe_index_ > at) ++probe_index_;
    s = &nodes_[at];
  } else if (s->addr != a.addr || s->port != a.port) {
    const bool can_reclaim = config_.dead_node_reclaim_time.count() > 0 &&
                             now - s->state_change > config_.dead_node_reclaim_time;
    if (s->state == NodeState::left || (s->state == NodeState::dead && can_reclaim)) {
      address_change = true;
    } else {
      return Outcome::ignored_conflict;
    }
  }

  if (!about_self && !address_change && a.incarnation <= s->incarnation) return Outcome::ignored_stale;
  if (about_self && a.incarnation < s->incarnation) return Outcome::ignored_stale;

  cancel_suspicion(a.node);

  if (about_self) {
    if (a.incarnation == s->incarnation && a.meta == s->meta && a.vsn == s->vsn) return Outcome::ignored_stale;
    refute(*s, a.incarnation);
    return Outcome::refuted;
  }
  queue_broadcast(a.node, encode(a));
  s->vsn = a.vsn;
  s->incarnation = a.incarnation;
  s->meta = a.meta;
  s->addr = a.addr;
  s->port = a.port;
  if (s->state != NodeState::alive) set_state(*s, NodeState::alive, now);
  return Outcome::applied;
}

Outcome Membership::suspect(const Suspect& m, SteadyTime now) {
  NodeEntry* s = find_mutable(m.node);
  if (s == nullptr) return Outcome::ignored_unknown;
  if (m.incarnation < s->incarnation) return Outcome::ignored_stale;

  if (auto it = suspicions_.find(m.node); it != suspicions_.end()) {
    if (!it->second.confirm(m.from)) return Outcome::ignored_stale;
    queue_broadcast(m.node, encode(m));
    if (timer_hook_) timer_hook_(m.node, it->second.remaining(now));
    return Outcome::confirmed;
  }
  if (s->state != NodeState::alive) return Outcome::ignored_state;
  if (m.node == config_.self_name) {
    refute(*s, m.incarnation);
    return Outcome::refuted;
  }
  queue_broadcast(m.node, encode(m));
  s->incarnation = m.incarnation;
  set_state(*s, NodeState::suspect, now);
  auto [it, inserted] = suspicions_.try_emplace(m.node, m.from, nodes_.size(), config_.suspicion_mult,
                                                config_.suspicion_max_timeout_mult, config_.probe_interval, now);
  if (timer_hook_) timer_hook_(m.node, it->second.remaining(now));
  return Outcome::applied;
}

Outcome Membership::dead(const Dead& d, SteadyTime now) {
  NodeEntry* s = find_mutable(d.node);
  if (s == nullptr) return Outcome::ignored_unknown;
  if (d.incarnation < s->incarnation) return Outcome::ignored_stale;
  cancel_suspicion(d.node);
  if (s->state == NodeState::dead || s->state == NodeState::left) return Outcome::ignored_state;
  if (d.node == config_.self_name && !left_) {
    refute(*s, d.incarnation);
    return Outcome::refuted;
  }
  queue_broadcast(d.node, encode(d));
  s->incarnation = d.incarnation;
  set_state(*s, d.from == d.node ? NodeState::left : NodeState::dead, now);
  return Outcome::applied;
}

Outcome Membership::suspicion_expired(const std::string& node, SteadyTime now) {
  auto it = suspicions_.find(node);
  if (it == suspicions_.end()) return Outcome::ignored_state;
  suspicions_.erase(it);
  const NodeEntry* s = find(node);
  if (s == nullptr || s->state != NodeState::suspect) return Outcome::ignored_state;
  return dead(Dead{s->incarnation, node, config_.self_name}, now);
}

bool Membership::verify_protocol(const std::vector<PushNodeState>& remote) const {
  std::uint8_t max_pmin = 0, min_pmax = std::numeric_limits<std::uint8_t>::max();
  std::uint8_t max_dmin = 0, min_dmax = std::numeric_limits<std::uint8_t>::max();
  auto widen = [&](const Vsn& v) {
    max_pmin = std::max(max_pmin, v.v[0]);
    min_pmax = std::min(min_pmax, v.v[1]);
    max_dmin = std::max(max_dmin, v.v[3]);
    min_dmax = std::min(min_dmax, v.v[4]);
  };
  for (auto& n : nodes_)
    if (n.state == NodeState::alive) widen(n.vsn);
  for (auto& n : remote)
    if (n.state == NodeState::alive) widen(n.vsn);
  auto fits = [&](const Vsn& v) {
    return v.v[2] >= max_pmin && v.v[2] <= min_pmax && v.v[5] >= max_dmin && v.v[5] <= min_dmax;
  };
  return std::all_of(nodes_.begin(), nodes_.end(), [&](const NodeEntry& n) { return fits(n.vsn); }) &&
         std::all_of(remote.begin(), remote.end(), [&](const PushNodeState& n) { return fits(n.vsn); });
}

bool Membership::merge_remote(std::vector<PushNodeState> remote, SteadyTime now) {
  for (auto& n : remote)
    if (n.port == 0) n.port = config_.bind_port;
  if (!verify_protocol(remote)) return false;
  for (auto& n : remote) {
    switch (n.state) {
      case NodeState::alive:
        alive(Alive{n.incarnation, n.name, n.addr, n.port, n.meta, n.vsn}, now);
        break;
      case NodeState::left:
        dead(Dead{n.incarnation, n.name, n.name}, now);
        break;
      case NodeState::dead:
      case NodeState::suspect:
        // A remote "dead" is only taken as a suspicion.
        suspect(Suspect{n.incarnation, n.name, config_.self_name}, now);
        break;
      default:
        break;
    }
  }
  return true;
}

std::vector<PushNodeState> Membership::local_state() const {
  std::vector<PushNodeState> out;
  out.reserve(nodes_.size());
  for (auto& n : nodes_) out.push_back(PushNodeState{n.name, n.addr, n.port, n.meta, n.incarnation, n.state, n.vsn});
  return out;
}

Dead Membership::leave(SteadyTime now) {
  left_ = true;
  Dead d{self().incarnation, config_.self_name, config_.self_name};
  dead(d, now);
  return d;
}

void Membership::reap(SteadyTime now) {
  std::erase_if(nodes_, [&](const NodeEntry& e) {
    bool gone = e.state == NodeState::dead || e.state == NodeState::left;
    return e.name != config_.self_name && gone && now - e.state_change > config_.gossip_to_dead_time;
  });
  std::shuffle(nodes_.begin(), nodes_.end(), rng_);
  index_.clear();
  for (std::size_t i = 0; i < nodes_.size(); ++i) index_[nodes_[i].name] = i;
}

std::optional<NodeEntry> Membership::next_probe_target(SteadyTime now) {
  for (std::size_t checked = 0; checked <= nodes_.size(); ++checked) {
    if (probe_index_ >= nodes_.size()) {
      reap(now);
      probe_index_ = 0;
    }
    const NodeEntry& e = nodes_[probe_index_++];
    if (e.name == config_.self_name || e.state == NodeState::dead || e.state == NodeState::left) continue;
    return e;
  }
  return std::nullopt;
}

std::vector<NodeEntry> Membership::random_nodes(std::size_t k, const std::function<bool(const NodeEntry&)>& accept) {
  std::vector<NodeEntry> candidates;
  for (auto& e : nodes_)
    if (e.name != config_.self_name && accept(e)) candidates.push_back(e);
  std::shuffle(candidates.begin(), candidates.end(), rng_);
  if (candidates.size() > k) candidates.resize(k);
  return candidates;
}

}  // namespace ringwatch::gossip
