//! The request path: load the table once, pick listener → virtual host → match entry, run
//! the rule's filters, draw a backend and an endpoint from the seeded streams, forward.
//! Every response is tagged with the stats series it counts in; the listener records it.

use super::filters::{self, RedirectSource};
use super::hop::HopByHop;
use super::matcher::{host_matches, normalized_host, RequestView};
use super::pool;
use super::respond::{synthetic, Body, Synthetic};
use super::table::{Endpoint, EntrySeries, PortKey, PortTable, RouteTable, Rule, Target};
use super::tls::TlsInfo;
use super::upstream;
use crate::ir::{Cors, FilterIr, HeaderModifier, RetryIr};
use crate::sim::rng::pick_weighted;
use crate::stats::Series;
use arc_swap::ArcSwap;
use http::header::{HeaderName, CONNECTION, UPGRADE};
use http::{HeaderValue, Request, Response, Uri};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

thread_local! {
    /// The table this thread's requests last ran on (see `Proxy::current_table`). It keeps
    /// that table alive until the thread's next request after a swap; with several proxies
    /// in one process (tests) they take turns in it, which costs a refresh, not correctness.
    static THREAD_TABLE: RefCell<Option<Arc<ThreadTable>>> = const { RefCell::new(None) };
}

/// One thread's reference to a table: its own allocation, so the count it carries is written
/// by that thread only.
struct ThreadTable(Arc<RouteTable>);

impl std::ops::Deref for ThreadTable {
    type Target = RouteTable;
    fn deref(&self) -> &RouteTable {
        &self.0
    }
}

/// Shared by every listener: the current table and the upstream clients.
pub struct Proxy {
    pub table: ArcSwap<RouteTable>,
    /// Recent requests, for the dashboards.
    pub requests: Arc<super::reqlog::RequestLog>,
    http1: Client<HttpConnector, Body>,
    h2c: Client<HttpConnector, Body>,
}

impl Default for Proxy {
    fn default() -> Self {
        Proxy::new()
    }
}

/// A listener worker's own handle on the proxy and the port its socket serves: connections
/// and requests clone it, and its reference count is written by that worker only.
pub struct PortCtx {
    pub proxy: Arc<Proxy>,
    pub key: Arc<PortKey>,
    /// Set when the listener stops: its connections close after the answer in flight.
    pub closing: Arc<AtomicBool>,
}

impl PortCtx {
    /// While the listener stops, an HTTP/1.x answer says that the connection closes after
    /// it, so that a client does not send its next request on a connection going away
    /// (RFC 9112, 9.6). HTTP/2 says so with GOAWAY instead, and a 101 keeps its upgrade.
    fn last_if_closing(&self, http1: bool, mut resp: Response<Body>) -> Response<Body> {
        if http1
            && self.closing.load(Ordering::Relaxed)
            && resp.status() != http::StatusCode::SWITCHING_PROTOCOLS
        {
            resp.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

/// What the filters and the forwarder need to know about the request.
struct Ctx<'a> {
    scheme: &'static str,
    host: &'a str,
    /// The `Host` the upstream request carries unless a filter rewrites it.
    host_value: Option<&'a HeaderValue>,
    /// Whether `host_value` is the request's own `Host` header (not its URI's authority).
    host_is_header: bool,
    uri: &'a Uri,
    listener_port: u16,
    path: &'a str,
    query: Option<&'a str>,
    matched_prefix: Option<&'a str>,
}

/// What the rare ways to send give: the pod's answer (or why there is none), or `Err` when
/// the backend timeout expired first.
type RareSend<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<Result<Response<Body>, SendFailure>, tokio::time::error::Elapsed>,
            > + Send
            + 'a,
    >,
>;

/// Why a pod gave no answer.
struct SendFailure {
    /// No connection was made, so nothing was sent: trying again is safe.
    before_sending: bool,
    detail: String,
}

impl From<pool::SendError> for SendFailure {
    fn from(e: pool::SendError) -> Self {
        SendFailure {
            before_sending: matches!(e, pool::SendError::Connect(_)),
            detail: e.to_string(),
        }
    }
}

impl From<hyper_util::client::legacy::Error> for SendFailure {
    fn from(e: hyper_util::client::legacy::Error) -> Self {
        SendFailure {
            before_sending: e.is_connect(),
            detail: e.to_string(),
        }
    }
}

/// A response and the stats series it counts in.
type Tagged<'s> = (Response<Body>, &'s Arc<Series>);

impl Proxy {
    pub fn new() -> Proxy {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Proxy {
            table: ArcSwap::from_pointee(RouteTable::default()),
            requests: Arc::default(),
            http1: Client::builder(TokioExecutor::new()).build(connector.clone()),
            h2c: Client::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector),
        }
    }

