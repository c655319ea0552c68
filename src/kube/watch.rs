//! Watches: a chunked stream of `{"type":…,"object":…}` lines. From resourceVersion N the
//! stream replays every kept change after N, then follows new snapshots; without one (or
//! with `sendInitialEvents`) it starts with ADDED for the current objects. The stream ends
//! at `timeoutSeconds`, or as soon as the client goes away.

use super::errors::ApiError;
use super::handlers::{versioned, Target};
use super::query::Query;
use super::view::{lock, Event};
use super::KubeApi;
use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::body::Frame;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;

/// The longest a watch stays open without a `timeoutSeconds` (kubectl always sends one).
const MAX_WATCH: Duration = Duration::from_secs(1800);

/// A response body fed line by line from a channel; dropped when the client disconnects,
/// which the producer sees as a closed channel.
struct Lines(mpsc::Receiver<Bytes>);

impl hyper::body::Body for Lines {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

/// What a watch is interested in.
struct Filter {
    plural: &'static str,
    namespace: Option<String>,
    query: Query,
}

impl Filter {
    fn matches(&self, e: &Event) -> bool {
        e.key.0 == self.plural
            && self.namespace.as_ref().is_none_or(|ns| *ns == e.key.1)
            && self.query.matches(&e.object)
    }
}

fn line(kind: &str, object: Value) -> Bytes {
    let mut text = json!({"type": kind, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

/// Starts a watch; the response streams until the timeout or the client leaves.
pub fn watch(api: Arc<KubeApi>, target: &Target, query: &Query) -> Response {
    let snap = api.snapshot();
    let filter = Filter {
        plural: target.res.plural,
        namespace: target.namespace.clone(),
        query: query.clone(),
    };
    let requested: u64 = query
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or(0);
    let mut initial = Vec::new();
    let from = if requested == 0 || query.send_initial_events {
        for (key, object) in &snap.objects {
            let probe = Event {
                rv: 0,
                change: crate::runtime::versions::Change::Added,
                key: key.clone(),
                object: object.clone(),
            };
            if filter.matches(&probe) {
                initial.push(line("ADDED", versioned(object, target)));
            }
        }
        if query.send_initial_events {
            // WatchList clients wait for this bookmark before they trust the initial state.
            initial.push(line(
                "BOOKMARK",
                json!({
                    "apiVersion": target.api_version(),
                    "kind": target.res.kind,
                    "metadata": {
                        "resourceVersion": snap.rv.to_string(),
                        "annotations": {"k8s.io/initial-events-end": "true"},
                    },
                }),
            ));
        }
        snap.rv
    } else {
        requested
    };
    let timeout = query
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(MAX_WATCH)
        .min(MAX_WATCH);
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let api_version = target.api_version();
    tokio::spawn(async move {
        for l in initial {
            if tx.send(l).await.is_err() {
                return;
            }
        }
        let mut view = api.view.clone();
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut last = from;
        loop {
            view.borrow_and_update();
            let events = lock(&api.log).since(last);
            match events {
                Err(rv) => {
                    let status = ApiError::expired(rv).status();
                    let _ = tx.send(line("ERROR", status)).await;
                    return;
                }
                Ok(events) => {
                    for e in events {
                        last = last.max(e.rv);
                        if filter.matches(&e) {
                            let mut object = (*e.object).clone();
                            object["apiVersion"] = json!(api_version);
                            if tx.send(line(e.change.as_str(), object)).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
            tokio::select! {
                changed = view.changed() => if changed.is_err() { return },
                _ = tx.closed() => return,
                _ = &mut deadline => return,
            }
        }
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::new(Lines(rx)),
    )
        .into_response()
}
