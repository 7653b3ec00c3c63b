#include "exporter/collectors.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <string_view>
#include <unordered_map>

#include "ring/health.h"

namespace ringwatch {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

MetricFamily family(const std::string& name, const std::string& help, MetricType type) {
  return MetricFamily{name, help, type, {}};
}

void add(MetricFamily& f, Labels labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

void add_histogram(MetricFamily& f, Labels labels, const Histogram& h) {
  ClientMetric m;
  m.label = std::move(labels);
  m.histogram.sample_count = h.count();
  m.histogram.sample_sum = h.sum();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.counts().size(); ++i) {
    cumulative += h.counts()[i];
    m.histogram.bucket.push_back(
        {cumulative, i < h.bounds().size() ? h.bounds()[i] : std::numeric_limits<double>::infinity()});
  }
  f.metric.push_back(std::move(m));
}

// memberlist message type bytes, as label values.
const char* message_type_name(size_t t) {
  static const std::array<const char*, 14> kNames = {"ping",     "indirect_ping", "ack",  "suspect", "alive",
                                                      "dead",     "push_pull",     "compound", "user", "compress",
                                                      "encrypt",  "nack",          "has_crc", "err"};
  return t < kNames.size() ? kNames[t] : "other";
}

std::optional<ring::MemberState> member_state(ring::InstanceState s) {
  switch (s) {
    case ring::InstanceState::active: return ring::MemberState::active;
    case ring::InstanceState::leaving: return ring::MemberState::leaving;
    case ring::InstanceState::pending: return ring::MemberState::pending;
    case ring::InstanceState::joining: return ring::MemberState::joining;
    default: return std::nullopt;
  }
}

double seconds_since(ring::Clock::time_point now, int64_t unix_seconds) {
  return std::chrono::duration<double>(now.time_since_epoch()).count() - static_cast<double>(unix_seconds);
}

const char* const kDelayCaveat =
    " Heartbeat timestamps are whole Unix seconds, truncated by the writer, so each sample also holds the "
    "sub-second phase of the writer's heartbeat (0 to 1 s) and the skew between the writer's clock and "
    "ringwatch's.";

}  // namespace

std::string family_name(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  for (const char* p : {"ring_", "partition_ring_", "memberlist_"}) {
    if (name.rfind(p, 0) == 0) return prefix + "_" + name;
  }
  return name;
}

bool member_is_instance(const std::string& member, const std::string& instance) {
  if (member == instance) return true;
  if (member.size() != instance.size() + 9 || member.compare(0, instance.size(), instance) != 0 ||
      member[instance.size()] != '-') {
    return false;
  }
  for (size_t i = instance.size() + 1; i < member.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(member[i]))) return false;
  }
  return true;
}