    /// The live table, through this thread's own handle on it. Cloning the table's `Arc`
    /// itself would write its reference count, a cache line every worker shares, twice per
    /// request; the per-thread outer `Arc` is written by this worker only. The pointer
    /// comparison picks up a swapped table on the next request, and a request in flight keeps
    /// the table it started with alive through its clone.
    fn current_table(&self) -> Arc<ThreadTable> {
        let live = self.table.load();
        let cached = THREAD_TABLE
            .try_with(|slot| {
                let mut slot = slot.try_borrow_mut().ok()?;
                match &*slot {
                    Some(t) if Arc::ptr_eq(&t.0, &*live) => Some(t.clone()),
                    _ => {
                        let t = Arc::new(ThreadTable(Arc::clone(&live)));
                        *slot = Some(t.clone());
                        Some(t)
                    }
                }
            })
            .ok()
            .flatten();
        cached.unwrap_or_else(|| Arc::new(ThreadTable(arc_swap::Guard::into_inner(live))))
    }

    /// Serves one request that arrived on `port`'s socket and counts it in its stats series
    /// and the recent-requests log. The future it returns is the whole of what hyper keeps
    /// per request, moved into the connection for every request, so it is kept small: no
    /// wrapper around it, an `async` block rather than an `async fn` (which would hold every
    /// argument twice), and what only routing needs scoped to end before the first wait.
    #[allow(clippy::manual_async_fn)] // on purpose, see above
    pub fn serve(
        port: Arc<PortCtx>,
        scheme: &'static str,
        req: Request<Incoming>,
    ) -> impl std::future::Future<Output = Result<Response<Body>, std::convert::Infallible>> {
        async move {
            let started = Instant::now();
            let http1 = req.version() <= http::Version::HTTP_11;
            let (proxy, key) = (&*port.proxy, &*port.key);
            // One load: the whole request runs on this table even if a reload swaps in another.
            let table = proxy.current_table();
            let Some(port_table) = table.ports.get(key) else {
                let resp = synthetic(Synthetic::NoRoute, "no listener on this address and port");
                return Ok(port.last_if_closing(http1, resp));
            };
            // The request is consumed by forwarding; what the log needs of it is kept as
            // reference-counted copies of hyper's buffers, not as new strings.
            let method = req.method().clone();
            let uri = req.uri().clone();
            let header_host = req
                .headers()
                .get(http::header::HOST)
                .filter(|h| h.to_str().is_ok())
                .cloned();
            let raw_host = match &header_host {
                Some(h) => h.to_str().unwrap_or_default(),
                None => uri.authority().map_or("", |a| a.as_str()),
            };
            let routed = {
                let built;
                let host_value = match &header_host {
                    Some(h) => Some(h),
                    None => {
                        built = HeaderValue::from_str(raw_host).ok();
                        built.as_ref()
                    }
                };
                let host = normalized_host(raw_host);
                let host_is_header = header_host.is_some();
                proxy.route(
                    port_table,
                    key,
                    scheme,
                    req,
                    &uri,
                    &host,
                    host_value,
                    host_is_header,
                )
            };
            let prepared = match routed {
                Routed::Answered((resp, series)) => {
                    proxy.account(started, &method, raw_host, uri.path(), &resp, series);
                    return Ok(port.last_if_closing(http1, resp));
                }
                Routed::Forward(prepared) => prepared,
            };
            let (resp, series) = match prepared.rule.timeouts.request_ms {
                Some(ms) => proxy.exchange_within(prepared, ms).await,
                None => {
                    let used = prepared.used;
                    (proxy.exchange(prepared).await, used)
                }
            };
            proxy.account(started, &method, raw_host, uri.path(), &resp, series);
            Ok(port.last_if_closing(http1, resp))
        }
    }

