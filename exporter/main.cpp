// ringwatch: a passive memberlist member and Prometheus exporter for dskit hash rings.
#include <spdlog/spdlog.h>

#include <asio.hpp>

#include <cstdio>
#include <functional>
#include <iostream>

#include "exporter/collectors.h"
#include "exporter/config.h"
#include "exporter/exporter.h"
#include "exporter/logging.h"
#include "exporter/member_config.h"
#include "exporter/observer.h"
#include "gossip/member.h"
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

  ring::RingNames names = ring::RingNames::defaults();
  for (const auto& [key, name] : cl.config.ring.names_by_key()) names.set(key, name);
  Observer observer(ring::StoreOptions{
      std::chrono::duration_cast<std::chrono::milliseconds>(cl.config.memberlist.left_ingesters_timeout), names});
  gossip::Member member(member_config(cl.config), &observer);
  Exporter exporter(cl.config, std::move(web));
  exporter.set_readiness_check([&member] { return member.full_state_received(); });
  exporter.add_collectable(std::make_shared<RingCollector>(observer, cl.config.ring));
  exporter.add_collectable(std::make_shared<GossipCollector>(member, observer));
  try {
    member.start();
    exporter.start();
  } catch (const std::exception& e) {
    log->error("{}", e.what());
    return 1;
  }
  log->info("ringwatch {} joined gossip as {} on {}; HTTP on {} (metrics at {})", build::kVersion, member.name(),
            member.advertise_address(), fmt::join(cl.config.web_listen_addresses, ", "),
            cl.config.web_telemetry_path);

  asio::io_context loop;
  int exit_status = 0;
  asio::signal_set signals(loop, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int sig) {
    log->info("received signal {}, leaving the gossip cluster", sig);
    loop.stop();
  });
  // -memberlist.abort-if-join-fails: exit once every join attempt has failed.
  asio::steady_timer join_watch(loop);
  std::function<void()> watch_join = [&] {
    join_watch.expires_after(std::chrono::seconds(1));
    join_watch.async_wait([&](const asio::error_code& ec) {
      if (ec) return;
      if (cl.config.memberlist.abort_if_join_fails && member.join_status() == gossip::JoinStatus::failed) {
        log->error("could not join any of {}; exiting (-memberlist.abort-if-join-fails)",
                   fmt::join(cl.config.memberlist.join_members, ", "));
        exit_status = 1;
        loop.stop();
        return;
      }
      watch_join();
    });
  };
  watch_join();
  loop.run();

  member.leave(std::chrono::duration_cast<std::chrono::milliseconds>(cl.config.memberlist.leave_timeout));
  exporter.stop();
  log->info("stopped");
  return exit_status;
}