std::vector<MetricFamily> RingCollector::Collect() const {
  auto snap = observer_.snapshot();
  auto now = ring::Clock::now();
  auto name = [&](const char* n) { return family_name(metrics_.prefix, n); };
  const auto state_label = [](ring::MemberState s) { return std::string(ring::member_state_label(s)); };

  auto members = family(name("ring_members"),
                        "Number of ring instances per state, as dskit's ring clients count them: an instance whose "
                        "heartbeat is older than the ring's heartbeat timeout counts as Unhealthy whatever its state. "
                        "LEFT counts the tombstones still held (never counted in another state).",
                        MetricType::Gauge);
  auto oldest = family(name("ring_oldest_member_timestamp"),
                       "Unix time in seconds of the oldest heartbeat among the instances counted in that state; "
                       "0 when the state has no instances. For LEFT, the timestamp of the oldest tombstone still held "
                       "(when that instance left). A value that stops moving for ACTIVE means an instance "
                       "stopped heartbeating.",
                       MetricType::Gauge);
  auto tokens = family(name("ring_tokens_total"), "Number of tokens held by the ring's instances.", MetricType::Gauge);
  auto zones = family(name("ring_zone_members"),
                      "Number of ring instances per availability zone and state, counted as ring_members.",
                      MetricType::Gauge);
  auto future = family(name("ring_members_heartbeat_in_future"),
                       "Ring instances whose last heartbeat timestamp lies more than -ring.clock-skew-tolerance "
                       "ahead of ringwatch's clock: the writer's clock runs ahead, which hides staleness.",
                       MetricType::Gauge);
  auto partitions = family(name("partition_ring_partitions"),
                           "Number of partitions of a partition ring per state (Pending, Active, Inactive).",
                           MetricType::Gauge);
  auto age = family(name("ring_member_heartbeat_age_seconds"),
                    "Seconds since the instance's last heartbeat (whole-second timestamp; negative when the "
                    "writer's clock runs ahead). Only with -metrics.per-member.",
                    MetricType::Gauge);
  auto owned = family(name("ring_member_tokens_owned"), "Tokens held by the instance. Only with -metrics.per-member.",
                      MetricType::Gauge);
  auto ownership = family(name("ring_member_ownership_percent"),
                          "Share of its zone's token space the instance owns, as dskit's ring page computes it. Only "
                          "with -metrics.per-member.",
                          MetricType::Gauge);
  auto value_bytes = family("ringwatch_kv_value_size_bytes",
                            "Size of the last full value received for each KV key (full values come by push/pull), "
                            "by codec.",
                            MetricType::Gauge);
  auto unknown_keys = family("ringwatch_kv_unknown_codec_keys",
                             "KV keys whose codec ringwatch does not know (kept as bytes, never merged), by codec.",
                             MetricType::Gauge);

  std::map<std::string, size_t> unknown_codecs;
  for (const auto& key : snap->keys) {
    add(value_bytes, {{"key", key.key}, {"codec", key.codec}}, static_cast<double>(key.last_full_value_bytes));
    if (key.kind == ring::Codec::unknown) ++unknown_codecs[key.codec];
    const Labels ring_labels{{"key", key.key}, {"name", key.ring_name}};
    auto with = [&](Labels extra) {
      Labels l = ring_labels;
      l.insert(l.end(), extra.begin(), extra.end());
      return l;
    };
    if (key.partition_ring) {
      std::array<size_t, 3> by_state{};  // Pending, Active, Inactive
      for (const auto& [id, p] : key.partition_ring->partitions) {
        if (p.state == ring::PartitionState::pending) ++by_state[0];
        if (p.state == ring::PartitionState::active) ++by_state[1];
        if (p.state == ring::PartitionState::inactive) ++by_state[2];
      }
      const char* names[] = {"Pending", "Active", "Inactive"};
      for (size_t i = 0; i < 3; ++i) add(partitions, with({{"state", names[i]}}), static_cast<double>(by_state[i]));
    }
    if (!key.ring) continue;
    const auto timeout = rings_.heartbeat_timeout_for(key.key);
    auto counts = ring::count_members(*key.ring, now, timeout);
    for (size_t s = 0; s < ring::kMemberStates; ++s) {
      std::string state = state_label(static_cast<ring::MemberState>(s));
      add(members, with({{"state", state}}), static_cast<double>(counts.members[s]));
      add(oldest, with({{"state", state}}), static_cast<double>(counts.oldest_timestamp[s]));
    }
    add(members, with({{"state", "LEFT"}}), static_cast<double>(key.ring->tombstones));
    add(oldest, with({{"state", "LEFT"}}), static_cast<double>(key.ring->oldest_tombstone_timestamp));
    add(tokens, ring_labels, static_cast<double>(counts.tokens));

    std::map<std::string, std::array<size_t, ring::kMemberStates>> per_zone;
    size_t in_future = 0;
    const int64_t future_limit =
        std::chrono::duration_cast<std::chrono::seconds>((now + rings_.clock_skew_tolerance).time_since_epoch()).count();
    for (const auto& inst : key.ring->instances) {
      const auto& d = inst->desc;
      if (d.timestamp > future_limit) ++in_future;
      auto& zone = per_zone[d.zone];
      if (!ring::is_healthy(d, now, timeout)) {
        ++zone[static_cast<size_t>(ring::MemberState::unhealthy)];
      } else if (auto s = member_state(d.state)) {
        ++zone[static_cast<size_t>(*s)];
      }
    }
    for (const auto& [zone, counts_in_zone] : per_zone) {
      for (size_t s = 0; s < ring::kMemberStates; ++s) {
        add(zones, with({{"zone", zone}, {"state", state_label(static_cast<ring::MemberState>(s))}}),
            static_cast<double>(counts_in_zone[s]));
      }
    }
    add(future, ring_labels, static_cast<double>(in_future));

    if (metrics_.per_member) {
      auto own = ring::compute_ownership(*key.ring);
      for (size_t i = 0; i < key.ring->instances.size(); ++i) {
        const auto& inst = *key.ring->instances[i];
        const std::string state = ring::ring_page_state(inst.desc, now, timeout);
        add(age, with({{"member", inst.id}, {"zone", inst.desc.zone}, {"state", state}}),
            seconds_since(now, inst.desc.timestamp));
        add(owned, with({{"member", inst.id}, {"zone", inst.desc.zone}}), static_cast<double>(inst.desc.tokens.size()));
        add(ownership, with({{"member", inst.id}, {"zone", inst.desc.zone}}), own.instances[i].percent);
      }
    }
  }
  for (const auto& [codec, n] : unknown_codecs) add(unknown_keys, {{"codec", codec}}, static_cast<double>(n));

  auto keys = family("ringwatch_kv_keys", "Number of keys in the gossiped KV store.", MetricType::Gauge);
  add(keys, {}, static_cast<double>(snap->keys.size()));
  auto applied = family("ringwatch_kv_updates_total",
                        "KeyValuePairs received by outcome: changed, unchanged, invalid, decode_error, "
                        "unknown_codec, ignored_deleted, over_limit.",
                        MetricType::Counter);
  const auto& c = snap->counters;
  add(applied, {{"outcome", "changed"}}, static_cast<double>(c.changed));
  add(applied, {{"outcome", "unchanged"}}, static_cast<double>(c.unchanged));
  add(applied, {{"outcome", "invalid"}}, static_cast<double>(c.invalid));
  add(applied, {{"outcome", "decode_error"}}, static_cast<double>(c.decode_errors));
  add(applied, {{"outcome", "unknown_codec"}}, static_cast<double>(c.unknown_codec));
  add(applied, {{"outcome", "ignored_deleted"}}, static_cast<double>(c.ignored_deleted));
  auto kv_limits = family("ringwatch_kv_limit_hits_total",
                          "KV values dropped because storing them would exceed a -limits.* bound, by limit (keys, "
                          "instances, tokens).",
                          MetricType::Counter);
  uint64_t over_limit = 0;
  for (size_t l = 0; l < ring::kStoreLimitCount; ++l) {
    add(kv_limits, {{"limit", ring::store_limit_name(static_cast<ring::StoreLimit>(l))}}, static_cast<double>(c.limit_hits[l]));
    over_limit += c.limit_hits[l];
  }
  add(applied, {{"outcome", "over_limit"}}, static_cast<double>(over_limit));
  auto removed = family("ringwatch_kv_tombstones_removed_total",
                        "LEFT tombstones removed after -memberlist.left-ingesters-timeout.", MetricType::Counter);
  add(removed, {}, static_cast<double>(c.tombstones_removed));

  std::vector<MetricFamily> out = {members, oldest, tokens, zones, future, partitions};
  if (metrics_.per_member) {
    out.push_back(std::move(age));
    out.push_back(std::move(owned));
    out.push_back(std::move(ownership));
  }
  out.insert(out.end(), {value_bytes, unknown_keys, keys, applied, kv_limits, removed});
  if (tracker_ == nullptr) return out;

  // Propagation, from the tracker's copy.
  auto prop = tracker_->snapshot(metrics_.per_member);
  auto period = family(name("ring_heartbeat_period_seconds"),
                       "Heartbeat period of the ring's instances: the `heartbeat_period` of the ring's entry in the "
                       "`rings:` configuration when set, else estimated from successive heartbeats (timestamp "
                       "differences over the periods they span). Absent until two successive heartbeats of one "
                       "instance arrived by gossip.",
                       MetricType::Gauge);
  auto delay = family(name("ring_heartbeat_propagation_delay_seconds"),
                      std::string("Arrival time at ringwatch minus the heartbeat timestamp, at the first arrival of "
                                  "each new heartbeat of a known instance (by gossip or push/pull).") +
                          kDelayCaveat + " Negative values (clock skew) are not recorded.",
                      MetricType::Histogram);
  auto excess = family(name("ring_heartbeat_excess_delay_seconds"),
                       std::string("ring_heartbeat_propagation_delay_seconds minus the same instance's minimum delay "
                                   "over -metrics.excess-delay-window: the phase and the clock skew cancel, what is "
                                   "left is the delay gossip added beyond the instance's best case.") +
                           kDelayCaveat,
                       MetricType::Histogram);
  auto convergence = family(name("ring_update_convergence_seconds"),
                            "Time from the first of ringwatch's probes (-probes) receiving an update of an instance "
                            "(a new timestamp) to the last probe holding it or a newer one, on one steady clock: how "
                            "long the cluster takes to spread a change, free of clock skew and timestamp rounding.",
                            MetricType::Histogram);
  auto incomplete = family(name("ring_update_convergence_incomplete_total"),
                           "Updates that not every probe received within 10 minutes (not in "
                           "ring_update_convergence_seconds).",
                           MetricType::Counter);
  auto updates = family(name("ring_updates_total"),
                        "Instance descriptors received in ring values, every copy counted, by how they came (gossip: "
                        "a broadcast; pushpull: a full state exchange).",
                        MetricType::Counter);
  auto first_seen = family(name("ring_updates_first_seen_total"),
                           "Instance updates (a new timestamp, state, tokens, ...) by how ringwatch learned them "
                           "first. Updates first learned by pushpull are ones gossip did not deliver in time: raise "
                           "-memberlist.gossip-nodes or -memberlist.retransmit-factor.",
                           MetricType::Counter);
  auto deliveries = family(name("ring_update_deliveries"),
                           "Copies of each instance update received by gossip before the next update of that "
                           "instance (gossip redundancy; 0: only a push/pull brought it).",
                           MetricType::Histogram);
  auto member_excess = family(name("ring_member_heartbeat_excess_delay_seconds"),
                              "Excess delay of the instance's last heartbeat (see ring_heartbeat_excess_delay_seconds). "
                              "Only with -metrics.per-member.",
                              MetricType::Gauge);
  for (const auto& r : prop.rings) {
    const Labels l{{"key", r.key}, {"name", r.name}};
    auto configured = rings_.heartbeat_period_for(r.key);
    if (configured) {
      add(period, l, std::chrono::duration<double>(*configured).count());
    } else if (r.period) {
      add(period, l, *r.period);
    }
    add_histogram(delay, l, r.delay);
    add_histogram(excess, l, r.excess);
    if (prop.probes > 1) {
      add_histogram(convergence, l, r.convergence);
      add(incomplete, l, static_cast<double>(r.convergence_incomplete));
    }
    for (auto via : {ring::Source::gossip, ring::Source::pushpull}) {
      Labels lv = l;
      lv.push_back({"via", ring::source_name(via)});
      add(updates, lv, static_cast<double>(r.updates[static_cast<size_t>(via)]));
      add(first_seen, lv, static_cast<double>(r.first_seen[static_cast<size_t>(via)]));
    }
    add_histogram(deliveries, l, r.deliveries);
    for (const auto& m : r.members) {
      if (m.recent_excess.empty()) continue;
      Labels lm = l;
      lm.push_back({"member", m.instance});
      add(member_excess, lm, m.recent_excess.back());
    }
  }
  // Configured periods of rings not heard from yet still answer "what period to expect".
  for (const auto& o : rings_.overrides) {
    if (!o.heartbeat_period) continue;
    bool listed = false;
    for (const auto& r : prop.rings) listed = listed || r.key == o.key;
    if (!listed) {
      add(period, {{"key", o.key}, {"name", snap->find(o.key) ? snap->find(o.key)->ring_name : o.key}},
          std::chrono::duration<double>(*o.heartbeat_period).count());
    }
  }
  auto beacons = family(name("memberlist_propagation_beacon_delay_seconds"),
                        "Arrival time at ringwatch minus publication time of each beacon of dskit's propagation delay "
                        "tracker (key memberlist-propagation-delay-tracker, when the cluster publishes them), "
                        "including the skew between the publisher's clock and ringwatch's. Beacons published before "
                        "ringwatch started and negative delays are not recorded.",
                        MetricType::Histogram);
  add_histogram(beacons, {}, prop.beacon_delay);
  out.insert(out.end(), {period, delay, excess});
  if (prop.probes > 1) out.insert(out.end(), {convergence, incomplete});
  out.insert(out.end(), {updates, first_seen, deliveries, beacons});
  if (metrics_.per_member) out.push_back(std::move(member_excess));
  return out;
}

