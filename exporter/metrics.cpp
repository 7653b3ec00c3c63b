#include "exporter/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>

#include "exporter/version.h"

namespace ringwatch {
namespace {

prometheus::MetricFamily gauge_family(const std::string& name, const std::string& help, double value,
                                      prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily f{name, help, type, {}};
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(m);
  return f;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));

  // /proc/self/stat: the command name may hold spaces, so fields are counted after ')'.
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(fields), std::istream_iterator<std::string>()};
    // Field numbers of proc(5) minus 3: utime 14, stime 15, starttime 22, vsize 23, rss 24.
    if (f.size() > 21) {
      double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      out.push_back(gauge_family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", cpu,
                                 prometheus::MetricType::Counter));
      out.push_back(gauge_family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                                 boot_time_seconds() + std::stod(f[19]) / ticks));
      out.push_back(gauge_family("process_virtual_memory_bytes", "Virtual memory size in bytes.", std::stod(f[20])));
      out.push_back(gauge_family("process_resident_memory_bytes", "Resident memory size in bytes.",
                                 std::stod(f[21]) * page));
    }
  }

  double open_fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++open_fds;
    }
    closedir(d);
    --open_fds;  // the directory handle itself
  }
  out.push_back(gauge_family("process_open_fds", "Number of open file descriptors.", open_fds));
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    out.push_back(gauge_family("process_max_fds", "Maximum number of open file descriptors.",
                               static_cast<double>(nofile.rlim_cur)));
  }
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0) {
    out.push_back(gauge_family("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.",
                               as.rlim_cur == RLIM_INFINITY ? -1 : static_cast<double>(as.rlim_cur)));
  }
  return out;
}

void register_build_info(prometheus::Registry& registry) {
  prometheus::BuildGauge()
      .Name("ringwatch_build_info")
      .Help("A metric with a constant '1' value labeled by version, revision, branch and compiler from which "
            "ringwatch was built.")
      .Register(registry)
      .Add({{"version", build::kVersion},
            {"revision", build::kRevision},
            {"branch", build::kBranch},
            {"compiler", build::kCompiler}})
      .Set(1);
}

std::string render_text(const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<prometheus::MetricFamily> families;
  for (const auto& c : collectables) {
    auto f = c->Collect();
    families.insert(families.end(), std::make_move_iterator(f.begin()), std::make_move_iterator(f.end()));
  }
  families.push_back(gauge_family("ringwatch_scrape_duration_seconds",
                                  "Time this scrape spent collecting every metric family from the snapshots "
                                  "(serialization excluded).",
                                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace ringwatch
