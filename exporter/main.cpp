// ringwatch: a passive memberlist member and Prometheus exporter for dskit hash rings.
#include <spdlog/spdlog.h>

#include <asio.hpp>

#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <vector>

#include "exporter/collectors.h"
#include "exporter/config.h"
#include "exporter/exporter.h"
#include "exporter/logging.h"
#include "exporter/member_config.h"
#include "exporter/observer.h"
#include "exporter/propagation.h"
#include "exporter/status_pages.h"
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
  const auto probes = static_cast<size_t>(cl.config.metrics.probes);
  PropagationTracker tracker(PropagationOptions{names, cl.config.metrics.minimum_window, probes});

  // Probe i listens (and advertises) on the configured port + i; probe 0 is the one whose
  // rings and membership the metrics and pages show.
  std::vector<std::unique_ptr<Observer>> observers;
  std::vector<std::unique_ptr<gossip::Member>> members;
  std::vector<std::string> probe_names;
  for (size_t i = 0; i < probes; ++i) {
    observers.push_back(std::make_unique<Observer>(store_options(cl.config, names), &tracker, i));
    gossip::MemberConfig mc = member_config(cl.config);
    if (i > 0) {
      if (mc.bind_port != 0) mc.bind_port = static_cast<uint16_t>(mc.bind_port + i);
      if (!mc.advertise_addr.empty()) mc.advertise_port = static_cast<uint16_t>(mc.advertise_port + i);
      // Probe 0's name is already unique (host name, random suffix); the others derive from it.
      mc.node_name = members.front()->name() + "-probe" + std::to_string(i);
      mc.randomize_node_name = false;
    }
    members.push_back(std::make_unique<gossip::Member>(mc, observers.back().get()));
    probe_names.push_back(members.back()->name());
  }
  Observer& observer = *observers.front();
  gossip::Member& member = *members.front();
  Exporter exporter(cl.config, std::move(web));
  exporter.set_readiness_check([&member] { return member.full_state_received(); });
  exporter.add_collectable(std::make_shared<RingCollector>(observer, cl.config.ring, &tracker, cl.config.metrics));
  exporter.add_collectable(std::make_shared<GossipCollector>(member, observer, cl.config.metrics.prefix, probe_names));
  std::vector<const Observer*> observer_views;
  for (const auto& o : observers) observer_views.push_back(o.get());
  exporter.add_collectable(std::make_shared<SelfCollector>(observer_views));
  StatusPages pages(observer, member, &tracker, cl.config.ring);
  add_status_pages(exporter, pages);
  try {
    for (auto& m : members) m->start();
    exporter.start();
  } catch (const std::exception& e) {
    log->error("{}", e.what());
    return 1;
  }
  for (const auto& m : members) log->info("probe {} gossips on {}", m->name(), m->advertise_address());
  log->info("ringwatch {} joined gossip with {} probe(s); HTTP on {} (metrics at {})", build::kVersion, members.size(),
            fmt::join(cl.config.web_listen_addresses, ", "), cl.config.web_telemetry_path);

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
      if ((cl.config.memberlist.abort_if_join_fails || cl.config.memberlist.abort_if_fast_join_fails) &&
          member.join_status() == gossip::JoinStatus::failed) {
        log->error("could not join any of {}; exiting (-memberlist.abort-if-join-fails / -memberlist.abort-if-fast-join-fails)",
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

  for (auto& m : members) {
    m->leave(std::chrono::duration_cast<std::chrono::milliseconds>(cl.config.memberlist.leave_timeout));
  }
  exporter.stop();
  log->info("stopped");
  return exit_status;
}
