// ringwatch-hostile-peer: attacks a gossip port speaking dskit's TCP transport with bad input
// for a bounded time, and optionally sends production-like valid ring traffic and samples the
// target's memory and CPU (--soak). Every attack is one connection built with ringwatch's own
// encoders, so that each kind is rejected for exactly one reason:
//
//   malformed           packet whose message does not decode            rejected{reason="decode"}
//   wrong_label         packet with another cluster's label             rejected{reason="label"}
//   bad_crc             packet with a wrong CRC-32 header               rejected{reason="crc"}
//   bad_digest          frame with a wrong MD5 trailer                  rejected{reason="digest"}
//   unknown_type        connection whose first byte is neither 01 nor 02 rejected{reason="unknown_type"}
//   truncated_packet    frame cut inside the sender's address           rejected{reason="truncated"}
//   truncated_stream    push/pull cut in the middle                     rejected{reason="truncated"}
//   oversized_stream    push/pull claiming a huge user state            limit_hits{limit="stream_bytes"}
//   oversized_packet    frame of --oversize-bytes                       limit_hits{limit="packet_bytes"}
//   decompression_bomb  LZW packet expanding to --bomb-bytes            limit_hits{limit="decompressed_bytes"}
//   kv_keys             ring value under a new key each time            kv_limit_hits{limit="keys"}
//   kv_instances        ring value of --kv-instances instances          kv_limit_hits{limit="instances"}
//   kv_tokens           ring value of one instance with --kv-tokens     kv_limit_hits{limit="tokens"}
//
// and, on their own threads: --slow connections sending a byte a second (limit="read_deadline")
// and a --flood of idle connections every --flood-interval (limit="connections").
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <snappy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gossip/compression.h"
#include "gossip/messages.h"
#include "gossip/packet.h"
#include "gossip/stream.h"
#include "gossip/transport_frame.h"
#include "proto/kv.pb.h"
#include "proto/ring.pb.h"

namespace {

using namespace ringwatch::gossip;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::vector<std::string> kAttacks = {
    "malformed",        "wrong_label",      "bad_crc",          "bad_digest",         "unknown_type",
    "truncated_packet", "truncated_stream", "oversized_stream", "oversized_packet",   "decompression_bomb",
    "kv_keys",          "kv_instances",     "kv_tokens"};

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 7946;
  std::string label;  // the target's cluster label
  std::chrono::seconds duration{30};
  double rate = 200;  // attack connections per second
  std::map<std::string, double> mix;  // attack -> weight; empty = all kinds, weight 1
  int workers = 4;
  int slow = 8;                          // connections sending a byte a second
  int flood = 0;                         // idle connections opened per flood
  std::chrono::milliseconds flood_interval{3000};
  std::chrono::milliseconds flood_hold{1000};
  size_t oversize_bytes = 17u << 20;     // oversized_packet frame size
  size_t bomb_bytes = 80u << 20;         // decompression_bomb expanded size
  int kv_instances = 40000;
  int kv_tokens = 20u << 20;
  // Valid traffic: heartbeats of a ring of `instances` instances with `tokens` tokens each.
  double valid_rate = 0;
  int instances = 10000;
  int tokens = 512;
  std::string valid_key = "soak/ring";
  // Sampling of the target process.
  int pid = 0;
  std::chrono::seconds sample_interval{60};
  uint16_t metrics_port = 0;  // also time GET /metrics on this port of host
};

// ---- sockets ----

int dial(const Options& o) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(o.port);
  ::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const uint8_t* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// One connection: write everything, then close (EOF ends a dskit packet).
bool send_connection(const Options& o, const Bytes& bytes) {
  int fd = dial(o);
  if (fd < 0) return false;
  const bool ok = send_all(fd, bytes.data(), bytes.size());
  ::close(fd);
  return ok;
}

// ---- payloads ----

Bytes labelled(const Bytes& message, const std::string& label, bool compress = false) {
  PacketEncodeOptions e;
  e.label = label;
  e.compress = compress;
  return *encode_packet(message, e);
}

Bytes packet_frame(const Bytes& payload) { return *build_packet_frame("127.0.0.1:1", payload); }

Bytes stream_frame(const Options& o, const Bytes& message) {
  StreamEncodeOptions e;
  e.label = o.label;
  Bytes out{static_cast<uint8_t>(ConnectionType::stream)};
  append(out, *encode_stream_message(message, e));
  return out;
}

// A ping whose msgpack body starts with 0xc1, a byte msgpack never uses.
Bytes undecodable_message(std::mt19937& rng) {
  Bytes m{static_cast<uint8_t>(MessageType::ping), 0xc1};
  for (int i = 0; i < 32; ++i) m.push_back(static_cast<uint8_t>(rng()));
  return m;
}

