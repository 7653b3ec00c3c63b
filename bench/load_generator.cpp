#include "bench/load_generator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <queue>
#include <random>
#include <stdexcept>

#include "bench/synthetic_ring.h"
#include "gossip/messages.h"
#include "gossip/packet.h"
#include "gossip/stream.h"
#include "gossip/transport_frame.h"

namespace ringwatch::bench {
namespace {

using gossip::Bytes;
using gossip::ByteView;

// Simulated member i lives at 127.1.0.1 + i: the whole 127/8 is local on Linux, and a source
// address per member keeps each member's connections in its own ephemeral port range, as on
// real hosts (one shared address would run out of ports in TIME_WAIT within seconds).
constexpr uint32_t kFirstMemberIp = (127u << 24) | (1u << 16) | 1u;
constexpr size_t kKeyPrefix = 128;
// A heartbeat timestamp of this value is a 5-byte varint, like every Unix time from 1978 to
// 3058; the delta template carries it and each update overwrites it in place.
constexpr int64_t kTimestampSentinel = 0x7edcba98;

void put_varint5(uint8_t* p, int64_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>((v >> (7 * i)) & 0x7f) | 0x80;
  p[4] = static_cast<uint8_t>(v >> 28);
}

std::string ring_key(int ring) {
  return ring == 0 ? "collectors/ring" : "collectors/ring-" + std::to_string(ring);
}

sockaddr_in ipv4(uint32_t host_order_ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(host_order_ip);
  return a;
}

bool write_all(int fd, const iovec* iov, int count) {
  std::vector<iovec> rest(iov, iov + count);
  size_t first = 0;
  while (first < rest.size()) {
    ssize_t n = ::writev(fd, rest.data() + first, static_cast<int>(rest.size() - first));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = static_cast<size_t>(n);
    while (first < rest.size() && left >= rest[first].iov_len) left -= rest[first++].iov_len;
    if (first < rest.size()) {
      rest[first].iov_base = static_cast<char*>(rest[first].iov_base) + left;
      rest[first].iov_len -= left;
    }
  }
  return true;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

namespace {
uint64_t prefix_hash(std::string_view key_value_pair) {
  return std::hash<std::string_view>{}(key_value_pair.substr(0, kKeyPrefix));
}
uint64_t combine_key(std::string_view from, uint64_t prefix) {
  return std::hash<std::string_view>{}(from) * 0x9e3779b97f4a7c15ULL ^ prefix;
}
}  // namespace

uint64_t message_key(std::string_view from, std::string_view key_value_pair) {
  return combine_key(from, prefix_hash(key_value_pair));
}

// One ring: its key and, per instance, the serialized one-instance delta with the timestamp
// varint at a known offset.
struct LoadGenerator::Ring {
  std::string key;
  std::vector<std::string> deltas;
  std::vector<size_t> timestamp_offsets;
};

// One heartbeat delta ready to send: payload and digest, shared by its copies.
struct Update {
  std::vector<uint8_t> payload_with_digest;
  uint64_t prefix_hash = 0;
};

struct LoadGenerator::Sender {
  std::thread thread;
  std::mutex mu;  // guards what take_stats() / take_sends() read
  LoadStats stats;
  std::vector<double> lags_ms;
  std::vector<SentMessage> sends;
};

LoadGenerator::LoadGenerator(LoadConfig config) : config_(std::move(config)) {
  if (config_.members < 1 || config_.rings < 1 || config_.instances < 1 || config_.sender_threads < 1) {
    throw std::invalid_argument("members, rings, instances and sender threads must be at least 1");
  }
  // Copies come from distinct members, so there are at most as many as members.
  copies_ = std::clamp(config_.retransmit_mult * static_cast<int>(std::ceil(std::log10(config_.members + 1.0))), 1,
                       config_.members);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  for (int r = 0; r < config_.rings; ++r) {
    auto ring = std::make_unique<Ring>();
    ring->key = ring_key(r);
    const ::ring::Desc desc = synthetic_ring(RingShape{config_.instances, config_.tokens, now, static_cast<uint32_t>(r + 1)});
    append_push_pull_record(full_state_, key_value_pair(ring->key, snappy_of(desc.SerializeAsString()), "ringDesc"));
    for (int i = 0; i < config_.instances; ++i) {
      ::ring::Desc delta;
      const std::string id = instance_id(i);
      auto& inst = (*delta.mutable_ingesters())[id];
      inst = desc.ingesters().at(id);
      inst.set_timestamp(kTimestampSentinel);
      std::string raw = delta.SerializeAsString();
      uint8_t sentinel[6] = {0x10};
      put_varint5(sentinel + 1, kTimestampSentinel);
      const size_t at = raw.find(std::string_view(reinterpret_cast<const char*>(sentinel), sizeof sentinel));
      if (at == std::string::npos) throw std::logic_error("delta template without its timestamp");
      ring->timestamp_offsets.push_back(at + 1);
      ring->deltas.push_back(std::move(raw));
    }
    rings_.push_back(std::move(ring));
  }
}

LoadGenerator::~LoadGenerator() { stop(); }

double LoadGenerator::updates_per_second() const {
  if (config_.messages_per_second > 0) return config_.messages_per_second / copies_;
  return config_.rings * config_.instances / config_.heartbeat_period.count();
}

std::string LoadGenerator::member_address(int member) const {
  in_addr a{htonl(kFirstMemberIp + static_cast<uint32_t>(member))};
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, text, sizeof text);
  return std::string(text) + ":" + std::to_string(members_port_);
}

void LoadGenerator::start() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in any = ipv4(INADDR_ANY, 0);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0 || ::listen(listener_, 1024) != 0) {
    throw std::runtime_error(std::string("members' listener: ") + std::strerror(errno));
  }
  socklen_t len = sizeof any;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&any), &len);
  members_port_ = ntohs(any.sin_port);

  gossip::PushPull state;
  for (int m = 0; m < config_.members; ++m) {
    gossip::PushNodeState node;
    node.name = "sim-member-" + std::to_string(m);
    const uint32_t ip = htonl(kFirstMemberIp + static_cast<uint32_t>(m));
    node.addr.assign(reinterpret_cast<const uint8_t*>(&ip), reinterpret_cast<const uint8_t*>(&ip) + 4);
    node.port = members_port_;
    node.incarnation = 1;
    state.nodes.push_back(std::move(node));
  }
  state.user_state.assign(full_state_.begin(), full_state_.end());
  push_pull_message_ = gossip::encode_push_pull(state);

  listener_thread_ = std::thread([this] { serve_members(); });
  // The target's stream timeout (dskit: 2 s) covers reading, merging and answering the whole
  // state; on a busy machine a large state can miss it, as it would for a Go member.
  for (int attempt = 0; !push_pull(true); ++attempt) {
    if (attempt == 2) throw std::runtime_error("join push/pull with the target failed 3 times");
  }
}

