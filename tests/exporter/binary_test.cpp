// The ringwatch binary itself: exit statuses, one-line configuration errors, help,
// version, serving, and a clean stop on SIGTERM and SIGINT.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "tests/support/http_client.h"
#include "tests/support/process.h"

using namespace std::chrono_literals;
using namespace ringwatch::testing;

namespace {

const std::string kBinary = std::string(RINGWATCH_BINARY_DIR) + "/ringwatch";

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("ringwatch-bin-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

struct RunResult {
  int status;
  std::string output;
};

RunResult run(std::vector<std::string> args) {
  std::string out = temp_path("out.txt");
  std::filesystem::remove(out);
  args.insert(args.begin(), kBinary);
  Process p(args, out);
  auto st = p.wait(10s);
  RunResult r{st.value_or(-1), p.output()};
  std::filesystem::remove(out);
  return r;
}

std::vector<std::string> quiet_gossip() {
  return {"-memberlist.bind-addr=127.0.0.1", "-memberlist.bind-port=0"};
}

}  // namespace

TEST(Binary, BadConfigurationIsOneLineAndStatusOne) {
  std::string yaml = temp_path("bad.yaml");
  std::ofstream(yaml) << "memberlist:\n  gossip_nodes: lots\n";
  for (auto args : std::vector<std::vector<std::string>>{
           {"-no-such-flag"},
           {"-memberlist.bind-port=http"},
           {"-config.file", yaml},
           {"-config.file", "/nonexistent.yaml"},
           {"-web.config.file", "/nonexistent-web.yaml"}}) {
    RunResult r = run(args);
    EXPECT_EQ(r.status, 1) << args[0];
    EXPECT_EQ(r.output.rfind("ringwatch: error: ", 0), 0u) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
  RunResult r = run({"-config.file", yaml});
  EXPECT_NE(r.output.find("memberlist.gossip_nodes"), std::string::npos) << r.output;
  std::filesystem::remove(yaml);
}

TEST(Binary, HelpAndVersion) {
  RunResult help = run({"-help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("-memberlist.join value"), std::string::npos);
  EXPECT_NE(help.output.find("-web.listen-address value"), std::string::npos);
  RunResult version = run({"--version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.output.rfind("ringwatch, version ", 0), 0u) << version.output;
}

TEST(Binary, ServesAndStopsCleanlyOnSignals) {
  for (int sig : {SIGTERM, SIGINT}) {
    uint16_t port = free_tcp_port();
    std::string out = temp_path("serve.txt");
    std::filesystem::remove(out);
    std::vector<std::string> args = {kBinary, "-web.listen-address=127.0.0.1:" + std::to_string(port),
                                     "-log.format=json"};
    for (const auto& a : quiet_gossip()) args.push_back(a);
    Process p(args, out);
    ASSERT_TRUE(wait_until([&] { return http_request("127.0.0.1", port, "/-/healthy").status == 200; }, 10s))
        << p.output();
    EXPECT_NE(http_request("127.0.0.1", port, "/metrics").body.find("ringwatch_build_info"), std::string::npos);
    p.signal(sig);
    auto status = p.wait(10s);
    ASSERT_TRUE(status.has_value()) << "still running 10 s after signal " << sig;
    EXPECT_EQ(*status, 0) << p.output();
    EXPECT_NE(p.output().find("\"msg\":\"stopped\""), std::string::npos) << p.output();
    EXPECT_NE(http_request("127.0.0.1", port, "/-/healthy").status, 200);
    std::filesystem::remove(out);
  }
}
