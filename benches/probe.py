#!/usr/bin/env python3
"""probe.py — the reload and start-up benchmarks' timing side (stdlib only).

  probe.py reload  BIN RESULT_DIR EDITS   route edits under steady traffic: time from the
                                          file write, then from the Kubernetes API apply,
                                          to the first 200 on the new path
  probe.py startup BIN RESULT_DIR STARTS  `gwsim up` on the sample: time from exec to the
                                          first routed 200, and the process's peak RSS

Everything is on 127.0.0.1; every wait is bounded; only processes started here are stopped.
"""
import http.client, os, re, shutil, signal, subprocess, sys, tempfile, threading, time


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, round((len(v) - 1) * p))] if v else float("nan")


def get(addr, path, host, timeout=0.5):
    c = http.client.HTTPConnection(*addr, timeout=timeout)
    try:
        c.request("GET", path, headers={"Host": host})
        r = c.getresponse(); r.read()
        return r.status
    except OSError:
        return None
    finally:
        c.close()


def start(bin_, args, log):
    return subprocess.Popen([bin_, "up", "--no-tui", *args], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill(); proc.wait()


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(r"VmHWM:\s+(\d+)", f.read())
            return int(m.group(1)) / 1024 if m else float("nan")
    except OSError:
        return float("nan")


ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: helloworld, namespace: sample}}
spec:
  parentRefs: [{{name: sample-gateway, namespace: sample-ingress}}]
  hostnames: ["helloworld.sample.com"]
  rules:
  - matches: [{{path: {{type: Exact, value: /hello}}}}]
    backendRefs: [{{name: helloworld, port: 5000}}]
  - matches: [{{path: {{type: Exact, value: /edit-{n}}}}}]
    backendRefs: [{{name: helloworld, port: 5000}}]
"""
HOST = "helloworld.sample.com"


def sample_copy(root, tmp):
    d = os.path.join(tmp, "sample")
    shutil.copytree(os.path.join(root, "samples", "helloworld"), d)
    return d


def wait_port(log_path, deadline):
    """The (address, port) the sample's listener was bound to, from the `listening on` line."""
    while time.monotonic() < deadline:
        with open(log_path) as f:
            m = re.search(r"listening on (127\.[0-9.]+):(\d+)", f.read())
        if m:
            return (m.group(1), int(m.group(2)))
        time.sleep(0.005)
    return None


def kube_server(d, deadline):
    """(host, port) of the Kubernetes API `gwsim up` serves, from `.gwsim/kube.json`."""
    path = os.path.join(d, ".gwsim", "kube.json")
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                m = re.search(r'"server"\s*:\s*"http://([0-9.]+):(\d+)"', f.read())
            if m:
                return (m.group(1), int(m.group(2)))
        except OSError:
            pass
        time.sleep(0.01)
    return None