    /// Counts an answered request in its stats series and the recent-requests log.
    fn account(
        &self,
        started: Instant,
        method: &http::Method,
        host: &str,
        path: &str,
        resp: &Response<Body>,
        series: &Arc<Series>,
    ) {
        let ended = Instant::now();
        let us = u64::try_from(ended.duration_since(started).as_micros()).unwrap_or(u64::MAX);
        let status = resp.status().as_u16();
        // Only a retried answer carries extensions gwsim put there; it counts in the series
        // of the endpoint that gave it.
        let (series, retries) = match resp.extensions().get::<Retried>() {
            Some(r) => (&r.series, r.tries),
            None => (series, 0),
        };
        series.record(status, us);
        let seen = super::reqlog::Seen {
            method,
            host,
            path,
            retries,
        };
        self.requests.record(&seen, status, us, series, ended);
    }

    /// Picks the listener, virtual host and rule for the request (no I/O).
    #[allow(clippy::too_many_arguments)]
    fn route<'t>(
        &self,
        port: &'t PortTable,
        key: &PortKey,
        scheme: &'static str,
        req: Request<Incoming>,
        uri: &Uri,
        host: &str,
        host_value: Option<&HeaderValue>,
        host_is_header: bool,
    ) -> Routed<'t> {
        let unmatched = |detail: &str| (synthetic(Synthetic::NoRoute, detail), &port.unmatched);
        let picked = port
            .listeners
            .iter()
            .position(|l| l.hostname.as_deref().is_none_or(|h| host_matches(h, host)));
        // Over TLS the connection belongs to the listener its server name chose; a request
        // for a host of another listener must go over a connection of its own.
        if let Some(tls) = req.extensions().get::<TlsInfo>() {
            let by_sni = crate::tls::server::pick(
                port.listeners.iter().map(|l| l.hostname.as_deref()),
                tls.sni.as_deref(),
            );
            if by_sni != picked {
                return Routed::Answered((
                    synthetic(
                        Synthetic::Misdirected,
                        "the request host belongs to another listener than the TLS server name",
                    ),
                    &port.unmatched,
                ));
            }
        }
        let Some(listener) = picked.and_then(|i| port.listeners.get(i)) else {
            return Routed::Answered(unmatched("no listener hostname matches the request host"));
        };
        let Some(vhost) = listener.virtual_host(host) else {
            return Routed::Answered(unmatched("no route serves this host"));
        };
        let path = uri.path();
        let query = uri.query();
        let view = RequestView {
            path,
            query,
            method: req.method(),
            headers: req.headers(),
        };
        let Some(entry) = vhost.entries.iter().find(|e| e.matcher.matches(&view)) else {
            return Routed::Answered(unmatched("no rule matches the request"));
        };
        let ctx = Ctx {
            scheme,
            host,
            host_value,
            host_is_header,
            uri,
            listener_port: key.1,
            path,
            query,
            matched_prefix: entry.matcher.prefix(),
        };
        prepare(&entry.rule, &entry.series, &ctx, req)
    }

    /// The exchange of a rule with a request timeout, boxed: such rules are rare, and the
    /// timer inline would make every request's future larger.
    fn exchange_within<'a>(
        &'a self,
        p: Prepared<'a>,
        ms: u64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Tagged<'a>> + Send + 'a>> {
        let (used, rule_series) = (p.used, &p.entry.rule);
        Box::pin(async move {
            match tokio::time::timeout(Duration::from_millis(ms), self.exchange(p)).await {
                Ok(resp) => (resp, used),
                Err(_) => (
                    synthetic(Synthetic::Timeout, "request timeout exceeded"),
                    rule_series,
                ),
            }
        })
    }

    /// Sends a prepared request: to the mirrors, then to the pod, and applies the
    /// response-side filters. The part of a request that waits, in one `async` block for the
    /// reasons [`Proxy::serve`] gives; the rare ways to send are boxed.
    #[allow(clippy::manual_async_fn)] // on purpose, see `serve`
    fn exchange<'a>(
        &'a self,
        mut p: Prepared<'a>,
    ) -> impl std::future::Future<Output = Response<Body>> + 'a {
        async move {
            if p.mirror {
                let mirrored = Box::pin(self.mirror(&mut p)).await;
                if let Err(resp) = mirrored {
                    return resp;
                }
            }
            if let (Some(retry), Via::Pool | Via::Unpooled(Unpooled::H2c)) = (&p.rule.retry, &p.via)
            {
                // A body that cannot be kept for the tries (over the limit, or of unknown
                // length) goes once, without retries, as Envoy does past its buffer limit.
                if http_body::Body::size_hint(p.req.body())
                    .upper()
                    .is_some_and(|n| n <= upstream::MAX_MIRRORED_BODY as u64)
                {
                    return Box::pin(self.exchange_retrying(p, retry)).await;
                }
            }
            // The pooled path is awaited right here, not in a nested block: every level a
            // future is nested in adds a copy of it per request.
            let result = match (p.via, p.backend_timeout_ms) {
                (Via::Pool, None) => pool::send(p.endpoint.addr, p.req)
                    .await
                    .map_err(SendFailure::from),
                (via, timeout_ms) => match self.send_rare(via, p.req, p.endpoint, timeout_ms).await
                {
                    Ok(r) => r,
                    Err(_) => {
                        return synthetic(Synthetic::Timeout, "backend request timeout exceeded")
                    }
                },
            };
            // Edited in place: passing the response by value would copy it twice.
            match result {
                Ok(mut resp) => {
                    answer(&mut resp, p.response_mods, p.cors);
                    resp
                }
                Err(e) => {
                    let detail = format!("{} ({}): {}", p.endpoint.pod, p.endpoint.addr, e.detail);
                    synthetic(Synthetic::UpstreamFailed, &detail)
                }
            }
        }
    }

    /// The exchange of a rule with a retry policy: the body is kept in memory so that each
    /// try sends it again, and a try is repeated, after the backoff, when the pod answers
    /// one of the policy's codes, cannot be connected to, or exceeds the backend timeout.
    /// A connection that fails after the request went out is not retried: the pod may have
    /// acted on it. The last try's outcome is the answer.
    async fn exchange_retrying(&self, mut p: Prepared<'_>, retry: &RetryIr) -> Response<Body> {
        let body = std::mem::replace(p.req.body_mut(), super::respond::empty());
        let bytes = match upstream::buffer(body).await {
            Ok(b) => b,
            Err(e) => {
                let detail = format!("the request body cannot be kept for retries: {e}");
                return synthetic(Synthetic::BodyTooLarge, &detail);
            }
        };
        let siblings = siblings(&p);
        let h2c = matches!(p.via, Via::Unpooled(Unpooled::H2c));
        let (mut endpoint, mut series) = (p.endpoint, p.used);
        let mut tries = 0;
        let outcome = loop {
            let mut req = Request::new(super::respond::full(bytes.clone()));
            *req.method_mut() = p.req.method().clone();
            *req.uri_mut() = p.req.uri().clone();
            if h2c && !std::ptr::eq(endpoint, p.endpoint) {
                // The h2c client picks its connection by the URI's authority.
                let uri = format!("http://{}{}", endpoint.addr, p.path_and_query.as_str());
                if let Ok(uri) = uri.parse() {
                    *req.uri_mut() = uri;
                }
            }
            *req.version_mut() = p.req.version();
            *req.headers_mut() = p.req.headers().clone();
            let via = if h2c {
                Via::Unpooled(Unpooled::H2c)
            } else {
                Via::Pool
            };
            let outcome = self
                .send_rare(via, req, endpoint, p.backend_timeout_ms)
                .await;
            let again = match &outcome {
                Ok(Ok(resp)) => retry.codes.contains(&resp.status().as_u16()),
                Ok(Err(e)) => e.before_sending,
                Err(_) => true,
            };
            if !again || tries >= retry.attempts {
                break outcome;
            }
            series.add_retry();
            tries += 1;
            // Each retry goes to the backend's next endpoint, as a proxy's load balancer
            // would move away from a pod that failed; with one endpoint, to the same one.
            if let Some(sib) = &siblings {
                let next = (sib.drawn + tries as usize) % sib.endpoints.len().max(1);
                if let (Some(e), Some(s)) = (sib.endpoints.get(next), sib.series.get(next)) {
                    (endpoint, series) = (e, s);
                }
            }
            drop(outcome);
            tokio::time::sleep(retry.backoff(tries)).await;
        };
        let mut resp = match outcome {
            Ok(Ok(mut resp)) => {
                answer(&mut resp, p.response_mods, p.cors);
                resp
            }
            Ok(Err(e)) => {
                let detail = format!("{} ({}): {}", endpoint.pod, endpoint.addr, e.detail);
                synthetic(Synthetic::UpstreamFailed, &detail)
            }
            Err(_) => synthetic(Synthetic::Timeout, "backend request timeout exceeded"),
        };
        if tries > 0 {
            resp.extensions_mut().insert(Retried {
                tries,
                series: series.clone(),
            });
        }
        resp
    }

    /// Sends with a backend timeout, over h2c or as an upgrade: boxed behind a trait object,
    /// so neither the timer nor these paths' code is inlined into the pooled HTTP/1.1 path
    /// every other request takes; each try of a retried exchange goes through here too.
    /// `Err` when the timeout expired.
    fn send_rare<'a>(
        &'a self,
        via: Via,
        req: Request<Body>,
        endpoint: &'a Endpoint,
        timeout_ms: Option<u64>,
    ) -> RareSend<'a> {
        Box::pin(async move {
            let send = async move {
                match via {
                    Via::Pool => pool::send(endpoint.addr, req)
                        .await
                        .map_err(SendFailure::from),
                    Via::Unpooled(Unpooled::H2c) => self
                        .h2c
                        .request(req)
                        .await
                        .map(|r| r.map(Body::Incoming))
                        .map_err(SendFailure::from),
                    // The pod's 101 or refusal is the answer; it is never a pooled exchange.
                    Via::Unpooled(Unpooled::Upgrade(client_side)) => {
                        Ok(upstream::upgrade(req, client_side, endpoint).await)
                    }
                }
            };
            match timeout_ms {
                Some(ms) => tokio::time::timeout(Duration::from_millis(ms), send).await,
                None => Ok(send.await),
            }
        })
    }

    /// Reads the request body once into memory and sends the rule's mirrors their copies;
    /// the request then goes on with the buffered body.
    async fn mirror(&self, p: &mut Prepared<'_>) -> Result<(), Response<Body>> {
        let body = std::mem::replace(p.req.body_mut(), super::respond::empty());
        let bytes = match upstream::buffer(body).await {
            Ok(b) => b,
            Err(e) => {
                let detail = format!("the request body cannot be copied to the mirrors: {e}");
                return Err(synthetic(Synthetic::BodyTooLarge, &detail));
            }
        };
        // The mirrors get the request as the pod does, less what only the pod's copy carries.
        let mut headers = p.req.headers().clone();
        headers.remove(X_FORWARDED_PROTO);
        HopByHop::of(&headers).strip(&mut headers, false);
        let copy = upstream::MirrorCopy {
            method: p.req.method(),
            path_and_query: p.path_and_query.as_str(),
            headers: &headers,
            body: &bytes,
        };
        upstream::mirror(&p.rule.mirrors, p.n, &copy, &self.http1, &self.h2c);
        *p.req.body_mut() = super::respond::full(bytes);
        Ok(())
    }
}

