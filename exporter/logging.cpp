#include "exporter/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace ringwatch {
namespace {

// RFC 3339 UTC with milliseconds, as Prometheus' own logs print it.
void append_time(spdlog::log_clock::time_point tp, spdlog::memory_buf_t& dest) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(tp);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp - secs).count();
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  fmt::format_to(std::back_inserter(dest), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

const char* level_name(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    default: return "error";
  }
}

// Escapes for a double-quoted string; valid for both logfmt and JSON.
void append_quoted(spdlog::string_view_t s, spdlog::memory_buf_t& dest) {
  dest.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': dest.append(std::string_view("\\\"")); break;
      case '\\': dest.append(std::string_view("\\\\")); break;
      case '\n': dest.append(std::string_view("\\n")); break;
      case '\r': dest.append(std::string_view("\\r")); break;
      case '\t': dest.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(dest), "\\u{:04x}", static_cast<int>(c));
        } else {
          dest.push_back(c);
        }
    }
  }
  dest.push_back('"');
}

class LogfmtFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    dest.append(std::string_view("ts="));
    append_time(msg.time, dest);
    fmt::format_to(std::back_inserter(dest), " level={} component={} msg=", level_name(msg.level),
                   std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    append_quoted(msg.payload, dest);
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LogfmtFormatter>(); }
};

class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    dest.append(std::string_view("{\"ts\":\""));
    append_time(msg.time, dest);
    fmt::format_to(std::back_inserter(dest), "\",\"level\":\"{}\",\"component\":", level_name(msg.level));
    append_quoted(msg.logger_name, dest);
    dest.append(std::string_view(",\"msg\":"));
    append_quoted(msg.payload, dest);
    dest.append(std::string_view("}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (format == "json") {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_formatter(std::make_unique<LogfmtFormatter>());
  }
  spdlog::drop_all();
  for (const char* name : {"ringwatch", "gossip", "kv", "http"}) {
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(spdlog::level::from_str(level == "warn" ? "warning" : level));
    logger->flush_on(spdlog::level::warn);
    spdlog::register_logger(logger);
  }
  spdlog::set_default_logger(spdlog::get("ringwatch"));
}

}  // namespace ringwatch
