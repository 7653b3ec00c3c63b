#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan+UBSan) into build-fuzz/ and runs every one
# for a bounded time, starting from the seed corpora built from the real captures. Fails on any
# crash, leak, timeout, out-of-memory or broken property, printing the reproducer's path and
# the command that replays it. What CI runs; fuzz/README.md has the long-run command.
#
#   scripts/fuzz.sh [seconds-per-target]     default 15
#   FUZZ_TARGETS="packet stream" scripts/fuzz.sh 60    only these targets
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-15}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${FUZZ_BUILD_JOBS:-$(nproc)}"

./scripts/install-deps.sh

echo "== build fuzz targets (clang, libFuzzer, ASan+UBSan) in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DRINGWATCH_FUZZ=ON -DRINGWATCH_SANITIZE=ON >/dev/null
cmake --build "$build" -j "$jobs" --target fuzz_all fuzz_regression_tests

echo "== fuzz regression tests (every crash found so far, replayed under ASan+UBSan)"
regressions=$(find "$build" -name fuzz_regression_tests -type f -perm -u+x | head -1)
"$regressions" --gtest_brief=1

bin="$build/fuzz/bin"
seeds="$build/fuzz/corpus"
work="$build/fuzz/work"        # what the runs add to the seeds; kept between runs
artifacts="$build/fuzz/artifacts"
logs="$build/fuzz/logs"
rm -rf "$artifacts" "$logs"
mkdir -p "$work" "$artifacts" "$logs"

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for f in "$bin"/fuzz_*; do targets+=("${f##*/fuzz_}"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in $bin" >&2; exit 1; }

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

failed=()
printf '%-22s %10s %8s %8s %8s  %s\n' target runs exec/s seeds corpus result
for t in "${targets[@]}"; do
  exe="$bin/fuzz_$t"
  [ -x "$exe" ] || { echo "fuzz: no target $t" >&2; failed+=("$t"); continue; }
  mkdir -p "$work/$t" "$seeds/$t"
  log="$logs/$t.log"
  status=0
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb also bounds a single malloc.
  # -seed: the same mutation sequence on every CI run, so a bounded run does not turn flaky.
  "$exe" "$work/$t" "$seeds/$t" -seed="${FUZZ_SEED:-1}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/$t-" -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  nseeds=$(find "$seeds/$t" -type f | wc -l)
  ncorpus=$(( nseeds + $(find "$work/$t" -type f | wc -l) ))
  if [ "$status" -eq 0 ]; then
    printf '%-22s %10s %8s %8s %8s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$nseeds" "$ncorpus" ok
  else
    printf '%-22s %10s %8s %8s %8s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$nseeds" "$ncorpus" "FAILED (exit $status)"
    failed+=("$t")
    grep -E '^==[0-9]+==ERROR|runtime error|property failed|SUMMARY|ALARM|out-of-memory|deadly signal' "$log" | head -5 | sed 's/^/    /'
    for a in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log"); do
      echo "    reproducer: $a"
      echo "    replay:     $exe $a"
    done
    echo "    log:        $log"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "== fuzzing FAILED: ${failed[*]} (each crash becomes a test in tests/fuzz_regressions/)"
  exit 1
fi
echo "== fuzzing: ${#targets[@]} targets clean, ${seconds}s each"
