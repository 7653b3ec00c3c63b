#!/usr/bin/env bash
# Installs what is missing, builds ringwatch (release, and clang ASan+UBSan with the fuzz targets)
# and runs every test.
# The README's test command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
jobs=$(nproc)

echo "== build (RelWithDebInfo, warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINGWATCH_WERROR=ON >/dev/null
cmake --build build -j "$jobs"

echo "== unit tests"
(cd build && ctest -L unit --output-on-failure -j "$jobs" --timeout 300)

echo "== alerting rules and dashboards (jsonnet in sync, promtool check and test, runbook links)"
tests/rules/check.sh

echo "== Go test peer unit tests"
scripts/build-peer.sh build/peer --test

echo "== cluster tests (real Go memberlist peers on loopback)"
(cd build && ctest -L cluster --output-on-failure --timeout 600)

echo "== unit tests under AddressSanitizer and UndefinedBehaviorSanitizer (clang; the build the fuzz targets use)"
fuzz_build=build-fuzz
cmake -S . -B "$fuzz_build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DRINGWATCH_FUZZ=ON -DRINGWATCH_SANITIZE=ON >/dev/null
cmake --build "$fuzz_build" -j "$jobs" --target ringwatch exporter_tests gossip_tests ring_tests fuzz_regression_tests
(cd "$fuzz_build" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest -L unit --output-on-failure -j "$jobs" --timeout 600)

echo "== fuzzing (libFuzzer under ASan+UBSan, bounded time per target; fuzz/README.md has the long run)"
FUZZ_BUILD_DIR="$fuzz_build" scripts/fuzz.sh 10

echo "== all tests passed"