void LoadGenerator::stop() {
  stop_heartbeats();
  if (stopping_.exchange(true)) return;
  if (listener_ >= 0) {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
  }
  if (listener_thread_.joinable()) listener_thread_.join();
}

bool LoadGenerator::send_packet(int member, const std::vector<uint8_t>& payload_with_digest, SentMessage* record) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  timeval timeout{5, 0};  // dskit's packet write timeout
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in src = ipv4(kFirstMemberIp + static_cast<uint32_t>(member), 0);
  in_addr target{};
  inet_pton(AF_INET, config_.target_host.c_str(), &target);
  sockaddr_in dst = ipv4(ntohl(target.s_addr), config_.target_port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0 &&
            ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0;
  if (ok) {
    const std::string from = member_address(member);
    uint8_t header[2] = {static_cast<uint8_t>(gossip::ConnectionType::packet), static_cast<uint8_t>(from.size())};
    iovec iov[3] = {{header, 2},
                    {const_cast<char*>(from.data()), from.size()},
                    {const_cast<uint8_t*>(payload_with_digest.data()), payload_with_digest.size()}};
    ok = write_all(fd, iov, 3);
  }
  ::close(fd);  // EOF ends the packet: on loopback it is in the target's socket when close returns
  if (ok && record != nullptr) record->written = SteadyClock::now();
  return ok;
}

