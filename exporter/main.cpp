// ringwatch: a passive memberlist member and Prometheus exporter for dskit hash rings.
#include <spdlog/spdlog.h>

#include <asio.hpp>

#include <cstdio>
#include <iostream>

#include "exporter/config.h"
#include "exporter/exporter.h"
#include "exporter/logging.h"
#include "exporter/version.h"
#include "exporter/web_config.h"

int main(int argc, char** argv) {
  using namespace ringwatch;
  CommandLine cl;
  WebConfig web;
  try {
    cl = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (cl.action == Action::help) {
      std::cout << usage_text();
      return 0;
    }
    if (cl.action == Action::help_markdown) {
      std::cout << options_markdown();
      return 0;
    }
    if (cl.action == Action::version) {
      std::cout << version_text();
      return 0;
    }
    if (!cl.config.web_config_file.empty()) web = load_web_config(cl.config.web_config_file);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "ringwatch: error: %s\n", e.what());
    return 1;
  }

  setup_logging(cl.config.log_level, cl.config.log_format);
  auto log = spdlog::get("ringwatch");

  asio::io_context loop;
  Exporter exporter(cl.config, std::move(web));
  try {
    exporter.start();
  } catch (const std::exception& e) {
    log->error("{}", e.what());
    return 1;
  }
  log->info("ringwatch {} listening on {} (metrics at {})", build::kVersion,
            fmt::join(cl.config.web_listen_addresses, ", "), cl.config.web_telemetry_path);

  asio::signal_set signals(loop, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int sig) {
    log->info("received signal {}, shutting down", sig);
    loop.stop();
  });
  loop.run();

  exporter.stop();
  log->info("stopped");
  return 0;
}
