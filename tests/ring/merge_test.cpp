// Merge rules: RingState against a plain clone-and-merge reference written from spec §6.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "ring/codec.h"
#include "ring/ring_state.h"
#include "ring_test_util.h"

namespace ringwatch::ring {
namespace {

constexpr auto L = InstanceState::left;

// ---- Reference: dskit's Desc.Merge (localCAS=false), resolveConflicts and RemoveTombstones,
// written the obvious way on whole copies.
bool ref_conflicts_exist(const RingDesc& d) {
  std::set<uint32_t> seen;
  for (const auto& [id, i] : d.ingesters)
    for (uint32_t t : i.tokens)
      if (!seen.insert(t).second) return true;
  return false;
}

void ref_resolve(RingDesc& d) {
  std::map<uint32_t, std::string> owner;
  for (const auto& [id, i] : d.ingesters) {
    if (i.state == L) continue;
    for (uint32_t t : i.tokens) {
      auto it = owner.find(t);
      if (it == owner.end()) {
        owner[t] = id;
        continue;
      }
      const InstanceDesc& prev = d.ingesters.at(it->second);
      const bool prev_leaving = prev.state == InstanceState::leaving, cur_leaving = i.state == InstanceState::leaving;
      if (prev_leaving && !cur_leaving)
        it->second = id;
      else if (!prev_leaving && cur_leaving)
        ;
      else if (id < it->second)
        it->second = id;
    }
  }
  for (auto& [id, i] : d.ingesters) i.tokens.clear();
  for (const auto& [t, id] : owner) d.ingesters.at(id).tokens.push_back(t);  // map order = sorted
}

bool ref_merge(RingDesc& local, RingDesc other) {
  for (auto& [id, o] : other.ingesters) {
    if (o.state == L) o.tokens.clear();
    std::sort(o.tokens.begin(), o.tokens.end());
    o.tokens.erase(std::unique(o.tokens.begin(), o.tokens.end()), o.tokens.end());
  }
  bool updated = false, tokens_changed = false;
  for (auto& [id, o] : other.ingesters) {
    auto it = local.ingesters.find(id);
    const InstanceDesc l = it == local.ingesters.end() ? InstanceDesc{} : it->second;
    if (o.timestamp > l.timestamp) {
      if (l.tokens != o.tokens) tokens_changed = true;
      local.ingesters[id] = o;
      updated = true;
    } else if (o.timestamp == l.timestamp && l.state != L && o.state == L) {
      local.ingesters[id] = o;
      updated = true;
    }
  }
  if (updated && tokens_changed && ref_conflicts_exist(local)) ref_resolve(local);
  return updated;
}

size_t ref_remove_tombstones(RingDesc& d, int64_t cutoff_seconds) {
  return std::erase_if(d.ingesters, [&](const auto& e) { return e.second.state == L && e.second.timestamp < cutoff_seconds; });
}

// ---- Random rings.
struct Gen {
  std::mt19937_64 rng;
  bool conflict_free;  // tokens drawn from a range private to each instance
  int ids = 6;

