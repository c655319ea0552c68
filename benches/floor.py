#!/usr/bin/env python3
"""floor.py — gwsim next to nginx and the bare hyper design it is built on (stdlib only).

  floor.py GWSIM_BIN FLOOR_BIN MANIFESTS_DIR RESULT_DIR

`benches/hyper-floor` is the smallest proxy of gwsim's data-plane design (a current-thread
runtime and `SO_REUSEPORT` listener per worker, a per-thread HTTP/1 pool on
`hyper::client::conn::http1`) doing only what the reference proxies do. Run interleaved with
nginx and gwsim, it separates what the design costs on this machine from what gwsim's own
per-request work costs.

For each mode (shared: 2 workers, nothing pinned; pinned: wrk and the origins on CPU 0, the
proxy alone on CPU 1 with 1 worker), repetition and load (c100: `wrk -t2 -c100`; split: the
same with `Host: split.example.com`), each target is started, warmed for 1 s, loaded for
DURATION and stopped. A run with >= 15 % CPU steal is run again once. Prints one table: medians
of req/s, p99, proxy CPU µs per request (and its user and kernel parts), and the ratios to nginx
and to the floor taken within each repetition. Knobs: REPS (3), DURATION (5s), MODES ("shared
pinned"), LOADS ("c100 split"), EXTRA_GWSIM ("NAME=PATH ...": more gwsim builds run as further
targets, e.g. a PGO build), EXTRA_FLOOR ("NAME=ARG,ARG ...": the floor again with diagnosis
arguments, e.g. `code32=--code-kb,32`), KERNEL_EVENTS (pinned mode, needs `perf`: counts these
perf events on the proxy's CPU during each load and prints them per request in a second table,
e.g. "raw_syscalls:sys_enter,sched:sched_waking,ipi:ipi_send_cpu,irq:softirq_entry").
Loopback only; every run is bounded; only processes started here are stopped.
"""
import os, re, signal, statistics, subprocess, sys, time, urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    """(utime, stime) of a process and its children (nginx's workers)."""
    user = system = 0
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for p in [str(pid), *kids]:
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            user += int(fields[11])
            system += int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return user, system


def steal():
    parts = open("/proc/stat").readline().split()[1:]
    values = [int(v) for v in parts]
    return values[7], sum(values)


