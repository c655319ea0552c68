//! Every response the proxy makes up itself, in one place, each naming its reason in the
//! `x-gwsim-reason` header: 404 no route, 500 no valid backend, 503 no ready endpoint,
//! 502 pod connection failed, 504 timeout, 413 a body too large to copy to mirrors.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The body of every forwarded request and every response. An enum rather than a boxed
/// trait object: each request's two bodies (the client's stream going up, the pod's coming
/// back) would otherwise cost two allocations per request on the hot path.
pub enum Body {
    Empty,
    /// Bytes not yet sent; `None` once they have been (or when there were none).
    Full(Option<Bytes>),
    /// A stream from a client or a pod, passed through.
    Incoming(Incoming),
    /// A pod's stream whose connection goes back to the pool at its end.
    Pooled(super::pool::PooledBody),
}

impl From<Incoming> for Body {
    fn from(body: Incoming) -> Body {
        Body::Incoming(body)
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            Body::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::Incoming(body) => Pin::new(body).poll_frame(cx),
            Body::Pooled(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty | Body::Full(None) => true,
            Body::Full(Some(_)) => false,
            Body::Incoming(body) => body.is_end_stream(),
            Body::Pooled(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty | Body::Full(None) => SizeHint::with_exact(0),
            Body::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Body::Incoming(body) => body.size_hint(),
            Body::Pooled(body) => body.size_hint(),
        }
    }
}

/// The header that says why gwsim answered itself.
pub const REASON_HEADER: &str = "x-gwsim-reason";

/// Why gwsim answered a request itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synthetic {
    NoRoute,
    InvalidBackend,
    NoEndpoint,
    UpstreamFailed,
    Timeout,
    UnresolvedFilter,
    BodyTooLarge,
    /// The TLS server name chose one listener and the Host header belongs to another.
    Misdirected,
}

impl Synthetic {
    pub fn status(self) -> StatusCode {
        match self {
            Synthetic::NoRoute => StatusCode::NOT_FOUND,
            Synthetic::InvalidBackend | Synthetic::UnresolvedFilter => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Synthetic::NoEndpoint => StatusCode::SERVICE_UNAVAILABLE,
            Synthetic::UpstreamFailed => StatusCode::BAD_GATEWAY,
            Synthetic::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Synthetic::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Synthetic::Misdirected => StatusCode::MISDIRECTED_REQUEST,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Synthetic::NoRoute => "no-route",
            Synthetic::InvalidBackend => "invalid-backend",
            Synthetic::NoEndpoint => "no-ready-endpoint",
            Synthetic::UpstreamFailed => "upstream-connection-failed",
            Synthetic::Timeout => "timeout",
            Synthetic::UnresolvedFilter => "unresolved-filter",
            Synthetic::BodyTooLarge => "body-too-large-to-copy",
            Synthetic::Misdirected => "misdirected-request",
        }
    }
}

/// A synthetic response with a one-line text body. Cold and out of line: the request path's
/// error exits all call it, and inlined at each they would spread its code through the
/// forwarding path's.
#[cold]
#[inline(never)]
pub fn synthetic(kind: Synthetic, detail: &str) -> Response<Body> {
    let mut resp = Response::new(full(format!("{}: {detail}\n", kind.reason())));
    *resp.status_mut() = kind.status();
    resp.headers_mut()
        .insert(REASON_HEADER, HeaderValue::from_static(kind.reason()));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// A body from bytes.
pub fn full(text: impl Into<Bytes>) -> Body {
    let bytes: Bytes = text.into();
    Body::Full((!bytes.is_empty()).then_some(bytes))
}

/// An empty body.
pub fn empty() -> Body {
    Body::Empty
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn bytes_and_empty_bodies_say_their_size_and_end() {
        let body = full("hello");
        assert_eq!(body.size_hint().exact(), Some(5));
        assert!(!body.is_end_stream());
        let collected = body.collect().await.expect("no error").to_bytes();
        assert_eq!(&collected[..], b"hello");

        for nothing in [full(""), empty()] {
            assert!(nothing.is_end_stream());
            assert_eq!(nothing.size_hint().exact(), Some(0));
            let collected = nothing.collect().await.expect("no error").to_bytes();
            assert!(collected.is_empty());
        }
    }

    #[test]
    fn synthetic_answers_name_their_reason() {
        let resp = synthetic(Synthetic::NoEndpoint, "v2 has no ready endpoint");
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            resp.headers().get(REASON_HEADER).map(|v| v.as_bytes()),
            Some(&b"no-ready-endpoint"[..])
        );
        assert_eq!(
            resp.body().size_hint().exact(),
            Some("no-ready-endpoint: v2 has no ready endpoint\n".len() as u64)
        );
    }
}
