// The exporter's own metrics: build information and process metrics, and the
// text exposition of a registry.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

namespace ringwatch {

// process_* metrics as Prometheus client libraries export them, read from /proc/self
// at scrape time.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

// ringwatch_build_info{version,revision,branch,compiler} 1.
void register_build_info(prometheus::Registry& registry);

// Serializes everything the collectables return, in the text format 0.0.4.
std::string render_text(const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables);

}  // namespace ringwatch
