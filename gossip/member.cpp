#include "gossip/member.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <map>
#include <random>
#include <unordered_map>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "gossip/join.h"
#include "gossip/log.h"
#include "gossip/membership.h"
#include "gossip/packet.h"
#include "gossip/stream.h"
#include "gossip/transport.h"

namespace ringwatch::gossip {

using namespace std::chrono;
using SteadyClock = steady_clock;

namespace {

constexpr std::size_t kStreamReadChunk = 64 * 1024;
constexpr std::size_t kCompoundOverhead = 2;  // per-part budget charge (memberlist)
constexpr std::size_t kUdpPacketBudget = 1400;

// memberlist's pushPullScale: ×(ceil(log2(n) − 5) + 1) above 32 nodes.
milliseconds push_pull_scale(milliseconds interval, std::size_t n) {
  if (n <= 32) return interval;
  auto mult = static_cast<long>(std::ceil(std::log2(static_cast<double>(n)) - 5.0)) + 1;
  return interval * mult;
}

std::optional<Endpoint> endpoint_of(ByteView addr, std::uint16_t port) {
  auto text = format_ip(addr);
  if (text.empty()) return std::nullopt;
  std::error_code ec;
  auto ip = asio::ip::make_address(text, ec);
  if (ec) return std::nullopt;
  return Endpoint(ip, port);
}

std::optional<Endpoint> endpoint_of_text(const std::string& host_port) {
  auto target = parse_join_address(host_port);
  if (!target || target->kind != JoinTarget::Kind::ip) return std::nullopt;
  std::error_code ec;
  auto ip = asio::ip::make_address(target->host, ec);
  if (ec) return std::nullopt;
  return Endpoint(ip, target->port.value_or(kDefaultJoinPort));
}

}  // namespace

// ---------------------------------------------------------------------------

class Member::Loop {
 public:
  Loop(Member& owner)
      : m_(owner), cfg_(owner.config_), io_(owner.io_), counters_(owner.counters_), log_(gossip_logger()),
        rng_(std::random_device{}()),
        membership_(MembershipConfig{owner.name_, cfg_.bind_port, cfg_.retransmit_factor, cfg_.suspicion_mult,
                                     cfg_.suspicion_max_timeout_mult, cfg_.probe_interval, cfg_.gossip_to_dead_time,
                                     cfg_.dead_node_reclaim_time, cfg_.awareness_max_multiplier},
                    rng_()),
        probe_timer_(io_), gossip_timer_(io_), push_pull_timer_(io_), leave_timer_(io_) {
    if (!cfg_.encryption_keys.empty()) {
      std::vector<Bytes> keys;
      for (auto& k : cfg_.encryption_keys) keys.emplace_back(k.begin(), k.end());
      auto ring = Keyring::make(std::move(keys));
      if (!ring) throw std::runtime_error("bad encryption key: " + ring.error().detail);
      keyring_ = std::move(*ring);
    }
    transport_ = cfg_.transport == TransportKind::dskit_tcp ? make_dskit_tcp_transport(io_, cfg_, counters_)
                                                            : make_udp_transport(io_, cfg_, counters_);
    packet_budget_ = cfg_.transport == TransportKind::standard_udp ? std::min(cfg_.packet_budget_bytes, kUdpPacketBudget)
                                                                   : cfg_.packet_budget_bytes;
    membership_.set_suspicion_timer_hook([this](const std::string& node, std::optional<milliseconds> after) {
      arm_suspicion_timer(node, after);
    });
  }

  // Binds and sets ourselves up. Runs on the caller's thread before the loop starts.
  void bind() {
    transport_->start([this](InboundPacket p) { on_packet(std::move(p)); },
                      [this](std::shared_ptr<StreamConn> c) { serve_stream(std::move(c)); });
    m_.bound_port_ = transport_->bound_port();
    membership_.set_bind_port(m_.bound_port_);
    auto form = cfg_.transport == TransportKind::dskit_tcp ? AddrForm::v4_mapped16 : AddrForm::v4_4byte;
    auto ip = transport_->advertise_ip();
    if (ip.is_v6() && ip.to_v6().is_v4_mapped()) ip = asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6());
    auto addr = parse_ip(ip.to_string(), form);
    if (!addr) throw std::runtime_error("cannot encode advertise address " + ip.to_string());
    advertise_text_ = endpoint_text(Endpoint(ip, transport_->advertise_port()));
    membership_.bootstrap_self(*addr, transport_->advertise_port(), {}, Vsn{}, SteadyClock::now());
    publish_snapshot();
  }

