// Every example configuration loads through the real loader: config/*.yaml, and the
// ringwatch configuration and arguments in the Kubernetes manifests of deploy/kubernetes/.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <unistd.h>

#include "exporter/config.h"
#include "exporter/web_config.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const fs::path kSource = RINGWATCH_SOURCE_DIR;

bool is_web_config(const fs::path& p) { return p.filename().string().rfind("web-config", 0) == 0; }

std::vector<fs::path> files(const fs::path& dir, std::set<std::string> extensions) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && extensions.count(e.path().extension().string())) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

ringwatch::Config load(const std::string& name) {
  return ringwatch::parse_command_line({"-config.file", (kSource / "config" / name).string()}).config;
}

const ringwatch::RingOverride* ring_entry(const ringwatch::Config& c, const std::string& key) {
  for (const auto& r : c.ring.overrides) {
    if (r.key == key) return &r;
  }
  return nullptr;
}

}  // namespace

TEST(ConfigExamples, LoadCleanly) {
  const std::string dir = (kSource / "config").string() + "/";
  auto cl = ringwatch::parse_command_line({"-config.file", dir + "ringwatch.yaml"});
  EXPECT_EQ(cl.config.memberlist.node_name, "ringwatch");
  EXPECT_EQ(cl.config.memberlist.join_members.size(), 1u);
  auto web = ringwatch::load_web_config(dir + "web-config.yml");
  EXPECT_TRUE(web.tls_enabled);
  EXPECT_EQ(web.basic_auth_users.count("prometheus"), 1u);
}

// Every file in config/ is either a ringwatch configuration or a web configuration, and loads.
TEST(ConfigExamples, EveryFileInConfigLoads) {
  size_t ringwatch_configs = 0;
  for (const auto& path : files(kSource / "config", {".yaml", ".yml"})) {
    SCOPED_TRACE(path.string());
    if (is_web_config(path)) {
      EXPECT_NO_THROW(ringwatch::load_web_config(path.string()));
      continue;
    }
    try {
      ringwatch::parse_command_line({"-config.file", path.string()});
      ++ringwatch_configs;
    } catch (const ringwatch::ConfigError& e) {
      ADD_FAILURE() << e.what();
    }
  }
  // ringwatch.yaml, demo.yaml and one per product.
  EXPECT_GE(ringwatch_configs, 6u);
}

// The product examples use the products' ring keys and heartbeat timeouts, keep the plain
// metric names the bundled alerts and dashboards query, and join through the products'
// headless gossip Services.
TEST(ConfigExamples, ProductExamples) {
  struct Expect {
    std::string file;
    std::map<std::string, ringwatch::Duration> timeouts;
    std::string join_contains;
  };
  const std::vector<Expect> expectations = {
      {"mimir.yaml",
       {{"collectors/ring", 1min}, {"collectors/distributor", 1min}, {"collectors/store-gateway", 1min},
        {"collectors/compactor", 1min}, {"rulers/ring", 1min}, {"alertmanagers/alertmanager", 1min}},
       "gossip-ring"},
      {"loki.yaml",
       {{"collectors/ring", 1min}, {"collectors/scheduler", 1min}, {"collectors/compactor", 1min}},
       "loki-memberlist"},
      {"tempo.yaml",
       {{"collectors/ring", 5min}, {"collectors/metrics-generator", 5min}, {"collectors/compactor", 1min}},
       "tempo-gossip-ring"},
      {"pyroscope.yaml",
       {{"collectors/ring", 1min}, {"collectors/store-gateway", 1min}, {"collectors/compactor", 1min}},
       "pyroscope-memberlist"},
  };
  for (const auto& e : expectations) {
    SCOPED_TRACE(e.file);
    auto c = load(e.file);
    EXPECT_EQ(c.metrics.prefix, "");
    EXPECT_EQ(c.ring.heartbeat_timeout, 1min);
    for (const auto& [key, timeout] : e.timeouts) {
      EXPECT_EQ(c.ring.heartbeat_timeout_for(key), timeout) << key;
    }
    ASSERT_EQ(c.memberlist.join_members.size(), 1u);
    EXPECT_EQ(c.memberlist.join_members[0].rfind("dnssrv+_", 0), 0u) << c.memberlist.join_members[0];
    EXPECT_NE(c.memberlist.join_members[0].find(e.join_contains), std::string::npos) << c.memberlist.join_members[0];
    EXPECT_EQ(c.memberlist.bind_port, 7946);
  }
}

