// Where a cluster test keeps its peers' logs: one directory per test under the build tree, so
// a failure in CI leaves every peer's log next to the test's name.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace ringwatch::testing {

inline std::string log_dir_for_test() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (auto& c : name)
    if (c == '/') c = '_';  // parameterized tests: "Suite/Test.Name/param"
  return std::string(RINGWATCH_BINARY_DIR) + "/test-logs/cluster/" + name;
}

}  // namespace ringwatch::testing
