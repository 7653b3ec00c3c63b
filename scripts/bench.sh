#!/usr/bin/env bash
# Builds the benchmarks (Release, build-bench/) and runs them, printing every figure of
# docs/performance.md as one machine-readable line:
#   RESULT name=<figure> [labels] value=<number> unit=<unit> target=<target|none> pass=<true|false|n/a>
# Takes about 5 minutes on 2 cores. Not run in CI. Extra arguments go to gossip_load_bench
# (e.g. --members=1000 --rings=1 --instances=5000 --max-rate=30000).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-bench
jobs=$(nproc)
targets=(ring_merge_bench scrape_bench gossip_load_bench ringwatch_loadgen)

echo "== machine"
echo "MACHINE nproc=$(nproc) cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\"" \
     "mem_MB=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" \
     "kernel=$(uname -r)"

# Not -DRINGWATCH_WERROR=ON: at -O3 GCC 12 raises a false -Wrestrict in std::string code of
# exporter/http_server.cpp. CI checks warnings at RelWithDebInfo (scripts/test.sh).
echo "== build (Release)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRINGWATCH_WERROR=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

echo "== (a) per-delta receive+decode+merge, (b) full-state decode+merge, (d) ring memory"
"$build/bench/ring_merge_bench" --benchmark_min_time=1 --benchmark_color=false

echo "== (e) /metrics scrape, 20 rings x 1,000 instances"
"$build/bench/scrape_bench"

echo "== (c) sustained gossip messages/s and receive-to-observe latency at half that rate"
"$build/bench/gossip_load_bench" "$@"

echo "== load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