/// A pod's answer as the client gets it: hop-by-hop headers dropped, the rule's response
/// filters applied.
fn answer(
    resp: &mut Response<Body>,
    response_mods: Vec<&HeaderModifier>,
    cors: Option<(&Cors, String)>,
) {
    // A 101's `Connection` and `Upgrade` are the client's answer to its upgrade.
    if resp.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        HopByHop::of(resp.headers()).strip(resp.headers_mut(), false);
    }
    for m in response_mods {
        filters::modify_headers(resp.headers_mut(), m);
    }
    if let Some((c, o)) = cors {
        filters::cors_headers(c, &o, None, resp.headers_mut());
    }
}

/// How many tries a retry policy repeated for an answer, and the series of the endpoint
/// that gave it (a retry may move to another endpoint than the one drawn).
#[derive(Clone, Debug)]
struct Retried {
    tries: u32,
    series: Arc<Series>,
}

/// The endpoints of the backend a request drew, with their series.
struct Siblings<'t> {
    endpoints: &'t [Endpoint],
    series: &'t [Arc<Series>],
    /// The drawn endpoint's place among them.
    drawn: usize,
}

/// Only retries need the drawn endpoint's siblings, so they are looked up here rather than
/// carried by every request.
fn siblings<'t>(p: &Prepared<'t>) -> Option<Siblings<'t>> {
    p.rule
        .backends
        .iter()
        .zip(&p.entry.backends)
        .find_map(|(b, (series, _))| match &b.target {
            Target::Endpoints { endpoints, .. } => endpoints
                .iter()
                .position(|e| std::ptr::eq(e, p.endpoint))
                .map(|drawn| Siblings {
                    endpoints,
                    series,
                    drawn,
                }),
            Target::Invalid(_) => None,
        })
}