def reload_bench(bin_, out, edits, via="file"):
    """via="file": the route file is replaced; via="api": the same route is applied through
    the Kubernetes API (server-side apply, what `kubectl apply --server-side` sends)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as tmp:
        d = sample_copy(root, tmp)
        log_path = os.path.join(out, "reload-gwsim.log")
        with open(log_path, "w") as log:
            proc = start(bin_, [d, "--seed", "1", "--port-offset", "21000"], log)
        try:
            port = wait_port(log_path, time.monotonic() + 20)
            if port is None:
                sys.exit("reload: gwsim did not listen")
            deadline = time.monotonic() + 20
            while get(port, "/hello", HOST) != 200 and time.monotonic() < deadline:
                time.sleep(0.01)
            stop_traffic = threading.Event()
            counts = {"ok": 0, "bad": 0}

            def traffic():  # steady keep-alive traffic on the unchanged route
                c = http.client.HTTPConnection(*port, timeout=2)
                while not stop_traffic.is_set():
                    try:
                        c.request("GET", "/hello", headers={"Host": HOST})
                        r = c.getresponse(); r.read()
                        counts["ok" if r.status == 200 else "bad"] += 1
                    except OSError:
                        counts["bad"] += 1
                        c.close(); c = http.client.HTTPConnection(*port, timeout=2)
                    time.sleep(0.002)
            api = None
            if via == "api":
                server = kube_server(d, time.monotonic() + 20)
                if server is None:
                    sys.exit("reload: no .gwsim/kube.json")
                api = http.client.HTTPConnection(*server, timeout=5)
            t = threading.Thread(target=traffic); t.start()
            lat, missed, rejected = [], 0, 0
            poll = http.client.HTTPConnection(*port, timeout=2)
            for n in range(edits):
                path = os.path.join(d, "route.yaml")
                t0 = time.monotonic()
                if api is None:
                    with open(path + ".tmp", "w") as f:
                        f.write(ROUTE.format(n=n))
                    os.replace(path + ".tmp", path)
                else:
                    api.request("PATCH", "/apis/gateway.networking.k8s.io/v1/namespaces/sample/"
                                "httproutes/helloworld?fieldManager=bench&force=true",
                                body=ROUTE.format(n=n).encode(),
                                headers={"Content-Type": "application/apply-patch+yaml"})
                    r = api.getresponse(); r.read()
                    if r.status >= 300:
                        rejected += 1
                deadline = t0 + 5
                while time.monotonic() < deadline:
                    try:
                        poll.request("GET", f"/edit-{n}", headers={"Host": HOST})
                        r = poll.getresponse(); r.read()
                        # Routed = answered by the pod (the sample app 404s unknown paths);
                        # gwsim's own 404 carries x-gwsim-reason.
                        status = 200 if r.getheader("x-gwsim-reason") is None else r.status
                    except OSError:
                        status = None
                        poll.close(); poll = http.client.HTTPConnection(*port, timeout=2)
                    if status == 200:
                        lat.append((time.monotonic() - t0) * 1e3)
                        break
                    time.sleep(0.001)
                else:
                    missed += 1
            stop_traffic.set(); t.join()
        finally:
            stop(proc)
    what = "file write" if api is None else f"Kubernetes API apply ({rejected} rejected)"
    return (f"| {what} | {edits} | {len(lat)} | {pct(lat, .5):.1f} | {pct(lat, .9):.1f} | "
            f"{pct(lat, .99):.1f} | {max(lat) if lat else float('nan'):.1f} | "
            f"{counts['ok']} / {counts['bad']} |")


def reload_both(bin_, out, edits):
    rows = [reload_bench(bin_, out, edits, via) for via in ("file", "api")]
    print("| edit through | edits | answered | p50 ms | p90 ms | p99 ms | max ms | steady requests ok / failed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


def switches_and_ticks(pid):
    """Voluntary context switches (the times a thread went to sleep, so roughly its
    wake-ups) summed over the process's threads, and its utime + stime in clock ticks."""
    switches = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            for line in open(f"/proc/{pid}/task/{task}/status"):
                if line.startswith("voluntary_ctxt_switches:"):
                    switches += int(line.split()[1])
        except OSError:
            pass  # a thread that ended
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return switches, int(fields[11]) + int(fields[12])


def idle_activity(pid, seconds):
    """Wake-ups per second and CPU % of an idle process over `seconds`."""
    s0, t0 = switches_and_ticks(pid)
    time.sleep(seconds)
    s1, t1 = switches_and_ticks(pid)
    return (s1 - s0) / seconds, 100 * (t1 - t0) / os.sysconf("SC_CLK_TCK") / seconds


def startup_bench(bin_, out, starts):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    times, rss, wakeups, cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        d = sample_copy(root, tmp)
        for i in range(starts):
            log_path = os.path.join(out, f"startup-{i}.log")
            t0 = time.monotonic()
            with open(log_path, "w") as log:
                proc = start(bin_, [d, "--seed", "1", "--port-offset", "22000"], log)
            try:
                port = wait_port(log_path, t0 + 20)
                ok = False
                while port and time.monotonic() < t0 + 20:
                    if get(port, "/hello", HOST, timeout=1) == 200:
                        ok = True; break
                    time.sleep(0.001)
                if ok:
                    times.append((time.monotonic() - t0) * 1e3)
                    time.sleep(0.3)  # let the start-up settle before reading the peak
                    rss.append(peak_rss_mb(proc.pid))
                    # Nothing changes and no request comes: what does gwsim do meanwhile?
                    w, c = idle_activity(proc.pid, 1.0)
                    wakeups.append(w); cpu.append(c)
            finally:
                stop(proc)
    print("| starts | first routed 200: p50 ms | min ms | max ms | peak RSS MB (median) | idle wake-ups/s (median) | idle CPU % (median) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {len(times)}/{starts} | {pct(times, .5):.0f} | {min(times, default=float('nan')):.0f} | "
          f"{max(times, default=float('nan')):.0f} | {pct(rss, .5):.1f} | {pct(wakeups, .5):.0f} | {pct(cpu, .5):.1f} |")


if __name__ == "__main__":
    # A `timeout` around this script must still stop the gwsim it started (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("probe.py: stopped"))
    if len(sys.argv) != 5 or sys.argv[1] not in ("reload", "startup"):
        sys.exit(__doc__)
    os.makedirs(sys.argv[3], exist_ok=True)
    (reload_both if sys.argv[1] == "reload" else startup_bench)(sys.argv[2], sys.argv[3], int(sys.argv[4]))
