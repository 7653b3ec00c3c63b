// exporter/web_config.h parse_web_config: the -web.config.file YAML (exporter-toolkit format).
// Bad input must surface as ConfigError; any other exception escaping is a crash at start-up.
// Paths resolve against a directory that does not exist, so no file is ever opened.
#include "exporter/web_config.h"
#include "exporter/config.h"
#include "fuzz/common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  const std::string text(fuzz::chars(data, size));
  try {
    (void)parse_web_config(text, "web-config.yml", "/nonexistent/ringwatch-fuzz");
  } catch (const ConfigError& e) {
    FUZZ_CHECK(e.what()[0] != '\0');
  }
  return 0;
}
