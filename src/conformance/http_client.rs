//! The runner's client side: where a target Gateway listens, and one request over a fresh
//! connection (keep-alives off, as upstream), HTTP/1.1 or h2c with prior knowledge, either
//! over TLS for HTTPS steps, plus
//! the websocket dial.

use super::case::{Target, WsExchange};
use super::tls_client::TlsTarget;
use crate::model::Body;
use crate::runtime::sim::Sim;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Upstream gives each request 10 s; gwsim answers in milliseconds, but the timeout cases
/// ask the echo server for a 1 s delay, so a few seconds is the useful bound.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// What a client meets on a Gateway port no programmed listener serves.
pub const REFUSED: &str = "connection refused: no programmed listener serves this port";

/// A resolved target: the socket gwsim serves it on, and the authority the case's requests
/// would have used against the Gateway's own address and declared port.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `None` when no programmed listener serves the port: a client is refused there.
    pub socket: Option<SocketAddr>,
    /// `address` or `address:port` (the port dropped when it is the scheme's default).
    pub authority: String,
}

/// Finds the socket and authority for a target.
pub fn resolve(sim: &Sim, target: &Target, scheme: &str) -> Result<Endpoint, String> {
    let (ns, name) = target
        .gateway
        .split_once('/')
        .ok_or_else(|| format!("target gateway `{}` is not namespace/name", target.gateway))?;
    let object = sim
        .pass()
        .store
        .get(crate::model::Kind::Gateway, ns, name)
        .ok_or_else(|| format!("Gateway {} does not exist", target.gateway))?;
    let Body::Gateway(g) = &object.body else {
        return Err(format!("{} is not a Gateway", target.gateway));
    };
    let port = match (target.port, &target.listener) {
        (Some(p), _) => p,
        (None, Some(l)) => g
            .spec
            .listeners
            .iter()
            .find(|x| &x.name == l)
            .and_then(|x| u16::try_from(x.port).ok())
            .ok_or_else(|| format!("Gateway {} has no listener {l}", target.gateway))?,
        (None, None) => g
            .spec
            .listeners
            .first()
            .and_then(|x| u16::try_from(x.port).ok())
            .ok_or_else(|| format!("Gateway {} has no listeners", target.gateway))?,
    };
    let socket = sim.address(&target.gateway, port);
    let ip = sim
        .translation()
        .routing
        .ports
        .iter()
        .find(|p| p.gateway == target.gateway)
        .map(|p| p.address.clone())
        .or_else(|| socket.map(|s| s.ip().to_string()))
        .unwrap_or_default();
    let default = if scheme == "https" { 443 } else { 80 };
    let authority = if port == default {
        ip
    } else {
        format!("{ip}:{port}")
    };
    Ok(Endpoint { socket, authority })
}

/// What came back.
#[derive(Clone, Debug)]
pub struct Captured {
    pub status: u16,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub protocol: &'static str,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// One request to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub method: String,
    /// Path and query, sent verbatim.
    pub path: String,
    pub host: String,
    pub headers: Vec<(String, String)>,
    /// HTTP/2: with prior knowledge in cleartext, or over TLS (ALPN offers only `h2`).
    pub h2c: bool,
    /// `Some` for `scheme: https`.
    pub tls: Option<TlsTarget>,
}

/// Sends one request over a new connection.
pub async fn send(socket: Option<SocketAddr>, out: &Outgoing) -> Result<Captured, String> {
    let socket = socket.ok_or(REFUSED)?;
    match tokio::time::timeout(REQUEST_TIMEOUT, send_inner(socket, out)).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {REQUEST_TIMEOUT:?}")),
    }
}

async fn send_inner(socket: SocketAddr, out: &Outgoing) -> Result<Captured, String> {
    let stream = TcpStream::connect(socket)
        .await
        .map_err(|e| format!("connect {socket}: {e}"))?;
    match &out.tls {
        None => exchange(TokioIo::new(stream), out).await,
        Some(target) => {
            let stream = super::tls_client::connect(stream, target).await?;
            exchange(TokioIo::new(stream), out).await
        }
    }
}

