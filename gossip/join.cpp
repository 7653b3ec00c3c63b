#include "gossip/join.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <set>

#include <asio/post.hpp>

#include <fmt/format.h>

namespace ringwatch::gossip {
namespace {

Result<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > 65535)
    return fail(Reject::invalid, fmt::format("bad port {:?}", std::string(text)));
  return static_cast<std::uint16_t>(value);
}

struct HostPort {
  std::string host;
  std::optional<std::uint16_t> port;
};

// Go's net.SplitHostPort, made lenient the way memberlist is: no port means "none";
// a bare IPv6 literal (several colons, no brackets) is a host without port.
Result<HostPort> split_host_port(std::string_view s) {
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return fail(Reject::invalid, "missing ']'");
    HostPort hp{std::string(s.substr(1, close - 1)), std::nullopt};
    auto rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(Reject::invalid, "junk after ']'");
      auto port = parse_port(rest.substr(1));
      if (!port) return port.error();
      hp.port = *port;
    }
    return hp;
  }
  auto colons = std::count(s.begin(), s.end(), ':');
  if (colons != 1) return HostPort{std::string(s), std::nullopt};
  auto colon = s.find(':');
  auto port = parse_port(s.substr(colon + 1));
  if (!port) return port.error();
  return HostPort{std::string(s.substr(0, colon)), *port};
}

bool is_ip_literal(const std::string& host) {
  std::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

std::vector<asio::ip::address> lookup_addresses(const std::string& host) {
  std::vector<asio::ip::address> out;
  std::error_code ec;
  auto literal = asio::ip::make_address(host, ec);
  if (!ec) return {literal};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return out;
  for (auto* ai = res; ai != nullptr; ai = ai->ai_next) {
    asio::ip::address ip;
    if (ai->ai_family == AF_INET) {
      auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), &sin->sin_addr, 4);
      ip = asio::ip::address_v4(b);
    } else if (ai->ai_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &sin6->sin6_addr, 16);
      ip = asio::ip::address_v6(b);
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
  }
  freeaddrinfo(res);
  return out;
}

struct SrvRecord {
  std::string target;
  std::uint16_t port;
};

std::vector<SrvRecord> lookup_srv(const std::string& name) {
  std::vector<SrvRecord> out;
  struct __res_state state {};
  if (res_ninit(&state) != 0) return out;
  std::vector<unsigned char> answer(65536);
  int len = res_nquery(&state, name.c_str(), ns_c_in, ns_t_srv, answer.data(), static_cast<int>(answer.size()));
  ns_msg msg;
  if (len > 0 && ns_initparse(answer.data(), len, &msg) == 0) {
    int count = ns_msg_count(msg, ns_s_an);
    for (int i = 0; i < count; ++i) {
      ns_rr rr;
      if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7) continue;
      const unsigned char* rdata = ns_rr_rdata(rr);
      auto port = static_cast<std::uint16_t>((rdata[4] << 8) | rdata[5]);
      char target[NS_MAXDNAME];
      if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rdata + 6, target, sizeof target) < 0) continue;
      out.push_back({target, port});
    }
  }
  res_nclose(&state);
  return out;
}

void add_unique(std::vector<JoinEndpoint>& out, JoinEndpoint ep) {
  if (std::find(out.begin(), out.end(), ep) == out.end()) out.push_back(ep);
}

}  // namespace

Result<JoinTarget> parse_join_address(std::string_view entry) {
  JoinTarget target;
  auto plus = entry.find('+');
  if (plus != std::string_view::npos) {
    auto scheme = entry.substr(0, plus);
    auto rest = entry.substr(plus + 1);
    if (scheme == "dns") target.kind = JoinTarget::Kind::dns;
    else if (scheme == "dnssrv") target.kind = JoinTarget::Kind::dnssrv;
    else if (scheme == "dnssrvnoa") target.kind = JoinTarget::Kind::dnssrvnoa;
    else return fail(Reject::invalid, fmt::format("unknown join scheme {:?}", std::string(scheme)));
    auto hp = split_host_port(rest);
    if (!hp) return hp.error();
    if (hp->host.empty()) return fail(Reject::invalid, "empty host");
    if (target.kind == JoinTarget::Kind::dns && !hp->port) return fail(Reject::invalid, "missing port in dns+ address");
    target.host = hp->host;
    target.port = hp->port;
    return target;
  }
  // memberlist accepts "nodename/address"; the name is only informative.
  if (auto slash = entry.find('/'); slash != std::string_view::npos) entry = entry.substr(slash + 1);
  auto hp = split_host_port(entry);
  if (!hp) return hp.error();
  if (hp->host.empty()) return fail(Reject::invalid, "empty host");
  target.kind = is_ip_literal(hp->host) ? JoinTarget::Kind::ip : JoinTarget::Kind::host;
  target.host = hp->host;
  target.port = hp->port;
  return target;
}

