//! The built-in traffic generator: sends requests at a chosen rate to one target (a bound
//! Gateway socket, a Host header and a path) over a few keep-alive connections. Which backend
//! answers is decided by the proxy's seeded per-rule draws, so the same seed and the same
//! number of requests always give the same split, whatever the timing.

use crate::view::TrafficTarget;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Connections (and requests in flight) at most.
pub const WORKERS: usize = 4;

/// Why the generator could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The target's address is not a socket address.
    #[error("{0} is not a socket address")]
    BadAddress(String),
}

/// Requests sent and failed so far.
#[derive(Debug, Default)]
pub struct Totals {
    sent: AtomicU64,
    failed: AtomicU64,
}

impl Totals {
    /// Requests answered (any HTTP status).
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Requests that got no answer (connection refused or reset).
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// A running generator; [`LoadGen::stop`] ends it.
pub struct LoadGen {
    rate: watch::Sender<u32>,
    totals: Arc<Totals>,
    task: tokio::task::JoinHandle<()>,
}

impl LoadGen {
    /// Starts sending `rate` requests per second to `target`.
    pub fn start(target: TrafficTarget, rate: u32) -> Result<LoadGen, Error> {
        let addr: SocketAddr = target
            .addr
            .parse()
            .map_err(|_| Error::BadAddress(target.addr.clone()))?;
        let (rate_tx, rate_rx) = watch::channel(rate);
        let totals = Arc::new(Totals::default());
        let task = tokio::spawn(run(Arc::new(target), addr, rate_rx, totals.clone()));
        Ok(LoadGen {
            rate: rate_tx,
            totals,
            task,
        })
    }

    /// Changes the rate.
    pub fn set_rate(&self, rate: u32) {
        let _ = self.rate.send(rate);
    }

    /// Running totals.
    pub fn totals(&self) -> &Arc<Totals> {
        &self.totals
    }

    /// Stops sending; requests in flight are dropped.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Ticks at the rate and hands each tick to the next worker; a tick whose worker is still
/// busy is skipped, so a slow target lowers the rate instead of queueing without bound.
async fn run(
    target: Arc<TrafficTarget>,
    addr: SocketAddr,
    mut rate: watch::Receiver<u32>,
    totals: Arc<Totals>,
) {
    let mut workers = Vec::with_capacity(WORKERS);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (tx, rx) = mpsc::channel::<()>(2);
        workers.push(tx);
        tasks.spawn(worker(target.clone(), addr, rx, totals.clone()));
    }
    let mut next = 0usize;
    loop {
        let (period, batch) = pacing(*rate.borrow_and_update());
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    for _ in 0..batch {
                        if let Some(w) = workers.get(next % WORKERS) {
                            let _ = w.try_send(());
                        }
                        next = next.wrapping_add(1);
                    }
                }
                changed = rate.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

/// The tick period and requests per tick for `rate` per second: one per tick up to 500/s,
/// then 10 ms ticks with several each (timers finer than a millisecond are not reliable).
fn pacing(rate: u32) -> (Duration, u32) {
    match rate {
        0 => (Duration::from_secs(3600), 0),
        1..=500 => (Duration::from_secs_f64(1.0 / f64::from(rate)), 1),
        _ => (Duration::from_millis(10), rate.div_ceil(100)),
    }
}

async fn worker(
    target: Arc<TrafficTarget>,
    addr: SocketAddr,
    mut ticks: mpsc::Receiver<()>,
    totals: Arc<Totals>,
) {
    let mut conn: Option<SendRequest<Empty<Bytes>>> = None;
    while ticks.recv().await.is_some() {
        let sender = match conn.take() {
            Some(s) if !s.is_closed() => Some(s),
            _ => connect(addr).await,
        };
        let Some(mut sender) = sender else {
            totals.failed.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        if send(&mut sender, &target).await {
            totals.sent.fetch_add(1, Ordering::Relaxed);
            conn = Some(sender);
        } else {
            totals.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn connect(addr: SocketAddr) -> Option<SendRequest<Empty<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .ok()?;
    tokio::spawn(conn);
    Some(sender)
}

/// Sends one request and reads the whole answer; false when none came.
async fn send(sender: &mut SendRequest<Empty<Bytes>>, target: &TrafficTarget) -> bool {
    let mut req = http::Request::builder()
        .method(target.method.as_str())
        .uri(target.path.as_str())
        .header(http::header::HOST, target.host.as_str());
    for (k, v) in &target.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    // A target built from the routing table is a valid request; one that is not (a header
    // value the view could not know is invalid) counts as failed.
    let Ok(req) = req.body(Empty::new()) else {
        return false;
    };
    if sender.ready().await.is_err() {
        return false;
    }
    match sender.send_request(req).await {
        Ok(resp) => resp.into_body().collect().await.is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_spreads_high_rates_over_10ms_ticks() {
        assert_eq!(pacing(50), (Duration::from_millis(20), 1));
        assert_eq!(pacing(2_000), (Duration::from_millis(10), 20));
        assert_eq!(pacing(0).1, 0);
    }
}
