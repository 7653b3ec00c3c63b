// Ring KV costs next to dskit's own figures (tests/fixtures/dskit-2023/bench/README.md):
//  (a) per-message cost of receiving, decoding and merging one heartbeat delta, for rings of
//      100 / 1,000 / 10,000 instances x 512 tokens: the dskit packet frame as read from the
//      socket -> MD5 check -> memberlist layers (CRC, user message) -> KeyValuePair -> snappy ->
//      protobuf -> merge -> propagation tracker, i.e. everything but the socket syscalls;
//  (b) decode-and-merge throughput of a full push/pull state of each ring, MB/s of state;
//  (d) memory held for each ring against its raw token bytes.
// Arg 0 = the real dskit files ring1000.bin / delta1000.bin.
#include <benchmark/benchmark.h>

#include <fstream>
#include <map>
#include <sstream>

#include "bench/result_line.h"
#include "bench/synthetic_ring.h"
#include "exporter/observer.h"
#include "gossip/packet.h"
#include "gossip/transport_frame.h"
#include "proto/kv.pb.h"
#include "proto/ring.pb.h"
#include "ring/codec.h"
#include "ring/kv_store.h"

namespace {

using namespace ringwatch;
using namespace ringwatch::ring;
using bench::print_result;
using bench::ResultLine;

constexpr int kTokens = 512;
constexpr const char* kKey = "collectors/ring";

std::string read_file(const std::string& rel) {
  std::ifstream in(std::string(RINGWATCH_FIXTURES_DIR) + "/" + rel, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Fixture {
  std::string ring_value;  // the codec value (snappy of ring.Desc), as in a KeyValuePair
  ::ring::Desc desc;
  std::vector<std::string> ids;  // sorted
  int64_t newest = 0;            // newest heartbeat in the ring
};

const Fixture& fixture(int instances) {
  static std::map<int, Fixture> cache;
  auto it = cache.find(instances);
  if (it != cache.end()) return it->second;
  Fixture f;
  if (instances == 0) {
    f.ring_value = read_file("dskit-2023/bench/ring1000.bin");
  } else {
    f.ring_value = bench::snappy_of(bench::synthetic_ring(bench::RingShape{instances, kTokens}).SerializeAsString());
  }
  f.desc.ParseFromString(snappy_decode(f.ring_value).value());
  for (const auto& [id, inst] : f.desc.ingesters()) {
    f.ids.push_back(id);
    f.newest = std::max(f.newest, inst.timestamp());
  }
  std::sort(f.ids.begin(), f.ids.end());
  return cache.emplace(instances, std::move(f)).first->second;
}

// A dskit packet frame carrying a one-instance heartbeat delta, as it arrives on a connection.
gossip::Bytes delta_frame(const Fixture& f, const std::string& id, int64_t timestamp) {
  ::ring::Desc d;
  auto& inst = (*d.mutable_ingesters())[id];
  inst = f.desc.ingesters().at(id);
  inst.set_timestamp(timestamp);
  const std::string kv = bench::key_value_pair(kKey, bench::snappy_of(d.SerializeAsString()), "ringDesc");
  gossip::Bytes message{static_cast<uint8_t>(gossip::MessageType::user)};
  message.insert(message.end(), kv.begin(), kv.end());
  gossip::PacketEncodeOptions opts;
  opts.crc = true;
  return *gossip::build_packet_frame("10.0.0.2:7946", *gossip::encode_packet(message, opts));
}

gossip::ReceivedPayload received(gossip::Via via, gossip::ByteView bytes, const std::string& from) {
  gossip::ReceivedPayload p;
  p.via = via;
  p.bytes = bytes;
  p.peer_address = from;
  p.received_wall = std::chrono::system_clock::now();
  p.received_steady = std::chrono::steady_clock::now();
  return p;
}

std::string full_state(const std::string& value) {
  std::string state;
  bench::append_push_pull_record(state, bench::key_value_pair(kKey, value, "ringDesc"));
  return state;
}

// (a) Each iteration: one delta of another instance (stepping through the ring, so that a large
// ring is not served from a hot cache), each a real change (a newer timestamp).
void BM_ReceiveHeartbeatDelta(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<int>(state.range(0)));
  PropagationTracker tracker(PropagationOptions{});
  Observer observer(StoreOptions{}, &tracker, 0);
  const std::string initial = full_state(f.ring_value);
  observer.on_payload(received(gossip::Via::pushpull, gossip::as_bytes(initial), "10.0.0.2:7946"));

  constexpr size_t kBatch = 2048;
  std::vector<gossip::Bytes> frames;
  size_t next_instance = 0;
  int64_t round = 0;
  const auto refill = [&] {
    frames.clear();
    for (size_t k = 0; k < kBatch; ++k) {
      const size_t i = (next_instance + k * 7919) % f.ids.size();  // a prime stride visits every instance
      frames.push_back(delta_frame(f, f.ids[i], f.newest + 1 + round + static_cast<int64_t>(k / f.ids.size())));
    }
    next_instance = (next_instance + 1) % f.ids.size();
    round += static_cast<int64_t>(kBatch / f.ids.size()) + 1;
  };
  refill();
  size_t i = 0;
  gossip::PacketDecodeOptions opts;
  for (auto _ : state) {
    if (i == frames.size()) {
      state.PauseTiming();
      refill();
      i = 0;
      state.ResumeTiming();
    }
    auto frame = gossip::parse_packet_frame(frames[i++]);
    auto packet = gossip::decode_packet(frame->payload, opts);
    const auto& user = std::get<gossip::UserPacket>(packet->messages.front());
    observer.on_payload(received(gossip::Via::gossip, user.payload, frame->from));
  }
  state.counters["instances"] = static_cast<double>(f.ids.size());
  state.counters["frame_bytes"] = static_cast<double>(frames.front().size());
}
BENCHMARK(BM_ReceiveHeartbeatDelta)->Arg(0)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// The codec alone: snappy + protobuf of the full value, MB/s of encoded value.
void BM_DecodeFullRing(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto d = decode_ring_desc(f.ring_value);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.ring_value.size()));
}
BENCHMARK(BM_DecodeFullRing)->Arg(0)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// (b) A full push/pull user state of the ring, one heartbeat newer for every instance, decoded
// and merged by the observer into a store holding the ring (what a periodic push/pull costs).
void BM_FullStateDecodeMerge(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<int>(state.range(0)));
  int64_t bump = 0;
  size_t state_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto observer = std::make_unique<Observer>(StoreOptions{}, nullptr, 0);
    const std::string initial = full_state(f.ring_value);
    observer->on_payload(received(gossip::Via::pushpull, gossip::as_bytes(initial), "p"));
    ::ring::Desc newer = f.desc;
    ++bump;
    for (auto& [id, inst] : *newer.mutable_ingesters()) inst.set_timestamp(inst.timestamp() + bump);
    const std::string next = full_state(bench::snappy_of(newer.SerializeAsString()));
    state_bytes = next.size();
    state.ResumeTiming();
    observer->on_payload(received(gossip::Via::pushpull, gossip::as_bytes(next), "p"));
    state.PauseTiming();
    observer.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * state_bytes));
}
// Few iterations (each sets up a whole ring), so the median of 3 repetitions is reported.
BENCHMARK(BM_FullStateDecodeMerge)
    ->Arg(0)->Arg(100)->Arg(1000)->Arg(10000)
    ->Unit(benchmark::kMillisecond)->Iterations(3)->Repetitions(3)->ReportAggregatesOnly(true);