void LoadGenerator::run_heartbeats(double messages_per_second) {
  stop_heartbeats();
  heartbeats_running_ = true;
  config_.messages_per_second = messages_per_second;
  senders_.clear();
  const auto start_wall = std::chrono::system_clock::now();
  for (int t = 0; t < config_.sender_threads; ++t) senders_.push_back(std::make_unique<Sender>());
  for (size_t t = 0; t < senders_.size(); ++t) {
    Sender* sender = senders_[t].get();
    sender->thread = std::thread([this, sender, t, messages_per_second, start_wall] {
      sender_loop(*sender, t, messages_per_second, start_wall);
    });
  }
  if (config_.push_pull_interval.count() > 0) {
    push_pull_thread_ = std::thread([this] {
      auto next = SteadyClock::now() + config_.push_pull_interval;
      while (heartbeats_running_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (SteadyClock::now() < next) continue;
        push_pull(false);
        next += config_.push_pull_interval;
      }
    });
  }
}

void LoadGenerator::stop_heartbeats() {
  heartbeats_running_ = false;
  for (auto& s : senders_) {
    if (s->thread.joinable()) s->thread.join();
  }
  if (push_pull_thread_.joinable()) push_pull_thread_.join();
}

void LoadGenerator::sender_loop(Sender& sender, size_t self, double messages_per_second,
                                std::chrono::system_clock::time_point start_wall) {
  using Seconds = std::chrono::duration<double>;
  const double updates = messages_per_second / copies_;
  const int total_instances = config_.rings * config_.instances;
  const Seconds period(total_instances / updates);
  // Rounds for an update to reach everyone, plus the rounds a relay takes to send its copies.
  const double rounds = std::ceil(std::log(config_.members) / std::log(config_.fanout + 1.0)) +
                        std::ceil(static_cast<double>(copies_) / config_.fanout);
  const Seconds spread(rounds * std::chrono::duration<double>(config_.gossip_interval).count());

  struct Event {
    SteadyClock::time_point when;
    int instance;                         // global index: ring * instances + instance
    std::shared_ptr<const Update> update;  // null: the instance's heartbeat
    int member = 0;
    bool operator>(const Event& o) const { return when > o.when; }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  std::mt19937_64 rng(0x5eed + self);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<int> any_member(0, config_.members - 1);
  std::vector<int64_t> last_timestamp(static_cast<size_t>(total_instances), 0);

  // Start in the steady state: heartbeats that happened up to one spread ago still have copies
  // in flight, and only those copies due from now on are sent.
  const auto start = SteadyClock::now();
  for (int g = static_cast<int>(self); g < total_instances; g += config_.sender_threads) {
    const Seconds phase = period * unit(rng) - spread;
    events.push(Event{start + std::chrono::duration_cast<SteadyClock::duration>(phase), g, nullptr, 0});
  }

  const auto encode = [&](int g, SteadyClock::time_point when) {
    Ring& ring = *rings_[static_cast<size_t>(g / config_.instances)];
    const auto i = static_cast<size_t>(g % config_.instances);
    const auto wall = start_wall + std::chrono::duration_cast<std::chrono::system_clock::duration>(when - start);
    // A heartbeat period under 1 s would repeat whole-second timestamps; every update stays a change.
    int64_t& ts = last_timestamp[static_cast<size_t>(g)];
    ts = std::max(ts + 1, std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count());
    std::string raw = ring.deltas[i];
    put_varint5(reinterpret_cast<uint8_t*>(raw.data()) + ring.timestamp_offsets[i], ts);
    const std::string kv = key_value_pair(ring.key, snappy_of(raw), "ringDesc");
    Bytes message{static_cast<uint8_t>(gossip::MessageType::user)};
    message.insert(message.end(), kv.begin(), kv.end());
    gossip::PacketEncodeOptions opts;
    opts.label = config_.cluster_label;
    opts.crc = true;  // memberlist adds it for members that speak protocol 5, as ringwatch does
    auto packet = gossip::encode_packet(message, opts);
    auto update = std::make_shared<Update>();
    update->payload_with_digest = std::move(*packet);
    const auto digest = gossip::md5(update->payload_with_digest);
    update->payload_with_digest.insert(update->payload_with_digest.end(), digest.begin(), digest.end());
    update->prefix_hash = prefix_hash(kv);
    return std::shared_ptr<const Update>(std::move(update));
  };

  while (heartbeats_running_.load(std::memory_order_relaxed) && !events.empty()) {  // empty: no instance is ours
    const Event next = events.top();
    const auto now = SteadyClock::now();
    if (next.when > now) {
      std::this_thread::sleep_until(std::min(next.when, now + std::chrono::milliseconds(50)));
      continue;
    }
    events.pop();
    if (!next.update) {
      auto update = encode(next.instance, next.when);
      // Copies come from distinct members (relays), which also keeps each copy's key unique.
      const int first_sender = any_member(rng);
      for (int c = 0; c < copies_; ++c) {
        const auto at = next.when + std::chrono::duration_cast<SteadyClock::duration>(spread * unit(rng));
        if (at >= start) events.push(Event{at, next.instance, update, (first_sender + c) % config_.members});
      }
      events.push(Event{next.when + std::chrono::duration_cast<SteadyClock::duration>(period), next.instance, nullptr, 0});
      continue;
    }
    const double lag_ms = std::chrono::duration<double, std::milli>(now - next.when).count();
    SentMessage record{};
    const bool ok = send_packet(next.member, next.update->payload_with_digest, config_.record_sends ? &record : nullptr);
    std::lock_guard lock(sender.mu);
    sender.lags_ms.push_back(lag_ms);
    if (!ok) {
      ++sender.stats.send_errors;
      continue;
    }
    ++sender.stats.sent;
    if (config_.record_sends) {
      record.key = combine_key(member_address(next.member), next.update->prefix_hash);
      sender.sends.push_back(record);
    }
  }
}

LoadStats LoadGenerator::take_stats() {
  std::lock_guard lock(stats_mu_);
  LoadStats total = stats_;
  stats_ = {};
  std::vector<double> lags;
  for (auto& s : senders_) {
    std::lock_guard sl(s->mu);
    total.sent += s->stats.sent;
    total.send_errors += s->stats.send_errors;
    s->stats = {};
    lags.insert(lags.end(), s->lags_ms.begin(), s->lags_ms.end());
    s->lags_ms.clear();
  }
  total.schedule_lag_p99_ms = percentile(lags, 0.99);
  total.schedule_lag_max_ms = lags.empty() ? 0 : *std::max_element(lags.begin(), lags.end());
  return total;
}

std::vector<SentMessage> LoadGenerator::take_sends() {
  std::vector<SentMessage> all;
  for (auto& s : senders_) {
    std::lock_guard sl(s->mu);
    all.insert(all.end(), s->sends.begin(), s->sends.end());
    s->sends.clear();
  }
  return all;
}

std::optional<std::chrono::duration<double>> LoadGenerator::push_pull(bool join) {
  const auto begin = SteadyClock::now();
  auto fail = [this]() -> std::optional<std::chrono::duration<double>> {
    std::lock_guard lock(stats_mu_);
    ++stats_.pushpull_errors;
    return std::nullopt;
  };
  Bytes message = push_pull_message_;
  // The header's join flag is its third field; re-encoding the header alone is not possible
  // through the codec, so the join variant is encoded from scratch when asked for.
  if (join) {
    auto parsed = gossip::parse_stream_message(message, gossip::StreamDecodeOptions{});
    if (!parsed) return fail();
    auto state = std::get<gossip::PushPull>(std::get<gossip::StreamDecoded>(*parsed).message);
    state.join = true;
    message = gossip::encode_push_pull(state);
  }
  gossip::StreamEncodeOptions out_opts;
  out_opts.label = config_.cluster_label;
  auto wire = gossip::encode_stream_message(message, out_opts);
  if (!wire) return fail();

  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in src = ipv4(kFirstMemberIp, 0);
  in_addr target{};
  inet_pton(AF_INET, config_.target_host.c_str(), &target);
  sockaddr_in dst = ipv4(ntohl(target.s_addr), config_.target_port);
  uint8_t type = static_cast<uint8_t>(gossip::ConnectionType::stream);
  iovec iov[2] = {{&type, 1}, {wire->data(), wire->size()}};
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0 &&
            ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0 && write_all(fd, iov, 2);
  Bytes reply;
  gossip::StreamDecodeOptions in_opts;
  in_opts.label = config_.cluster_label;
  bool answered = false;
  while (ok && !answered) {
    uint8_t chunk[65536];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    reply.insert(reply.end(), chunk, chunk + n);
    auto step = gossip::parse_stream_message(reply, in_opts);
    if (!step) break;
    answered = std::holds_alternative<gossip::StreamDecoded>(*step);
  }
  ::close(fd);
  if (!answered) return fail();
  std::lock_guard lock(stats_mu_);
  ++stats_.pushpulls;
  return SteadyClock::now() - begin;
}

void LoadGenerator::serve_members() {
  while (!stopping_) {
    const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_ || errno == EBADF || errno == EINVAL) return;
      continue;
    }
    serve_connection(fd);
    ::close(fd);
  }
}

