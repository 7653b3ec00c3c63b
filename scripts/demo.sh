#!/usr/bin/env bash
# The newcomer's path: installs what is missing, builds, starts a local demo cluster of Go
# memberlist peers gossiping dskit rings like a small Mimir cluster, and ringwatch observing it.
#
#   scripts/demo.sh                          demo cluster + ringwatch
#   scripts/demo.sh -prometheus              ... plus Debian's Prometheus with the bundled alert rules
#   scripts/demo.sh -memberlist.join=HOST    observe your own cluster instead (no demo peers)
#
# Every other argument goes to ringwatch (flags override config/demo.yaml in demo mode).
# Ctrl-C stops everything the script started.
#
# The demo cluster (one Go peer per ring instance, node name = instance id, as in dskit):
#   ingester ring (collectors/ring)            ingester-zone-{a,b,c}-{0,1}, 128 tokens, 5s heartbeats
#                                              ingester-zone-c-2: stops heartbeating once registered
#                                              -> Unhealthy after the demo's 15s heartbeat timeout
#                                              ingester-zone-a-2: joins for 20s, leaves, 10s later joins
#                                              again, over and over (LEFT tombstones, ring churn)
#   distributor ring (collectors/distributor)  distributor-0, distributor-1
#   store-gateway ring (collectors/store-gateway) store-gateway-zone-{a,b,c}
#   compactor ring (collectors/compactor)      compactor-0
#
# Environment (mostly for tests/demo/demo_test.sh):
#   DEMO_SKIP_BUILD=1   do not install packages or build; use the binaries in DEMO_BUILD_DIR
#   DEMO_BUILD_DIR      build directory (default build); logs and Prometheus data go to its demo/
#   DEMO_HTTP_PORT      ringwatch's HTTP port (default 10946)
#   DEMO_GOSSIP_PORT    first gossip port of the demo peers (default 17946; ringwatch uses +40)
#   DEMO_PROM_PORT      the demo Prometheus's port (default 19090; Debian's own service takes 9090)
#   DEMO_FLAP_UP, DEMO_FLAP_DOWN  seconds the flapping member stays up and away (20, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build=${DEMO_BUILD_DIR:-build}
http_port=${DEMO_HTTP_PORT:-10946}
base=${DEMO_GOSSIP_PORT:-17946}
prom_port=${DEMO_PROM_PORT:-19090}
flap_up=${DEMO_FLAP_UP:-20}
flap_down=${DEMO_FLAP_DOWN:-10}

with_prometheus=0
join_given=0
rw_args=()
for a in "$@"; do
  case "$a" in
    -prometheus|--prometheus|-with-prometheus|--with-prometheus) with_prometheus=1 ;;
    -h|-help|--help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0 ;;
    *)
      case "$a" in -memberlist.join*|--memberlist.join*) join_given=1 ;; esac
      rw_args+=("$a") ;;
  esac
done

if [ "${DEMO_SKIP_BUILD:-0}" != 1 ]; then
  ./scripts/install-deps.sh
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j "$(nproc)" --target ringwatch ringwatch_peer
fi
ringwatch="$build/ringwatch"
peer="$build/peer/ringwatch-peer"
for b in "$ringwatch" "$peer"; do
  [ -x "$b" ] || { echo "demo: $b missing (run without DEMO_SKIP_BUILD=1 to build it)" >&2; exit 1; }
done