std::vector<MetricFamily> GossipCollector::Collect() const {
  auto snap = member_.snapshot();
  const auto& c = member_.counters();

  auto members = family(family_name(prefix_, "memberlist_members"),
                        "Gossip cluster members as ringwatch sees them, by state (alive, suspect, dead, left).",
                        MetricType::Gauge);
  std::array<size_t, 4> by_state{};
  for (const auto& m : snap->members) by_state[static_cast<size_t>(m.state) & 3]++;
  const char* state_names[] = {"alive", "suspect", "dead", "left"};
  for (size_t i = 0; i < 4; ++i) add(members, {{"state", state_names[i]}}, static_cast<double>(by_state[i]));

  // Gossip members against ring instances, matched by name (see member_is_instance).
  auto store = observer_.snapshot();
  std::vector<const gossip::MemberView*> live;
  for (const auto& m : snap->members) {
    if (m.state == gossip::NodeState::alive || m.state == gossip::NodeState::suspect) live.push_back(&m);
  }
  auto orphans = family("ringwatch_ring_instances_without_gossip_member",
                        "Ring instances (not LEFT) with no alive or suspect gossip member of the same name (the node "
                        "name with or without dskit's random -XXXXXXXX suffix): a stuck entry, or a writer whose "
                        "node name differs from its instance id.",
                        MetricType::Gauge);
  // Each live member under its own name and, when it has dskit's random suffix, its base name.
  std::unordered_map<std::string_view, std::vector<size_t>> by_instance;
  for (size_t i = 0; i < live.size(); ++i) {
    const std::string& n = live[i]->name;
    by_instance[n].push_back(i);
    if (n.size() > 9 && member_is_instance(n, n.substr(0, n.size() - 9))) {
      by_instance[std::string_view(n).substr(0, n.size() - 9)].push_back(i);
    }
  }
  std::vector<bool> in_ring(live.size(), false);
  for (const auto& key : store->keys) {
    if (!key.ring) continue;
    size_t without = 0;
    for (const auto& inst : key.ring->instances) {
      auto it = by_instance.find(inst->id);
      if (it == by_instance.end()) {
        ++without;
        continue;
      }
      for (size_t i : it->second) in_ring[i] = true;
    }
    add(orphans, {{"key", key.key}, {"name", key.ring_name}}, static_cast<double>(without));
  }
  size_t in_no_ring = 0;
  for (size_t i = 0; i < live.size(); ++i) {
    bool ours = live[i]->name == snap->self_name;
    for (const auto& p : probes_) ours = ours || live[i]->name == p;
    if (!in_ring[i] && !ours) ++in_no_ring;
  }
  auto strangers = family("ringwatch_gossip_members_in_no_ring",
                          "Alive or suspect gossip members (ringwatch's probes excluded) that are no instance of any "
                          "ring: components without a ring (queriers, ...), other observers, or another cluster "
                          "joined by mistake.",
                          MetricType::Gauge);
  add(strangers, {}, static_cast<double>(in_no_ring));

  auto received = family("ringwatch_gossip_messages_received_total",
                         "memberlist messages received, by type (after unwrapping label, CRC, compression and "
                         "compound layers).",
                         MetricType::Counter);
  auto sent = family("ringwatch_gossip_messages_sent_total", "memberlist messages sent, by type.", MetricType::Counter);
  for (size_t t = 0; t < gossip::GossipCounters::kTypes; ++t) {
    if (auto v = c.messages_received[t].load()) add(received, {{"type", message_type_name(t)}}, static_cast<double>(v));
    if (auto v = c.messages_sent[t].load()) add(sent, {{"type", message_type_name(t)}}, static_cast<double>(v));
  }
  auto bytes_in = family("ringwatch_gossip_received_bytes_total", "Bytes received on gossip connections.",
                         MetricType::Counter);
  add(bytes_in, {}, static_cast<double>(c.bytes_received.load()));
  auto bytes_out = family("ringwatch_gossip_sent_bytes_total", "Bytes sent on gossip connections.", MetricType::Counter);
  add(bytes_out, {}, static_cast<double>(c.bytes_sent.load()));
  auto pushpulls = family("ringwatch_gossip_push_pulls_total",
                          "Full state exchanges, by direction (in: a peer initiated it, out: ringwatch did) and result.",
                          MetricType::Counter);
  add(pushpulls, {{"direction", "in"}, {"result", "ok"}}, static_cast<double>(c.pushpulls_in.load()));
  add(pushpulls, {{"direction", "out"}, {"result", "ok"}}, static_cast<double>(c.pushpulls_out.load()));
  add(pushpulls, {{"direction", "out"}, {"result", "failed"}}, static_cast<double>(c.pushpull_failures.load()));

  auto rejected = family("ringwatch_gossip_rejected_total",
                         "Input from the network that was dropped, by reason (label, crc, digest, decode, truncated, "
                         "oversize, unknown_type, decompress, decrypt, invalid, tls).",
                         MetricType::Counter);
  for (size_t r = 0; r < gossip::kRejectCount; ++r) {
    add(rejected, {{"reason", reject_name(static_cast<Reject>(r))}}, static_cast<double>(c.rejected[r].load()));
  }
  auto limits = family("ringwatch_gossip_limit_hits_total",
                       "Times a configured limit was hit, by limit (connections, packet_bytes, read_deadline, "
                       "pushpulls, writers, stream_bytes, decompressed_bytes).",
                       MetricType::Counter);
  for (size_t l = 0; l < gossip::kLimitCount; ++l) {
    add(limits, {{"limit", gossip::limit_name(static_cast<gossip::Limit>(l))}}, static_cast<double>(c.limit_hits[l].load()));
  }
  auto states = family("ringwatch_kv_push_pull_states_total", "Push/pull user states merged into the KV store.",
                       MetricType::Counter);
  add(states, {}, static_cast<double>(observer_.push_pull_states()));
  auto msgs = family("ringwatch_kv_user_messages_total", "Gossiped KV user messages merged into the KV store.",
                     MetricType::Counter);
  add(msgs, {}, static_cast<double>(observer_.user_messages()));
  return {members, orphans, strangers, received, sent, bytes_in, bytes_out, pushpulls, rejected, limits, states, msgs};
}

std::vector<MetricFamily> SelfCollector::Collect() const {
  auto lag = family("ringwatch_event_loop_lag_seconds",
                    "Time from a gossip packet's arrival at the transport until its KV updates are merged and "
                    "measured, on the probe's gossip event loop: how far the loop lags behind the network (and how "
                    "much it adds to every measured delay).",
                    MetricType::Histogram);
  auto bytes = family("ringwatch_kv_store_bytes",
                      "Memory held by the probe's rebuilt rings (instances, tokens, indexes), as of its last full "
                      "state merged. process_resident_memory_bytes is the whole process.",
                      MetricType::Gauge);
  for (size_t i = 0; i < observers_.size(); ++i) {
    add_histogram(lag, {{"probe", std::to_string(i)}}, observers_[i]->loop_lag());
    add(bytes, {{"probe", std::to_string(i)}}, static_cast<double>(observers_[i]->store_bytes()));
  }
  return {lag, bytes};
}

}  // namespace ringwatch
