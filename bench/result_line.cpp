#include "bench/result_line.h"

#include <malloc.h>

#include <cstdio>

namespace ringwatch::bench {

void print_result(const ResultLine& line) {
  std::string out = "RESULT name=" + line.name;
  for (const auto& [k, v] : line.labels) out += " " + k + "=" + v;
  char value[64];
  std::snprintf(value, sizeof value, "%.4g", line.value);
  out += std::string(" value=") + value + " unit=" + line.unit;
  out += " target=" + (line.target.empty() ? std::string("none") : line.target);
  out += std::string(" pass=") + (line.pass ? (*line.pass ? "true" : "false") : "n/a");
  std::printf("%s\n", out.c_str());
  std::fflush(stdout);
}

std::string number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", v);
  return text;
}

size_t allocated_bytes() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;  // large blocks (token vectors, indexes) are mmapped: hblkhd
}

}  // namespace ringwatch::bench
