#include "exporter/exporter.h"

#include <fmt/format.h>

#include "exporter/metrics.h"
#include "exporter/version.h"

namespace ringwatch {

Exporter::Exporter(const Config& config, WebConfig web)
    : config_(config), http_(config.web_listen_addresses, std::move(web)), registry_(std::make_shared<prometheus::Registry>()) {
  register_build_info(*registry_);
  collectables_.push_back(registry_);
  collectables_.push_back(std::make_shared<ProcessCollector>());

  http_.handle("/", [this](const HttpRequest&) { return landing_page(); });
  http_.handle(config_.web_telemetry_path, [this](const HttpRequest&) { return metrics_page(); });
  http_.handle("/-/healthy", [](const HttpRequest&) { return HttpResponse{200, "text/plain; charset=utf-8", "Healthy.\n"}; });
  http_.handle("/-/ready", [this](const HttpRequest&) {
    return ready() ? HttpResponse{200, "text/plain; charset=utf-8", "Ready.\n"}
                   : HttpResponse{503, "text/plain; charset=utf-8",
                                  "Not ready: no full state of the gossip cluster received yet.\n"};
  });
}

void Exporter::start() { http_.start(); }
void Exporter::stop() { http_.stop(); }

HttpResponse Exporter::metrics_page() const {
  return {200, "text/plain; version=0.0.4; charset=utf-8", render_text(collectables_)};
}

HttpResponse Exporter::landing_page() const {
  std::string body = fmt::format(R"(<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>ringwatch</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}} code{{background:#eee}}</style></head>
<body>
<h1>ringwatch</h1>
<p>A passive member of the memberlist gossip cluster that rebuilds every hash ring and measures how fast
ring changes propagate.</p>
<ul>
<li><a href="{0}">Metrics</a> (<code>{0}</code>)</li>
<li><a href="/-/healthy">Health</a> and <a href="/-/ready">readiness</a></li>
</ul>
<p>Version {1}, revision {2}.</p>
</body>
</html>
)",
                                 config_.web_telemetry_path, build::kVersion, build::kRevision);
  return {200, "text/html; charset=utf-8", body};
}

}  // namespace ringwatch
