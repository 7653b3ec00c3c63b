// exporter/config.h load_yaml_text + validate: the -config.file YAML. Bad input must surface as
// ConfigError (one error line, exit status 1); any other exception escaping is a crash of
// ringwatch at start-up, so it is not caught here.
#include "exporter/config.h"
#include "fuzz/common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ringwatch;
  const std::string text(fuzz::chars(data, size));
  Config config;
  try {
    load_yaml_text(text, "fuzz.yaml", config);
    validate(config);
  } catch (const ConfigError& e) {
    FUZZ_CHECK(e.what()[0] != '\0');
  }
  return 0;
}