/// What routing and the filters made of a request. Not boxed: `Forward` is the common case,
/// and boxing it would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
enum Routed<'t> {
    /// gwsim answers it itself (no route, a redirect, no backend...).
    Answered(Tagged<'t>),
    Forward(Prepared<'t>),
}

/// A request routed, filtered and ready to go to its pod.
struct Prepared<'t> {
    req: Request<Body>,
    rule: &'t Rule,
    /// The rule's draw this request got (mirrors draw from it too).
    n: u64,
    endpoint: &'t Endpoint,
    via: Via,
    path_and_query: PathAndQuery,
    mirror: bool,
    response_mods: Vec<&'t HeaderModifier>,
    cors: Option<(&'t Cors, String)>,
    backend_timeout_ms: Option<u64>,
    /// The series the answer counts in.
    used: &'t Arc<Series>,
    /// The entry's series: its `rule` series counts an answer the rule gives itself (a
    /// request timeout); a retry finds the other endpoints' series here.
    entry: &'t EntrySeries,
}

/// How the request reaches the pod.
enum Via {
    /// A pooled HTTP/1.1 connection of this worker.
    Pool,
    Unpooled(Unpooled),
}

/// The ways a request goes to its pod without the pool.
enum Unpooled {
    H2c,
    /// A connection of its own that becomes a tunnel when the pod switches protocols; with
    /// the client side's pending upgrade.
    Upgrade(Option<hyper::upgrade::OnUpgrade>),
}

/// What the filters have made of the request so far.
struct Filtered<'s, 'c> {
    rewritten: Rewritten<'c>,
    response_mods: Vec<&'s HeaderModifier>,
    /// Whether a modifier touched the request headers.
    headers_modified: bool,
    cors: Option<(&'s Cors, String)>,
}

impl<'s> Filtered<'s, '_> {
    /// Applies one of the filters rules and backends share (header modifiers, URL rewrite);
    /// `false` for any other.
    fn apply_modifier(
        &mut self,
        f: &'s FilterIr,
        ctx: &Ctx<'_>,
        req: &mut Request<Incoming>,
    ) -> bool {
        match f {
            FilterIr::RequestHeaderModifier(m) => {
                filters::modify_headers(req.headers_mut(), m);
                self.headers_modified = true;
            }
            FilterIr::ResponseHeaderModifier(m) => self.response_mods.push(m),
            FilterIr::UrlRewrite(r) => self.rewritten.apply(r, ctx),
            _ => return false,
        }
        true
    }
}

/// Runs a rule's filters. Out of line, and only called for a rule that has filters: most
/// rules have none, and the request path's code stays smaller without them in it.
#[inline(never)]
fn rule_filters<'s>(
    rule: &'s Rule,
    series: &'s EntrySeries,
    ctx: &Ctx<'_>,
    req: &mut Request<Incoming>,
    done: &mut Filtered<'s, '_>,
) -> Option<Tagged<'s>> {
    // Read before any filter runs, as a header modifier may change it; only a rule with
    // a CORS filter needs it.
    let origin = rule
        .filters
        .iter()
        .any(|f| matches!(f, FilterIr::Cors(_)))
        .then(|| {
            req.headers()
                .get(http::header::ORIGIN)
                .and_then(|o| o.to_str().ok())
                .map(str::to_string)
        })
        .flatten();
    for f in &rule.filters {
        if done.apply_modifier(f, ctx, req) {
            continue;
        }
        match f {
            FilterIr::RequestRedirect(r) => {
                let src = RedirectSource {
                    scheme: ctx.scheme,
                    host: ctx.host,
                    listener_port: ctx.listener_port,
                    path: ctx.path,
                    query: ctx.query,
                    matched_prefix: ctx.matched_prefix,
                };
                return Some((filters::redirect(r, &src), &series.rule));
            }
            FilterIr::Unresolved { reason, .. } => {
                return Some((synthetic(Synthetic::UnresolvedFilter, reason), &series.rule));
            }
            FilterIr::Cors(c) => {
                let allowed = origin
                    .as_deref()
                    .filter(|o| filters::cors_origin_allowed(c, o));
                // A preflight is the gateway's to answer, allowed or not: the backend
                // never sees it, and a refused origin gets no CORS headers.
                let preflight = origin.is_some()
                    && req.method() == http::Method::OPTIONS
                    && req.headers().contains_key("access-control-request-method");
                if preflight {
                    let mut resp = Response::new(super::respond::empty());
                    *resp.status_mut() = http::StatusCode::NO_CONTENT;
                    if let Some(o) = allowed {
                        let asked = filters::CorsAsked::of(req.headers());
                        filters::cors_headers(c, o, Some(&asked), resp.headers_mut());
                    }
                    return Some((resp, &series.rule));
                }
                if let Some(o) = allowed {
                    done.cors = Some((c, o.to_string()));
                }
            }
            // The modifiers were applied above; mirrors are sent by the exchange.
            FilterIr::RequestHeaderModifier(_)
            | FilterIr::ResponseHeaderModifier(_)
            | FilterIr::UrlRewrite(_)
            | FilterIr::RequestMirror(_) => {}
        }
    }
    None
}