// What the target sends a member: gossip packets (pings among them) and push/pulls.
void LoadGenerator::serve_connection(int fd) {
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in local{};
  socklen_t len = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  const int member = static_cast<int>(ntohl(local.sin_addr.s_addr) - kFirstMemberIp);
  if (member < 0 || member >= config_.members) return;

  Bytes in;
  gossip::StreamDecodeOptions stream_opts;
  stream_opts.expect_label = true;
  stream_opts.label = config_.cluster_label;
  for (;;) {
    uint8_t chunk[65536];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) in.insert(in.end(), chunk, chunk + n);
    if (!in.empty() && in[0] == static_cast<uint8_t>(gossip::ConnectionType::stream)) {
      auto step = gossip::parse_stream_message(ByteView(in).subspan(1), stream_opts);
      if (!step) return;
      if (auto* decoded = std::get_if<gossip::StreamDecoded>(&*step)) {
        if (std::holds_alternative<gossip::PushPull>(decoded->message)) {
          gossip::StreamEncodeOptions reply_opts;
          reply_opts.write_label = false;
          auto wire = gossip::encode_stream_message(push_pull_message_, reply_opts);
          iovec iov{wire->data(), wire->size()};
          write_all(fd, &iov, 1);
        }
        return;
      }
    }
    if (n <= 0) break;  // EOF ends a packet
  }
  auto frame = gossip::parse_packet_frame(in);
  if (!frame) return;
  gossip::PacketDecodeOptions opts;
  opts.label = config_.cluster_label;
  auto packet = gossip::decode_packet(frame->payload, opts);
  if (!packet) return;
  for (const auto& message : packet->messages) {
    std::optional<uint32_t> ack_seq;
    if (auto* ping = std::get_if<gossip::Ping>(&message)) {
      ack_seq = ping->seq_no;
    } else if (auto* req = std::get_if<gossip::IndirectPingReq>(&message)) {
      ack_seq = req->seq_no;  // the target asks us to probe a simulated member: all are alive
    }
    if (!ack_seq) continue;
    gossip::PacketEncodeOptions reply_opts;
    reply_opts.label = config_.cluster_label;
    reply_opts.crc = true;
    auto ack = gossip::encode_packet(gossip::encode(gossip::AckResp{*ack_seq, {}}), reply_opts);
    const auto digest = gossip::md5(*ack);
    ack->insert(ack->end(), digest.begin(), digest.end());
    // The target is the only node that pings: the ack goes to its gossip port.
    send_packet(member, *ack, nullptr);
  }
}

}  // namespace ringwatch::bench