std::vector<JoinEndpoint> resolve_join_target(const JoinTarget& target) {
  std::vector<JoinEndpoint> out;
  auto port = target.port.value_or(kDefaultJoinPort);
  switch (target.kind) {
    case JoinTarget::Kind::ip:
    case JoinTarget::Kind::host:
    case JoinTarget::Kind::dns:
      for (auto& ip : lookup_addresses(target.host)) add_unique(out, {ip, port});
      break;
    case JoinTarget::Kind::dnssrv:
    case JoinTarget::Kind::dnssrvnoa:
      // dnssrvnoa hands host names to memberlist, which resolves them the same way.
      for (auto& srv : lookup_srv(target.host))
        for (auto& ip : lookup_addresses(srv.target)) add_unique(out, {ip, target.port.value_or(srv.port)});
      break;
  }
  return out;
}

JoinResolver::JoinResolver() : thread_([this] { run(); }) {}

JoinResolver::~JoinResolver() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  cv_.notify_all();
  thread_.join();
}

void JoinResolver::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void JoinResolver::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

std::chrono::milliseconds JoinBackoff::next(std::mt19937_64& rng) {
  auto lo = min_;
  for (int i = 0; i < attempts_ && lo < max_; ++i) lo *= 2;
  ++attempts_;
  if (lo >= max_) return max_;
  auto hi = std::min(lo * 2, max_);
  std::uniform_int_distribution<std::int64_t> dist(lo.count(), hi.count() - 1);
  return std::chrono::milliseconds(dist(rng));
}

namespace {
constexpr std::size_t kJoinBatch = 100;  // dskit resolves again after this many addresses

std::string key_of(const asio::ip::tcp::endpoint& ep) { return ep.address().to_string() + "|" + std::to_string(ep.port()); }
}  // namespace

Joiner::Joiner(asio::io_context& io, JoinSettings settings, ResolveFn resolve, JoinOneFn join_one, StatusFn on_status,
               std::uint64_t seed)
    : io_(io), settings_(std::move(settings)), resolve_(std::move(resolve)), join_one_(std::move(join_one)),
      on_status_(std::move(on_status)), rng_(seed), retry_timer_(io), rejoin_timer_(io) {}

Joiner::~Joiner() { stop(); }

void Joiner::stop() {
  *alive_ = false;
  retry_timer_.cancel();
  rejoin_timer_.cancel();
  worker_.reset();
}

void Joiner::set_status(JoinStatus s) {
  status_ = s;
  if (on_status_) on_status_(s);
}

void Joiner::start() {
  if (settings_.members.empty()) return set_status(JoinStatus::joined);  // a seed: nothing to join
  resolve([this](Endpoints nodes) {
    std::shuffle(nodes.begin(), nodes.end(), rng_);
    const int to_join = nodes.empty() ? 0
                                      : settings_.retransmit_factor *
                                            static_cast<int>(std::ceil(std::log10(static_cast<double>(nodes.size() + 1))));
    fast_join(std::make_shared<Endpoints>(std::move(nodes)), 0, to_join, 0);
  });
}

void Joiner::resolve(std::function<void(Endpoints)> then) {
  if (!worker_) worker_ = std::make_unique<JoinResolver>();
  worker_->submit([this, then = std::move(then), alive = alive_, entries = settings_.members, resolve = resolve_] {
    Endpoints out;
    std::set<std::string> seen;
    for (auto& entry : entries) {
      auto target = parse_join_address(entry);
      if (!target) continue;  // the configuration layer reports bad entries
      for (auto& ep : resolve(*target)) {
        Endpoint e(ep.ip, ep.port);
        if (seen.insert(key_of(e)).second) out.push_back(e);
      }
    }
    asio::post(io_, [then, alive, out = std::move(out)]() mutable {
      if (*alive) then(std::move(out));
    });
  });
}