/// Runs a backend's own filters (out of line, as [`rule_filters`]); `Some` is an answer
/// that ends the request.
#[inline(never)]
fn backend_filters<'s>(
    filters_of_backend: &'s [FilterIr],
    ctx: &Ctx<'_>,
    req: &mut Request<Incoming>,
    done: &mut Filtered<'s, '_>,
) -> Option<Response<Body>> {
    for f in filters_of_backend {
        if done.apply_modifier(f, ctx, req) {
            continue;
        }
        if let FilterIr::Unresolved { reason, .. } = f {
            return Some(synthetic(Synthetic::UnresolvedFilter, reason));
        }
    }
    None
}

/// Runs the rule's filters, draws a backend and an endpoint, and builds the upstream request
/// (no I/O). A filter or a missing backend may answer the request itself.
fn prepare<'s>(
    rule: &'s Rule,
    series: &'s EntrySeries,
    ctx: &Ctx<'_>,
    mut req: Request<Incoming>,
) -> Routed<'s> {
    let mut done = Filtered {
        rewritten: Rewritten {
            host: None,
            path: Cow::Borrowed(ctx.path),
        },
        response_mods: Vec::new(),
        headers_modified: false,
        cors: None,
    };
    if !rule.filters.is_empty() {
        if let Some(answer) = rule_filters(rule, series, ctx, &mut req, &mut done) {
            return Routed::Answered(answer);
        }
    }
    let n = rule.counter.fetch_add(1, Ordering::Relaxed);
    let Some(index) = pick_weighted(&rule.stream, n, &rule.weights) else {
        let resp = synthetic(
            Synthetic::InvalidBackend,
            "the rule has no backend with a weight above 0",
        );
        return Routed::Answered((resp, &series.rule));
    };
    let (Some(backend), Some((endpoint_series, backend_series))) =
        (rule.backends.get(index), series.backends.get(index))
    else {
        return Routed::Answered((
            synthetic(Synthetic::InvalidBackend, "the rule has no backends"),
            &series.rule,
        ));
    };
    let (endpoints, h2c) = match &backend.target {
        Target::Invalid(reason) => {
            let detail = format!("{}: {reason}", backend.name);
            return Routed::Answered((
                synthetic(Synthetic::InvalidBackend, &detail),
                backend_series,
            ));
        }
        Target::Endpoints { endpoints, h2c } => (endpoints, *h2c),
    };
    let pick =
        usize::try_from(backend.endpoint_stream.below(n, endpoints.len() as u64)).unwrap_or(0);
    let (Some(endpoint), Some(used)) = (endpoints.get(pick), endpoint_series.get(pick)) else {
        let detail = format!("{} has no ready endpoint", backend.name);
        return Routed::Answered((synthetic(Synthetic::NoEndpoint, &detail), backend_series));
    };
    if !backend.filters.is_empty() {
        if let Some(resp) = backend_filters(&backend.filters, ctx, &mut req, &mut done) {
            return Routed::Answered((resp, backend_series));
        }
    }
    // Unless a filter rewrote the path, the request's own path and query go upstream as
    // they came (a reference-counted copy, not a new string).
    let Filtered {
        rewritten:
            Rewritten {
                host: upstream_host,
                path: upstream_path,
            },
        response_mods,
        headers_modified,
        cors,
    } = done;
    let path_and_query = match (&upstream_path, ctx.uri.path_and_query()) {
        (Cow::Borrowed(_), Some(pq)) if pq.as_str().starts_with('/') => {
            PathAndQuery::Kept(pq.clone())
        }
        _ => {
            let query = ctx.query.map(|q| format!("?{q}")).unwrap_or_default();
            PathAndQuery::Built(format!("{upstream_path}{query}"))
        }
    };
    let (mut parts, body) = req.into_parts();
    // HTTP/1 connections are per endpoint, so the request carries only the origin-form
    // path; the h2c client is keyed by the absolute URI's authority.
    let uri = match &path_and_query {
        _ if h2c => format!("http://{}{}", endpoint.addr, path_and_query.as_str()).parse::<Uri>(),
        PathAndQuery::Kept(pq) => Ok(Uri::from(pq.clone())),
        PathAndQuery::Built(s) => Uri::try_from(s.as_str()),
    };
    let Ok(uri) = uri else {
        let resp = synthetic(
            Synthetic::UpstreamFailed,
            "the rewritten path is not a valid URI",
        );
        return Routed::Answered((resp, used));
    };
    parts.uri = uri;
    parts.version = if h2c {
        http::Version::HTTP_2
    } else {
        http::Version::HTTP_11
    };
    // The client's own Host header goes up as it came unless a filter touched the headers
    // (a modifier cannot change the upstream Host; only a rewrite can).
    let host = match &upstream_host {
        Some(rewritten) => HeaderValue::from_str(rewritten).ok(),
        None if ctx.host_is_header && !headers_modified => None,
        None => ctx.host_value.cloned(),
    };
    if let Some(v) = host {
        parts.headers.insert(http::header::HOST, v);
    }
    parts
        .headers
        .insert(X_FORWARDED_PROTO, HeaderValue::from_static(ctx.scheme));
    // An upgrade (WebSocket) keeps its Connection and Upgrade headers and gets a
    // connection of its own, which becomes the tunnel once the pod switches protocols.
    let hop = HopByHop::of(&parts.headers);
    let upgrade = !h2c && hop.has(&UPGRADE) && upstream::wants_upgrade(&parts.headers);
    hop.strip(&mut parts.headers, upgrade);
    let via = if h2c {
        Via::Unpooled(Unpooled::H2c)
    } else if upgrade {
        let client_side = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
        Via::Unpooled(Unpooled::Upgrade(client_side))
    } else {
        Via::Pool
    };
    Routed::Forward(Prepared {
        req: Request::from_parts(parts, Body::Incoming(body)),
        rule,
        n,
        endpoint,
        via,
        path_and_query,
        mirror: !rule.mirrors.is_empty(),
        response_mods,
        cors,
        backend_timeout_ms: rule.timeouts.backend_request_ms,
        used,
        entry: series,
    })
}