  void begin() {
    schedule_probe(random_stagger(cfg_.probe_interval));
    if (cfg_.gossip_nodes > 0 && cfg_.gossip_interval.count() > 0) schedule_gossip(random_stagger(cfg_.gossip_interval));
    if (cfg_.pull_push_interval.count() > 0) schedule_push_pull(random_stagger(cfg_.pull_push_interval));
    JoinSettings js{cfg_.join_members, cfg_.retransmit_factor, cfg_.min_join_backoff, cfg_.max_join_backoff,
                    cfg_.max_join_retries, cfg_.abort_if_fast_join_fails, cfg_.abort_if_join_fails,
                    cfg_.rejoin_interval};
    joiner_ = std::make_unique<Joiner>(
        io_, std::move(js), resolve_join_target,
        [this](const Endpoint& to, std::function<void(bool)> done) { push_pull(to, true, std::move(done)); },
        [this](JoinStatus s) {
          if (s == JoinStatus::joined && !cfg_.join_members.empty()) log_->info("joined the memberlist cluster");
          if (s == JoinStatus::failed) log_->error("failed to join the memberlist cluster");
          m_.join_status_ = s;
        },
        rng_());
    joiner_->start();
  }

  // Marks us left and completes `done` once the dead broadcast went out or on timeout.
  void leave(milliseconds timeout, std::shared_ptr<std::promise<void>> done) {
    membership_.leave(SteadyClock::now());
    publish_snapshot();
    leave_done_ = std::move(done);
    leave_deadline_ = SteadyClock::now() + timeout;
    check_leave();
  }

  void shutdown() {
    transport_->stop();
    for (auto* t : {&probe_timer_, &gossip_timer_, &push_pull_timer_, &leave_timer_}) t->cancel();
    for (auto& [_, t] : suspicion_timers_) t->cancel();
    for (auto& [_, h] : ack_handlers_) h.timer->cancel();
    ack_handlers_.clear();
    if (joiner_) joiner_->stop();
    if (leave_done_) leave_done_->set_value(), leave_done_.reset();
  }

  const std::string& advertise_text() const { return advertise_text_; }

 private:
  struct AckHandler {
    std::function<void()> on_ack;
    std::function<void()> on_nack;
    std::function<void()> on_timeout;
    std::shared_ptr<asio::steady_timer> timer;
  };

  // ---- helpers ----

  milliseconds random_stagger(milliseconds interval) {
    if (interval.count() <= 0) return 0ms;
    std::uniform_int_distribution<long> d(0, interval.count() - 1);
    return milliseconds(d(rng_));
  }

  std::size_t label_overhead() const { return cfg_.cluster_label.empty() ? 0 : 2 + cfg_.cluster_label.size(); }
  bool encrypting() const { return keyring_ && cfg_.gossip_verify_outgoing; }
  std::size_t encrypt_overhead() const { return encrypting() ? 29 : 0; }

  void reject(Reject r, const std::string& what, const std::string& detail) {
    counters_.reject(r);
    log_->debug("rejected {} ({}): {}", what, reject_name(r), detail);
  }

  // A decode error, counted as a limit hit too when a configured size limit caused it.
  void reject(const Error& e, const std::string& what) {
    count_limit(e);
    reject(e.reason, what, e.detail);
  }

  void count_limit(const Error& e) {
    switch (e.limit) {
      case SizeLimit::decompressed: counters_.limit(Limit::decompressed_bytes); break;
      case SizeLimit::message: counters_.limit(Limit::stream_bytes); break;
      case SizeLimit::none: break;
    }
  }

  void publish_snapshot() {
    auto snap = std::make_shared<MembershipSnapshot>();
    snap->self_name = m_.name_;
    snap->full_state_received = m_.full_state_received_;
    snap->taken = system_clock::now();
    name_by_address_.clear();
    name_by_ip_.clear();
    auto live = [](const NodeEntry& n) { return n.state == NodeState::alive || n.state == NodeState::suspect; };
    for (auto& n : membership_.nodes()) {
      snap->members.push_back(MemberView{n.name, format_ip(n.addr), n.port, n.state, n.incarnation, n.meta, n.state_change_wall});
      if (n.name == m_.name_) continue;
      auto ep = endpoint_of(n.addr, n.port);
      if (!ep) continue;
      // A live node wins its address over a dead or left one that used it before.
      auto [it, fresh] = name_by_address_.try_emplace(endpoint_text(*ep), n.name);
      if (!fresh && live(n)) it->second = n.name;
      auto [ip_it, ip_fresh] = name_by_ip_.try_emplace(ep->address().to_string(), n.name);
      if (!ip_fresh && ip_it->second != n.name) ip_it->second.clear();  // several nodes share the IP
    }
    std::sort(snap->members.begin(), snap->members.end(), [](auto& a, auto& b) { return a.name < b.name; });
    m_.snapshot_.store(std::move(snap));
  }

