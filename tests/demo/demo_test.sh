#!/usr/bin/env bash
# scripts/demo.sh end to end, with the binaries of a build directory (DEMO_SKIP_BUILD=1: no
# package installation, no build). Within 60 s of the start, ringwatch's /metrics must show
# ACTIVE members in the demo's four rings, the stuck ingester as Unhealthy and a LEFT
# tombstone of the flapping one; after SIGINT to demo.sh, no process it started may remain.
# Usage: demo_test.sh <source dir> <build dir>
set -uo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
if ! [ -x "$build/ringwatch" ] || ! [ -x "$build/peer/ringwatch-peer" ]; then
  echo "FAIL: $build/ringwatch or $build/peer/ringwatch-peer missing"; exit 1
fi

# Ports of our own so that a running demo, or another test, does not collide: gossip
# base..base+40, HTTP base+50.
base=$((20000 + (RANDOM % 120) * 100))   # below the ephemeral range (32768-)
http=$((base + 50))
workdir=$(mktemp -d)
export DEMO_SKIP_BUILD=1 DEMO_BUILD_DIR="$workdir/build" DEMO_HTTP_PORT=$http DEMO_GOSSIP_PORT=$base
# demo.sh finds the binaries in DEMO_BUILD_DIR and writes its logs under it.
mkdir -p "$workdir/build/peer"
ln -s "$build/ringwatch" "$workdir/build/ringwatch"
ln -s "$build/peer/ringwatch-peer" "$workdir/build/peer/ringwatch-peer"

# Job control: demo.sh runs in its own process group (so that every process it started can be
# found) and, unlike a plain background job, does not start with SIGINT ignored.
set -m
"$src/scripts/demo.sh" >"$workdir/demo.out" 2>&1 &
demo=$!
set +m
start=$SECONDS
fail=0

dump() {
  echo "--- demo.sh output"; cat "$workdir/demo.out"
  echo "--- ringwatch log (tail)"; tail -20 "$workdir/build/demo/ringwatch.log" 2>/dev/null
  echo "--- last scrape (ring_members)"; grep '^ring_members' "$workdir/metrics" 2>/dev/null
}
finish() {
  kill -KILL -- -"$demo" 2>/dev/null
  rm -rf "$workdir"
}
trap finish EXIT

rings_seen=-1 unhealthy_at=-1 left_at=-1 data_at=-1
while [ $((SECONDS - start)) -lt 60 ]; do
  if curl -fsS -m 2 "http://127.0.0.1:$http/metrics" -o "$workdir/metrics" 2>/dev/null; then
    n=$(grep -E '^ring_members\{key="[^"]+",name="[^"]+",state="ACTIVE"\} [1-9]' "$workdir/metrics" |
        sed -E 's/.*name="([^"]+)".*/\1/' | sort -u | wc -l)
    [ "$n" -gt 0 ] && [ "$data_at" -lt 0 ] && data_at=$((SECONDS - start))
    [ "$n" -ge 4 ] && [ "$rings_seen" -lt 0 ] && rings_seen=$((SECONDS - start))
    grep -qE '^ring_members\{key="collectors/ring",name="ingester",state="Unhealthy"\} [1-9]' "$workdir/metrics" &&
      [ "$unhealthy_at" -lt 0 ] && unhealthy_at=$((SECONDS - start))
    grep -qE '^ring_members\{key="collectors/ring",name="ingester",state="LEFT"\} [1-9]' "$workdir/metrics" &&
      [ "$left_at" -lt 0 ] && left_at=$((SECONDS - start))
    if [ "$rings_seen" -ge 0 ] && [ "$unhealthy_at" -ge 0 ] && [ "$left_at" -ge 0 ]; then break; fi
  fi
  kill -0 "$demo" 2>/dev/null || { echo "FAIL: demo.sh exited early"; fail=1; break; }
  sleep 1
done
echo "first ring data after ${data_at}s; 4 rings with ACTIVE members after ${rings_seen}s;" \
     "Unhealthy ingester after ${unhealthy_at}s; LEFT tombstone after ${left_at}s (-1: not seen)"
[ "$rings_seen" -ge 0 ] || { echo "FAIL: not every demo ring (ingester, distributor, store-gateway, compactor) had ACTIVE members"; fail=1; }
[ "$unhealthy_at" -ge 0 ] || { echo "FAIL: the stuck ingester never counted as Unhealthy"; fail=1; }
[ "$left_at" -ge 0 ] || { echo "FAIL: the flapping ingester never left a LEFT tombstone"; fail=1; }
for page in / /ring /memberlist /propagation; do
  curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$http$page" || { echo "FAIL: $page does not answer"; fail=1; }
done
grep -q "http://127.0.0.1:$http/metrics" "$workdir/demo.out" || { echo "FAIL: demo.sh did not print the /metrics URL"; fail=1; }

# Ctrl-C: SIGINT to demo.sh alone (its children's clean-up is its job, not the terminal's).
kill -INT "$demo"
for _ in $(seq 300); do kill -0 "$demo" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$demo" 2>/dev/null; then echo "FAIL: demo.sh still runs 30 s after SIGINT"; fail=1; fi
left=""
for _ in $(seq 50); do
  left=$(pgrep -g "$demo" -a || true)
  [ -z "$left" ] && break
  sleep 0.1
done
if [ -n "$left" ]; then echo "FAIL: processes left after SIGINT:"; echo "$left"; fail=1; fi
if curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$http/-/healthy" 2>/dev/null; then
  echo "FAIL: ringwatch still answers after SIGINT"; fail=1
fi

if [ "$fail" != 0 ]; then dump; exit 1; fi
echo "demo.sh: rings, Unhealthy member, LEFT tombstone and clean stop as expected"