/// The upstream host and path as the URL rewrites so far leave them.
struct Rewritten<'a> {
    host: Option<String>,
    path: Cow<'a, str>,
}

impl Rewritten<'_> {
    fn apply(&mut self, r: &crate::ir::Rewrite, ctx: &Ctx<'_>) {
        let (host, path) = filters::rewrite(r, ctx.host, &self.path, ctx.matched_prefix);
        self.host = host.or(self.host.take());
        self.path = Cow::Owned(path);
    }
}

/// The upstream request's path and query: the client's own, or rebuilt after a rewrite.
enum PathAndQuery {
    Kept(http::uri::PathAndQuery),
    Built(String),
}

impl PathAndQuery {
    fn as_str(&self) -> &str {
        match self {
            PathAndQuery::Kept(pq) => pq.as_str(),
            PathAndQuery::Built(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn future_size<F>(_: &F) -> usize {
        std::mem::size_of::<F>()
    }

    fn future_size_of<F>(_: fn(Arc<PortCtx>, &'static str, Request<Incoming>) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// hyper moves each request's future into its connection's slot, and every level of
    /// nesting copies the future it awaits into its own state: a large request future is
    /// copied a few times per request and spreads over more cache lines. Rare paths (new
    /// connections, timeouts, mirrors, h2c, upgrades) are boxed and the hot levels are
    /// `async` blocks (an `async fn` holds its arguments twice); this keeps both in place.
    #[test]
    fn request_future_stays_small() {
        let mut req = Request::new(super::super::respond::empty());
        *req.uri_mut() = Uri::from_static("/");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 1));
        let send = pool::send(addr, req);
        // A request with an `Incoming` body cannot be built outside hyper; the future's type
        // is the same whatever the request, so its size is read from the function's type.
        let handle_size = future_size_of(Proxy::serve);
        eprintln!(
            "future sizes: handle {handle_size}, pool::send {}",
            future_size(&send)
        );
        // 2,328 and 784 bytes when written (3,856 and 1,136 with `async fn`s and the
        // request timer inline; over 5 KB before the rare paths were boxed).
        assert!(
            handle_size <= 2560,
            "the request future is {handle_size} bytes"
        );
        assert!(
            future_size(&send) <= 896,
            "pool::send is {} bytes",
            future_size(&send)
        );
    }
}
