#!/usr/bin/env bash
# benches/callgrind.sh GWSIM_BIN FLOOR_BIN MANIFESTS_DIR PORT RESULT_DIR
#
# Counts what one proxied request executes in user space, for gwsim and the bare hyper floor:
# instructions and simulated cache misses (I1 32 KB, D1 48 KB, LL 2 MB) per request, from
# callgrind, which needs no hardware counters (this VM has none). Each proxy runs one worker
# under valgrind in front of the bench's nginx origins; after a 2 s warm-up the counters are
# zeroed, wrk sends `Host: split.example.com` on 10 connections for 5 s, and the counters are
# dumped and divided by the requests wrk counted. Run through `benches/run.sh profile`.
set -euo pipefail
BIN=$1 FLOOR=$2 MAN=$3 PORT=$4 OUT=$5
CONF=${BENCH_DIR:?}/conf/w1
mkdir -p "$OUT"
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT

for v in v1 v2; do
  /usr/sbin/nginx -c "$CONF/origin-$v.conf" -g 'daemon off;' > "$OUT/origin-$v.log" 2>&1 &
  pids+=($!)
done
sleep 0.5

# name port command...
profile() {
  local name=$1 port=$2; shift 2
  GWSIM_WORKERS=1 valgrind --tool=callgrind --cache-sim=yes --I1=32768,8,64 --D1=49152,12,64 \
    --LL=2097152,16,64 --callgrind-out-file="$OUT/$name.out" "$@" > "$OUT/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  local ready=
  for _ in $(seq 300); do
    if curl -s -o /dev/null -H 'Host: split.example.com' "http://127.0.0.1:$port/hello"; then ready=1; break; fi
    sleep 0.1
  done
  [[ -n $ready ]] || { echo "callgrind.sh: $name did not answer on :$port" >&2; return 1; }
  wrk -t1 -c10 -d2s -H 'Host: split.example.com' "http://127.0.0.1:$port/hello" > /dev/null 2>&1
  callgrind_control -z "$pid" > /dev/null 2>&1
  wrk -t1 -c10 -d5s -H 'Host: split.example.com' "http://127.0.0.1:$port/hello" > "$OUT/$name.wrk" 2>&1
  callgrind_control -d "$pid" > /dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local requests
  requests=$(awk '/requests in/{print $1}' "$OUT/$name.wrk")
  python3 - "$OUT/$name.out.1" "$name" "$requests" <<'PY'
import sys
path, name, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(path).read().splitlines()
events = next(l for l in lines if l.startswith("events:")).split()[1:]
totals = dict(zip(events, map(int, next(l for l in lines if l.startswith("totals:")).split()[1:])))
cells = [f"{totals[e] / requests:,.0f}" for e in ("Ir", "I1mr", "D1mr", "D1mw")]
print(f"| {name} | {requests} | " + " | ".join(cells) + " |")
PY
}

echo "| proxy | requests | instructions / req | I1 misses / req | D1 read misses / req | D1 write misses / req |"
echo "|---|---:|---:|---:|---:|---:|"
profile floor 18130 "$FLOOR" --listen 127.0.0.1:18130 --workers 1
profile gwsim "$PORT" "$BIN" up --no-tui --seed 1 "$MAN"
