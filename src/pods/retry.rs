//! echo-basic's `/retry/` endpoint: fail a request id a given number of times, then echo.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use axum::body::Body;
use axum::response::Response;
use http::request::Parts;
use http::StatusCode;

use super::conn::Peer;
use super::echo;
use super::gocompat::{parse_go_duration, GoDuration};
use super::server::{Pod, Reset};

/// How many request ids a pod remembers; the oldest are forgotten first. Each retry test
/// uses a fresh id, so only a run of very many of them could reach this.
const MAX_REMEMBERED: usize = 10_000;

/// How many times each request id has been seen, per pod (shared by all its ports).
#[derive(Debug, Default)]
pub(crate) struct RetryBook {
    inner: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    counts: HashMap<String, u64>,
    order: VecDeque<String>,
}

impl RetryBook {
    /// Counts one more sighting of `uuid` and returns the total including it.
    fn record(&self, uuid: &str) -> u64 {
        let mut seen = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = seen.counts.get_mut(uuid) {
            *count += 1;
            return *count;
        }
        if seen.order.len() >= MAX_REMEMBERED {
            if let Some(oldest) = seen.order.pop_front() {
                seen.counts.remove(&oldest);
            }
        }
        seen.counts.insert(uuid.to_owned(), 1);
        seen.order.push_back(uuid.to_owned());
        1
    }
}

/// The parameters of one `/retry/` request.
#[derive(Debug, PartialEq, Eq)]
struct RetryParams {
    uuid: String,
    succeed_after: u64,
    response_code: Option<StatusCode>,
    delay_retry: Option<GoDuration>,
}

fn parse_params(query: Option<&str>) -> Result<RetryParams, String> {
    let value = |key: &str| echo::query_value(query, key).filter(|v| !v.is_empty());
    let uuid = value("uuid").ok_or("missing uuid query parameter")?;
    let succeed_after = value("succeedAfter")
        .ok_or("missing succeedAfter query parameter")?
        .parse::<u64>()
        .map_err(|e| format!("invalid succeedAfter: {e}"))?;
    let response_code = value("responseCode")
        .map(|code| {
            code.parse::<u16>()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .filter(|c| !c.is_informational())
                .ok_or_else(|| format!("invalid responseCode {code:?}"))
        })
        .transpose()?;
    let delay_retry = value("delayRetry")
        .map(|d| parse_go_duration(&d))
        .transpose()?;
    Ok(RetryParams {
        uuid,
        succeed_after,
        response_code,
        delay_retry,
    })
}

/// Fails the first `succeedAfter` requests carrying a `uuid`, with `responseCode` (empty
/// body) or, without one, by resetting the connection; echoes every later one. A failure
/// is answered only after `delayRetry`, when given. Bad parameters get a 400.
pub(crate) async fn handle(
    pod: &Pod,
    peer: &Peer,
    req: &Parts,
    request_uri: &str,
) -> Result<Response, Reset> {
    let params = match parse_params(req.uri.query()) {
        Ok(params) => params,
        Err(message) => return Ok(echo::error_response(StatusCode::BAD_REQUEST, &message)),
    };
    if pod.retries.record(&params.uuid) > params.succeed_after {
        return Ok(echo::echo(pod, peer, req, request_uri).await);
    }
    if let Some(delay) = params.delay_retry {
        tokio::time::sleep(delay.to_sleep()).await;
    }
    match params.response_code {
        Some(code) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = code;
            Ok(response)
        }
        None => Err(Reset::connection(peer, req.version)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_uuid() {
        let book = RetryBook::default();
        assert_eq!(book.record("a"), 1);
        assert_eq!(book.record("a"), 2);
        assert_eq!(book.record("b"), 1);
        assert_eq!(book.record("a"), 3);
    }

    #[test]
    fn forgets_the_oldest_ids_first() {
        let book = RetryBook::default();
        for i in 0..=MAX_REMEMBERED {
            book.record(&i.to_string());
        }
        assert_eq!(book.record(&MAX_REMEMBERED.to_string()), 2);
        assert_eq!(book.record("0"), 1);
    }

    #[test]
    fn parses_parameters() {
        let p = parse_params(Some(
            "uuid=u1&succeedAfter=2&responseCode=503&delayRetry=10ms",
        ))
        .expect("valid");
        assert_eq!(
            p,
            RetryParams {
                uuid: "u1".into(),
                succeed_after: 2,
                response_code: Some(StatusCode::SERVICE_UNAVAILABLE),
                delay_retry: Some(GoDuration(10_000_000)),
            }
        );
        let p = parse_params(Some("uuid=u1&succeedAfter=0")).expect("valid");
        assert_eq!(p.response_code, None);
        assert!(parse_params(None).is_err());
        assert!(parse_params(Some("uuid=u1")).is_err());
        assert!(parse_params(Some("uuid=u1&succeedAfter=x")).is_err());
        assert!(parse_params(Some("uuid=u1&succeedAfter=1&responseCode=42")).is_err());
        assert!(parse_params(Some("uuid=u1&succeedAfter=1&delayRetry=1")).is_err());
    }
}
