#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts a local demo cluster of Go memberlist
# peers gossiping dskit rings, and ringwatch observing it. Extra arguments go to ringwatch;
# with -memberlist.join=... it observes that cluster instead and no demo peers start.
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target ringwatch ringwatch_peer

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

logdir=build/demo
mkdir -p "$logdir"
join_given=0
for a in "$@"; do case "$a" in -memberlist.join*|--memberlist.join*) join_given=1 ;; esac; done

args=(-web.listen-address=127.0.0.1:10946)
if [ "$join_given" = 0 ]; then
  peer=build/peer/ringwatch-peer
  base=17946
  zones=(zone-a zone-b zone-c)
  for i in 0 1 2 3 4; do
    port=$((base + i))
    join=()
    [ "$i" -gt 0 ] && join=(-join "127.0.0.1:$base")
    rings=(-ring "key=collectors/ring,id=ingester-$i,zone=${zones[$((i % 3))]},tokens=128,period=5s")
    [ "$i" -lt 2 ] && rings+=(-ring "key=collectors/distributor,id=distributor-$i,zone=${zones[$i]},tokens=8,period=5s")
    "$peer" -name "demo-$i" -bind-addr 127.0.0.1 -bind-port "$port" "${join[@]}" "${rings[@]}" \
      -gossip-interval 200ms -pullpush-interval 10s -exit-with-parent >"$logdir/demo-$i.log" 2>&1 &
    pids+=($!)
  done
  args+=(-memberlist.join=127.0.0.1:$base -memberlist.bind-addr=127.0.0.1 -memberlist.bind-port=17960
         -memberlist.pullpush-interval=10s)
  echo "demo: 5 Go memberlist peers on 127.0.0.1:$base-$((base + 4)), logs in $logdir/"
fi

build/ringwatch "${args[@]}" "$@" &
pids+=($!)
echo "demo: ringwatch on http://127.0.0.1:10946/ (metrics: http://127.0.0.1:10946/metrics, ready: /-/ready)"
echo "demo: Ctrl-C stops everything"
wait "${pids[-1]}"