  InstanceDesc instance(int id_num) {
    const int64_t ts = 100 + static_cast<int64_t>(rng() % 6);  // small range: many equal timestamps
    // Go writers never send two different non-LEFT values with one timestamp (CAS waits a second
    // when nothing changed); the conflict-free rings keep that invariant, the others do not.
    const bool left = rng() % 5 == 0;
    std::mt19937_64 content_rng(conflict_free ? static_cast<uint64_t>(id_num * 1000 + ts) : rng());
    std::swap(rng, content_rng);
    InstanceDesc d = content(id_num, ts);
    std::swap(rng, content_rng);
    if (left) {
      d.state = L;
      if (conflict_free) d.tokens.clear();
    }
    return d;
  }
  InstanceDesc content(int id_num, int64_t ts) {
    InstanceDesc d;
    d.addr = "10.0.0." + std::to_string(id_num) + ":9095";
    d.timestamp = ts;
    const int s = static_cast<int>(rng() % 5);
    d.state = s < 2 ? InstanceState::active : static_cast<InstanceState>(s - 1);  // never LEFT here
    const int n = static_cast<int>(rng() % 5);
    for (int k = 0; k < n; ++k)
      d.tokens.push_back(conflict_free ? static_cast<uint32_t>(id_num * 1000 + rng() % 8) : static_cast<uint32_t>(rng() % 16));
    d.zone = "zone-" + std::to_string(rng() % 2);
    d.registered_timestamp = static_cast<int64_t>(rng() % 3);
    return d;
  }
  RingDesc desc(int max_instances) {
    RingDesc r;
    const int n = static_cast<int>(rng() % (max_instances + 1));
    for (int i = 0; i < n; ++i) {
      const int id = static_cast<int>(rng() % ids);
      r.ingesters["inst-" + std::to_string(id)] = instance(id);
    }
    return r;
  }
};

const std::string kKey = "collectors/ring";
const Delivery kFrom{Clock::time_point{}, "peer", Source::gossip};

RingDesc merged(const RingDesc& base, std::initializer_list<const RingDesc*> parts) {
  RingState s;
  s.merge(RingDesc(base), kKey, kFrom, nullptr);
  for (const RingDesc* p : parts) s.merge(RingDesc(*p), kKey, kFrom, nullptr);
  return s.to_desc();
}

TEST(RingMerge, AgreesWithReferenceIncludingConflictsAndFirstValues) {
  Gen g{std::mt19937_64(1), false};
  for (int iter = 0; iter < 3000; ++iter) {
    RingDesc first = g.desc(5);
    // A first value is stored as received: unsorted, duplicate and LEFT-with-token lists allowed.
    for (auto& [id, d] : first.ingesters)
      if (g.rng() % 3 == 0) d.tokens.push_back(d.tokens.empty() ? 3 : d.tokens.front());
    RingDesc ref = first;
    RingState s;
    s.assign(RingDesc(first), kKey, kFrom, nullptr);
    for (int step = 0; step < 8; ++step) {
      RingDesc delta = g.desc(3);
      const bool ref_changed = ref_merge(ref, delta);
      const bool changed = s.merge(std::move(delta), kKey, kFrom, nullptr);
      ASSERT_EQ(changed, ref_changed) << "iter " << iter << " step " << step;
      ASSERT_EQ(s.to_desc(), ref) << "iter " << iter << " step " << step;
      if (step == 5) {
        const int64_t cutoff = 100 + static_cast<int64_t>(g.rng() % 7);
        const size_t ref_removed = ref_remove_tombstones(ref, cutoff);
        ASSERT_EQ(s.remove_tombstones(Clock::time_point(std::chrono::seconds(cutoff)), kKey, kFrom, nullptr), ref_removed);
        ASSERT_EQ(s.to_desc(), ref);
      }
      size_t left = 0, tokens = 0;
      for (const auto& [id, d] : ref.ingesters) {
        left += d.state == L;
        tokens += d.tokens.size();
      }
      ASSERT_EQ(s.tombstones(), left);
      ASSERT_EQ(s.token_count(), tokens);
    }
  }
}

TEST(RingMerge, CommutativeAssociativeIdempotentWithoutTokenConflicts) {
  // With conflicting tokens dskit's merge is order dependent (resolution drops tokens for good),
  // so the algebraic laws are checked on rings whose instances never share tokens.
  Gen g{std::mt19937_64(2), true};
  for (int iter = 0; iter < 2000; ++iter) {
    const RingDesc a = g.desc(5), b = g.desc(5), c = g.desc(5);
    EXPECT_EQ(merged(a, {&b}), merged(b, {&a})) << iter;
    const RingDesc bc = merged(b, {&c});
    EXPECT_EQ(merged(a, {&b, &c}), merged(a, {&bc})) << iter;
    RingState s;
    s.merge(RingDesc(a), kKey, kFrom, nullptr);
    const RingDesc once = s.to_desc();
    EXPECT_FALSE(s.merge(RingDesc(a), kKey, kFrom, nullptr)) << iter;
    EXPECT_EQ(s.to_desc(), once);
  }
}

InstanceDesc inst(int64_t ts, InstanceState st, std::vector<uint32_t> tokens) {
  InstanceDesc d;
  d.timestamp = ts;
  d.state = st;
  d.tokens = std::move(tokens);
  return d;
}

TEST(RingMerge, LeftWinsOnEqualTimestampOnly) {
  RingState s;
  s.assign(RingDesc{{{"a", inst(10, InstanceState::active, {1, 2})}}}, kKey, kFrom, nullptr);
  // Equal timestamp, not LEFT: ignored.
  EXPECT_FALSE(s.merge(RingDesc{{{"a", inst(10, InstanceState::leaving, {1})}}}, kKey, kFrom, nullptr));
  std::vector<ChangeEvent> ev;
  EXPECT_TRUE(s.merge(RingDesc{{{"a", inst(10, L, {1, 2})}}}, kKey, kFrom, &ev));
  EXPECT_EQ(s.find("a")->desc.state, L);
  EXPECT_TRUE(s.find("a")->desc.tokens.empty());  // incoming LEFT is normalised
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].changed, kChangedState | kChangedTokens);
  EXPECT_TRUE(ev[0].duplicate);  // (a, 10) arrived before
  // LEFT over LEFT with the same timestamp: nothing.
  EXPECT_FALSE(s.merge(RingDesc{{{"a", inst(10, L, {})}}}, kKey, kFrom, nullptr));
  // Older non-LEFT: nothing; newer: comes back.
  EXPECT_FALSE(s.merge(RingDesc{{{"a", inst(9, InstanceState::active, {1})}}}, kKey, kFrom, nullptr));
  EXPECT_TRUE(s.merge(RingDesc{{{"a", inst(11, InstanceState::active, {5})}}}, kKey, kFrom, nullptr));
  EXPECT_EQ(s.find("a")->desc.tokens, std::vector<uint32_t>{5});
  // Timestamp 0 can only enter as LEFT.
  EXPECT_FALSE(s.merge(RingDesc{{{"z", inst(0, InstanceState::active, {9})}}}, kKey, kFrom, nullptr));
  EXPECT_TRUE(s.merge(RingDesc{{{"z", inst(0, L, {9})}}}, kKey, kFrom, nullptr));
  EXPECT_EQ(s.view()->instances.size(), 1u);  // readers never see LEFT
  EXPECT_EQ(s.view()->tombstones, 1u);
}

