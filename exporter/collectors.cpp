#include "exporter/collectors.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <array>

#include "ring/health.h"

namespace ringwatch {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(const std::string& name, const std::string& help, MetricType type) {
  return MetricFamily{name, help, type, {}};
}

void add(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
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

}  // namespace

std::vector<MetricFamily> RingCollector::Collect() const {
  auto snap = observer_.snapshot();
  auto now = ring::Clock::now();

  auto members = family("ring_members", "Number of ring instances per state, as dskit's ring clients count them: "
                                        "an instance whose heartbeat is older than the heartbeat timeout counts as "
                                        "Unhealthy whatever its state. LEFT counts tombstones still held.",
                        MetricType::Gauge);
  auto oldest = family("ring_oldest_member_timestamp",
                       "Unix time in seconds of the oldest heartbeat among the instances counted in that state; "
                       "0 when the state has no instances.",
                       MetricType::Gauge);
  auto tokens = family("ring_tokens_total", "Number of tokens held by the ring's instances.", MetricType::Gauge);
  auto value_bytes = family("ringwatch_kv_value_size_bytes",
                            "Size of the last value received for each KV key (full values come by push/pull).",
                            MetricType::Gauge);

  for (const auto& key : snap->keys) {
    value_bytes.metric.reserve(snap->keys.size());
    add(value_bytes, {{"key", key.key}, {"codec", key.codec}}, static_cast<double>(key.last_full_value_bytes));
    if (!key.ring) continue;
    auto counts = ring::count_members(*key.ring, now, rings_.heartbeat_timeout_for(key.key));
    for (size_t s = 0; s < ring::kMemberStates; ++s) {
      std::string state = ring::member_state_label(static_cast<ring::MemberState>(s));
      add(members, {{"key", key.key}, {"name", key.ring_name}, {"state", state}},
          static_cast<double>(counts.members[s]));
      add(oldest, {{"key", key.key}, {"name", key.ring_name}, {"state", state}},
          static_cast<double>(counts.oldest_timestamp[s]));
    }
    add(members, {{"key", key.key}, {"name", key.ring_name}, {"state", "LEFT"}},
        static_cast<double>(key.ring->tombstones));
    add(tokens, {{"key", key.key}, {"name", key.ring_name}}, static_cast<double>(counts.tokens));
  }

  auto keys = family("ringwatch_kv_keys", "Number of keys in the gossiped KV store.", MetricType::Gauge);
  add(keys, {}, static_cast<double>(snap->keys.size()));
  auto applied = family("ringwatch_kv_updates_total",
                        "KeyValuePairs received by outcome: changed, unchanged, invalid, decode_error, "
                        "unknown_codec, ignored_deleted.",
                        MetricType::Counter);
  const auto& c = snap->counters;
  add(applied, {{"outcome", "changed"}}, static_cast<double>(c.changed));
  add(applied, {{"outcome", "unchanged"}}, static_cast<double>(c.unchanged));
  add(applied, {{"outcome", "invalid"}}, static_cast<double>(c.invalid));
  add(applied, {{"outcome", "decode_error"}}, static_cast<double>(c.decode_errors));
  add(applied, {{"outcome", "unknown_codec"}}, static_cast<double>(c.unknown_codec));
  add(applied, {{"outcome", "ignored_deleted"}}, static_cast<double>(c.ignored_deleted));
  auto removed = family("ringwatch_kv_tombstones_removed_total",
                        "LEFT tombstones removed after -memberlist.left-ingesters-timeout.", MetricType::Counter);
  add(removed, {}, static_cast<double>(c.tombstones_removed));
  return {members, oldest, tokens, value_bytes, keys, applied, removed};
}

std::vector<MetricFamily> GossipCollector::Collect() const {
  auto snap = member_.snapshot();
  const auto& c = member_.counters();

  auto members = family("memberlist_members", "Gossip cluster members as ringwatch sees them, by state.",
                        MetricType::Gauge);
  std::array<size_t, 4> by_state{};
  for (const auto& m : snap->members) by_state[static_cast<size_t>(m.state) & 3]++;
  const char* state_names[] = {"alive", "suspect", "dead", "left"};
  for (size_t i = 0; i < 4; ++i) add(members, {{"state", state_names[i]}}, static_cast<double>(by_state[i]));

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
                         "oversize, unknown_type, decompress, decrypt, invalid).",
                         MetricType::Counter);
  for (size_t r = 0; r < gossip::kRejectCount; ++r) {
    add(rejected, {{"reason", reject_name(static_cast<Reject>(r))}}, static_cast<double>(c.rejected[r].load()));
  }
  auto limits = family("ringwatch_gossip_limit_hits_total", "Times a configured limit was hit, by limit.",
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
  return {members, received, sent, bytes_in, bytes_out, pushpulls, rejected, limits, states, msgs};
}

}  // namespace ringwatch