std::string snappy_of(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

// A gossip user message carrying one KeyValuePair with a ring value.
Bytes ring_update(const std::string& key, const ::ring::Desc& desc) {
  ::memberlist::KeyValuePair kv;
  kv.set_key(key);
  kv.set_value(snappy_of(desc.SerializeAsString()));
  kv.set_codec("ringDesc");
  const std::string body = kv.SerializeAsString();
  Bytes m;
  m.reserve(1 + body.size());
  m.push_back(static_cast<uint8_t>(MessageType::user));
  append(m, as_bytes(body));
  return m;
}

void add_instance(::ring::Desc& d, const std::string& id, int64_t ts, const std::vector<uint32_t>& tokens) {
  auto& i = (*d.mutable_ingesters())[id];
  i.set_addr("10.1.0.1:9095");
  i.set_timestamp(ts);
  i.set_state(::ring::ACTIVE);
  i.set_zone("zone-a");
  i.set_registered_timestamp(ts);
  i.set_id(id);
  for (uint32_t t : tokens) i.add_tokens(t);
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The connections that are expensive to build, built once.
struct Prebuilt {
  Bytes oversized_packet;
  Bytes bomb;
  Bytes kv_instances;
  Bytes kv_tokens;
};

Prebuilt prebuild(const Options& o, const std::map<std::string, double>& mix) {
  Prebuilt p;
  std::mt19937 rng(7);
  if (mix.contains("oversized_packet")) {
    p.oversized_packet = packet_frame(labelled(undecodable_message(rng), o.label));
    p.oversized_packet.resize(std::max(p.oversized_packet.size(), o.oversize_bytes), 0x5a);
  }
  if (mix.contains("decompression_bomb")) {
    Bytes user{static_cast<uint8_t>(MessageType::user)};
    user.resize(o.bomb_bytes, 0);
    p.bomb = packet_frame(labelled(user, o.label, true));
  }
  if (mix.contains("kv_instances")) {
    ::ring::Desc d;
    for (int i = 0; i < o.kv_instances; ++i) add_instance(d, "hostile-" + std::to_string(i), unix_now(), {static_cast<uint32_t>(i)});
    p.kv_instances = packet_frame(labelled(ring_update("hostile/instances", d), o.label));
  }
  if (mix.contains("kv_tokens")) {
    ::ring::Desc d;
    std::vector<uint32_t> tokens(static_cast<size_t>(o.kv_tokens));
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<uint32_t>(i * 2654435761u);
    add_instance(d, "hostile-tokens", unix_now(), tokens);
    p.kv_tokens = packet_frame(labelled(ring_update("hostile/tokens", d), o.label));
  }
  return p;
}

// One attack connection's bytes.
Bytes attack_bytes(const std::string& kind, const Options& o, const Prebuilt& pre, std::mt19937& rng, uint64_t serial) {
  if (kind == "malformed") return packet_frame(labelled(undecodable_message(rng), o.label));
  if (kind == "wrong_label") return packet_frame(labelled(encode(Ping{"x", 1, {}, {}, 0}), o.label + "-intruder"));
  if (kind == "bad_crc") {
    Bytes msg = add_crc(encode(Ping{"x", 1, {}, {}, 0}));
    msg[1] ^= 0xff;
    return packet_frame(labelled(msg, o.label));
  }
  if (kind == "bad_digest") {
    Bytes f = packet_frame(labelled(undecodable_message(rng), o.label));
    f.back() ^= 0xff;
    return f;
  }
  if (kind == "unknown_type") return Bytes{0x07, 0x00, 0x01};
  if (kind == "truncated_packet") return Bytes{0x01, 0xff, '1', '2', '7', '.'};
  if (kind == "truncated_stream") {
    Bytes s = stream_frame(o, encode_push_pull(PushPull{false, {}, Bytes(4096, 0x42)}));
    s.resize(s.size() / 2);
    return s;
  }
  if (kind == "oversized_stream") {
    Bytes m{static_cast<uint8_t>(MessageType::push_pull)};
    encode(PushPullHeader{0, std::int64_t{1} << 40, false}, m);
    return stream_frame(o, m);
  }
  if (kind == "oversized_packet") return pre.oversized_packet;
  if (kind == "decompression_bomb") return pre.bomb;
  if (kind == "kv_keys") {
    ::ring::Desc d;
    add_instance(d, "hostile", unix_now(), {1});
    return packet_frame(labelled(ring_update("hostile/key-" + std::to_string(serial), d), o.label));
  }
  if (kind == "kv_instances") return pre.kv_instances;
  return pre.kv_tokens;
}

// ---- pacing ----

// Runs fn(i) `rate` times a second until `end`, catching up at most a second when late.
template <class Fn>
void paced(double rate, Clock::time_point end, Fn fn) {
  if (rate <= 0) return;
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  auto next = Clock::now();
  for (uint64_t i = 0; Clock::now() < end; ++i) {
    fn(i);
    next += interval;
    const auto now = Clock::now();
    if (next < now - 1s) next = now - 1s;
    if (next > now) std::this_thread::sleep_until(std::min(next, end));
  }
}

struct Stats {
  std::mutex mu;
  std::map<std::string, uint64_t> sent, failed;
  void count(const std::string& kind, bool ok) {
    std::lock_guard lock(mu);
    ++(ok ? sent : failed)[kind];
  }
};

std::string pick(const std::map<std::string, double>& mix, std::mt19937& rng) {
  double total = 0;
  for (const auto& [k, w] : mix) total += w;
  double r = std::uniform_real_distribution<double>(0, total)(rng);
  for (const auto& [k, w] : mix) {
    if ((r -= w) < 0) return k;
  }
  return mix.rbegin()->first;
}

// A connection that sends 01 and then one byte a second until the target closes it.
void slow_connection(const Options& o, Clock::time_point end, Stats& stats) {
  while (Clock::now() < end) {
    int fd = dial(o);
    if (fd < 0) {
      stats.count("slow", false);
      std::this_thread::sleep_for(100ms);
      continue;
    }
    uint8_t byte = 0x01;
    while (Clock::now() < end && send_all(fd, &byte, 1)) {
      byte = 0x10;
      std::this_thread::sleep_until(std::min(Clock::now() + 1s, end));
    }
    const bool cut = Clock::now() < end;  // the target closed it before we gave up
    ::close(fd);
    if (cut) stats.count("slow", true);
  }
}

void flood(const Options& o, Clock::time_point end, Stats& stats) {
  while (Clock::now() < end) {
    std::vector<int> fds;
    for (int i = 0; i < o.flood; ++i) {
      int fd = dial(o);
      stats.count("flood", fd >= 0);
      if (fd >= 0) fds.push_back(fd);
    }
    std::this_thread::sleep_until(std::min(Clock::now() + o.flood_hold, end));
    for (int fd : fds) ::close(fd);
    std::this_thread::sleep_until(std::min(Clock::now() + o.flood_interval, end));
  }
}

// Heartbeats of a `instances`-instance ring, round robin, at valid_rate a second.
void valid_traffic(const Options& o, Clock::time_point end, Stats& stats) {
  std::mt19937 rng(42);
  std::vector<std::vector<uint32_t>> tokens(static_cast<size_t>(o.instances));
  for (auto& t : tokens) {
    t.resize(static_cast<size_t>(o.tokens));
    for (auto& v : t) v = static_cast<uint32_t>(rng());
    std::sort(t.begin(), t.end());
  }
  paced(o.valid_rate, end, [&](uint64_t i) {
    const size_t n = i % tokens.size();
    ::ring::Desc d;
    add_instance(d, "soak-" + std::to_string(n), unix_now(), tokens[n]);
    stats.count("valid", send_connection(o, packet_frame(labelled(ring_update(o.valid_key, d), o.label))));
  });
}

// ---- sampling ----

struct Sample {
  double rss_mib = 0;
  double cpu_seconds = 0;
};

std::optional<Sample> sample_process(int pid) {
  Sample s;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  bool found = false;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      s.rss_mib = std::stod(line.substr(6)) / 1024.0;
      found = true;
    }
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = all.rfind(')');
  if (!found || paren == std::string::npos) return std::nullopt;
  std::istringstream fields(all.substr(paren + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x && f.size() < 13;) f.push_back(x);
  if (f.size() < 13) return std::nullopt;
  // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after the command.
  s.cpu_seconds = static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  return s;
}

// Milliseconds for a whole GET /metrics, or -1 on failure.
double scrape_ms(const Options& o) {
  const auto start = Clock::now();
  Options m = o;
  m.port = o.metrics_port;
  int fd = dial(m);
  if (fd < 0) return -1;
  const std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  bool ok = send_all(fd, reinterpret_cast<const uint8_t*>(req.data()), req.size());
  char buf[65536];
  size_t total = 0;
  while (ok) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) ok = false;
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  ::close(fd);
  if (!ok || total == 0) return -1;
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void sampler(const Options& o, Clock::time_point start, Clock::time_point end, Stats& stats) {
  std::printf("%10s %10s %8s %12s %12s %10s\n", "elapsed_s", "rss_mib", "cpu_pct", "valid_sent", "attacks", "scrape_ms");
  std::fflush(stdout);
  auto prev = sample_process(o.pid);
  auto prev_t = Clock::now();
  double max_rss = prev ? prev->rss_mib : 0, max_scrape = 0, cpu_total = 0;
  auto next = start + o.sample_interval;
  while (next <= end) {
    std::this_thread::sleep_until(next);
    next += o.sample_interval;
    auto s = sample_process(o.pid);
    const auto now = Clock::now();
    if (!s) {
      std::printf("target process %d is gone\n", o.pid);
      return;
    }
    const double wall = std::chrono::duration<double>(now - prev_t).count();
    const double cpu = prev ? 100.0 * (s->cpu_seconds - prev->cpu_seconds) / wall : 0;
    const double scrape = o.metrics_port ? scrape_ms(o) : 0;
    uint64_t valid = 0, attacks = 0;
    {
      std::lock_guard lock(stats.mu);
      for (const auto& [k, n] : stats.sent) (k == "valid" ? valid : attacks) += n;
    }
    max_rss = std::max(max_rss, s->rss_mib);
    max_scrape = std::max(max_scrape, scrape);
    std::printf("%10.0f %10.1f %8.1f %12llu %12llu %10.1f\n", std::chrono::duration<double>(now - start).count(),
                s->rss_mib, cpu, static_cast<unsigned long long>(valid), static_cast<unsigned long long>(attacks), scrape);
    std::fflush(stdout);
    cpu_total = s->cpu_seconds;
    prev = s;
    prev_t = now;
  }
  const auto elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("summary: max_rss_mib=%.1f cpu_seconds=%.1f max_scrape_ms=%.1f over %.0f s\n", max_rss, cpu_total, max_scrape,
              elapsed);
}

// ---- command line ----

void usage() {
  std::fprintf(stderr,
               "usage: ringwatch-hostile-peer -target HOST:PORT [options]\n"
               "  -label LABEL             the target's cluster label\n"
               "  -duration SECONDS        how long to run (default 30; --soak: 3600)\n"
               "  -rate N                  attack connections a second (default 200; --soak: 10)\n"
               "  -mix KIND=W,...          attack weights; kinds: malformed wrong_label bad_crc bad_digest unknown_type\n"
               "                           truncated_packet truncated_stream oversized_stream oversized_packet\n"
               "                           decompression_bomb kv_keys kv_instances kv_tokens (default: all, weight 1)\n"
               "  -workers N               attack threads (default 4)\n"
               "  -slow N                  connections sending a byte a second (default 8)\n"
               "  -flood N                 idle connections opened at once every -flood-interval-ms (default 0)\n"
               "  -flood-interval-ms MS    (default 3000)   -flood-hold-ms MS (default 1000)\n"
               "  -oversize-bytes N        size of oversized_packet (default 17 MiB)\n"
               "  -bomb-bytes N            expanded size of decompression_bomb (default 80 MiB)\n"
               "  -kv-instances N          instances of kv_instances (default 40000)\n"
               "  -kv-tokens N             tokens of kv_tokens (default 20 Mi)\n"
               "  -valid-rate N            valid ring heartbeats a second (default 0; --soak: instances / 15 s)\n"
               "  -instances N -tokens N   the valid ring (default 10000 instances of 512 tokens)\n"
               "  -pid PID                 sample this process's RSS and CPU every -sample-interval seconds\n"
               "  -sample-interval S       (default 60)   -metrics-port P: also time GET /metrics\n"
               "  --soak                   an hour at a production-like rate (defaults above), sampling -pid\n");
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  bool soak = false, rate_set = false, duration_set = false, valid_set = false, mix_set = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    while (a.size() > 1 && a[0] == '-' && a[1] == '-') a.erase(0, 1);
    std::string v;
    if (auto eq = a.find('='); eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (a != "-soak" && a != "-help" && i + 1 < argc) {
      v = argv[++i];
    }
    try {
      if (a == "-soak") soak = true;
      else if (a == "-help") return std::nullopt;
      else if (a == "-target") {
        auto colon = v.rfind(':');
        if (colon == std::string::npos) return std::nullopt;
        o.host = v.substr(0, colon);
        o.port = static_cast<uint16_t>(std::stoi(v.substr(colon + 1)));
      } else if (a == "-label") o.label = v;
      else if (a == "-duration") o.duration = std::chrono::seconds(std::stoll(v)), duration_set = true;
      else if (a == "-rate") o.rate = std::stod(v), rate_set = true;
      else if (a == "-mix") {
        mix_set = true;
        std::stringstream ss(v);
        for (std::string item; std::getline(ss, item, ',');) {
          auto eq = item.find('=');
          std::string kind = item.substr(0, eq);
          if (std::find(kAttacks.begin(), kAttacks.end(), kind) == kAttacks.end()) {
            std::fprintf(stderr, "unknown attack %s\n", kind.c_str());
            return std::nullopt;
          }
          o.mix[kind] = eq == std::string::npos ? 1.0 : std::stod(item.substr(eq + 1));
        }
      } else if (a == "-workers") o.workers = std::max(1, std::stoi(v));
      else if (a == "-slow") o.slow = std::stoi(v);
      else if (a == "-flood") o.flood = std::stoi(v);
      else if (a == "-flood-interval-ms") o.flood_interval = std::chrono::milliseconds(std::stoll(v));
      else if (a == "-flood-hold-ms") o.flood_hold = std::chrono::milliseconds(std::stoll(v));
      else if (a == "-oversize-bytes") o.oversize_bytes = std::stoull(v);
      else if (a == "-bomb-bytes") o.bomb_bytes = std::stoull(v);
      else if (a == "-kv-instances") o.kv_instances = std::stoi(v);
      else if (a == "-kv-tokens") o.kv_tokens = std::stoi(v);
      else if (a == "-valid-rate") o.valid_rate = std::stod(v), valid_set = true;
      else if (a == "-instances") o.instances = std::max(1, std::stoi(v));
      else if (a == "-tokens") o.tokens = std::max(1, std::stoi(v));
      else if (a == "-pid") o.pid = std::stoi(v);
      else if (a == "-sample-interval") o.sample_interval = std::chrono::seconds(std::max(1ll, std::stoll(v)));
      else if (a == "-metrics-port") o.metrics_port = static_cast<uint16_t>(std::stoi(v));
      else {
        std::fprintf(stderr, "unknown option %s\n", argv[i]);
        return std::nullopt;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "bad value for %s: %s\n", a.c_str(), v.c_str());
      return std::nullopt;
    }
  }
  if (soak) {
    // Production-like: a 10,000-instance ring heartbeating every 15 s (Mimir's default period),
    // each heartbeat arriving once, plus a trickle of bad input that the defaults reject.
    if (!duration_set) o.duration = std::chrono::hours(1);
    if (!rate_set) o.rate = 10;
    if (!valid_set) o.valid_rate = o.instances / 15.0;
    if (!mix_set) {
      for (const auto& k : kAttacks) {
        if (k != "oversized_packet" && k.rfind("kv_", 0) != 0) o.mix[k] = 1;
      }
    }
  }
  if (o.mix.empty()) {
    for (const auto& k : kAttacks) o.mix[k] = 1;
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse(argc, argv);
  if (!parsed) {
    usage();
    return 2;
  }
  const Options& o = *parsed;
  const Prebuilt pre = prebuild(o, o.mix);
  Stats stats;
  const auto start = Clock::now();
  const auto end = start + o.duration;
  std::vector<std::thread> threads;
  std::atomic<uint64_t> serial{0};
  for (int w = 0; w < o.workers; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(static_cast<uint32_t>(1000 + w));
      paced(o.rate / o.workers, end, [&](uint64_t) {
        const std::string kind = pick(o.mix, rng);
        stats.count(kind, send_connection(o, attack_bytes(kind, o, pre, rng, serial++)));
      });
    });
  }
  for (int i = 0; i < o.slow; ++i) threads.emplace_back([&] { slow_connection(o, end, stats); });
  if (o.flood > 0) threads.emplace_back([&] { flood(o, end, stats); });
  if (o.valid_rate > 0) threads.emplace_back([&] { valid_traffic(o, end, stats); });
  if (o.pid > 0) threads.emplace_back([&] { sampler(o, start, end, stats); });
  for (auto& t : threads) t.join();

  // "sent" counts connections fully written (slow: cut by the target; flood: connected);
  // "failed" those refused or reset before the end, which a limit does on purpose.
  std::printf("%-20s %10s %10s\n", "kind", "sent", "failed");
  std::set<std::string> kinds;
  for (const auto& [k, n] : stats.sent) kinds.insert(k);
  for (const auto& [k, n] : stats.failed) kinds.insert(k);
  for (const auto& k : kinds) {
    std::printf("%-20s %10llu %10llu\n", k.c_str(), static_cast<unsigned long long>(stats.sent[k]),
                static_cast<unsigned long long>(stats.failed[k]));
  }
  return 0;
}