  // Name of the member advertising host_port ("ip:port"), "" if none.
  std::string name_at(const std::string& host_port) const {
    auto ep = endpoint_of_text(host_port);
    if (!ep) return {};
    auto it = name_by_address_.find(endpoint_text(*ep));
    return it == name_by_address_.end() ? std::string() : it->second;
  }

  // Inbound streams come from an ephemeral port: the sender is known only when a
  // single member uses the connection's IP.
  std::string name_at_ip(const std::string& tcp_peer) const {
    auto ep = endpoint_of_text(tcp_peer);
    if (!ep) return {};
    auto it = name_by_ip_.find(ep->address().to_string());
    return it == name_by_ip_.end() ? std::string() : it->second;
  }

  std::string advertised_address_of(const std::string& name) const {
    const NodeEntry* n = membership_.find(name);
    if (n == nullptr) return {};
    auto ep = endpoint_of(n->addr, n->port);
    return ep ? endpoint_text(*ep) : std::string();
  }

  // ---- sending packets ----

  // Sends one message to an address, piggybacking broadcasts (§5.9). `node` is the
  // destination node if known (CRC when its PMax >= 5).
  void send_message(const Endpoint& to, const Bytes& msg, const NodeEntry* node, bool piggyback = true) {
    std::vector<Bytes> parts{msg};
    if (piggyback) {
      std::size_t used = msg.size() + kCompoundOverhead + label_overhead() + encrypt_overhead();
      if (used < packet_budget_) {
        auto extra = membership_.broadcasts().take(kCompoundOverhead, packet_budget_ - used, membership_.size());
        for (auto& b : extra) parts.push_back(std::move(b));
      }
    }
    send_parts(to, std::move(parts), node);
  }

  // One message alone, several as compounds of at most 255 parts.
  void send_parts(const Endpoint& to, std::vector<Bytes> parts, const NodeEntry* node) {
    if (parts.size() == 1) return send_raw(to, parts.front(), node);
    for (std::size_t i = 0; i < parts.size(); i += 255) {
      auto end = std::min(parts.size(), i + 255);
      std::vector<Bytes> chunk(parts.begin() + static_cast<std::ptrdiff_t>(i), parts.begin() + static_cast<std::ptrdiff_t>(end));
      if (chunk.size() == 1) {
        send_raw(to, chunk.front(), node);
        continue;
      }
      auto compound = build_compound(chunk);
      if (!compound) {
        // A part over 64 KiB: send each alone, as the grafana fork does.
        for (auto& p : chunk) send_raw(to, p, node);
        continue;
      }
      send_raw(to, *compound, node, chunk);
    }
  }

  void send_raw(const Endpoint& to, const Bytes& msg, const NodeEntry* node, const std::vector<Bytes>& parts = {}) {
    PacketEncodeOptions opts;
    opts.label = cfg_.cluster_label;
    opts.crc = node != nullptr && node->vsn.pmax() >= 5;
    opts.compress = cfg_.compression_enabled;
    if (encrypting()) {
      opts.keyring = &*keyring_;
      opts.nonce = random_nonce();
    }
    auto packet = encode_packet(msg, opts);
    if (!packet) {
      counters_.packet_send_errors.fetch_add(1, std::memory_order_relaxed);
      log_->debug("cannot encode packet: {}", packet.error().detail);
      return;
    }
    if (parts.empty()) counters_.sent(msg.front());
    for (auto& p : parts) counters_.sent(p.front());
    transport_->send_packet(to, std::move(*packet));
  }

  Ping make_ping(std::uint32_t seq, const std::string& target) const {
    const auto& me = membership_.self();
    return Ping{target, seq, me.addr, me.name, me.port};
  }

  // ---- receiving packets ----

  void on_packet(InboundPacket p) {
    PacketDecodeOptions opts;
    opts.label = cfg_.cluster_label;
    opts.skip_label_check = cfg_.cluster_label_verification_disabled;
    opts.max_decompressed = cfg_.limits.max_decompressed_bytes;
    if (keyring_) opts.keyring = &*keyring_;
    auto decoded = decode_packet(p.payload, opts);
    if (!decoded && keyring_ && !cfg_.gossip_verify_incoming) {
      opts.keyring = nullptr;  // memberlist: undecryptable packets are tried as plaintext
      decoded = decode_packet(p.payload, opts);
    }
    if (!decoded) return reject(decoded.error(), "packet from " + p.from);
    for (auto& e : decoded->part_errors) reject(e, "compound part from " + p.from);
    bool changed = false;
    for (auto& msg : decoded->messages) {
      counters_.received(static_cast<std::uint8_t>(message_type(msg)));
      changed |= handle(msg, p);
    }
    if (changed) publish_snapshot();
  }

