#include "exporter/duration.h"

#include <cmath>
#include <cstdint>
#include <limits>

namespace ringwatch {
namespace {

std::optional<int64_t> unit_nanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60'000'000'000;
  if (unit == "h") return 3'600'000'000'000;
  return std::nullopt;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<Duration> parse_go_duration(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration{0};
  if (s.empty()) return std::nullopt;

  long double total = 0;
  while (!s.empty()) {
    // A number: digits, optionally a fraction; at least one digit overall.
    size_t i = 0;
    while (i < s.size() && is_digit(s[i])) ++i;
    size_t int_digits = i;
    size_t frac_digits = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      size_t start = i;
      while (i < s.size() && is_digit(s[i])) ++i;
      frac_digits = i - start;
    }
    if (int_digits == 0 && frac_digits == 0) return std::nullopt;
    long double value = std::stold(std::string(s.substr(0, i)) + (s[i - 1] == '.' ? "0" : ""));
    s.remove_prefix(i);

    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) ++u;
    auto nanos = unit_nanos(s.substr(0, u));
    if (!nanos) return std::nullopt;  // missing or unknown unit
    s.remove_prefix(u);
    total += value * static_cast<long double>(*nanos);
    if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  }
  auto ns = static_cast<int64_t>(std::llround(total));
  return Duration{negative ? -ns : ns};
}

std::string format_go_duration(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);

  // Below one second Go uses the largest sub-second unit that keeps an integer part.
  auto with_fraction = [](uint64_t v, uint64_t unit, int digits) {
    std::string out = std::to_string(v / unit);
    uint64_t frac = v % unit;
    if (frac != 0) {
      std::string f = std::to_string(frac);
      f = std::string(static_cast<size_t>(digits) - f.size(), '0') + f;
      while (!f.empty() && f.back() == '0') f.pop_back();
      out += "." + f;
    }
    return out;
  };
  if (u < 1'000) return sign + std::to_string(u) + "ns";
  if (u < 1'000'000) return sign + with_fraction(u, 1'000, 3) + "µs";
  if (u < 1'000'000'000) return sign + with_fraction(u, 1'000'000, 6) + "ms";

  uint64_t hours = u / 3'600'000'000'000;
  uint64_t rem = u % 3'600'000'000'000;
  uint64_t minutes = rem / 60'000'000'000;
  rem %= 60'000'000'000;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + with_fraction(rem, 1'000'000'000, 9) + "s";
}

}  // namespace ringwatch
