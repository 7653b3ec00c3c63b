// The machine-readable result lines every benchmark prints, one figure per line:
//   RESULT name=<figure> [key=value ...] value=<number> unit=<unit> target=<text> pass=<true|false|n/a>
// scripts/bench.sh collects them; docs/performance.md explains each figure.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ringwatch::bench {

struct ResultLine {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // what the figure was measured on
  double value = 0;
  std::string unit;
  std::string target;       // e.g. "<=2x", ">=300"; "" when the figure has no target
  std::optional<bool> pass;  // nullopt when there is no target
};

// Prints the line to stdout and flushes (benchmarks run for minutes; progress must show).
void print_result(const ResultLine& line);

// A label value for a number: 3 significant digits ("20.5", "0.0512").
std::string number_text(double v);

// Bytes currently allocated through malloc, heap and mmapped blocks (glibc mallinfo2): what a
// data structure holds, independent of what the allocator caches in the RSS.
size_t allocated_bytes();

}  // namespace ringwatch::bench
