//! The request path: load the table once, pick listener → virtual host → match entry, run
//! the rule's filters, draw a backend and an endpoint from the seeded streams, forward.
//! Every response is tagged with the stats series it counts in; the listener records it.

use super::filters::{self, RedirectSource};
use super::matcher::{host_matches, normalized_host, RequestView};
use super::pool;
use super::respond::{synthetic, Body, Synthetic};
use super::table::{Endpoint, EntrySeries, PortKey, PortTable, RouteTable, Rule, Target};
use super::tls::TlsInfo;
use super::upstream;
use crate::ir::{Cors, FilterIr, HeaderModifier};
use crate::sim::rng::pick_weighted;
use crate::stats::Series;
use arc_swap::ArcSwap;
use http::header::{HeaderName, CONNECTION, TE, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Hop-by-hop headers belong to the client connection, not the upstream one. Typed names
/// spare parsing and validating the strings on every request.
const HOP_BY_HOP: [HeaderName; 6] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    TRANSFER_ENCODING,
    UPGRADE,
    TE,
];

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

/// What the filters and the forwarder need to know about the request.
struct Ctx<'a> {
    scheme: &'static str,
    host: &'a str,
    raw_host: &'a str,
    /// The `Host` the upstream request carries unless a filter rewrites it.
    host_value: Option<&'a HeaderValue>,
    uri: &'a Uri,
    listener_port: u16,
    path: &'a str,
    query: Option<&'a str>,
    matched_prefix: Option<&'a str>,
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

    /// Serves one request that arrived on the socket for `key` and counts it in its stats
    /// series and the recent-requests log.
    pub async fn handle(
        &self,
        key: &PortKey,
        scheme: &'static str,
        req: Request<Incoming>,
    ) -> Response<Body> {
        let started = Instant::now();
        // One load: the whole request runs on this table even if a reload swaps in another.
        let table = self.current_table();
        let Some(port) = table.ports.get(key) else {
            return synthetic(Synthetic::NoRoute, "no listener on this address and port");
        };
        // The request is consumed by forwarding; what routing and the log need of it is kept
        // as reference-counted copies of hyper's buffers, not as new strings.
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
        let built;
        let host_value = match &header_host {
            Some(h) => Some(h),
            None => {
                built = HeaderValue::from_str(raw_host).ok();
                built.as_ref()
            }
        };
        let host = normalized_host(raw_host);
        let (resp, series) = self
            .route(port, key, scheme, req, &uri, raw_host, &host, host_value)
            .await;
        let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let status = resp.status().as_u16();
        series.record(status, us);
        let seen = super::reqlog::Seen {
            method: &method,
            host: raw_host,
            path: uri.path(),
        };
        self.requests.record(&seen, status, us, series);
        resp
    }

    #[allow(clippy::too_many_arguments)]
    async fn route<'t>(
        &self,
        port: &'t PortTable,
        key: &PortKey,
        scheme: &'static str,
        req: Request<Incoming>,
        uri: &Uri,
        raw_host: &str,
        host: &str,
        host_value: Option<&HeaderValue>,
    ) -> Tagged<'t> {
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
                return (
                    synthetic(
                        Synthetic::Misdirected,
                        "the request host belongs to another listener than the TLS server name",
                    ),
                    &port.unmatched,
                );
            }
        }
        let Some(listener) = picked.and_then(|i| port.listeners.get(i)) else {
            return unmatched("no listener hostname matches the request host");
        };
        let Some(vhost) = listener.virtual_host(host) else {
            return unmatched("no route serves this host");
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
            return unmatched("no rule matches the request");
        };
        let ctx = Ctx {
            scheme,
            host,
            raw_host,
            host_value,
            uri,
            listener_port: key.1,
            path,
            query,
            matched_prefix: entry.matcher.prefix(),
        };
        let rule = &entry.rule;
        let series = &entry.series;
        match rule.timeouts.request_ms {
            Some(ms) => {
                let limit = Duration::from_millis(ms);
                match tokio::time::timeout(limit, self.serve_rule(rule, series, &ctx, req)).await {
                    Ok(done) => done,
                    Err(_) => (
                        synthetic(Synthetic::Timeout, "request timeout exceeded"),
                        &series.rule,
                    ),
                }
            }
            None => self.serve_rule(rule, series, &ctx, req).await,
        }
    }

    async fn serve_rule<'s>(
        &self,
        rule: &Rule,
        series: &'s EntrySeries,
        ctx: &Ctx<'_>,
        mut req: Request<Incoming>,
    ) -> Tagged<'s> {
        let mut upstream_host: Option<String> = None;
        let mut upstream_path = Cow::Borrowed(ctx.path);
        let mut response_mods: Vec<&HeaderModifier> = Vec::new();
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
        let mut cors: Option<(&Cors, String)> = None;
        for f in &rule.filters {
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
                    return (filters::redirect(r, &src), &series.rule);
                }
                FilterIr::Unresolved { reason, .. } => {
                    return (synthetic(Synthetic::UnresolvedFilter, reason), &series.rule);
                }
                FilterIr::RequestHeaderModifier(m) => filters::modify_headers(req.headers_mut(), m),
                FilterIr::ResponseHeaderModifier(m) => response_mods.push(m),
                FilterIr::UrlRewrite(r) => {
                    let (h, p) = filters::rewrite(r, ctx.host, &upstream_path, ctx.matched_prefix);
                    upstream_host = h.or(upstream_host);
                    upstream_path = Cow::Owned(p);
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
                        return (resp, &series.rule);
                    }
                    if let Some(o) = allowed {
                        cors = Some((c, o.to_string()));
                    }
                }
                FilterIr::RequestMirror(_) => {}
            }
        }
        let n = rule.counter.fetch_add(1, Ordering::Relaxed);
        let Some(index) = pick_weighted(&rule.stream, n, &rule.weights) else {
            let resp = synthetic(
                Synthetic::InvalidBackend,
                "the rule has no backend with a weight above 0",
            );
            return (resp, &series.rule);
        };
        let (Some(backend), Some((endpoint_series, backend_series))) =
            (rule.backends.get(index), series.backends.get(index))
        else {
            return (
                synthetic(Synthetic::InvalidBackend, "the rule has no backends"),
                &series.rule,
            );
        };
        let (endpoints, h2c) = match &backend.target {
            Target::Invalid(reason) => {
                let detail = format!("{}: {reason}", backend.name);
                return (
                    synthetic(Synthetic::InvalidBackend, &detail),
                    backend_series,
                );
            }
            Target::Endpoints { endpoints, h2c } => (endpoints, *h2c),
        };
        let pick =
            usize::try_from(backend.endpoint_stream.below(n, endpoints.len() as u64)).unwrap_or(0);
        let (Some(endpoint), Some(used)) = (endpoints.get(pick), endpoint_series.get(pick)) else {
            let detail = format!("{} has no ready endpoint", backend.name);
            return (synthetic(Synthetic::NoEndpoint, &detail), backend_series);
        };
        for f in &backend.filters {
            match f {
                FilterIr::RequestHeaderModifier(m) => filters::modify_headers(req.headers_mut(), m),
                FilterIr::ResponseHeaderModifier(m) => response_mods.push(m),
                FilterIr::UrlRewrite(r) => {
                    let (h, p) = filters::rewrite(r, ctx.host, &upstream_path, ctx.matched_prefix);
                    upstream_host = h.or(upstream_host);
                    upstream_path = Cow::Owned(p);
                }
                FilterIr::Unresolved { reason, .. } => {
                    return (
                        synthetic(Synthetic::UnresolvedFilter, reason),
                        backend_series,
                    );
                }
                _ => {}
            }
        }
        // Unless a filter rewrote the path, the request's own path and query go upstream as
        // they came (a reference-counted copy, not a new string).
        let path_and_query = match (&upstream_path, ctx.uri.path_and_query()) {
            (Cow::Borrowed(_), Some(pq)) if pq.as_str().starts_with('/') => {
                PathAndQuery::Kept(pq.clone())
            }
            _ => {
                let query = ctx.query.map(|q| format!("?{q}")).unwrap_or_default();
                PathAndQuery::Built(format!("{upstream_path}{query}"))
            }
        };
        let (parts, body) = req.into_parts();
        let body = if rule.mirrors.is_empty() {
            body.boxed()
        } else {
            // Mirrors need their own copy of the body, so it is read once into memory.
            let bytes = match upstream::buffer(body.boxed()).await {
                Ok(b) => b,
                Err(e) => {
                    let detail = format!("the request body cannot be copied to the mirrors: {e}");
                    return (synthetic(Synthetic::BodyTooLarge, &detail), used);
                }
            };
            let mut headers = parts.headers.clone();
            for h in &HOP_BY_HOP {
                headers.remove(h);
            }
            let authority = upstream_host.as_deref().unwrap_or(ctx.raw_host);
            if let Ok(v) = HeaderValue::from_str(authority) {
                headers.insert(http::header::HOST, v);
            }
            let copy = upstream::MirrorCopy {
                method: &parts.method,
                path_and_query: path_and_query.as_str(),
                headers: &headers,
                body: &bytes,
            };
            upstream::mirror(&rule.mirrors, n, &copy, &self.http1, &self.h2c);
            upstream::body_of(bytes)
        };
        let req = Request::from_parts(parts, body);
        let target = Upstream {
            endpoint,
            h2c,
            path_and_query,
            host: upstream_host,
            timeout_ms: rule.timeouts.backend_request_ms,
        };
        let mut resp = self.forward(req, &target, ctx).await;
        for m in response_mods {
            filters::modify_headers(resp.headers_mut(), m);
        }
        if let Some((c, o)) = cors {
            filters::cors_headers(c, &o, None, resp.headers_mut());
        }
        (resp, used)
    }

    async fn forward(
        &self,
        req: Request<Body>,
        target: &Upstream<'_>,
        ctx: &Ctx<'_>,
    ) -> Response<Body> {
        let (mut parts, body) = req.into_parts();
        // HTTP/1 connections are per endpoint, so the request carries only the origin-form
        // path; the h2c client is keyed by the absolute URI's authority.
        let uri = match &target.path_and_query {
            _ if target.h2c => format!(
                "http://{}{}",
                target.endpoint.addr,
                target.path_and_query.as_str()
            )
            .parse::<Uri>(),
            PathAndQuery::Kept(pq) => Ok(Uri::from(pq.clone())),
            PathAndQuery::Built(s) => Uri::try_from(s.as_str()),
        };
        let Ok(uri) = uri else {
            return synthetic(
                Synthetic::UpstreamFailed,
                "the rewritten path is not a valid URI",
            );
        };
        parts.uri = uri;
        parts.version = if target.h2c {
            http::Version::HTTP_2
        } else {
            http::Version::HTTP_11
        };
        let host = match &target.host {
            Some(rewritten) => HeaderValue::from_str(rewritten).ok(),
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
        if !target.h2c && upstream::wants_upgrade(&parts.headers) {
            let client_side = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
            for h in ["keep-alive", "proxy-connection", "transfer-encoding", "te"] {
                parts.headers.remove(h);
            }
            let upstream = Request::from_parts(parts, body);
            return upstream::upgrade(upstream, client_side, target.endpoint).await;
        }
        for h in &HOP_BY_HOP {
            parts.headers.remove(h);
        }
        let upstream = Request::from_parts(parts, body);
        let call = async {
            if target.h2c {
                let resp = self.h2c.request(upstream).await;
                resp.map(|r| r.map(|b| b.boxed()))
                    .map_err(|e| e.to_string())
            } else {
                pool::send(target.endpoint.addr, upstream)
                    .await
                    .map_err(|e| e.to_string())
            }
        };
        let result = match target.timeout_ms {
            Some(ms) => match tokio::time::timeout(Duration::from_millis(ms), call).await {
                Ok(r) => r,
                Err(_) => return synthetic(Synthetic::Timeout, "backend request timeout exceeded"),
            },
            None => call.await,
        };
        match result {
            Ok(resp) => resp,
            Err(e) => {
                let detail = format!("{} ({}): {e}", target.endpoint.pod, target.endpoint.addr);
                synthetic(Synthetic::UpstreamFailed, &detail)
            }
        }
    }
}

/// Where and how one request is forwarded.
struct Upstream<'a> {
    endpoint: &'a Endpoint,
    h2c: bool,
    path_and_query: PathAndQuery,
    host: Option<String>,
    timeout_ms: Option<u64>,
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
