//! The floor a bare hyper proxy of gwsim's design reaches on this machine: `htpcloc2` of
//! `bench/HYPER-FEASIBILITY.md` (a `current_thread` runtime and `SO_REUSEPORT` listener per worker,
//! a hand-rolled per-thread upstream pool). It does that probe's per-request work and nothing more
//! (no logs, stats or timeouts), so the benchmark can tell the design's cost from gwsim's features.

use std::cell::RefCell;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use foldhash::fast::RandomState;
use http::header::{self, HeaderMap, HeaderName};
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1 as client;
use hyper::server::conn::http1 as server;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::net::{TcpListener, TcpStream};

/// Real send attempts per request before giving up; dead pooled connections are not counted, so a
/// pool full of connections the origin closed while idle cannot exhaust this.
const MAX_ATTEMPTS: u32 = 8;
/// Idle senders kept per upstream and thread; more only hold sockets the load no longer needs.
const MAX_IDLE: usize = 256;
const SEED: u64 = 0x6777_7369_6d00_0001;

static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

type Sender = client::SendRequest<Incoming>;
type Reply = Result<Response<Either<Pooled, Full<Bytes>>>, Infallible>;

struct Route {
    upstreams: Box<[(SocketAddr, u32)]>,
    total: u64,
    rng: Mutex<ChaCha8Rng>,
}

impl Route {
    fn new(upstreams: &[(SocketAddr, u32)], seed: u64) -> Arc<Self> {
        Arc::new(Route {
            upstreams: upstreams.into(),
            total: upstreams.iter().map(|&(_, w)| u64::from(w)).sum(),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
        })
    }

    fn pick(&self) -> SocketAddr {
        let ups = &*self.upstreams;
        if let [(only, _)] = ups {
            return *only;
        }
        // A poisoned lock only means another request panicked mid-draw; the generator is still valid.
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        let draw = rng.next_u64();
        drop(rng);
        // Multiply-shift maps the draw onto [0, total) without division or floats.
        let mut x = ((u128::from(draw) * u128::from(self.total)) >> 64) as u64;
        for &(addr, w) in ups {
            if x < u64::from(w) {
                return addr;
            }
            x -= u64::from(w);
        }
        // Unreachable as x < total; the last upstream keeps the function total all the same.
        ups[ups.len() - 1].0
    }
}

struct Table {
    hosts: HashMap<Box<str>, Arc<Route>, RandomState>,
    default: Arc<Route>,
}

impl Table {
    fn route(&self, host: Option<&[u8]>) -> &Route {
        let host = host.and_then(|h| std::str::from_utf8(h).ok()).unwrap_or("");
        // A colon after the last `]` separates the port; inside brackets it belongs to IPv6.
        let host = match host.rfind(':') {
            Some(i) if !host[i..].contains(']') => &host[..i],
            _ => host,
        };
        let found = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            self.hosts.get(host.to_ascii_lowercase().as_str())
        } else {
            self.hosts.get(host)
        };
        found.unwrap_or(&self.default)
    }
}

thread_local! {
    static POOL: RefCell<HashMap<SocketAddr, Vec<Sender>, RandomState>> =
        RefCell::new(HashMap::default());
}

/// The most recently used connection first: it is the one most likely still open.
fn checkout(addr: SocketAddr) -> Option<Sender> {
    POOL.with_borrow_mut(|p| {
        let idle = p.get_mut(&addr)?;
        // Closed senders are dropped here for free: they never cost a send attempt.
        std::iter::from_fn(|| idle.pop()).find(|s| !s.is_closed())
    })
}

async fn connect(addr: SocketAddr) -> Option<Sender> {
    let stream = TcpStream::connect(addr).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, conn) = client::handshake(TokioIo::new(stream)).await.ok()?;
    // Same current_thread runtime: the connection's I/O never hops threads.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Some(sender)
}

/// Upstream response body that hands its connection back to this thread's pool once the body has
/// been read to its end; the connection cannot take another request before that.
struct Pooled {
    body: Incoming,
    slot: Option<(SocketAddr, Sender)>,
}

impl Pooled {
    fn release(&mut self) {
        let Some((addr, sender)) = self.slot.take() else {
            return;
        };
        POOL.with_borrow_mut(|p| {
            let idle = p.entry(addr).or_default();
            if idle.len() < MAX_IDLE && !sender.is_closed() {
                idle.push(sender);
            }
        });
    }
}

