// Ring KV costs next to dskit's own figures (tests/fixtures/dskit-2023/bench/README.md):
// per-delta merge for 100 / 1,000 / 10,000 instances x 512 tokens, full-state decode MB/s,
// memory per instance and per token.
#include <benchmark/benchmark.h>
#include <snappy.h>

#include <fstream>
#include <map>
#include <unordered_set>
#include <random>
#include <sstream>

#include "proto/kv.pb.h"
#include "proto/ring.pb.h"
#include "ring/codec.h"
#include "ring/kv_store.h"

namespace {

using namespace ringwatch::ring;

std::string read_file(const std::string& rel) {
  std::ifstream in(std::string(RINGWATCH_FIXTURES_DIR) + "/" + rel, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A synthetic ring like ring1000.bin: zones a/b/c, 512 unique random tokens per instance.
::ring::Desc synthetic_ring(int instances) {
  std::mt19937 rng(42);
  ::ring::Desc d;
  std::unordered_set<uint32_t> used;
  for (int i = 0; i < instances; ++i) {
    const std::string id = "ingester-zone-" + std::string(1, static_cast<char>('a' + i % 3)) + "-" + std::to_string(i / 3);
    auto& inst = (*d.mutable_ingesters())[id];
    inst.set_addr("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":9095");
    inst.set_timestamp(1698400000 - static_cast<int64_t>(rng() % 15));
    inst.set_zone(std::string("zone-") + static_cast<char>('a' + i % 3));
    inst.set_registered_timestamp(1698400000 - 3600 - static_cast<int64_t>(rng() % 2592000));
    inst.set_id(id);
    // Unique across the ring, like real tokens (a collision would trigger conflict resolution).
    std::vector<uint32_t> tokens(512);
    for (auto& t : tokens)
      do t = rng();
      while (!used.insert(t).second);
    std::sort(tokens.begin(), tokens.end());
    for (uint32_t t : tokens) inst.add_tokens(t);
  }
  return d;
}

std::string snappy_of(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

struct Fixture {
  std::string ring_value;
  std::string delta_id;
  ::ring::InstanceDesc delta_instance;
};

const Fixture& fixture(int instances) {
  static std::map<int, Fixture> cache;
  auto it = cache.find(instances);
  if (it != cache.end()) return it->second;
  Fixture f;
  if (instances == 0) {  // the real dskit files
    f.ring_value = read_file("dskit-2023/bench/ring1000.bin");
    ::ring::Desc delta;
    const std::string raw = ringwatch::ring::snappy_decode(read_file("dskit-2023/bench/delta1000.bin")).value();
    delta.ParseFromString(raw);
    f.delta_id = delta.ingesters().begin()->first;
    f.delta_instance = delta.ingesters().begin()->second;
  } else {
    const ::ring::Desc d = synthetic_ring(instances);
    f.ring_value = snappy_of(d.SerializeAsString());
    f.delta_id = d.ingesters().begin()->first;
    f.delta_instance = d.ingesters().begin()->second;
  }
  return cache.emplace(instances, std::move(f)).first->second;
}

std::string delta_kv(const Fixture& f, int64_t ts) {
  ::ring::Desc d;
  auto& inst = (*d.mutable_ingesters())[f.delta_id];
  inst = f.delta_instance;
  inst.set_timestamp(ts);
  ::memberlist::KeyValuePair kv;
  kv.set_key("collectors/ring");
  kv.set_value(snappy_of(d.SerializeAsString()));
  kv.set_codec("ringDesc");
  return kv.SerializeAsString();
}

// Arg 0 = the real ring1000.bin/delta1000.bin. One heartbeat delta applied per iteration via
// the full user-message path: KeyValuePair decode, snappy, protobuf, merge, tombstone run, events.
void BM_ApplyHeartbeatDelta(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<int>(state.range(0)));
  KvStore store;
  std::vector<ChangeEvent> events;
  const Delivery from{Clock::now(), "10.0.0.1:7946", Source::gossip};
  store.apply(KeyValuePair{"collectors/ring", f.ring_value, "ringDesc", false, 0}, {from.arrival, from.peer, Source::pushpull}, events);
  // Pre-encode distinct heartbeats so each iteration is a real change.
  std::vector<std::string> deltas;
  for (int i = 0; i < 4096; ++i) deltas.push_back(delta_kv(f, 1698400100 + i));
  size_t i = 0;
  for (auto _ : state) {
    if (i == deltas.size()) {
      state.PauseTiming();
      for (int k = 0; k < 4096; ++k) deltas[k] = delta_kv(f, 1698400100 + static_cast<int64_t>(i) + k);
      i = 0;
      state.ResumeTiming();
    }
    events.clear();
    auto r = store.apply_user_message(deltas[i++], from, events);
    benchmark::DoNotOptimize(r);
  }
  state.counters["instances"] = static_cast<double>(store.ring("collectors/ring")->size());
  state.counters["delta_bytes"] = static_cast<double>(deltas[0].size());
}
BENCHMARK(BM_ApplyHeartbeatDelta)->Arg(0)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// Full-state decode of the codec value (snappy + protobuf), MB/s of encoded value.
void BM_DecodeFullRing(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto d = decode_ring_desc(f.ring_value);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.ring_value.size()));
  state.counters["value_MB"] = static_cast<double>(f.ring_value.size()) / 1e6;
}
BENCHMARK(BM_DecodeFullRing)->Arg(0)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Full-state handling: a push/pull record of the whole ring merged into a store holding the same
// ring one heartbeat older (every instance updated), plus memory accounting.
void BM_FullStateMerge(benchmark::State& state) {
  const Fixture& f = fixture(static_cast<int>(state.range(0)));
  auto base = decode_ring_desc(f.ring_value).value();
  size_t bytes = 0, instances = 0, tokens = 0;
  int64_t bump = 0;
  for (auto _ : state) {
    state.PauseTiming();
    KvStore store;
    std::vector<ChangeEvent> events;
    const Delivery from{Clock::now(), "p", Source::pushpull};
    store.apply(KeyValuePair{"collectors/ring", f.ring_value, "ringDesc", false, 0}, from, events);
    RingDesc newer = base;
    ++bump;
    for (auto& [id, d] : newer.ingesters) d.timestamp += bump;
    ::ring::Desc pb;
    for (const auto& [id, d] : newer.ingesters) {
      auto& i = (*pb.mutable_ingesters())[id];
      i.set_addr(d.addr);
      i.set_timestamp(d.timestamp);
      i.set_zone(d.zone);
      i.set_id(d.id);
      i.set_registered_timestamp(d.registered_timestamp);
      for (uint32_t t : d.tokens) i.add_tokens(t);
    }
    const std::string value = snappy_of(pb.SerializeAsString());
    events.clear();
    state.ResumeTiming();
    store.apply(KeyValuePair{"collectors/ring", value, "ringDesc", false, 0}, from, events);
    state.PauseTiming();
    bytes = store.memory_bytes();
    instances = store.ring("collectors/ring")->size();
    tokens = store.ring("collectors/ring")->token_count();
    state.ResumeTiming();
  }
  state.counters["store_MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["B_per_instance"] = static_cast<double>(bytes) / static_cast<double>(instances);
  state.counters["B_per_token"] = static_cast<double>(bytes) / static_cast<double>(tokens);
}
BENCHMARK(BM_FullStateMerge)->Arg(0)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  std::printf(
      "\ndskit (Go, same machine class, one core, medians; bench README):\n"
      "  instances  apply one delta  decode full ring  full-state handling\n"
      "  100        33 us            304 MB/s          1.25 ms\n"
      "  1,000      57 us            289 MB/s          12.5 ms\n"
      "  10,000     183 us           332 MB/s          131 ms\n"
      "Arg 0 = real ring1000.bin/delta1000.bin; decode MB/s = bytes_per_second of BM_DecodeFullRing.\n");
  benchmark::Shutdown();
  return 0;
}
