//! The less common ways a request leaves the proxy: fire-and-forget copies for RequestMirror
//! filters, and HTTP/1.1 upgrades (WebSocket) tunnelled byte for byte to the pod.

use super::respond::{full, synthetic, Body, Synthetic};
use super::table::{Endpoint, MirrorTarget};
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::upgrade::OnUpgrade;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;

/// The largest request body the proxy buffers to copy it to mirrors; a rule with mirrors
/// answers 413 to a larger one rather than hold an unbounded body in memory.
pub const MAX_MIRRORED_BODY: usize = 1 << 20;

/// A mirrored copy gets this long before it is dropped, so a stuck mirror backend cannot
/// pile up tasks.
const MIRROR_TIMEOUT: Duration = Duration::from_secs(10);

/// What a mirrored copy repeats of the request, as it leaves the filters.
pub struct MirrorCopy<'a> {
    pub method: &'a http::Method,
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
}

/// Sends the `n`-th request's copies: each mirror draws whether this request is in its
/// share (parts per million) and which endpoint gets it, from its own seeded stream.
pub fn mirror(
    targets: &[MirrorTarget],
    n: u64,
    copy: &MirrorCopy<'_>,
    http1: &Client<HttpConnector, Body>,
    h2c: &Client<HttpConnector, Body>,
) {
    for t in targets {
        let Some(endpoint) = pick(t, n) else {
            continue;
        };
        let Ok(uri) =
            format!("http://{}{}", endpoint.addr, copy.path_and_query).parse::<http::Uri>()
        else {
            continue;
        };
        let mut req = Request::new(full(copy.body.clone()));
        *req.method_mut() = copy.method.clone();
        *req.uri_mut() = uri;
        *req.headers_mut() = copy.headers.clone();
        if t.h2c {
            *req.version_mut() = http::Version::HTTP_2;
        }
        let call = if t.h2c {
            h2c.request(req)
        } else {
            http1.request(req)
        };
        tokio::spawn(async move {
            // The answer is thrown away; reading it to the end lets the connection be reused.
            if let Ok(Ok(resp)) = tokio::time::timeout(MIRROR_TIMEOUT, call).await {
                let _ = resp.into_body().collect().await;
            }
        });
    }
}

/// The endpoint that gets the `n`-th request's copy, if this request is in the mirror's
/// share: even draws decide the share, odd draws the endpoint.
pub fn pick(t: &MirrorTarget, n: u64) -> Option<&Endpoint> {
    if t.endpoints.is_empty() || t.stream.below(2 * n, 1_000_000) >= u64::from(t.ppm) {
        return None;
    }
    let i = t.stream.below(2 * n + 1, t.endpoints.len() as u64);
    usize::try_from(i).ok().and_then(|i| t.endpoints.get(i))
}

/// Reads a request body into memory when it is small enough to mirror.
pub async fn buffer(body: Body) -> Result<Bytes, String> {
    let limited = http_body_util::Limited::new(body, MAX_MIRRORED_BODY);
    limited
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| e.to_string())
}

/// Whether an HTTP/1.1 request asks to switch protocols (`Connection: upgrade` + `Upgrade`).
pub fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(http::header::UPGRADE)
        && headers
            .get_all(http::header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// Sends an upgrade request on its own connection to the pod; on `101 Switching Protocols`
/// splices the client's upgraded connection to the pod's until either side closes.
pub async fn upgrade(
    upstream: Request<Body>,
    client_side: Option<OnUpgrade>,
    endpoint: &Endpoint,
) -> Response<Body> {
    let failed = |e: String| {
        synthetic(
            Synthetic::UpstreamFailed,
            &format!("{} ({}): {e}", endpoint.pod, endpoint.addr),
        )
    };
    let Some(client_side) = client_side else {
        return failed("the client connection cannot be upgraded".into());
    };
    let stream = match TcpStream::connect(endpoint.addr).await {
        Ok(s) => s,
        Err(e) => return failed(e.to_string()),
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    {
        Ok(x) => x,
        Err(e) => return failed(e.to_string()),
    };
    tokio::spawn(conn.with_upgrades());
    let mut resp = match sender.send_request(upstream).await {
        Ok(r) => r,
        Err(e) => return failed(e.to_string()),
    };
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        let pod_side = hyper::upgrade::on(&mut resp);
        tokio::spawn(async move {
            if let (Ok(a), Ok(b)) = (client_side.await, pod_side.await) {
                let _ =
                    tokio::io::copy_bidirectional(&mut TokioIo::new(a), &mut TokioIo::new(b)).await;
            }
        });
    }
    resp.map(Body::Incoming)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(ppm: u32, seed: u64) -> MirrorTarget {
        let endpoint = |port| Endpoint {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            pod: format!("pod-{port}"),
        };
        MirrorTarget {
            name: "ns/mirror:8080".into(),
            endpoints: vec![endpoint(1), endpoint(2)],
            h2c: false,
            ppm,
            stream: crate::sim::rng::Stream::new(seed, "rule/mirror/0"),
        }
    }

    #[test]
    fn mirror_share_follows_the_fraction_and_the_seed() {
        let all = target(1_000_000, 1);
        assert!((0..1000).all(|n| pick(&all, n).is_some()));
        let none = target(0, 1);
        assert!((0..1000).all(|n| pick(&none, n).is_none()));
        let half = target(500_000, 1);
        let picked: Vec<Option<String>> = (0..10_000)
            .map(|n| pick(&half, n).map(|e| e.pod.clone()))
            .collect();
        let share = picked.iter().filter(|p| p.is_some()).count() as f64 / 10_000.0;
        assert!((share - 0.5).abs() < 0.02, "share {share}");
        let both = picked.iter().flatten().any(|p| p == "pod-1")
            && picked.iter().flatten().any(|p| p == "pod-2");
        assert!(both, "copies spread over the endpoints");
        let again: Vec<Option<String>> = (0..10_000)
            .map(|n| pick(&target(500_000, 1), n).map(|e| e.pod.clone()))
            .collect();
        assert_eq!(picked, again, "same seed, same copies");
    }

    #[test]
    fn upgrade_needs_both_headers() {
        let mut h = HeaderMap::new();
        h.insert("upgrade", "websocket".parse().expect("value"));
        assert!(!wants_upgrade(&h));
        h.insert("connection", "keep-alive, Upgrade".parse().expect("value"));
        assert!(wants_upgrade(&h));
    }
}
