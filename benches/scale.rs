//! Scale benchmark: generated configurations with many HTTPRoutes, measuring reconcile time,
//! routing-table compile time, memory, and the per-request virtual-host lookup (the indexed
//! one the proxy uses, and a linear scan for contrast). Lookups are timed in batches of
//! [`BATCH`] (see there), and also one by one for contrast.
//!
//! Request hosts come two ways: all distinct (every lookup reads a host string no other
//! lookup read, so the inputs stream through the caches next to the index), and from
//! [`RESIDENT_HOSTS`] hosts used over and over, as a proxy looks up a host it has just read
//! into a buffer that is in cache. Both spread over the whole range of routes.
//!
//! `cargo bench --bench scale` (sizes: `SCALE_SIZES=100,1000,10000`, lookups per size:
//! `SCALE_LOOKUPS=200000`). Prints one markdown table.

use gwsim::dataplane::matcher::host_matches;
use gwsim::dataplane::table::{self, Counters, Endpoint, Listener};
use gwsim::ir::EndpointIr;
use gwsim::stats::Registry;
use gwsim::store::History;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// `n` HTTPRoutes on one Gateway listener: every tenth has a wildcard hostname, the rest an
/// exact one, each with two path rules, all to one EndpointSlice-backed Service.
fn manifests(n: usize) -> String {
    let mut out = String::from(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: scale}\n---\n\
         apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n\
         metadata: {name: gw, namespace: scale}\nspec:\n  gatewayClassName: istio\n  \
         addresses: [{type: IPAddress, value: 127.0.0.1}]\n  listeners:\n  \
         - {name: http, port: 18200, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {name: app, namespace: scale}\n\
         spec: {ports: [{port: 80}]}\n---\n\
         apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n\
         metadata: {name: app-1, namespace: scale, labels: {kubernetes.io/service-name: app}}\n\
         addressType: IPv4\nports: [{port: 18081}]\nendpoints: [{addresses: [127.0.0.1]}]\n",
    );
    for i in 0..n {
        let _ = write!(
            out,
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n\
             metadata: {{name: r{i}, namespace: scale}}\nspec:\n  parentRefs: [{{name: gw}}]\n  \
             hostnames: [\"{}\"]\n  rules:\n  \
             - matches: [{{path: {{type: PathPrefix, value: /api}}}}]\n    \
             backendRefs: [{{name: app, port: 80}}]\n  \
             - backendRefs: [{{name: app, port: 80}}]\n",
            host_of(i)
        );
    }
    out
}

fn host_of(i: usize) -> String {
    if i.is_multiple_of(10) {
        format!("*.w{i}.example.com")
    } else {
        format!("h{i}.example.com")
    }
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_nanos() as f64
}

/// Lookups per timed batch: long enough (~µs) that the clock's own cost (~20–30 ns a read)
/// and its granularity vanish, short enough that a batch still shows a slow stretch.
const BATCH: usize = 32;

/// Distinct request hosts in the "resident" measurement (~130 KB of strings).
const RESIDENT_HOSTS: usize = 4096;

/// Timed passes over the lookup hosts, each timing every size; medians are reported.
const PASSES: usize = 9;

/// Per-lookup time, p50 and p99 over batches of [`BATCH`] consecutive lookups (each batch's
/// time divided by its size), and the number of hits.
fn time_batches<S: AsRef<str>>(hosts: &[S], find: impl Fn(&str) -> bool) -> (f64, f64, usize) {
    let mut times = Vec::with_capacity(hosts.len() / BATCH + 1);
    let mut found = 0;
    for batch in hosts.chunks(BATCH) {
        let t = Instant::now();
        for h in batch {
            found += usize::from(std::hint::black_box(find(std::hint::black_box(h.as_ref()))));
        }
        times.push(t.elapsed() / batch.len() as u32);
    }
    times.sort_unstable();
    (percentile(&times, 0.5), percentile(&times, 0.99), found)
}

/// Times each lookup on its own, the clock's cost included in every figure (for contrast
/// with the batches: at tens of nanoseconds the clock is a large part of what this shows).
fn time_each<S: AsRef<str>>(hosts: &[S], find: impl Fn(&str) -> bool) -> (f64, f64) {
    let mut times = Vec::with_capacity(hosts.len());
    for h in hosts {
        let t = Instant::now();
        std::hint::black_box(find(std::hint::black_box(h.as_ref())));
        times.push(t.elapsed());
    }
    times.sort_unstable();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// One size's routing table and the request hosts looked up in it.
struct Built {
    n: usize,
    table: table::RouteTable,
    hosts: Vec<String>,
    /// Load + reconcile, table compile, RSS growth.
    build: (Duration, Duration, u64),
}

fn build(n: usize, lookups: usize) -> Option<Built> {
    let dir = tempfile::tempdir().ok()?;
    std::fs::write(dir.path().join("scale.yaml"), manifests(n)).ok()?;
    let rss_before = rss_kb();
    let started = Instant::now();
    let mut history = History::default();
    let pass = gwsim::pipeline::run(
        dir.path(),
        &gwsim::pipeline::Options::default(),
        None,
        &mut history,
        "2026-01-01T00:00:00Z",
    );
    let reconcile = started.elapsed();
    let started = Instant::now();
    let resolve = |e: &EndpointIr| match e {
        EndpointIr::Address { ip, port, .. } => {
            let addr = SocketAddr::new(ip.parse().ok()?, *port);
            Some(Endpoint {
                addr,
                pod: addr.to_string(),
            })
        }
        EndpointIr::Pod { .. } => None,
    };
    let table = table::compile(
        &pass.translation.routing,
        1,
        &Counters::default(),
        &Registry::default(),
        &resolve,
    );
    let compile = started.elapsed();
    let rss_growth = rss_kb().saturating_sub(rss_before);
    // A mix of exact hits, wildcard hits and misses, spread over the whole range.
    let hosts: Vec<String> = (0..lookups)
        .map(|k| {
            let i = (k * 7919) % n.max(1);
            match k % 4 {
                0 | 1 => format!("h{}.example.com", i - i % 10 + 1),
                2 => format!("a.w{}.example.com", i - i % 10),
                _ => format!("miss{k}.example.org"),
            }
        })
        .collect();
    Some(Built {
        n,
        table,
        hosts,
        build: (reconcile, compile, rss_growth),
    })
}

fn listener(table: &table::RouteTable) -> Option<&Listener> {
    table
        .ports
        .values()
        .next()
        .and_then(|p| p.listeners.first())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("SCALE_SIZES")
        .unwrap_or_else(|_| "100,1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let lookups: usize = std::env::var("SCALE_LOOKUPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let mut built = Vec::new();
    for n in sizes {
        let Some(b) = build(n, lookups) else {
            eprintln!("scale: cannot write the manifests of {n} routes to a temporary folder");
            return;
        };
        built.push(b);
    }
    // Each size's request hosts: all distinct, and every 41st of them cycled. 41 leaves the
    // mix of exact hits, wildcard hits and misses as it is (hosts cycle through the three
    // kinds by position modulo 4), and at 10,000 routes the set reaches all 1,000 exact
    // targets and 888 of the 1,000 wildcard ones.
    let inputs: Vec<(Vec<&str>, Vec<&str>)> = built
        .iter()
        .map(|b| {
            let distinct: Vec<&str> = b.hosts.iter().map(String::as_str).collect();
            let resident = distinct
                .iter()
                .step_by(41)
                .take(RESIDENT_HOSTS)
                .copied()
                .cycle()
                .take(distinct.len())
                .collect();
            (distinct, resident)
        })
        .collect();
    // Every pass times every size, one after the other, so a slow stretch of this machine
    // touches all sizes alike instead of whichever size it happened to fall on; each
    // figure is the median over the passes. One whole pass first is not counted: right
    // after building tables of hundreds of MB the kernel is still busy with that memory.
    let mut figures: Vec<Vec<[f64; 4]>> = vec![Vec::new(); built.len()];
    for pass in 0..=PASSES {
        for ((b, (distinct, resident)), out) in built.iter().zip(&inputs).zip(figures.iter_mut()) {
            let Some(listener) = listener(&b.table) else {
                eprintln!("scale: the generated Gateway has no listener");
                return;
            };
            let find = |h: &str| listener.virtual_host(h).is_some();
            // The previous size's pass has just filled the caches with its own table: an
            // untimed run over this size's hosts first, so each figure is this size's
            // steady state and not the switch between sizes.
            let _ = time_batches(distinct, find);
            let (p50, p99, _) = time_batches(distinct, find);
            let _ = time_batches(resident, find);
            let (r50, r99, _) = time_batches(resident, find);
            if pass > 0 {
                out.push([p50, p99, r50, r99]);
            }
        }
    }
    println!("| HTTPRoutes | load + reconcile ms | table compile ms | RSS growth MB | lookup p50 ns | lookup p99 ns | resident hosts p50 ns | resident hosts p99 ns | one-by-one p50 ns | one-by-one p99 ns | linear scan p50 ns | linear scan p99 ns |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut medians = Vec::new();
    for (b, passes) in built.iter().zip(&figures) {
        let Some(listener) = listener(&b.table) else {
            return;
        };
        let col = |i: usize| median(passes.iter().filter_map(|f| f.get(i).copied()).collect());
        let [p50, p99, r50, r99] = [col(0), col(1), col(2), col(3)];
        medians.push((b.n, p99, r99));
        let find = |h: &str| listener.virtual_host(h).is_some();
        let (e50, e99) = time_each(&b.hosts, find);
        let linear = |h: &str| {
            listener
                .virtual_hosts
                .iter()
                .any(|v| host_matches(&v.pattern, h))
        };
        // The linear scan gets fewer lookups at large sizes to stay bounded in time.
        let few = &b.hosts[..b.hosts.len().min(2_000_000 / b.n.max(1)).max(1000)];
        let (l50, l99, _) = time_batches(few, linear);
        let (reconcile, compile, rss_growth) = b.build;
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {p50:.0} | {p99:.0} | {r50:.0} | {r99:.0} | {e50:.0} | {e99:.0} | {l50:.0} | {l99:.0} |",
            b.n,
            reconcile.as_secs_f64() * 1e3,
            compile.as_secs_f64() * 1e3,
            rss_growth as f64 / 1024.0,
        );
        let found = b.hosts.iter().filter(|h| find(h)).count();
        eprintln!(
            "scale: {} routes, {} virtual hosts, {found}/{} lookups matched",
            b.n,
            listener.virtual_hosts.len(),
            b.hosts.len()
        );
    }
    // The target compares the largest size with the smallest, both timed in the same passes.
    if let (Some(small), Some(large)) = (medians.first(), medians.last()) {
        if large.0 > small.0 && small.1 > 0.0 && small.2 > 0.0 {
            println!(
                "\nlookup p99 at {} routes / at {}: {:.2}× (distinct hosts), {:.2}× (resident hosts)",
                large.0,
                small.0,
                large.1 / small.1,
                large.2 / small.2
            );
        }
    }
}
