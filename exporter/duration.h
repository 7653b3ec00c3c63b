// Durations in Go's syntax (time.ParseDuration / Duration.String), as dskit flags use them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ringwatch {

using Duration = std::chrono::nanoseconds;

// Parses "300ms", "1m30s", "1.5h", "0", "-2s". Units: ns, us, µs, ms, s, m, h.
// Returns nullopt on anything Go would reject.
std::optional<Duration> parse_go_duration(std::string_view text);

// Formats as Go does: "0s", "200ms", "1m30s", "1h0m0s".
std::string format_go_duration(Duration d);

}  // namespace ringwatch
