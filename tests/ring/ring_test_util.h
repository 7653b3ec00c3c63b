// Helpers shared by the ring tests: fixtures, truth files, hex.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <ostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "ring/model.h"

namespace ringwatch::ring {

// Readable failure messages for ring values (found by ADL).
inline void PrintTo(const InstanceDesc& d, std::ostream* os) {
  *os << "{ts " << d.timestamp << " " << instance_state_name(d.state) << " zone " << d.zone << " tokens [";
  for (uint32_t t : d.tokens) *os << t << " ";
  *os << "]}";
}
inline void PrintTo(const RingDesc& r, std::ostream* os) {
  std::map<std::string, InstanceDesc> sorted(r.ingesters.begin(), r.ingesters.end());
  for (const auto& [id, d] : sorted) {
    *os << "\n  " << id << " ";
    PrintTo(d, os);
  }
}

}  // namespace ringwatch::ring

namespace ringwatch::ring::testing {

inline std::string fixture_path(const std::string& rel) { return std::string(RINGWATCH_FIXTURES_DIR) + "/" + rel; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

inline std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

inline InstanceState state_from_name(const std::string& s) {
  if (s == "ACTIVE") return InstanceState::active;
  if (s == "LEAVING") return InstanceState::leaving;
  if (s == "PENDING") return InstanceState::pending;
  if (s == "JOINING") return InstanceState::joining;
  if (s == "LEFT") return InstanceState::left;
  ADD_FAILURE() << "unknown state " << s;
  return InstanceState::active;
}

// Compares a decoded ring (instance map) with a truth-file object {id: {id, addr, zone, state, ...}}.
inline void expect_ring_matches_truth(const RingDesc& ring, const nlohmann::json& truth, const std::string& what) {
  ASSERT_EQ(ring.ingesters.size(), truth.size()) << what;
  for (const auto& [id, t] : truth.items()) {
    SCOPED_TRACE(what + " instance " + id);
    auto it = ring.ingesters.find(id);
    ASSERT_NE(it, ring.ingesters.end());
    const InstanceDesc& d = it->second;
    EXPECT_EQ(id, t.at("id").get<std::string>());
    if (!d.id.empty()) {
      EXPECT_EQ(d.id, t.at("id").get<std::string>());
    }
    EXPECT_EQ(d.addr, t.at("addr").get<std::string>());
    EXPECT_EQ(d.zone, t.at("zone").get<std::string>());
    EXPECT_EQ(d.state, state_from_name(t.at("state").get<std::string>()));
    EXPECT_EQ(d.timestamp, t.at("timestamp").get<int64_t>());
    EXPECT_EQ(d.registered_timestamp, t.at("registered_timestamp").get<int64_t>());
    EXPECT_EQ(d.tokens, t.at("tokens").get<std::vector<uint32_t>>());
  }
}

}  // namespace ringwatch::ring::testing
