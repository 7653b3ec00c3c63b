// (e) /metrics scrape time with 20 rings of 1,000 instances x 512 tokens, with and without
// per-member series: the collectors /metrics serves (ring, gossip, self, process) rendered to
// the text format, as the HTTP handler does, with the propagation tracker holding one heartbeat
// per instance so that every per-member family is populated.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bench/result_line.h"
#include "bench/synthetic_ring.h"
#include "exporter/collectors.h"
#include "exporter/metrics.h"
#include "exporter/observer.h"
#include "gossip/member.h"

namespace {

using namespace ringwatch;
using bench::print_result;
using bench::ResultLine;

constexpr int kRings = 20;
constexpr int kInstances = 1000;
constexpr int kScrapes = 15;

gossip::ReceivedPayload payload(gossip::Via via, const std::string& bytes) {
  gossip::ReceivedPayload p;
  p.via = via;
  p.bytes = gossip::as_bytes(bytes);
  p.peer_address = "10.0.0.2:7946";
  p.received_wall = std::chrono::system_clock::now();
  p.received_steady = std::chrono::steady_clock::now();
  return p;
}

std::string ring_key(int r) { return "collectors/ring-" + std::to_string(r); }

}  // namespace

int main() {
  PropagationTracker tracker(PropagationOptions{});
  Observer observer(ringwatch::ring::StoreOptions{}, &tracker, 0);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  for (int r = 0; r < kRings; ++r) {
    const ::ring::Desc desc = bench::synthetic_ring(bench::RingShape{kInstances, 512, now - 2, static_cast<uint32_t>(r + 1)});
    std::string state;
    bench::append_push_pull_record(state, bench::key_value_pair(ring_key(r), bench::snappy_of(desc.SerializeAsString()), "ringDesc"));
    observer.on_payload(payload(gossip::Via::pushpull, state));
    // One newer heartbeat per instance by gossip: delays and excess delays for every member.
    for (const auto& [id, inst] : desc.ingesters()) {
      ::ring::Desc delta;
      auto& d = (*delta.mutable_ingesters())[id];
      d = inst;
      d.set_timestamp(now);
      observer.on_payload(payload(gossip::Via::gossip,
                                  bench::key_value_pair(ring_key(r), bench::snappy_of(delta.SerializeAsString()), "ringDesc")));
    }
  }
  // /metrics also holds the gossip member's families (its counters and membership snapshot).
  gossip::Member member(gossip::MemberConfig{}, nullptr);

  for (bool per_member : {false, true}) {
    MetricsOptions metrics;
    metrics.per_member = per_member;
    const std::vector<std::shared_ptr<prometheus::Collectable>> collectables = {
        std::make_shared<RingCollector>(observer, RingOptions{}, &tracker, metrics),
        std::make_shared<GossipCollector>(member, observer),
        std::make_shared<SelfCollector>(std::vector<const Observer*>{&observer}),
        std::make_shared<ProcessCollector>()};
    std::vector<double> ms;
    size_t bytes = 0;
    for (int i = 0; i < kScrapes; ++i) {
      const auto begin = std::chrono::steady_clock::now();
      const std::string text = render_text(collectables);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count());
      bytes = text.size();
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    const std::vector<std::pair<std::string, std::string>> labels{
        {"rings", std::to_string(kRings)},
        {"instances", std::to_string(kInstances)},
        {"per_member", per_member ? "true" : "false"},
        {"body_KB", std::to_string(bytes / 1000)}};
    if (per_member) {
      print_result(ResultLine{"scrape_time", labels, median, "ms", "", std::nullopt});
    } else {
      print_result(ResultLine{"scrape_time", labels, median, "ms", "<50", median < 50});
    }
  }
  return 0;
}
