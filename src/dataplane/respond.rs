//! Every response the proxy makes up itself, in one place, each naming its reason in the
//! `x-gwsim-reason` header: 404 no route, 500 no valid backend, 503 no ready endpoint,
//! 502 pod connection failed, 504 timeout, 413 a body too large to copy to mirrors.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};

/// The body type of every proxied or synthetic response.
pub type Body = BoxBody<Bytes, hyper::Error>;

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
            Synthetic::BodyTooLarge => "body-too-large-to-mirror",
            Synthetic::Misdirected => "misdirected-request",
        }
    }
}

/// A synthetic response with a one-line text body.
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
    Full::new(text.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}