impl Body for Pooled {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            // hyper's server stops polling once `is_end_stream()` turns true, so the last data
            // frame of a sized body is the end: `None` never comes.
            Poll::Ready(None) => self.release(),
            Poll::Ready(Some(Ok(_))) if self.body.is_end_stream() => self.release(),
            // A half-read response leaves the connection unusable.
            Poll::Ready(Some(Err(_))) => self.slot = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

fn strip_hop(h: &mut HeaderMap) {
    // The names `Connection` lists are read before it goes. The first value is kept apart so the
    // usual single `Connection` header costs no allocation.
    let mut values = h.get_all(header::CONNECTION).iter();
    if let Some(first) = values.next().cloned() {
        let more: Vec<_> = values.cloned().collect();
        h.remove(header::CONNECTION);
        for v in std::iter::once(&first).chain(&more) {
            for name in v.to_str().unwrap_or("").split(',') {
                let name = name.trim();
                if !name.is_empty() {
                    h.remove(name);
                }
            }
        }
    }
    h.remove(header::TE);
    h.remove(header::TRAILER);
    h.remove(header::TRANSFER_ENCODING);
    h.remove(header::UPGRADE);
    h.remove(header::PROXY_AUTHORIZATION);
    h.remove(&KEEP_ALIVE);
    h.remove(&PROXY_CONNECTION);
}

fn bad_gateway() -> Reply {
    let mut resp = Response::new(Either::Right(Full::from("bad gateway\n")));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    Ok(resp)
}

async fn handle(table: &ArcSwap<Table>, extra: Extra, mut req: Request<Incoming>) -> Reply {
    if !extra.spin.is_zero() {
        burn(extra.spin);
    }
    if extra.touch_kb > 0 {
        touch(extra.touch_kb);
    }
    if extra.code_kb > 0 {
        run_code(extra.code_kb);
    }
    let addr = {
        let host = req.headers().get(header::HOST).map(|v| v.as_bytes());
        table.load().route(host).pick()
    };
    strip_hop(req.headers_mut());
    // Absolute-form (a client taking us for a forward proxy) goes upstream as origin-form.
    let uri = req.uri();
    if let Some(pq) = uri.authority().and(uri.path_and_query()).cloned() {
        *req.uri_mut() = pq.into();
    }

    let mut attempts = 0;
    while attempts < MAX_ATTEMPTS {
        let (mut sender, fresh) = match checkout(addr) {
            Some(s) => (s, false),
            None => match connect(addr).await {
                Some(s) => (s, true),
                None => return bad_gateway(),
            },
        };
        if sender.ready().await.is_err() {
            // A pooled connection that died is free to skip; a fresh one that fails must count,
            // or an origin that accepts and closes would loop forever.
            attempts += u32::from(fresh);
            continue;
        }
        attempts += 1;
        match sender.try_send_request(req).await {
            Ok(resp) => {
                let (mut parts, body) = resp.into_parts();
                strip_hop(&mut parts.headers);
                let mut body = Pooled {
                    body,
                    slot: Some((addr, sender)),
                };
                // hyper never polls a body that is already at its end (empty, 204, HEAD).
                if body.is_end_stream() {
                    body.release();
                }
                return Ok(Response::from_parts(parts, Either::Left(body)));
            }
            Err(mut e) => match e.take_message() {
                Some(unsent) => req = unsent,
                None => return bad_gateway(),
            },
        }
    }
    bad_gateway()
}

/// Work added to every request, for diagnosis only (both 0 by default): what a slower proxy
/// costs beyond its own extra work, such as the kernel's share of waking its peers.
#[derive(Clone, Copy)]
struct Extra {
    /// `--spin-ns`: busy time that touches no memory.
    spin: Duration,
    /// `--touch-kb`: one byte written in every cache line of a buffer this large, which takes
    /// cache lines from the kernel's as a larger request path would.
    touch_kb: usize,
    /// `--code-kb`: this many KB of distinct code run per request, which takes instruction
    /// cache lines from the kernel's as a larger body of request-path code would.
    code_kb: usize,
}

/// Defines one function per name, each 1 KB of 4-byte no-ops (the name in a comment keeps
/// them distinct, so the compiler cannot fold them into one), and the table of them.
macro_rules! code_blocks {
    ($($name:ident)*) => {
        $(
            #[inline(never)]
            fn $name() {
                // SAFETY: no-ops only; they touch no register, memory or flag. Elsewhere than
                // on x86-64 the knob does nothing.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    std::arch::asm!(
                        concat!("/* ", stringify!($name), " */"),
                        ".rept 256",
                        // `nopl 0x0(%rax)` with its 8-bit displacement: 4 bytes.
                        ".byte 0x0f, 0x1f, 0x40, 0x00",
                        ".endr",
                        options(att_syntax, nomem, nostack, preserves_flags)
                    );
                }
            }
        )*
        const CODE_BLOCKS: &[fn()] = &[$($name),*];
    };
}