async fn exchange<I>(io: I, out: &Outgoing) -> Result<Captured, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let method = http::Method::from_bytes(out.method.as_bytes())
        .map_err(|e| format!("method {}: {e}", out.method))?;
    let mut builder = http::Request::builder().method(method);
    builder = if out.h2c {
        // HTTP/2 carries the authority in the URI (`:authority`), not in a Host header.
        builder
            .uri(format!(
                "{}://{}{}",
                if out.tls.is_some() { "https" } else { "http" },
                out.host,
                out.path
            ))
            .version(http::Version::HTTP_2)
    } else {
        builder
            .uri(out.path.as_str())
            .header(http::header::HOST, &out.host)
    };
    for (k, v) in &out.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let req = builder
        .body(Full::new(Bytes::new()))
        .map_err(|e| format!("bad request: {e}"))?;
    let resp = if out.h2c {
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| format!("h2c handshake: {e}"))?;
        tokio::spawn(conn);
        sender
            .send_request(req)
            .await
            .map_err(|e| format!("request failed: {e}"))?
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(conn);
        sender
            .send_request(req)
            .await
            .map_err(|e| format!("request failed: {e}"))?
    };
    let status = resp.status().as_u16();
    let protocol = match resp.version() {
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
        .to_bytes();
    Ok(Captured {
        status,
        protocol,
        headers,
        body,
    })
}

/// Dials `path` as a websocket through the gateway and runs the exchange.
pub async fn websocket(
    socket: SocketAddr,
    host: &str,
    path: &str,
    origin: &str,
    exchange: &[WsExchange],
) -> Result<(), String> {
    let run = async {
        let stream = TcpStream::connect(socket)
            .await
            .map_err(|e| format!("connect {socket}: {e}"))?;
        let request = http::Request::builder()
            .uri(format!("ws://{host}{path}"))
            .header(http::header::HOST, host)
            .header(http::header::ORIGIN, origin)
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header(
                "sec-websocket-key",
                tokio_tungstenite::tungstenite::handshake::client::generate_key(),
            )
            .body(())
            .map_err(|e| format!("bad websocket request: {e}"))?;
        let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
            .await
            .map_err(|e| format!("websocket handshake: {e}"))?;
        for (i, x) in exchange.iter().enumerate() {
            let (send, expect) = match (&x.send_text, &x.send_binary_hex) {
                (Some(t), _) => (
                    Message::text(t.clone()),
                    x.expect_text.clone().map(Message::text),
                ),
                (None, Some(h)) => (
                    Message::binary(hex(h)?),
                    x.expect_binary_hex
                        .as_deref()
                        .map(hex)
                        .transpose()?
                        .map(Message::binary),
                ),
                (None, None) => continue,
            };
            ws.send(send)
                .await
                .map_err(|e| format!("message {i}: send failed: {e}"))?;
            let Some(expect) = expect else { continue };
            let got = loop {
                match ws.next().await {
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(m)) => break m,
                    Some(Err(e)) => return Err(format!("message {i}: {e}")),
                    None => return Err(format!("message {i}: the connection closed")),
                }
            };
            if got != expect {
                return Err(format!("message {i}: expected {expect:?}, got {got:?}"));
            }
        }
        let _ = ws.close(None).await;
        Ok(())
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, run).await {
        Ok(r) => r,
        Err(_) => Err(format!("websocket exchange took over {REQUEST_TIMEOUT:?}")),
    }
}

fn hex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("`{text}` is not hex"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| format!("`{text}` is not hex"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_decodes() {
        assert_eq!(super::hex("0102ff"), Ok(vec![1, 2, 255]));
        assert!(super::hex("0").is_err());
        assert!(super::hex("zz").is_err());
    }
}