  // Returns true when membership may have changed.
  bool handle(const Message& msg, const InboundPacket& p) {
    const auto now = SteadyClock::now();
    return std::visit(
        [&](const auto& m) -> bool {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, Ping>) {
            on_ping(m, p);
            return false;
          } else if constexpr (std::is_same_v<T, IndirectPingReq>) {
            on_indirect_ping(m, p);
            return false;
          } else if constexpr (std::is_same_v<T, AckResp>) {
            if (auto it = ack_handlers_.find(m.seq_no); it != ack_handlers_.end()) {
              auto h = std::move(it->second);
              ack_handlers_.erase(it);
              h.timer->cancel();
              if (h.on_ack) h.on_ack();
            }
            return false;
          } else if constexpr (std::is_same_v<T, NackResp>) {
            if (auto it = ack_handlers_.find(m.seq_no); it != ack_handlers_.end() && it->second.on_nack) it->second.on_nack();
            return false;
          } else if constexpr (std::is_same_v<T, Alive>) {
            return log_outcome("alive", m.node, membership_.alive(m, now));
          } else if constexpr (std::is_same_v<T, Suspect>) {
            return log_outcome("suspect", m.node, membership_.suspect(m, now));
          } else if constexpr (std::is_same_v<T, Dead>) {
            return log_outcome("dead", m.node, membership_.dead(m, now));
          } else if constexpr (std::is_same_v<T, UserPacket>) {
            if (m_.sink_ != nullptr && !m.payload.empty())
              m_.sink_->on_payload(
                  ReceivedPayload{Via::gossip, m.payload, name_at(p.from), p.from, p.received_wall, p.received_steady, false});
            return false;
          }
        },
        msg);
  }

  bool log_outcome(const char* what, const std::string& node, Outcome o) {
    if (o == Outcome::refuted) log_->info("refuting {} about ourselves (incarnation now {})", what, membership_.self().incarnation);
    else log_->trace("{} {}: {}", what, node, outcome_name(o));
    return o == Outcome::applied || o == Outcome::refuted || o == Outcome::confirmed;
  }

  std::optional<Endpoint> reply_address(ByteView source_addr, std::uint16_t source_port, const std::string& from) {
    if (!source_addr.empty() && source_port > 0) return endpoint_of(source_addr, source_port);
    return endpoint_of_text(from);
  }

  void on_ping(const Ping& ping, const InboundPacket& p) {
    if (!ping.node.empty() && ping.node != m_.name_) {
      log_->debug("ignoring ping for {} (we are {})", ping.node, m_.name_);
      return;
    }
    auto to = reply_address(ping.source_addr, ping.source_port, p.from);
    if (!to) return reject(Reject::invalid, "ping from " + p.from, "no usable reply address");
    send_message(*to, encode(AckResp{ping.seq_no, {}}), nullptr);
  }

  // §5.3: probe the target for the requester, relay the ack, nack on timeout.
  void on_indirect_ping(const IndirectPingReq& req, const InboundPacket& p) {
    auto requester = reply_address(req.source_addr, req.source_port, p.from);
    auto target = endpoint_of(req.target, req.port == 0 ? m_.bound_port_.load() : req.port);
    if (!requester || !target) return reject(Reject::invalid, "indirect ping from " + p.from, "bad address");
    auto seq = membership_.next_seq_no();
    auto relay_seq = req.seq_no;
    auto want_nack = req.nack;
    auto to = *requester;
    register_ack(
        seq, cfg_.probe_timeout, [this, to, relay_seq] { send_message(to, encode(AckResp{relay_seq, {}}), nullptr); }, {},
        [this, to, relay_seq, want_nack] {
          if (want_nack) send_message(to, encode(NackResp{relay_seq}), nullptr);
        });
    send_message(*target, encode(make_ping(seq, req.node)), nullptr);
  }

  void register_ack(std::uint32_t seq, milliseconds lifetime, std::function<void()> on_ack, std::function<void()> on_nack,
                    std::function<void()> on_timeout) {
    auto timer = std::make_shared<asio::steady_timer>(io_, lifetime);
    ack_handlers_[seq] = AckHandler{std::move(on_ack), std::move(on_nack), std::move(on_timeout), timer};
    timer->async_wait([this, seq](std::error_code ec) {
      if (ec) return;
      auto it = ack_handlers_.find(seq);
      if (it == ack_handlers_.end()) return;
      auto h = std::move(it->second);
      ack_handlers_.erase(it);
      if (h.on_timeout) h.on_timeout();
    });
  }

  // ---- probing (§5.2) ----

  void schedule_probe(milliseconds after) {
    probe_timer_.expires_after(after);
    probe_timer_.async_wait([this](std::error_code ec) {
      if (ec) return;
      probe();
      schedule_probe(cfg_.probe_interval * (membership_.awareness() + 1));
    });
  }

  void probe() {
    if (membership_.has_left()) return;
    auto target = membership_.next_probe_target(SteadyClock::now());
    if (!target) return;
    auto to = endpoint_of(target->addr, target->port);
    if (!to) return;
    const auto seq = membership_.next_seq_no();
    const auto scaled = cfg_.probe_interval * (membership_.awareness() + 1);
    struct ProbeState {
      bool acked = false;
      int expected_nacks = 0;
      int nacks = 0;
    };
    auto state = std::make_shared<ProbeState>();
    std::string name = target->name;
    register_ack(
        seq, scaled,
        [this, state] {
          state->acked = true;
          membership_.adjust_awareness(-1);
        },
        [state] { ++state->nacks; },
        [this, state, name] {
          // Failure: penalise ourselves for missing nacks, then suspect the target.
          membership_.adjust_awareness(state->expected_nacks > 0 ? state->expected_nacks - state->nacks : 1);
          const NodeEntry* n = membership_.find(name);
          if (n == nullptr || n->state == NodeState::dead || n->state == NodeState::left) return;
          log_->debug("probe of {} failed, suspecting it", name);
          if (log_outcome("suspect", name, membership_.suspect(Suspect{n->incarnation, name, m_.name_}, SteadyClock::now())))
            publish_snapshot();
        });
    auto ping = encode(make_ping(seq, target->name));
    if (target->state == NodeState::alive) {
      send_message(*to, ping, nullptr);
    } else {
      // Suspect target: tell it, so it can refute (no piggyback, CRC by node).
      send_parts(*to, {ping, encode(Suspect{target->incarnation, target->name, m_.name_})}, &*target);
    }
    auto indirect_timer = std::make_shared<asio::steady_timer>(io_, cfg_.probe_timeout);
    indirect_timer->async_wait([this, indirect_timer, state, seq, target = *target](std::error_code ec) {
      if (ec || state->acked || ack_handlers_.find(seq) == ack_handlers_.end()) return;
      auto helpers = membership_.random_nodes(static_cast<std::size_t>(std::max(0, cfg_.indirect_checks)), [&](const NodeEntry& e) {
        return e.state == NodeState::alive && e.name != target.name;
      });
      for (auto& h : helpers) {
        auto hto = endpoint_of(h.addr, h.port);
        if (!hto) continue;
        const auto& me = membership_.self();
        IndirectPingReq req{h.vsn.pmax() >= 4, target.name, target.port, seq, me.addr, me.name, me.port, target.addr};
        if (req.nack) ++state->expected_nacks;
        send_message(*hto, encode(req), nullptr);
      }
    });
  }

  void arm_suspicion_timer(const std::string& node, std::optional<milliseconds> after) {
    auto& timer = suspicion_timers_[node];
    if (timer) timer->cancel();
    if (!after) {
      suspicion_timers_.erase(node);
      return;
    }
    timer = std::make_shared<asio::steady_timer>(io_, std::max(*after, 0ms));
    timer->async_wait([this, node, t = timer](std::error_code ec) {
      if (ec) return;
      if (auto it = suspicion_timers_.find(node); it != suspicion_timers_.end() && it->second == t) suspicion_timers_.erase(it);
      if (log_outcome("dead", node, membership_.suspicion_expired(node, SteadyClock::now()))) publish_snapshot();
    });
  }

  // ---- gossip (§5.8) ----

  void schedule_gossip(milliseconds after) {
    gossip_timer_.expires_after(after);
    gossip_timer_.async_wait([this](std::error_code ec) {
      if (ec) return;
      gossip();
      check_leave();
      schedule_gossip(cfg_.gossip_interval);
    });
  }

  void gossip() {
    const auto now = SteadyClock::now();
    auto targets = membership_.random_nodes(static_cast<std::size_t>(cfg_.gossip_nodes), [&](const NodeEntry& e) {
      if (e.state == NodeState::alive || e.state == NodeState::suspect) return true;
      return e.state == NodeState::dead && now - e.state_change < cfg_.gossip_to_dead_time;
    });
    const std::size_t overhead = kCompoundOverhead + label_overhead() + encrypt_overhead();
    if (packet_budget_ <= overhead) return;
    for (auto& node : targets) {
      auto msgs = membership_.broadcasts().take(kCompoundOverhead, packet_budget_ - overhead, membership_.size());
      if (msgs.empty()) return;
      if (auto to = endpoint_of(node.addr, node.port)) send_parts(*to, std::move(msgs), &node);
    }
  }

  void check_leave() {
    if (!leave_done_) return;
    // As memberlist's Leave: with no other live member there is nobody to tell.
    if (!membership_.leave_pending() || membership_.alive_count() == 0 || SteadyClock::now() >= leave_deadline_) {
      leave_done_->set_value();
      leave_done_.reset();
      return;
    }
    leave_timer_.expires_after(std::min<SteadyClock::duration>(cfg_.gossip_interval, leave_deadline_ - SteadyClock::now()));
    leave_timer_.async_wait([this](std::error_code ec) {
      if (!ec) check_leave();
    });
  }

  // ---- streams (§4) ----

  StreamDecodeOptions stream_decode_options(bool server) const {
    StreamDecodeOptions o;
    o.expect_label = server;
    o.label = cfg_.cluster_label;
    o.skip_label_check = cfg_.cluster_label_verification_disabled;
    o.keyring = keyring_ ? &*keyring_ : nullptr;
    o.require_encryption = cfg_.gossip_verify_incoming;
    // The configured limit, not memberlist's 20 MiB: a 10,000-instance ring of 512 tokens is ~26 MB.
    o.limits.max_push_state_bytes = cfg_.limits.max_stream_bytes;
    o.limits.max_decompressed = cfg_.limits.max_decompressed_bytes;
    return o;
  }

  Result<Bytes> encode_stream(const Bytes& msg, bool dialer) {
    StreamEncodeOptions o;
    if (dialer) o.label = cfg_.cluster_label;
    o.compress = cfg_.compression_enabled;
    if (encrypting()) {
      o.keyring = &*keyring_;
      o.nonce = random_nonce();
    }
    return encode_stream_message(msg, o);
  }

  using StreamReadHandler = std::function<void(Result<StreamDecoded>)>;

  // Reads one stream message, parsing whenever the codec says enough has arrived.
  // The caller's deadline timer closes the connection, which ends the read.
  void read_stream(std::shared_ptr<StreamConn> conn, StreamDecodeOptions opts, StreamReadHandler done) {
    auto buf = std::make_shared<Bytes>();
    auto need = std::make_shared<std::size_t>(1);
    auto step = std::make_shared<std::function<void()>>();
    *step = [this, conn, opts, done, buf, need, weak_step = std::weak_ptr<std::function<void()>>(step)] {
      const auto old = buf->size();
      buf->resize(old + kStreamReadChunk);
      conn->async_read_some(asio::buffer(buf->data() + old, kStreamReadChunk),
                            [this, conn, opts, done, buf, need, old, self = weak_step.lock()](std::error_code ec, std::size_t n) {
                              buf->resize(old + n);
                              if (!ec && buf->size() > cfg_.limits.max_stream_bytes + 64 * 1024)
                                return done(over_limit(SizeLimit::message, "stream message over limit"));
                              if (buf->size() >= *need || ec) {
                                auto r = parse_stream_message(*buf, opts);
                                if (!r) return done(r.error());
                                if (auto* d = std::get_if<StreamDecoded>(&*r)) return done(std::move(*d));
                                *need = buf->size() + std::get<NeedMore>(*r).at_least;
                              }
                              if (ec) return done(fail(Reject::truncated, ec.message()));
                              (*self)();
                            });
    };
    (*step)();
  }

  std::shared_ptr<asio::steady_timer> stream_deadline(const std::shared_ptr<StreamConn>& conn) {
    auto timer = std::make_shared<asio::steady_timer>(io_, cfg_.stream_timeout);
    std::weak_ptr<StreamConn> weak = conn;
    timer->async_wait([this, weak](std::error_code ec) {
      if (ec) return;
      if (auto c = weak.lock()) {
        counters_.limit(Limit::read_deadline);
        c->close();
      }
    });
    return timer;
  }

  void serve_stream(std::shared_ptr<StreamConn> conn) {
    auto deadline = stream_deadline(conn);
    read_stream(conn, stream_decode_options(true), [this, conn, deadline](Result<StreamDecoded> r) {
      if (!r) {
        deadline->cancel();
        return reject(r.error(), "stream from " + conn->peer());
      }
      std::visit(
          [&](auto& msg) {
            using T = std::decay_t<decltype(msg)>;
            if constexpr (std::is_same_v<T, PushPull>) {
              counters_.received(static_cast<std::uint8_t>(MessageType::push_pull));
              serve_push_pull(conn, deadline, std::move(msg));
            } else if constexpr (std::is_same_v<T, Ping>) {
              counters_.received(static_cast<std::uint8_t>(MessageType::ping));
              if (!msg.node.empty() && msg.node != m_.name_) return;
              write_stream(conn, deadline, encode(AckResp{msg.seq_no, {}}), false, [](bool) {});
            } else if constexpr (std::is_same_v<T, StreamUser>) {
              counters_.received(static_cast<std::uint8_t>(MessageType::user));
              deadline->cancel();
              if (m_.sink_ != nullptr && !msg.payload.empty()) {
                auto name = name_at_ip(conn->peer());
                auto addr = name.empty() ? conn->peer() : advertised_address_of(name);
                m_.sink_->on_payload(
                    ReceivedPayload{Via::gossip, msg.payload, name, addr, system_clock::now(), SteadyClock::now(), false});
              }
            } else {
              deadline->cancel();
              reject(Reject::unknown_type, "stream from " + conn->peer(), "unexpected message on an inbound stream");
            }
          },
          r->message);
    });
  }

  void write_stream(std::shared_ptr<StreamConn> conn, std::shared_ptr<asio::steady_timer> deadline, const Bytes& msg,
                    bool dialer, std::function<void(bool)> done) {
    auto wire = encode_stream(msg, dialer);
    if (!wire) {
      log_->debug("cannot encode stream message: {}", wire.error().detail);
      return done(false);
    }
    counters_.sent(msg.front());
    counters_.bytes_sent.fetch_add(wire->size(), std::memory_order_relaxed);
    conn->async_write(std::make_shared<const Bytes>(std::move(*wire)), [deadline, done](std::error_code ec) { done(!ec); });
  }

  Bytes local_push_pull(bool join) const {
    // Passive member: our table, and never any user state.
    return encode_push_pull(PushPull{join, membership_.local_state(), {}});
  }

  void serve_push_pull(std::shared_ptr<StreamConn> conn, std::shared_ptr<asio::steady_timer> deadline, PushPull remote) {
    if (inbound_push_pulls_ >= cfg_.limits.max_concurrent_pushpulls) {
      counters_.limit(Limit::pushpulls);
      deadline->cancel();
      return;  // memberlist closes without a reply
    }
    ++inbound_push_pulls_;
    counters_.pushpulls_in.fetch_add(1, std::memory_order_relaxed);
    const bool join = remote.join;
    write_stream(conn, deadline, local_push_pull(join), false, [this, conn, deadline](bool) {
      deadline->cancel();
      --inbound_push_pulls_;
      conn->close();
    });
    merge_push_pull(std::move(remote), join, conn->peer(), false);
  }

  // `peer` is the dialed address (dialed) or the connection's source (inbound).
  bool merge_push_pull(PushPull remote, bool join, const std::string& peer, bool dialed) {
    const auto wall = system_clock::now();
    const auto steady = SteadyClock::now();
    if (!membership_.merge_remote(remote.nodes, steady)) {
      counters_.pushpull_failures.fetch_add(1, std::memory_order_relaxed);
      reject(Reject::invalid, "push/pull from " + peer, "protocol version check failed");
      return false;
    }
    m_.full_state_received_ = true;
    publish_snapshot();
    if (m_.sink_ != nullptr && !remote.user_state.empty()) {
      // After the merge, so that a node we just met is known by its address.
      auto name = dialed ? name_at(peer) : name_at_ip(peer);
      auto addr = dialed || name.empty() ? peer : advertised_address_of(name);
      m_.sink_->on_payload(ReceivedPayload{Via::pushpull, remote.user_state, name, addr, wall, steady, join});
    }
    return true;
  }

  // Client side of a push/pull (§4.2). done(true) when the exchange and merge succeeded.
  void push_pull(const Endpoint& to, bool join, std::function<void(bool)> done) {
    counters_.pushpulls_out.fetch_add(1, std::memory_order_relaxed);
    auto failed = [this, to, done](const std::string& why) {
      counters_.pushpull_failures.fetch_add(1, std::memory_order_relaxed);
      log_->debug("push/pull with {} failed: {}", endpoint_text(to), why);
      done(false);
    };
    transport_->dial_stream(to, cfg_.stream_timeout, [this, to, join, done, failed](std::error_code ec, std::shared_ptr<StreamConn> conn) {
      if (ec) return failed(ec.message());
      auto deadline = stream_deadline(conn);
      write_stream(conn, deadline, local_push_pull(join), true, [this, to, join, done, failed, conn, deadline](bool ok) {
        if (!ok) return deadline->cancel(), failed("write failed");
        deadline->expires_after(cfg_.stream_timeout);  // memberlist resets it before reading
        deadline->async_wait([this, weak = std::weak_ptr<StreamConn>(conn)](std::error_code ec) {
          if (ec) return;
          if (auto c = weak.lock()) counters_.limit(Limit::read_deadline), c->close();
        });
        read_stream(conn, stream_decode_options(false), [this, to, join, done, failed, conn, deadline](Result<StreamDecoded> r) {
          deadline->cancel();
          conn->close();
          if (!r) {
            count_limit(r.error());
            counters_.reject(r.error().reason);
            return failed(std::string(reject_name(r.error().reason)) + ": " + r.error().detail);
          }
          if (auto* err = std::get_if<ErrResp>(&r->message)) return failed("remote error: " + err->error);
          auto* pp = std::get_if<PushPull>(&r->message);
          if (pp == nullptr) return failed("reply is not a push/pull");
          counters_.received(static_cast<std::uint8_t>(MessageType::push_pull));
          done(merge_push_pull(std::move(*pp), join, endpoint_text(to), true));
        });
      });
    });
  }

  void schedule_push_pull(milliseconds after) {
    push_pull_timer_.expires_after(after);
    push_pull_timer_.async_wait([this](std::error_code ec) {
      if (ec) return;
      if (!membership_.has_left()) {
        auto peers = membership_.random_nodes(1, [](const NodeEntry& e) { return e.state == NodeState::alive; });
        if (!peers.empty())
          if (auto to = endpoint_of(peers.front().addr, peers.front().port)) push_pull(*to, false, [](bool) {});
      }
      schedule_push_pull(push_pull_scale(cfg_.pull_push_interval, membership_.size()));
    });
  }

  Member& m_;
  const MemberConfig& cfg_;
  asio::io_context& io_;
  GossipCounters& counters_;
  std::shared_ptr<spdlog::logger> log_;
  std::mt19937_64 rng_;
  Membership membership_;
  std::optional<Keyring> keyring_;
  std::unique_ptr<Transport> transport_;
  std::size_t packet_budget_ = 0;
  std::string advertise_text_;
  std::unordered_map<std::uint32_t, AckHandler> ack_handlers_;
  std::unordered_map<std::string, std::string> name_by_address_;  // "ip:port" -> member, rebuilt with each snapshot
  std::unordered_map<std::string, std::string> name_by_ip_;       // ip -> member, "" when shared
  std::map<std::string, std::shared_ptr<asio::steady_timer>> suspicion_timers_;
  asio::steady_timer probe_timer_, gossip_timer_, push_pull_timer_, leave_timer_;
  std::size_t inbound_push_pulls_ = 0;
  std::unique_ptr<Joiner> joiner_;
  std::shared_ptr<std::promise<void>> leave_done_;
  SteadyClock::time_point leave_deadline_;
};