// scripts/demo.sh relies on a short heartbeat timeout so that its stuck member turns
// Unhealthy within the demo's first minute.
TEST(ConfigExamples, DemoConfigSeesTheStuckMemberSoon) {
  auto c = load("demo.yaml");
  ASSERT_NE(ring_entry(c, "collectors/ring"), nullptr);
  EXPECT_LE(c.ring.heartbeat_timeout_for("collectors/ring"), 20s);
  EXPECT_TRUE(c.metrics.per_member);
}

// The ConfigMaps' ringwatch configurations load, and each Deployment's ringwatch arguments
// parse with the ConfigMap mounted where the arguments expect it.
TEST(ConfigExamples, KubernetesManifests) {
  const auto manifests = files(kSource / "deploy" / "kubernetes", {".yaml", ".yml"});
  ASSERT_FALSE(manifests.empty());
  const fs::path tmp = fs::temp_directory_path() / ("ringwatch-k8s-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  size_t configs = 0, deployments = 0;
  for (const auto& path : manifests) {
    SCOPED_TRACE(path.string());
    std::vector<YAML::Node> docs;
    ASSERT_NO_THROW(docs = YAML::LoadAllFromFile(path.string()));
    std::map<std::string, std::string> mounted;  // "/etc/ringwatch/<key>" -> local copy
    for (const auto& doc : docs) {
      if (!doc.IsMap() || doc["kind"].as<std::string>("") != "ConfigMap" || !doc["data"]) continue;
      for (const auto& entry : doc["data"]) {
        const auto key = entry.first.as<std::string>();
        if (is_web_config(key) || (key.size() < 5 || key.substr(key.size() - 5) != ".yaml")) continue;
        SCOPED_TRACE(key);
        ringwatch::Config c;
        try {
          ringwatch::load_yaml_text(entry.second.as<std::string>(), path.string() + ": " + key, c);
          ringwatch::validate(c);
          ++configs;
        } catch (const ringwatch::ConfigError& e) {
          ADD_FAILURE() << e.what();
        }
        const fs::path copy = tmp / key;
        std::ofstream(copy) << entry.second.as<std::string>();
        mounted["/etc/ringwatch/" + key] = copy.string();
      }
    }
    for (const auto& doc : docs) {
      if (!doc.IsMap() || doc["kind"].as<std::string>("") != "Deployment") continue;
      for (const auto& container : doc["spec"]["template"]["spec"]["containers"]) {
        if (container["name"].as<std::string>("") != "ringwatch" || !container["args"]) continue;
        std::vector<std::string> args;
        for (const auto& a : container["args"]) {
          std::string arg = a.as<std::string>();
          if (auto p = arg.find("$(POD_IP)"); p != std::string::npos) arg.replace(p, 9, "10.1.2.3");
          if (arg.rfind("-config.file=", 0) == 0) {
            auto it = mounted.find(arg.substr(13));
            if (it == mounted.end()) {
              ADD_FAILURE() << arg << " names no key of a ConfigMap in the same file";
              continue;
            }
            arg = "-config.file=" + it->second;
          }
          args.push_back(arg);
        }
        try {
          ringwatch::parse_command_line(args);
          ++deployments;
        } catch (const ringwatch::ConfigError& e) {
          ADD_FAILURE() << e.what();
        }
      }
    }
  }
  fs::remove_all(tmp);
  EXPECT_GE(configs, manifests.size());
  EXPECT_GE(deployments, manifests.size());
}