logdir="$build/demo"
mkdir -p "$logdir"
rm -f "$logdir"/*.ready

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping ${#pids[@]} processes"
  # Reverse order: ringwatch and the helpers first, then the peers (they leave gracefully).
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# One Go peer; extra arguments are -ring specifications and peer flags.
start_peer() {  # name port [peer flags...]
  local name=$1 port=$2
  shift 2
  local join=()
  [ "$port" != "$base" ] && join=(-join "127.0.0.1:$base")
  "$peer" -name "$name" -bind-addr 127.0.0.1 -bind-port "$port" "${join[@]}" \
    -gossip-interval 200ms -pullpush-interval 10s -leave-timeout 2s -drain-timeout 2s \
    -ready-file "$logdir/$name.ready" -exit-with-parent "$@" >"$logdir/$name.log" 2>&1 &
  pids+=($!)
}

rw_base=(-web.listen-address="127.0.0.1:$http_port")
if [ "$join_given" = 0 ]; then
  n=0
  next_port() { port=$((base + n)); n=$((n + 1)); }
  for zone in a b c; do
    for i in 0 1; do
      next_port
      start_peer "ingester-zone-$zone-$i" "$port" \
        -ring "key=collectors/ring,id=ingester-zone-$zone-$i,zone=zone-$zone,tokens=128,period=5s"
    done
  done
  for i in 0 1; do
    next_port
    start_peer "distributor-$i" "$port" -ring "key=collectors/distributor,id=distributor-$i,tokens=1,period=5s"
  done
  for zone in a b c; do
    next_port
    start_peer "store-gateway-zone-$zone" "$port" \
      -ring "key=collectors/store-gateway,id=store-gateway-zone-$zone,zone=zone-$zone,tokens=128,period=5s"
  done
  next_port
  start_peer compactor-0 "$port" -ring "key=collectors/compactor,id=compactor-0,tokens=128,period=5s"

  # The stuck member: registers, then its heartbeats stop (POST /heartbeat/stop on its control API).
  next_port
  start_peer ingester-zone-c-2 "$port" \
    -ring "key=collectors/ring,id=ingester-zone-c-2,zone=zone-c,tokens=128,period=5s"
  (
    ready="$logdir/ingester-zone-c-2.ready"
    for _ in $(seq 100); do [ -s "$ready" ] && break; sleep 0.2; done
    api=$(grep -o '"http_port": *[0-9]*' "$ready" | grep -o '[0-9]*$')
    # Wait until its registration is in its own ring (then gossip spreads it), then stop.
    for _ in $(seq 50); do
      curl -fsS "http://127.0.0.1:$api/ring?key=collectors/ring" 2>/dev/null | grep -q ingester-zone-c-2 && break
      sleep 0.2
    done
    sleep 2
    curl -fsS -X POST "http://127.0.0.1:$api/heartbeat/stop?key=collectors/ring" >/dev/null &&
      echo "demo: ingester-zone-c-2 stopped heartbeating; Unhealthy about 15s from now"
  ) &
  pids+=($!)

  # The flapping member: joins, stays $flap_up s, leaves (SIGTERM: LEFT tombstone, then
  # memberlist leave), stays away $flap_down s, and again.
  next_port
  flap_port=$port
  (
    child='' nap=''
    trap 'kill -TERM $child $nap 2>/dev/null; wait; exit 0' TERM INT
    while :; do
      "$peer" -name ingester-zone-a-2 -bind-addr 127.0.0.1 -bind-port "$flap_port" -join "127.0.0.1:$base" \
        -gossip-interval 200ms -pullpush-interval 10s -leave-timeout 2s -drain-timeout 2s -exit-with-parent \
        -ring "key=collectors/ring,id=ingester-zone-a-2,zone=zone-a,tokens=128,period=5s" \
        >>"$logdir/ingester-zone-a-2.log" 2>&1 &
      child=$!
      sleep "$flap_up" & nap=$!; wait $nap
      kill -TERM "$child" 2>/dev/null || true
      wait "$child" 2>/dev/null || true
      child=
      sleep "$flap_down" & nap=$!; wait $nap
    done
  ) &
  pids+=($!)

  rw_base+=(-config.file=config/demo.yaml -memberlist.join="127.0.0.1:$base"
            -memberlist.bind-addr=127.0.0.1 -memberlist.bind-port=$((base + 40)))
  echo "demo: $n Go memberlist peers on 127.0.0.1:$base-$((base + n - 1)) (rings ingester in 3 zones," \
       "distributor, store-gateway, compactor), logs in $logdir/"
fi

"$ringwatch" "${rw_base[@]}" "${rw_args[@]}" >"$logdir/ringwatch.log" 2>&1 &
rw_pid=$!
pids+=("$rw_pid")

if [ "$with_prometheus" = 1 ]; then
  prom=$(command -v prometheus || echo /usr/bin/prometheus)
  [ -x "$prom" ] || { echo "demo: prometheus not installed (apt-get install prometheus)" >&2; exit 1; }
  cat >"$logdir/prometheus.yml" <<EOF
# Generated by scripts/demo.sh.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $root/alerts/ringwatch-alerts.yaml
scrape_configs:
  - job_name: ringwatch
    static_configs:
      - targets: ["127.0.0.1:$http_port"]
EOF
  "$prom" --config.file="$logdir/prometheus.yml" --storage.tsdb.path="$logdir/prometheus" \
    --web.listen-address="127.0.0.1:$prom_port" >"$logdir/prometheus.log" 2>&1 &
  pids+=($!)
fi

url="http://127.0.0.1:$http_port"
for _ in $(seq 50); do
  kill -0 "$rw_pid" 2>/dev/null || break
  curl -fsS -o /dev/null "$url/-/healthy" 2>/dev/null && break
  sleep 0.2
done
if ! kill -0 "$rw_pid" 2>/dev/null; then
  echo "demo: ringwatch exited:" >&2
  tail -5 "$logdir/ringwatch.log" >&2
  exit 1
fi
cat <<EOF
demo: ringwatch is running (log: $logdir/ringwatch.log)
  status page   $url/
  rings         $url/ring
  memberlist    $url/memberlist
  propagation   $url/propagation
  metrics       $url/metrics
  ready         $url/-/ready (200 once the first full state has arrived)
EOF
if [ "$with_prometheus" = 1 ]; then
  echo "  prometheus    http://127.0.0.1:$prom_port/ (alerts: http://127.0.0.1:$prom_port/alerts, data in $logdir/prometheus)"
fi
if [ "$join_given" = 0 ]; then
  echo "  try: curl -s $url/metrics | grep '^ring_members{'"
fi
echo "demo: Ctrl-C stops everything"
wait "$rw_pid"
