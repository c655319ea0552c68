//! The client side of the admin API, for `gwsim get` and `gwsim wait`: finding the instance
//! of a folder, fetching JSON, and reading the event stream.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client as HyperClient};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::path::Path;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No `--server` and no readable `.gwsim/instance.json` in the folder.
    #[error(
        "no running gwsim found for {dir} (start one with `gwsim up {dir}`, or pass --server URL)"
    )]
    NoInstance { dir: String },
    /// The URL could not be parsed.
    #[error("invalid server URL {0}")]
    BadUrl(String),
    /// Nothing answered at the URL (a `gwsim up` that has stopped, typically).
    #[error("cannot reach gwsim at {url} (is `gwsim up` still running?): {reason}")]
    Unreachable { url: String, reason: String },
    /// The server answered with an error status.
    #[error("{message}")]
    Status { status: u16, message: String },
    /// The answer was not the JSON expected.
    #[error("unexpected answer from {url}: {reason}")]
    Decode { url: String, reason: String },
}

/// The admin URL to talk to: `--server`, else the instance file of `dir`.
pub fn locate(dir: &Path, server: Option<&str>) -> Result<String, ClientError> {
    if let Some(url) = server {
        return Ok(url.trim_end_matches('/').to_string());
    }
    super::instance::read(dir)
        .map(|i| i.admin_url.trim_end_matches('/').to_string())
        .ok_or_else(|| ClientError::NoInstance {
            dir: dir.display().to_string(),
        })
}

/// A client bound to one admin URL.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: HyperClient<HttpConnector, Empty<Bytes>>,
}

impl Client {
    /// A client for `base` (`http://127.0.0.1:PORT`).
    pub fn new(base: &str) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            http: HyperClient::builder(TokioExecutor::new()).build_http(),
        }
    }

    async fn request(&self, path: &str) -> Result<http::Response<Incoming>, ClientError> {
        let url = format!("{}{path}", self.base);
        let uri: http::Uri = url.parse().map_err(|_| ClientError::BadUrl(url.clone()))?;
        self.http
            .get(uri)
            .await
            .map_err(|e| ClientError::Unreachable {
                url: self.base.clone(),
                reason: e.to_string(),
            })
    }

    /// `GET path` as JSON; an error status becomes [`ClientError::Status`] with the server's
    /// `error` message.
    pub async fn get_json(&self, path: &str) -> Result<Value, ClientError> {
        let resp = self.request(path).await?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: self.base.clone(),
                reason: e.to_string(),
            })?
            .to_bytes();
        let value: Value = serde_json::from_slice(&body).map_err(|e| ClientError::Decode {
            url: format!("{}{path}", self.base),
            reason: e.to_string(),
        })?;
        if !status.is_success() {
            let message = value
                .get("error")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("the server answered {status}"));
            return Err(ClientError::Status {
                status: status.as_u16(),
                message,
            });
        }
        Ok(value)
    }

    /// Opens `/api/stream`.
    pub async fn events(&self) -> Result<EventStream, ClientError> {
        let resp = self.request("/api/stream").await?;
        if !resp.status().is_success() {
            return Err(ClientError::Status {
                status: resp.status().as_u16(),
                message: format!("the event stream answered {}", resp.status()),
            });
        }
        Ok(EventStream {
            body: resp.into_body(),
            buffer: Vec::new(),
        })
    }
}

/// One server-sent event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerEvent {
    pub event: String,
    pub data: String,
}

/// A server-sent event stream being read.
pub struct EventStream {
    body: Incoming,
    /// Bytes, not text: a frame may end inside a UTF-8 sequence.
    buffer: Vec<u8>,
}

impl EventStream {
    /// The next event; `None` when the server closed the stream.
    pub async fn next(&mut self) -> Option<ServerEvent> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                if let Some(e) = parse_event(&String::from_utf8_lossy(&block)) {
                    return Some(e);
                }
                continue;
            }
            let frame = self.body.frame().await?.ok()?;
            if let Ok(data) = frame.into_data() {
                self.buffer.extend_from_slice(&data);
            }
        }
    }
}

/// Parses one event block; comments (keep-alives) and empty blocks give `None`.
fn parse_event(block: &str) -> Option<ServerEvent> {
    let mut e = ServerEvent::default();
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            e.event = v.trim_start().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    if e.event.is_empty() && data.is_empty() {
        return None;
    }
    e.data = data.join("\n");
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_and_skips_keep_alives() {
        assert_eq!(
            parse_event("event: state\ndata: {\"generation\":2}\n\n"),
            Some(ServerEvent {
                event: "state".into(),
                data: "{\"generation\":2}".into()
            })
        );
        assert_eq!(parse_event(":\n\n"), None);
    }
}
