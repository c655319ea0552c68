//! The request path: load the table once, pick listener → virtual host → match entry, run
//! the rule's filters, draw a backend and an endpoint from the seeded streams, forward.

use super::filters::{self, RedirectSource};
use super::matcher::{host_matches, normalize_host, RequestView};
use super::respond::{synthetic, Body, Synthetic};
use super::table::{Endpoint, PortKey, RouteTable, Rule, Target};
use crate::ir::FilterIr;
use crate::sim::rng::pick_weighted;
use arc_swap::ArcSwap;
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Shared by every listener: the current table and the upstream clients.
pub struct Proxy {
    pub table: ArcSwap<RouteTable>,
    http1: Client<HttpConnector, Body>,
    h2c: Client<HttpConnector, Body>,
}

impl Default for Proxy {
    fn default() -> Self {
        Proxy::new()
    }
}

impl Proxy {
    pub fn new() -> Proxy {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Proxy {
            table: ArcSwap::from_pointee(RouteTable::default()),
            http1: Client::builder(TokioExecutor::new()).build(connector.clone()),
            h2c: Client::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector),
        }
    }

    /// Serves one request that arrived on the socket for `key`.
    pub async fn handle(
        &self,
        key: &PortKey,
        scheme: &str,
        req: Request<Incoming>,
    ) -> Response<Body> {
        // One load: the whole request runs on this table even if a reload swaps in another.
        let table = self.table.load_full();
        let Some(port) = table.ports.get(key) else {
            return synthetic(Synthetic::NoRoute, "no listener on this address and port");
        };
        let raw_host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let host = normalize_host(&raw_host);
        let Some(listener) = port
            .listeners
            .iter()
            .find(|l| l.hostname.as_deref().is_none_or(|h| host_matches(h, &host)))
        else {
            return synthetic(
                Synthetic::NoRoute,
                "no listener hostname matches the request host",
            );
        };
        let Some(vhost) = listener
            .virtual_hosts
            .iter()
            .find(|v| host_matches(&v.pattern, &host))
        else {
            return synthetic(Synthetic::NoRoute, "no route serves this host");
        };
        let path = req.uri().path().to_string();
        let query = req.uri().query().map(str::to_string);
        let view = RequestView {
            path: &path,
            query: query.as_deref(),
            method: req.method(),
            headers: req.headers(),
        };
        let Some(entry) = vhost.entries.iter().find(|e| e.matcher.matches(&view)) else {
            return synthetic(Synthetic::NoRoute, "no rule matches the request");
        };
        let rule = entry.rule.clone();
        let ctx = Ctx {
            scheme,
            host: &host,
            raw_host: &raw_host,
            listener_port: key.1,
            path: &path,
            query: query.as_deref(),
            matched_prefix: entry.matcher.prefix(),
        };
        match rule.timeouts.request_ms {
            Some(ms) => match tokio::time::timeout(
                Duration::from_millis(ms),
                self.serve_rule(&rule, &ctx, req),
            )
            .await
            {
                Ok(resp) => resp,
                Err(_) => synthetic(Synthetic::Timeout, "request timeout exceeded"),
            },
            None => self.serve_rule(&rule, &ctx, req).await,
        }
    }

    async fn serve_rule(
        &self,
        rule: &Rule,
        ctx: &Ctx<'_>,
        mut req: Request<Incoming>,
    ) -> Response<Body> {
        let mut upstream_host: Option<String> = None;
        let mut upstream_path = ctx.path.to_string();
        let mut response_mods = Vec::new();
        let origin = req
            .headers()
            .get(http::header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .map(str::to_string);
        let mut cors = None;
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
                    return filters::redirect(r, &src);
                }
                FilterIr::Unresolved { reason, .. } => {
                    return synthetic(Synthetic::UnresolvedFilter, reason)
                }
                FilterIr::RequestHeaderModifier(m) => filters::modify_headers(req.headers_mut(), m),
                FilterIr::ResponseHeaderModifier(m) => response_mods.push(m.clone()),
                FilterIr::UrlRewrite(r) => {
                    let (h, p) = filters::rewrite(r, ctx.host, &upstream_path, ctx.matched_prefix);
                    upstream_host = h.or(upstream_host);
                    upstream_path = p;
                }
                FilterIr::Cors(c) => {
                    if let Some(o) = origin
                        .as_deref()
                        .filter(|o| filters::cors_origin_allowed(c, o))
                    {
                        let preflight = req.method() == http::Method::OPTIONS
                            && req.headers().contains_key("access-control-request-method");
                        if preflight {
                            let mut resp = Response::new(super::respond::empty());
                            filters::cors_headers(c, o, true, resp.headers_mut());
                            return resp;
                        }
                        cors = Some((c.clone(), o.to_string()));
                    }
                }
                FilterIr::RequestMirror(_) => {}
            }
        }
        let n = rule.counter.fetch_add(1, Ordering::Relaxed);
        let Some(index) = pick_weighted(&rule.stream, n, &rule.weights) else {
            return synthetic(
                Synthetic::InvalidBackend,
                "the rule has no backend with a weight above 0",
            );
        };
        let Some(backend) = rule.backends.get(index) else {
            return synthetic(Synthetic::InvalidBackend, "the rule has no backends");
        };
        let (endpoints, h2c) = match &backend.target {
            Target::Invalid(reason) => {
                return synthetic(
                    Synthetic::InvalidBackend,
                    &format!("{}: {reason}", backend.name),
                )
            }
            Target::Endpoints { endpoints, h2c } => (endpoints, *h2c),
        };
        if endpoints.is_empty() {
            return synthetic(
                Synthetic::NoEndpoint,
                &format!("{} has no ready endpoint", backend.name),
            );
        }
        let pick = backend.endpoint_stream.below(n, endpoints.len() as u64);
        let Some(endpoint) = usize::try_from(pick).ok().and_then(|i| endpoints.get(i)) else {
            return synthetic(
                Synthetic::NoEndpoint,
                &format!("{} has no ready endpoint", backend.name),
            );
        };
        for f in &backend.filters {
            match f {
                FilterIr::RequestHeaderModifier(m) => filters::modify_headers(req.headers_mut(), m),
                FilterIr::ResponseHeaderModifier(m) => response_mods.push(m.clone()),
                FilterIr::UrlRewrite(r) => {
                    let (h, p) = filters::rewrite(r, ctx.host, &upstream_path, ctx.matched_prefix);
                    upstream_host = h.or(upstream_host);
                    upstream_path = p;
                }
                FilterIr::Unresolved { reason, .. } => {
                    return synthetic(Synthetic::UnresolvedFilter, reason)
                }
                _ => {}
            }
        }
        let query = ctx.query.map(|q| format!("?{q}")).unwrap_or_default();
        let mut resp = self
            .forward(
                req,
                endpoint,
                h2c,
                &format!("{upstream_path}{query}"),
                upstream_host.as_deref(),
                ctx,
                rule.timeouts.backend_request_ms,
            )
            .await;
        for m in &response_mods {
            filters::modify_headers(resp.headers_mut(), m);
        }
        if let Some((c, o)) = cors {
            filters::cors_headers(&c, &o, false, resp.headers_mut());
        }
        resp
    }

    #[allow(clippy::too_many_arguments)]
    async fn forward(
        &self,
        req: Request<Incoming>,
        endpoint: &Endpoint,
        h2c: bool,
        path_and_query: &str,
        host: Option<&str>,
        ctx: &Ctx<'_>,
        backend_timeout_ms: Option<u64>,
    ) -> Response<Body> {
        let (mut parts, body) = req.into_parts();
        let Ok(uri) = format!("http://{}{path_and_query}", endpoint.addr).parse::<Uri>() else {
            return synthetic(
                Synthetic::UpstreamFailed,
                "the rewritten path is not a valid URI",
            );
        };
        parts.uri = uri;
        parts.version = if h2c {
            http::Version::HTTP_2
        } else {
            http::Version::HTTP_11
        };
        let authority = host
            .map(str::to_string)
            .unwrap_or_else(|| ctx.raw_host.to_string());
        if let Ok(v) = HeaderValue::from_str(&authority) {
            parts.headers.insert(http::header::HOST, v);
        }
        if let Ok(v) = HeaderValue::from_str(ctx.scheme) {
            parts.headers.insert("x-forwarded-proto", v);
        }
        // Hop-by-hop headers belong to the client connection, not the upstream one.
        for h in [
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "upgrade",
            "te",
        ] {
            parts.headers.remove(h);
        }
        let upstream = Request::from_parts(parts, body.boxed());
        let client = if h2c { &self.h2c } else { &self.http1 };
        let call = client.request(upstream);
        let result = match backend_timeout_ms {
            Some(ms) => match tokio::time::timeout(Duration::from_millis(ms), call).await {
                Ok(r) => r,
                Err(_) => return synthetic(Synthetic::Timeout, "backend request timeout exceeded"),
            },
            None => call.await,
        };
        match result {
            Ok(resp) => resp.map(|b| b.boxed()),
            Err(e) => synthetic(
                Synthetic::UpstreamFailed,
                &format!("{} ({}): {e}", endpoint.pod, endpoint.addr),
            ),
        }
    }
}

struct Ctx<'a> {
    scheme: &'a str,
    host: &'a str,
    raw_host: &'a str,
    listener_port: u16,
    path: &'a str,
    query: Option<&'a str>,
    matched_prefix: Option<&'a str>,
}
