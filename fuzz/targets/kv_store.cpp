// ring/kv_store.h: the KV store's apply path on a store that persists across inputs, so merges
// meet state left by earlier inputs, as in a long-running ringwatch. The store is bounded: it
// is replaced when it holds over 256 keys or 64 MiB of ring data, and after 4096 inputs.
// RINGWATCH_FUZZ_FRESH_STORE=1 gives every input a new store (to reproduce one input alone).
//
// An input is a sequence of operations [op][len u24 BE][len bytes] (the last may be short):
//   op % 4 == 0  apply_user_message(bytes)       1  apply_push_pull(bytes)
//          == 2  remove_obsolete_entries(timeout = len ms)
//          == 3  snapshot(), every key's view read and checked
// Each operation advances the store's clock by one second, from peer "peer-a" (op bit 2: "peer-b").
#include <cstdlib>
#include <memory>

#include "fuzz/common.h"
#include "ring/kv_store.h"

namespace {
using namespace ringwatch;
using namespace ringwatch::ring;

std::unique_ptr<KvStore> g_store;
std::size_t g_inputs = 0;
Clock::time_point g_now = Clock::time_point{} + std::chrono::hours(24 * 365 * 50);

void check_counters(const StoreCounters& c) {
  FUZZ_CHECK(c.applied == c.changed + c.unchanged + c.ignored_deleted + c.invalid + c.decode_errors + c.unknown_codec);
}

void read_snapshot(KvStore& store) {
  auto snap = store.snapshot();
  FUZZ_CHECK(snap != nullptr);
  FUZZ_CHECK(snap->keys.size() == store.key_count());
  for (std::size_t i = 0; i < snap->keys.size(); ++i) {
    const KeySnapshot& k = snap->keys[i];
    if (i > 0) FUZZ_CHECK(snap->keys[i - 1].key < k.key);
    FUZZ_CHECK(snap->find(k.key) == &k);
    if (k.ring) {
      // Readers' view (ring_state.h RingView): no tombstones, sorted by instance ID.
      std::size_t tokens = 0;
      for (std::size_t j = 0; j < k.ring->instances.size(); ++j) {
        const auto& inst = k.ring->instances[j];
        tokens += inst->desc.tokens.size();
        FUZZ_CHECK(inst->desc.state != InstanceState::left);
        if (j > 0) FUZZ_CHECK(k.ring->instances[j - 1]->id < inst->id);
      }
      FUZZ_CHECK(tokens == k.ring->tokens);
    }
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool fresh = std::getenv("RINGWATCH_FUZZ_FRESH_STORE") != nullptr;
  if (!g_store || fresh || ++g_inputs % 4096 == 0 || g_store->key_count() > 256 ||
      g_store->memory_bytes() > (64u << 20)) {
    g_store = std::make_unique<KvStore>();
  }
  KvStore& store = *g_store;
  std::vector<ChangeEvent> events;
  std::size_t pos = 0;
  while (pos < size) {
    const std::uint8_t op = data[pos++];
    std::size_t len = 0;
    for (int i = 0; i < 3 && pos < size; ++i) len = (len << 8) | data[pos++];
    len = std::min(len, size - pos);
    const std::string_view bytes = fuzz::chars(data + pos, len);
    pos += len;
    g_now += std::chrono::seconds(1);
    const std::string_view peer = (op & 4) ? "peer-b" : "peer-a";
    events.clear();
    switch (op % 4) {
      case 0: {
        auto r = store.apply_user_message(bytes, Delivery{g_now, peer, Source::gossip}, events);
        FUZZ_CHECK((r.status == ApplyStatus::invalid || r.status == ApplyStatus::decode_error ||
                    r.status == ApplyStatus::over_limit) == r.error.has_value());
        break;
      }
      case 1: {
        auto r = store.apply_push_pull(bytes, Delivery{g_now, peer, Source::pushpull}, events);
        FUZZ_CHECK(r.changed + r.failed <= r.records);
        break;
      }
      case 2: {
        const std::size_t before = store.key_count();
        const std::size_t removed = store.remove_obsolete_entries(g_now, std::chrono::milliseconds(len));
        FUZZ_CHECK(store.key_count() + removed == before);
        break;
      }
      case 3: read_snapshot(store); break;
    }
    check_counters(store.counters());
  }
  read_snapshot(store);
  return 0;
}