def wait_ready(port):
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/hello", timeout=0.2).read()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def wrk(args, pin):
    out = subprocess.run([*pin, "wrk", *args], capture_output=True, text=True, timeout=120).stdout
    n = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1, "ms": 1e3, "s": 1e6}
    bad = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    bad += sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return (int(n.group(1)) if n else 0, float(rps.group(1)) if rps else 0.0,
            float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"), bad)


def perf_counts(path, requests):
    """Events per request from a `perf stat -x,` output file."""
    counts = {}
    try:
        for line in open(path):
            cells = line.strip().split(",")
            if len(cells) > 2 and cells[0].replace(".", "", 1).isdigit():
                counts[cells[2]] = float(cells[0]) / max(1, requests)
    except OSError:
        pass
    return counts


def main():
    gwsim, floor, manifests, out = sys.argv[1:5]
    bench = os.environ.get("BENCH_DIR", "/tmp/gwsim-bench")
    reps = int(os.environ.get("REPS", "3"))
    duration = os.environ.get("DURATION", "5s")
    modes = os.environ.get("MODES", "shared pinned").split()
    loads = os.environ.get("LOADS", "c100 split").split()
    extra = [spec.split("=", 1) for spec in os.environ.get("EXTRA_GWSIM", "").split()]
    extra_floor = [spec.split("=", 1) for spec in os.environ.get("EXTRA_FLOOR", "").split()]
    kernel_events = os.environ.get("KERNEL_EVENTS", "")
    events = {}
    os.makedirs(out, exist_ok=True)
    rows = []
    for mode in modes:
        workers = 2 if mode == "shared" else 1
        conf = f"{bench}/conf/w{workers}"
        pin0 = ["taskset", "-c", "0"] if mode == "pinned" else []
        pin1 = ["taskset", "-c", "1"] if mode == "pinned" else []
        targets = {
            "nginx": (18101, ["/usr/sbin/nginx", "-c", f"{conf}/nginx-proxy.conf", "-g", "daemon off;"]),
            "floor": (18130, [floor, "--listen", "127.0.0.1:18130", "--workers", str(workers)]),
            "gwsim": (18110, [gwsim, "up", "--no-tui", "--seed", "1", manifests]),
        }
        for name, path in extra:
            targets[name] = (18110, [path, "up", "--no-tui", "--seed", "1", manifests])
        for name, args in extra_floor:
            targets[name] = (18130, [*targets["floor"][1], *args.split(",")])
        env = dict(os.environ, GWSIM_WORKERS=str(workers))
        origins = [subprocess.Popen([*pin0, "/usr/sbin/nginx", "-c", f"{bench}/conf/w1/origin-{v}.conf",
                                     "-g", "daemon off;"], start_new_session=True) for v in ("v1", "v2")]
        try:
            time.sleep(0.5)
            for rep in range(1, reps + 1):
                for load in loads:
                    for name, (port, cmd) in targets.items():
                        for attempt in (1, 2):
                            log = open(f"{out}/{name}.log", "a")
                            proc = subprocess.Popen([*pin1, *cmd], env=env, stdout=log, stderr=subprocess.STDOUT,
                                                    start_new_session=True)
                            try:
                                if not wait_ready(port):
                                    sys.exit(f"floor.py: {name} did not answer on :{port}")
                                host = ["-H", "Host: split.example.com"] if load == "split" else []
                                url = f"http://127.0.0.1:{port}/hello"
                                wrk(["-t2", "-c100", "-d1s", *host, url], pin0)
                                counting = None
                                if kernel_events and mode == "pinned":
                                    # The whole CPU the proxy runs on: its softirq work counts too.
                                    counting = subprocess.Popen(
                                        ["perf", "stat", "-x,", "-C", "1", "-e", kernel_events, "-o",
                                         f"{out}/{name}.perf", "--", "sleep", duration.rstrip("s")])
                                s0, t0, c0 = *steal(), cpu_ticks(proc.pid)
                                n, rps, p99, bad = wrk(["-t2", "-c100", f"-d{duration}", "--latency", *host, url], pin0)
                                s1, t1, c1 = *steal(), cpu_ticks(proc.pid)
                                if counting:
                                    counting.wait(timeout=60)
                                    events[(mode, load, rep, name)] = perf_counts(f"{out}/{name}.perf", n)
                            finally:
                                os.killpg(proc.pid, signal.SIGTERM)
                                proc.wait(timeout=10)
                            steal_pct = 100 * (s1 - s0) / max(1, t1 - t0)
                            if steal_pct < 15 or attempt == 2:
                                break
                        user_us, sys_us = ((b - a) / TICK * 1e6 / max(1, n) for a, b in zip(c0, c1))
                        cpu_us = user_us + sys_us
                        rows.append((mode, load, rep, name, rps, p99, cpu_us, bad, steal_pct, user_us, sys_us))
                        print(f"{mode}\t{load}\trep{rep}\t{name}\t{rps:.0f} req/s\tp99 {p99:.0f} µs\t"
                              f"{cpu_us:.2f} µs/req (user {user_us:.2f}, kernel {sys_us:.2f})\t"
                              f"errors {bad}\tsteal {steal_pct:.0f}%", file=sys.stderr)
        finally:
            for o in origins:
                os.killpg(o.pid, signal.SIGTERM)
                o.wait(timeout=10)
    with open(f"{out}/raw.tsv", "w") as f:
        f.write("mode\tload\trep\ttarget\trps\tp99_us\tcpu_us_per_req\terrors\tsteal_pct\tuser_us\tsys_us\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")
    print("| mode | load | target | req/s | ×nginx (min–max) | ×floor | p99 µs | CPU µs/req | user µs/req | kernel µs/req | kernel − floor µs | CPU ×nginx | CPU ×floor | errors |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    by = {(r[0], r[1], r[2], r[3]): r for r in rows}
    for mode in modes:
        for load in loads:
            for name in ("nginx", "floor", "gwsim", *(n for n, _ in extra), *(n for n, _ in extra_floor)):
                mine = [r for r in rows if r[:2] == (mode, load) and r[3] == name]
                if not mine:
                    continue
                def ratio(ref, col):
                    return [r[col] / by[(mode, load, r[2], ref)][col] for r in mine
                            if by.get((mode, load, r[2], ref)) and by[(mode, load, r[2], ref)][col]]
                xn, xf = ratio("nginx", 4), ratio("floor", 4)
                # The kernel's time per request over the floor's, within each repetition.
                dk = [r[10] - by[(mode, load, r[2], "floor")][10] for r in mine
                      if by.get((mode, load, r[2], "floor"))] or [float("nan")]
                cn, cf = ratio("nginx", 6), ratio("floor", 6)
                med = statistics.median
                print(f"| {mode} | {load} | {name} | {med(r[4] for r in mine):.0f} | "
                      f"{med(xn):.2f} ({min(xn):.2f}–{max(xn):.2f}) | {med(xf):.2f} | "
                      f"{med(r[5] for r in mine):.0f} | {med(r[6] for r in mine):.2f} | "
                      f"{med(r[9] for r in mine):.2f} | {med(r[10] for r in mine):.2f} | {med(dk):+.2f} | "
                      f"{med(cn):.2f} | {med(cf):.2f} | {sum(r[7] for r in mine)} |")
    if events:
        names = sorted({e for counts in events.values() for e in counts})
        print()
        print("| mode | load | target | " + " | ".join(f"{e} /req" for e in names) + " |")
        print("|---|---|---|" + "---:|" * len(names))
        for mode, load, target in dict.fromkeys((k[0], k[1], k[3]) for k in events):
            mine = [c for k, c in events.items() if (k[0], k[1], k[3]) == (mode, load, target)]
            cells = [f"{statistics.median(c.get(e, 0.0) for c in mine):.3f}" for e in names]
            print(f"| {mode} | {load} | {target} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
