#include "exporter/exporter.h"

#include <fmt/format.h>
#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include "exporter/metrics.h"
#include "exporter/version.h"

namespace ringwatch {
namespace {

// ringwatch_ready mirrors /-/ready, so alerts see readiness without probing the endpoint.
class ReadinessCollector : public prometheus::Collectable {
 public:
  explicit ReadinessCollector(const Exporter& exporter) : exporter_(exporter) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily f{"ringwatch_ready",
                               "1 once the first full state of the gossip cluster has been received (/-/ready "
                               "answers 200), else 0.",
                               prometheus::MetricType::Gauge, {}};
    prometheus::ClientMetric m;
    m.gauge.value = exporter_.ready() ? 1 : 0;
    f.metric.push_back(m);
    return {f};
  }

 private:
  const Exporter& exporter_;
};

}  // namespace

Exporter::Exporter(const Config& config, WebConfig web)
    : config_(config), http_(config.web_listen_addresses, std::move(web)), registry_(std::make_shared<prometheus::Registry>()) {
  register_build_info(*registry_);
  collectables_.push_back(registry_);
  collectables_.push_back(std::make_shared<ProcessCollector>());
  collectables_.push_back(std::make_shared<ReadinessCollector>(*this));

  http_.handle("/", [this](const HttpRequest&) { return landing_page(); });
  http_.handle(config_.web_telemetry_path, [this](const HttpRequest&) { return metrics_page(); });
  http_.handle("/-/healthy", [](const HttpRequest&) { return HttpResponse{200, "text/plain; charset=utf-8", "Healthy.\n"}; });
  http_.handle("/-/ready", [this](const HttpRequest&) {
    return ready() ? HttpResponse{200, "text/plain; charset=utf-8", "Ready.\n"}
                   : HttpResponse{503, "text/plain; charset=utf-8",
                                  "Not ready: no full state of the gossip cluster received yet.\n"};
  });
}

void Exporter::add_page(const std::string& path, const std::string& title, HttpServer::Handler handler) {
  http_.handle(path, std::move(handler));
  pages_.emplace_back(path, title);
}

void Exporter::start() { http_.start(); }
void Exporter::stop() { http_.stop(); }

HttpResponse Exporter::metrics_page() const {
  return {200, "text/plain; version=0.0.4; charset=utf-8", render_text(collectables_)};
}

HttpResponse Exporter::landing_page() const {
  std::string links;
  for (const auto& [path, title] : pages_) {
    links += fmt::format("<li><a href=\"{0}\">{1}</a> (<code>{0}</code>, also <a href=\"{0}?format=json\">as JSON</a>)</li>\n",
                         path, title);
  }
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
{3}<li><a href="/-/healthy">Health</a> and <a href="/-/ready">readiness</a></li>
</ul>
<p>Version {1}, revision {2}.</p>
</body>
</html>
)",
                                 config_.web_telemetry_path, build::kVersion, build::kRevision, links);
  return {200, "text/html; charset=utf-8", body};
}

}  // namespace ringwatch