code_blocks!(
    c00 c01 c02 c03 c04 c05 c06 c07 c08 c09 c10 c11 c12 c13 c14 c15
    c16 c17 c18 c19 c20 c21 c22 c23 c24 c25 c26 c27 c28 c29 c30 c31
    c32 c33 c34 c35 c36 c37 c38 c39 c40 c41 c42 c43 c44 c45 c46 c47
    c48 c49 c50 c51 c52 c53 c54 c55 c56 c57 c58 c59 c60 c61 c62 c63
);

/// Runs `kb` of the code blocks (at most 64).
#[inline(never)]
fn run_code(kb: usize) {
    for block in CODE_BLOCKS.iter().take(kb) {
        std::hint::black_box(block)();
    }
}

thread_local! {
    static TOUCHED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

#[inline(never)]
fn touch(kb: usize) {
    TOUCHED.with(|b| {
        let mut b = b.borrow_mut();
        b.resize(kb * 1024, 0);
        for i in (0..b.len()).step_by(64) {
            if let Some(x) = b.get_mut(i) {
                *x = std::hint::black_box(x.wrapping_add(1));
            }
        }
    });
}

/// Keeps the CPU busy for `d`.
#[inline(never)]
fn burn(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn bind(addr: SocketAddr, reuse_port: bool) -> std::net::TcpListener {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .expect("create listener socket");
    socket.set_reuse_address(true).expect("SO_REUSEADDR");
    if reuse_port {
        socket.set_reuse_port(true).expect("SO_REUSEPORT");
    }
    // Accepted sockets inherit it on Linux; the accept loop sets it again to be portable.
    socket.set_tcp_nodelay(true).expect("TCP_NODELAY");
    socket.set_nonblocking(true).expect("O_NONBLOCK");
    socket.bind(&addr.into()).expect("bind the listen address");
    socket.listen(4096).expect("listen");
    socket.into()
}

fn worker(listener: std::net::TcpListener, table: &'static ArcSwap<Table>, extra: Extra) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = TcpListener::from_std(listener).expect("register listener");
        let mut http = server::Builder::new();
        http.keep_alive(true).header_read_timeout(None);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                // e.g. EMFILE: let the connections in flight finish and free descriptors.
                tokio::task::yield_now().await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let http = http.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| handle(table, extra, req));
                let _ = http.serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
}

fn parse_args() -> Result<(SocketAddr, usize, Extra), String> {
    let (mut listen, mut workers) = (None, 1);
    let mut extra = Extra {
        spin: Duration::ZERO,
        touch_kb: 0,
        code_kb: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{arg} {value}: {e}");
        match arg.as_str() {
            "--listen" => listen = Some(value.parse().map_err(|e| bad(&e))?),
            "--workers" => workers = value.parse::<NonZeroUsize>().map_err(|e| bad(&e))?.get(),
            "--spin-ns" => extra.spin = Duration::from_nanos(value.parse().map_err(|e| bad(&e))?),
            "--touch-kb" => extra.touch_kb = value.parse().map_err(|e| bad(&e))?,
            "--code-kb" => extra.code_kb = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    Ok((listen.ok_or("--listen is required")?, workers, extra))
}

fn main() {
    let (listen, workers, extra) = parse_args().unwrap_or_else(|e| {
        eprintln!(
            "hyper-floor: {e}\nusage: hyper-floor --listen ADDR:PORT [--workers N] [--spin-ns N] [--touch-kb N] [--code-kb N]"
        );
        std::process::exit(2);
    });
    let up = |port| SocketAddr::from(([127, 0, 0, 1], port));
    let split = Route::new(&[(up(18081), 90), (up(18082), 10)], SEED);
    let hosts = HashMap::from_iter([("split.example.com".into(), split)]);
    let default = Route::new(&[(up(18081), 1)], SEED + 1);
    // Lives as long as the process; a `'static` borrow saves a refcount per request.
    let table: &ArcSwap<_> = Box::leak(Box::new(ArcSwap::from_pointee(Table { hosts, default })));

    // All listeners are bound before any worker starts, so a bind failure stops start-up at once.
    let listeners: Vec<_> = (0..workers).map(|_| bind(listen, workers > 1)).collect();
    let threads: Vec<_> = (listeners.into_iter())
        .map(|l| std::thread::spawn(move || worker(l, table, extra)))
        .collect();
    // Workers only return by panicking; one gone is reason enough to stop.
    for t in threads {
        if t.join().is_err() {
            std::process::exit(1);
        }
    }
}