void Joiner::fast_join(std::shared_ptr<Endpoints> nodes, std::size_t i, int to_join, int reached) {
  if (to_join <= reached || i >= nodes->size()) {
    fast_reached_ = reached;
    if (reached == 0 && settings_.abort_if_fast_join_fails) return set_status(JoinStatus::failed);
    return full_join_attempt();
  }
  join_one_((*nodes)[i], [this, nodes, i, to_join, reached, alive = alive_](bool ok) {
    if (*alive) fast_join(nodes, i + 1, to_join, reached + (ok ? 1 : 0));
  });
}

void Joiner::full_join_attempt() {
  ++attempts_;
  resolve([this](Endpoints nodes) { full_join_batch(std::make_shared<std::set<std::string>>(), 0, std::move(nodes)); });
}

void Joiner::full_join_batch(std::shared_ptr<std::set<std::string>> attempted, int reached, Endpoints nodes) {
  auto batch = std::make_shared<Endpoints>();
  bool more = false;
  for (auto& n : nodes) {
    auto key = key_of(n);
    if (attempted->count(key) != 0) continue;
    if (batch->size() == kJoinBatch) {
      more = true;
      break;
    }
    batch->push_back(n);
    attempted->insert(key);
  }
  join_each(batch, 0, 0, [this, attempted, reached, more, nodes = std::move(nodes)](int in_batch) mutable {
    if (!more) return full_join_finished(reached + in_batch);
    resolve([this, attempted, total = reached + in_batch, previous = std::move(nodes)](Endpoints fresh) mutable {
      // A failed resolution keeps the previous list, as dskit does.
      full_join_batch(attempted, total, fresh.empty() ? std::move(previous) : std::move(fresh));
    });
  });
}

void Joiner::join_each(std::shared_ptr<Endpoints> batch, std::size_t i, int reached, std::function<void(int)> done) {
  if (i >= batch->size()) return done(reached);
  join_one_((*batch)[i], [this, batch, i, reached, done = std::move(done), alive = alive_](bool ok) mutable {
    if (*alive) join_each(batch, i + 1, reached + (ok ? 1 : 0), std::move(done));
  });
}

void Joiner::full_join_finished(int reached) {
  if (reached > 0) {
    set_status(JoinStatus::joined);
    return schedule_rejoin();
  }
  if (!backoff_) backoff_.emplace(settings_.min_backoff, settings_.max_backoff);
  if (settings_.max_retries > 0 && attempts_ >= settings_.max_retries) {
    set_status(JoinStatus::failed);
    if (!settings_.abort_if_join_fails) schedule_rejoin();  // dskit keeps rejoining unless it aborts
    return;
  }
  retry_timer_.expires_after(backoff_->next(rng_));
  retry_timer_.async_wait([this](std::error_code ec) {
    if (!ec) full_join_attempt();
  });
}

void Joiner::schedule_rejoin() {
  if (settings_.rejoin_interval.count() <= 0) return;
  rejoin_timer_.expires_after(settings_.rejoin_interval);
  rejoin_timer_.async_wait([this](std::error_code ec) {
    if (ec) return;
    ++rejoins_;
    resolve([this](Endpoints nodes) {
      join_each(std::make_shared<Endpoints>(std::move(nodes)), 0, 0, [this](int reached) {
        if (reached > 0 && status_ != JoinStatus::joined) set_status(JoinStatus::joined);
        schedule_rejoin();
      });
    });
  });
}

std::string make_node_name(const std::string& configured, bool randomize, std::mt19937_64& rng) {
  std::string name = configured;
  if (name.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0) name = host;
    if (name.empty()) name = "ringwatch";
  }
  if (randomize) {
    std::uniform_int_distribution<std::uint32_t> dist;
    name += fmt::format("-{:08x}", dist(rng));
  }
  return name;
}

}  // namespace ringwatch::gossip
