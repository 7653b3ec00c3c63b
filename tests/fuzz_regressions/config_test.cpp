// Crashes found by fuzz/targets/config.cpp and fuzz/targets/web_config.cpp.
//
// A YAML mapping key that is not a scalar (a sequence or a mapping used as a key) made
// yaml-cpp's Node::as<std::string>() throw YAML::TypedBadConversion out of load_yaml_text and
// parse_web_config. main() catches only ConfigError there, so ringwatch died in
// std::terminate (abort, core dump) instead of printing one error line and exiting 1.
#include <gtest/gtest.h>

#include <string>

#include "exporter/config.h"
#include "exporter/web_config.h"

namespace ringwatch {
namespace {

// Runs f and tells what escaped it: "none", "ConfigError: <message>" or "other: <what>".
template <class F>
std::string outcome(F&& f) {
  try {
    f();
    return "none";
  } catch (const ConfigError& e) {
    return std::string("ConfigError: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("other: ") + e.what();
  }
}

class NonScalarKey : public ::testing::TestWithParam<const char*> {};

TEST_P(NonScalarKey, ConfigFileIsAConfigError) {
  Config config;
  const std::string got = outcome([&] { load_yaml_text(GetParam(), "ringwatch.yaml", config); });
  EXPECT_EQ(got.rfind("ConfigError: config file \"ringwatch.yaml\": line ", 0), 0u) << got;
}

TEST_P(NonScalarKey, WebConfigFileIsAConfigError) {
  const std::string got = outcome([&] { parse_web_config(GetParam(), "web.yml", "/nonexistent"); });
  EXPECT_EQ(got.rfind("ConfigError: web config file \"web.yml\": line ", 0), 0u) << got;
}

// fuzz_config's reproducer (crash-15dcdbda563d96de6d8ac3fb0b1e195e22b70d30, a complex key
// "? clme: ..." inside memberlist:), then the same at the top level and one level down in each
// place a parser reads keys.
INSTANTIATE_TEST_SUITE_P(FuzzRegressions, NonScalarKey,
                         ::testing::Values("memberlist:\n?  clme: \x8dti", "[a]: b\n", "{[a]: 1}", "? {a: 1}\n: x\n",
                                           "memberlist:\n  [x]: 1\n", "tls_server_config:\n  [x]: 1\n",
                                           "http_server_config:\n  headers:\n    [x]: y\n",
                                           "basic_auth_users:\n  {u: 1}: x\n", "rings:\n  - [k]: v\n"));

}  // namespace
}  // namespace ringwatch
