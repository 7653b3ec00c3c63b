// An in-process ringwatch member with the Go test peers' short timings (tests/peer: probe
// 1 s / 500 ms, gossip 100 ms, push/pull 2 s), so that cluster tests converge in seconds.
#pragma once

#include <string>

#include "gossip/config.h"

namespace ringwatch::testing {

inline gossip::MemberConfig member_with_go_peer_timings(const std::string& node_name, const std::string& join = "",
                                                        gossip::TransportKind transport = gossip::TransportKind::dskit_tcp) {
  using namespace std::chrono_literals;
  gossip::MemberConfig cfg;
  cfg.node_name = node_name;
  cfg.bind_addrs = {"127.0.0.1"};
  cfg.bind_port = 0;
  cfg.transport = transport;
  cfg.probe_interval = 1s;
  cfg.probe_timeout = 500ms;
  cfg.gossip_interval = 100ms;
  cfg.pull_push_interval = 2s;
  cfg.gossip_to_dead_time = 60s;
  cfg.min_join_backoff = 100ms;
  cfg.max_join_backoff = 200ms;
  if (!join.empty()) cfg.join_members = {join};
  return cfg;
}

}  // namespace ringwatch::testing