TEST(RingMerge, TokenConflictResolution) {
  RingState s;
  s.assign(RingDesc{{{"b", inst(10, InstanceState::active, {1, 2, 3})}, {"c", inst(10, InstanceState::leaving, {4, 5})}}},
           kKey, kFrom, nullptr);
  std::vector<ChangeEvent> ev;
  // "a" claims 2 (b has it: smaller ID a wins) and 5 (c is LEAVING: a wins).
  EXPECT_TRUE(s.merge(RingDesc{{{"a", inst(11, InstanceState::active, {5, 2, 2, 7})}}}, kKey, kFrom, &ev));
  EXPECT_EQ(s.find("a")->desc.tokens, (std::vector<uint32_t>{2, 5, 7}));
  EXPECT_EQ(s.find("b")->desc.tokens, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(s.find("c")->desc.tokens, (std::vector<uint32_t>{4}));
  size_t resolved = 0;
  for (const auto& e : ev) resolved += e.conflict_resolution;
  EXPECT_EQ(resolved, 2u);
  // A LEAVING instance loses even against a larger ID that is not LEAVING.
  EXPECT_TRUE(s.merge(RingDesc{{{"d", inst(12, InstanceState::leaving, {1})}, {"e", inst(12, InstanceState::joining, {1})}}},
                      kKey, kFrom, nullptr));
  EXPECT_EQ(s.find("b")->desc.tokens, (std::vector<uint32_t>{1, 3}));  // not LEAVING and smallest ID
  EXPECT_TRUE(s.find("d")->desc.tokens.empty());
  EXPECT_TRUE(s.find("e")->desc.tokens.empty());
}

TEST(RingMerge, HeartbeatWithSameTokensDoesNotResolveOldConflicts) {
  // A first value with a conflict stays as received until some merge changes tokens.
  RingState s;
  s.assign(RingDesc{{{"a", inst(10, InstanceState::active, {1})}, {"b", inst(10, InstanceState::active, {1})}}}, kKey,
           kFrom, nullptr);
  EXPECT_TRUE(s.merge(RingDesc{{{"b", inst(11, InstanceState::active, {1})}}}, kKey, kFrom, nullptr));
  EXPECT_EQ(s.find("b")->desc.tokens, std::vector<uint32_t>{1});
  EXPECT_TRUE(s.merge(RingDesc{{{"c", inst(11, InstanceState::active, {8})}}}, kKey, kFrom, nullptr));
  EXPECT_TRUE(s.find("b")->desc.tokens.empty());
  EXPECT_EQ(s.find("a")->desc.tokens, std::vector<uint32_t>{1});
}

TEST(RingMerge, RealDeltaChangesOnlyItsInstance) {
  auto ring = decode_ring_desc(testing::read_file(testing::fixture_path("dskit-2023/bench/ring1000.bin")));
  auto delta = decode_ring_desc(testing::read_file(testing::fixture_path("dskit-2023/bench/delta1000.bin")));
  ASSERT_TRUE(ring.ok() && delta.ok());
  const RingDesc before = *ring;
  RingState s;
  s.assign(std::move(*ring), kKey, kFrom, nullptr);
  std::vector<ChangeEvent> ev;
  ASSERT_TRUE(s.merge(RingDesc(*delta), kKey, kFrom, &ev));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].instance_id, "ingester-zone-b-248");
  EXPECT_EQ(ev[0].changed, kChangedHeartbeat);
  EXPECT_EQ(ev[0].old_timestamp, 1698399997);
  EXPECT_EQ(ev[0].new_timestamp, 1698400012);
  EXPECT_FALSE(ev[0].duplicate);
  RingDesc after = s.to_desc();
  ASSERT_EQ(after.ingesters.size(), 1000u);
  after.ingesters.at("ingester-zone-b-248").timestamp = 1698399997;
  EXPECT_EQ(after, before);
  // Redelivery: a duplicate event that changes nothing.
  ev.clear();
  EXPECT_FALSE(s.merge(RingDesc(*delta), kKey, kFrom, &ev));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].changed, kChangedNone);
  EXPECT_TRUE(ev[0].duplicate);
}

}  // namespace
}  // namespace ringwatch::ring
