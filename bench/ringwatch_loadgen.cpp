// Loads a running ringwatch (or any dskit memberlist member) with a simulated cluster:
//
//   ringwatch_loadgen --target=127.0.0.1:7946 --members=5000 --rings=2 --instances=3000
//                     --heartbeat-period=5 --fanout=3 --push-pull-interval=30 --duration=60
//
// --rate=N (messages/s at the target) replaces --heartbeat-period. Prints what it sent each
// second; compare with the target's ringwatch_gossip_messages_received_total{type="user"},
// ringwatch_gossip_rejected_total, ringwatch_gossip_limit_hits_total and
// ringwatch_event_loop_lag_seconds on its /metrics.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "bench/load_generator.h"

namespace {

const char* flag(int argc, char** argv, const char* name) {
  const size_t n = std::strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
  }
  return nullptr;
}

double number(int argc, char** argv, const char* name, double fallback) {
  const char* v = flag(argc, argv, name);
  return v ? std::atof(v) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ringwatch::bench;
  if (argc > 1 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) {
    std::printf(
        "flags (name=value): --target=ip:port --members --rings --instances --tokens --heartbeat-period=s "
        "--rate=msg/s --fanout --retransmit-mult --gossip-interval=ms --push-pull-interval=s --duration=s "
        "--label --sender-threads\n");
    return 0;
  }
  LoadConfig c;
  if (const char* target = flag(argc, argv, "--target")) {
    const std::string t = target;
    const auto colon = t.rfind(':');
    c.target_host = t.substr(0, colon);
    c.target_port = static_cast<uint16_t>(std::atoi(t.c_str() + colon + 1));
  }
  c.members = static_cast<int>(number(argc, argv, "--members", c.members));
  c.rings = static_cast<int>(number(argc, argv, "--rings", c.rings));
  c.instances = static_cast<int>(number(argc, argv, "--instances", c.instances));
  c.tokens = static_cast<int>(number(argc, argv, "--tokens", c.tokens));
  c.heartbeat_period = std::chrono::duration<double>(number(argc, argv, "--heartbeat-period", c.heartbeat_period.count()));
  c.messages_per_second = number(argc, argv, "--rate", 0);
  c.fanout = static_cast<int>(number(argc, argv, "--fanout", c.fanout));
  c.retransmit_mult = static_cast<int>(number(argc, argv, "--retransmit-mult", c.retransmit_mult));
  c.gossip_interval = std::chrono::milliseconds(static_cast<int>(number(argc, argv, "--gossip-interval", 200)));
  c.push_pull_interval = std::chrono::milliseconds(static_cast<int>(number(argc, argv, "--push-pull-interval", 30) * 1000));
  c.sender_threads = static_cast<int>(number(argc, argv, "--sender-threads", c.sender_threads));
  if (const char* label = flag(argc, argv, "--label")) c.cluster_label = label;
  const int duration = static_cast<int>(number(argc, argv, "--duration", 60));

  LoadGenerator gen(c);
  std::printf("%d members, %d rings x %d instances x %d tokens: %.0f updates/s x %d copies = %.0f messages/s; "
              "full state %.1f MB\n",
              c.members, c.rings, c.instances, c.tokens, gen.updates_per_second(), gen.copies_per_update(),
              gen.messages_per_second(), static_cast<double>(gen.full_state_bytes()) / 1e6);
  gen.start();
  std::printf("joined %s:%u; members listen on port %u\n", c.target_host.c_str(), c.target_port, gen.members_port());
  gen.run_heartbeats(gen.messages_per_second());
  for (int s = 0; s < duration; ++s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const LoadStats st = gen.take_stats();
    std::printf("t=%ds sent=%llu send_errors=%llu pushpulls=%llu pushpull_errors=%llu schedule_lag_p99=%.1fms max=%.1fms\n",
                s + 1, static_cast<unsigned long long>(st.sent), static_cast<unsigned long long>(st.send_errors),
                static_cast<unsigned long long>(st.pushpulls), static_cast<unsigned long long>(st.pushpull_errors),
                st.schedule_lag_p99_ms, st.schedule_lag_max_ms);
    std::fflush(stdout);
  }
  gen.stop();
  return 0;
}