// Keeps every run for the result lines, and prints the usual console table too.
class ResultCollector : public benchmark::ConsoleReporter {
 public:
  ResultCollector() : ConsoleReporter(OO_Tabular) {}  // no colour codes: RESULT lines are parsed
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    all.insert(all.end(), runs.begin(), runs.end());
  }
  const Run* find(const std::string& name) const {
    for (const auto& r : all) {
      if (r.benchmark_name() == name) return &r;
    }
    return nullptr;
  }
  std::vector<Run> all;
};

std::string size_label(int arg) { return arg == 0 ? "1000_dskit_fixture" : std::to_string(arg); }

// (d) Heap bytes a store holding the ring allocates (malloc's count, before and after, with the
// encoded state already freed), next to the raw token bytes (instances x 512 x 4). Measured as
// the first push/pull leaves it, then after one instance joins with new tokens: the first merge
// that changes tokens builds the token -> owner index (ring_state.h), which then stays.
void report_memory(int instances) {
  const Fixture& f = fixture(instances);
  const size_t before = bench::allocated_bytes();
  auto store = std::make_unique<KvStore>();
  std::vector<ChangeEvent> events;
  store->apply(KeyValuePair{kKey, f.ring_value, "ringDesc", false, 0}, Delivery{Clock::now(), "p", Source::pushpull},
               events);
  const size_t loaded = bench::allocated_bytes() - before;
  {
    ::ring::Desc joiner;
    auto& inst = (*joiner.mutable_ingesters())["ingester-joining"];
    inst = f.desc.ingesters().at(f.ids.front());
    inst.clear_tokens();
    for (uint32_t t = 0; t < kTokens; ++t) inst.add_tokens(t * 8191 + 1);  // not owned yet: a real join
    inst.set_timestamp(f.newest + 1);
    events.clear();
    store->apply(KeyValuePair{kKey, bench::snappy_of(joiner.SerializeAsString()), "ringDesc", false, 0},
                 Delivery{Clock::now(), "p", Source::gossip}, events);
  }
  events = {};
  const size_t indexed = bench::allocated_bytes() - before;
  const double raw = static_cast<double>(f.ids.size()) * kTokens * 4;
  const double limit = 3 * raw + 50e6;
  for (const auto& [phase, held] : {std::pair{"after_full_state", loaded}, std::pair{"after_token_change", indexed}}) {
    const std::vector<std::pair<std::string, std::string>> labels{
        {"instances", std::to_string(f.ids.size())}, {"phase", phase}, {"raw_token_MB", bench::number_text(raw / 1e6)},
        {"per_raw_byte", bench::number_text(static_cast<double>(held) / raw)}};
    print_result(ResultLine{"ring_memory", labels, static_cast<double>(held) / 1e6, "MB",
                            "<=3x_raw+50MB=" + std::to_string(static_cast<int>(limit / 1e6)),
                            static_cast<double>(held) <= limit});
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ResultCollector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);

  std::map<int, double> delta_us;
  for (int arg : {0, 100, 1000, 10000}) {
    const std::string a = std::to_string(arg);
    if (const auto* r = collector.find("BM_ReceiveHeartbeatDelta/" + a)) {
      // CPU time: the machine is shared, and wall time would count other processes' slices.
      delta_us[arg] = r->GetAdjustedCPUTime();
      print_result(ResultLine{"delta_merge_cost",
                              {{"instances", size_label(arg)}, {"wall_us", bench::number_text(r->GetAdjustedRealTime())}},
                              delta_us[arg], "us", "", std::nullopt});
    }
    if (const auto* r = collector.find("BM_DecodeFullRing/" + a)) {
      const double mbps = r->counters.at("bytes_per_second") / 1e6;
      print_result(ResultLine{"full_ring_codec_decode", {{"instances", size_label(arg)}}, mbps, "MB/s", "", std::nullopt});
    }
    for (const auto& run : collector.all) {  // named ".../iterations:3/repeats:3_median"
      const std::string& name = run.benchmark_name();
      if (name.rfind("BM_FullStateDecodeMerge/" + a + "/", 0) != 0 || !name.ends_with("_median")) continue;
      const double mbps = run.counters.at("bytes_per_second") / 1e6;
      const bool has_target = arg == 10000;
      print_result(ResultLine{"full_state_decode_merge", {{"instances", size_label(arg)}}, mbps, "MB/s",
                              has_target ? ">=300" : "", has_target ? std::optional<bool>(mbps >= 300) : std::nullopt});
    }
  }
  if (delta_us.count(100) && delta_us.count(10000)) {
    const double growth = delta_us[10000] / delta_us[100];
    print_result(ResultLine{"delta_merge_cost_growth", {{"from", "100"}, {"to", "10000"}}, growth, "ratio", "<=2",
                            growth <= 2});
  }
  for (int instances : {100, 1000, 10000}) report_memory(instances);
  benchmark::Shutdown();
  return 0;
}