// ---------------------------------------------------------------------------

Member::Member(MemberConfig config, EventSink* sink) : config_(std::move(config)), sink_(sink) {
  std::mt19937_64 rng(std::random_device{}());
  name_ = make_node_name(config_.node_name, config_.randomize_node_name, rng);
  loop_ = std::make_unique<Loop>(*this);
}

Member::~Member() { stop(); }

void Member::start() {
  loop_->bind();
  asio::post(io_, [this] { loop_->begin(); });
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(io_);
    // A handler that throws must not take the process down: log it and keep serving.
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        gossip_logger()->error("gossip event loop: a handler failed and was abandoned: {}", e.what());
      }
    }
  });
}

std::string Member::advertise_address() const { return loop_->advertise_text(); }

void Member::leave(std::chrono::milliseconds timeout) {
  if (stopped_ || !thread_.joinable()) return;
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  asio::post(io_, [this, timeout, done] { loop_->leave(timeout, done); });
  future.wait_for(timeout + 1s);
  stop();
}

void Member::stop() {
  if (stopped_.exchange(true)) return;
  if (thread_.joinable()) {
    std::promise<void> done;
    asio::post(io_, [this, &done] {
      loop_->shutdown();
      done.set_value();
    });
    done.get_future().wait();
    io_.stop();
    thread_.join();
  } else {
    loop_->shutdown();
  }
}

}  // namespace ringwatch::gossip
