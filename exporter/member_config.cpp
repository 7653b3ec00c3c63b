#include "exporter/member_config.h"

#include "exporter/base64.h"

namespace ringwatch {
namespace {

std::chrono::milliseconds ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d); }

}  // namespace

gossip::MemberConfig member_config(const Config& config) {
  const MemberlistOptions& m = config.memberlist;
  gossip::MemberConfig g;
  g.node_name = m.node_name;
  g.randomize_node_name = m.randomize_node_name;
  if (!m.bind_addr.empty()) g.bind_addrs = m.bind_addr;
  g.bind_port = static_cast<uint16_t>(m.bind_port);
  g.advertise_addr = m.advertise_addr;
  g.advertise_port = static_cast<uint16_t>(m.advertise_port);
  g.transport = m.transport == "udp" ? gossip::TransportKind::standard_udp : gossip::TransportKind::dskit_tcp;
  if (g.transport == gossip::TransportKind::standard_udp) g.packet_budget_bytes = 1400;  // memberlist's UDP budget
  g.join_members = m.join_members;
  g.min_join_backoff = ms(m.min_join_backoff);
  g.max_join_backoff = ms(m.max_join_backoff);
  g.max_join_retries = m.max_join_retries;
  g.abort_if_join_fails = m.abort_if_join_fails;
  g.abort_if_fast_join_fails = m.abort_if_fast_join_fails;
  g.rejoin_interval = ms(m.rejoin_interval);
  g.cluster_label = m.cluster_label;
  g.cluster_label_verification_disabled = m.cluster_label_verification_disabled;
  g.gossip_interval = ms(m.gossip_interval);
  g.gossip_nodes = m.gossip_nodes;
  g.pull_push_interval = ms(m.pull_push_interval);
  g.retransmit_factor = m.retransmit_factor;
  g.gossip_to_dead_time = ms(m.gossip_to_dead_nodes_time);
  g.dead_node_reclaim_time = ms(m.dead_node_reclaim_time);
  g.probe_interval = ms(m.probe_interval);
  g.probe_timeout = ms(m.probe_timeout);
  g.stream_timeout = ms(m.stream_timeout);
  g.packet_dial_timeout = ms(m.packet_dial_timeout);
  g.packet_write_timeout = ms(m.packet_write_timeout);
  g.max_concurrent_writes = m.max_concurrent_writes;
  g.acquire_writer_timeout = ms(m.acquire_writer_timeout);
  g.leave_timeout = ms(m.leave_timeout);
  g.compression_enabled = m.compression_enabled;
  g.tls.enabled = m.tls_enabled;
  g.tls.cert_path = m.tls_cert_path;
  g.tls.key_path = m.tls_key_path;
  g.tls.ca_path = m.tls_ca_path;
  g.tls.server_name = m.tls_server_name;
  g.tls.insecure_skip_verify = m.tls_insecure_skip_verify;
  g.tls.min_version = m.tls_min_version;
  g.tls.cipher_suites = m.tls_cipher_suites;
  for (const auto& key : m.encryption_keys) g.encryption_keys.push_back(base64_decode(key).value_or(""));  // validated when read
  const LimitsOptions& l = config.limits;
  g.limits.max_concurrent_connections = static_cast<std::size_t>(l.max_connections);
  g.limits.connection_read_deadline = ms(l.read_deadline);
  g.limits.max_packet_bytes = static_cast<std::size_t>(l.max_packet_size);
  g.limits.max_stream_bytes = static_cast<std::size_t>(l.max_stream_size);
  g.limits.max_decompressed_bytes = static_cast<std::size_t>(l.max_decompressed_size);
  return g;
}

ring::StoreOptions store_options(const Config& config, ring::RingNames names) {
  ring::StoreOptions s;
  s.left_ingesters_timeout = ms(config.memberlist.left_ingesters_timeout);
  s.names = std::move(names);
  s.limits.max_keys = static_cast<std::size_t>(config.limits.max_keys);
  s.limits.max_instances = static_cast<std::size_t>(config.limits.max_instances);
  s.limits.max_tokens = static_cast<std::size_t>(config.limits.max_tokens);
  return s;
}

}  // namespace ringwatch
