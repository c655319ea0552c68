//! `http`, `repeat` and `weighted` steps: sending a case's request and judging the response
//! the way upstream's `CompareRoundTrip` does (FORMAT.md, "Judging the response").

use super::case::{HttpCase, HttpStep, Mode, Repeat, Weighted};
use super::http_client::{self, Captured, Endpoint, Outgoing};
use super::judge::{is_redirect, judge, with_id};
use super::tls_client::Trust;
use crate::runtime::sim::Sim;
use crate::sim::rng::Stream;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long an expectation may take to hold. Upstream allows 30 s for real clusters; gwsim
/// applies a reload before the step starts, so this only absorbs scheduling noise.
pub const WINDOW: Duration = Duration::from_secs(2);

/// Upstream's `RequiredConsecutiveSuccesses`.
const CONSECUTIVE: usize = 3;

/// Pause between attempts inside the window.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// State an HTTP step needs from the runner.
pub struct Ctx<'a> {
    pub sim: &'a Sim,
    /// Seeded source of request ids and jitter values.
    pub stream: Stream,
    pub draws: u64,
}

impl Ctx<'_> {
    fn draw(&mut self) -> u64 {
        self.draws += 1;
        self.stream.draw(self.draws)
    }

    /// A UUID-shaped id, from the seeded stream so runs repeat exactly.
    fn request_id(&mut self) -> String {
        let (a, b) = (self.draw(), self.draw());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Runs an `http` step; `Err` names the failing case and what differed.
pub async fn run_step(ctx: &mut Ctx<'_>, step: &HttpStep) -> Result<(), String> {
    let trust = match step.scheme.as_str() {
        "http" => None,
        "https" => Some(Trust::from_step(ctx.sim, step.tls.as_ref())?),
        other => return Err(format!("scheme {other} is not served by gwsim")),
    };
    for (i, case) in step.cases.iter().enumerate() {
        let target = case.target.as_ref().unwrap_or(&step.target);
        let endpoint = http_client::resolve(ctx.sim, target, &step.scheme)
            .map_err(|e| format!("{}: {e}", case.label(i)))?;
        let trust = trust.as_ref();
        let result = match step.mode {
            Mode::EventuallyConsistent => eventually(ctx, &endpoint, case, trust).await,
            Mode::ExpectFailure => expect_failure(&endpoint, case, trust).await,
            Mode::TlsHandshakeOrRequestMustFail => {
                let out = outgoing(&endpoint, case, None, trust);
                match http_client::send(endpoint.socket, &out).await {
                    Err(_) => Ok(()),
                    Ok(cap) => Err(format!(
                        "expected the handshake or request to fail, got {}",
                        cap.status
                    )),
                }
            }
        };
        result.map_err(|e| format!("{}: {e}", case.label(i)))?;
    }
    Ok(())
}

/// Runs a `repeat` step.
pub async fn run_repeat(ctx: &mut Ctx<'_>, step: &Repeat) -> Result<(), String> {
    let endpoint = http_client::resolve(ctx.sim, &step.target, "http")?;
    let out = outgoing(&endpoint, &step.expect, None, None);
    for n in 0..step.count {
        let cap = http_client::send(endpoint.socket, &out)
            .await
            .map_err(|e| format!("request {n}: {e}"))?;
        judge(&step.expect, &cap, None).map_err(|e| format!("request {n}: {e}"))?;
    }
    Ok(())
}

/// Builds the request of a case; `id` is the mirror request id to append to the path, and
/// `trust` makes it an HTTPS request.
fn outgoing(
    endpoint: &Endpoint,
    case: &HttpCase,
    id: Option<&str>,
    trust: Option<&Trust>,
) -> Outgoing {
    let mut headers: Vec<(String, String)> = case
        .request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let set: Vec<String> = case
        .backend_set_response_headers
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect();
    headers.push(("X-Echo-Set-Header".into(), set.join(",")));
    let host = case
        .request
        .host
        .clone()
        .unwrap_or_else(|| endpoint.authority.clone());
    let h2 = match case.request.protocol.as_deref() {
        Some("H2C_PRIOR_KNOWLEDGE") => true,
        Some("H2") => trust.is_some(),
        _ => false,
    };
    Outgoing {
        method: case.request.method.clone().unwrap_or_else(|| "GET".into()),
        path: with_id(&case.request.path, id),
        tls: trust.map(|t| t.target(case.tls.as_ref(), &host, h2)),
        host,
        headers,
        h2c: h2,
    }
}

/// Sends until `CONSECUTIVE` responses in a row pass, within the window; then checks mirrors.
async fn eventually(
    ctx: &mut Ctx<'_>,
    endpoint: &Endpoint,
    case: &HttpCase,
    trust: Option<&Trust>,
) -> Result<(), String> {
    let protocol = case.request.protocol.as_deref();
    let served = match protocol {
        None | Some("HTTP" | "H2C_PRIOR_KNOWLEDGE") => true,
        Some("H2") => trust.is_some(),
        Some(_) => false,
    };
    if !served {
        return Err(format!(
            "request protocol {} is not supported on this step's scheme",
            protocol.unwrap_or_default()
        ));
    }
    let id = (!case.mirrored_to.is_empty()).then(|| ctx.request_id());
    let out = outgoing(endpoint, case, id.as_deref(), trust);
    let start = Instant::now();
    let mut successes = 0;
    while successes < CONSECUTIVE {
        let verdict = match follow(endpoint, case, out.clone()).await {
            Ok(cap) => judge(case, &cap, id.as_deref()),
            Err(e) => Err(e),
        };
        match verdict {
            Ok(()) => successes += 1,
            Err(e) => {
                successes = 0;
                if start.elapsed() > WINDOW {
                    return Err(e);
                }
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }
    if let Some(id) = id {
        let path = with_id(
            case.expected_request
                .as_ref()
                .map(|e| e.path.as_str())
                .unwrap_or(&case.request.path),
            Some(&id),
        );
        for m in &case.mirrored_to {
            mirrored(ctx.sim, &m.namespace, &m.name, &path).await?;
        }
    }
    Ok(())
}

/// Sends the request, following redirects on the same socket unless the case says not to.
async fn follow(
    endpoint: &Endpoint,
    case: &HttpCase,
    mut out: Outgoing,
) -> Result<Captured, String> {
    for _ in 0..10 {
        let cap = http_client::send(endpoint.socket, &out).await?;
        if case.request.unfollow_redirect || !is_redirect(cap.status) {
            return Ok(cap);
        }
        let location = cap
            .headers
            .get(http::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.parse::<http::Uri>().ok())
            .ok_or_else(|| format!("redirect {} without a usable Location", cap.status))?;
        if let Some(a) = location.authority() {
            out.host = a.to_string();
        }
        out.path = location
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into());
    }
    Err("more than 10 redirects".into())
}

/// Waits for each pod of the mirror backend to log the request (the copy is fire-and-forget,
/// so its log line may land a moment after the response).
async fn mirrored(sim: &Sim, namespace: &str, name: &str, path: &str) -> Result<(), String> {
    let deployment = format!("{namespace}/{name}");
    let wanted = format!("Echoing back request made to {path} to client");
    let start = Instant::now();
    loop {
        let pods: Vec<String> = sim
            .running_pods()
            .into_iter()
            .filter(|(d, _)| *d == deployment)
            .map(|(_, p)| p)
            .collect();
        let seen = pods.iter().any(|p| {
            sim.pod_log(p)
                .is_some_and(|lines| lines.iter().any(|l| l.starts_with(&wanted)))
        });
        if seen {
            return Ok(());
        }
        if start.elapsed() > WINDOW {
            return Err(format!(
                "mirror: no pod of {deployment} ({} pods) logged `{wanted}`",
                pods.len()
            ));
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// `expect_failure`: 5 non-200 answers in a row (408/504 do not count); any 200 fails.
async fn expect_failure(
    endpoint: &Endpoint,
    case: &HttpCase,
    trust: Option<&Trust>,
) -> Result<(), String> {
    let out = outgoing(endpoint, case, None, trust);
    let start = Instant::now();
    let mut failures = 0;
    while failures < 5 {
        match http_client::send(endpoint.socket, &out).await {
            Ok(cap) if cap.status == 200 => {
                return Err("expected the request to fail, got 200".into())
            }
            Ok(cap) if cap.status == 408 || cap.status == 504 => failures = 0,
            Ok(_) => failures += 1,
            Err(_) => failures = 0,
        }
        if failures < 5 && start.elapsed() > WINDOW {
            return Err("no 5 consecutive failures within the window".into());
        }
    }
    Ok(())
}

/// Runs a `weighted` step: every response must pass `base`, and each backend's share must
/// be within the tolerance of its weight. The batch is retried as upstream does.
pub async fn run_weighted(
    ctx: &mut Ctx<'_>,
    step: &Weighted,
    base: Option<&HttpCase>,
) -> Result<(), String> {
    let endpoint = http_client::resolve(ctx.sim, &step.target, "http")?;
    let mut base = base.cloned().unwrap_or_default();
    base.request = step.request.clone();
    let mut last = String::new();
    for _ in 0..step.max_attempts.max(1) {
        match weighted_batch(ctx, &endpoint, step, &base).await {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn weighted_batch(
    ctx: &mut Ctx<'_>,
    endpoint: &Endpoint,
    step: &Weighted,
    base: &HttpCase,
) -> Result<(), String> {
    let mut cases = Vec::with_capacity(step.total_requests);
    for _ in 0..step.total_requests {
        let mut c = base.clone();
        // About half the requests carry a random header, as upstream adds entropy.
        let draw = ctx.draw();
        if draw.is_multiple_of(2) {
            c.request
                .headers
                .insert("X-Jitter".into(), ((draw >> 1) % 10_000).to_string());
        }
        cases.push(c);
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for chunk in cases.chunks(step.concurrency.max(1)) {
        let mut set = tokio::task::JoinSet::new();
        for c in chunk {
            let out = outgoing(endpoint, c, None, None);
            let socket = endpoint.socket;
            let c = c.clone();
            set.spawn(async move {
                let cap = http_client::send(socket, &out).await?;
                judge(&c, &cap, None)?;
                let echo: Value = serde_json::from_slice(&cap.body).map_err(|e| e.to_string())?;
                Ok::<String, String>(echo["pod"].as_str().unwrap_or_default().to_string())
            });
        }
        while let Some(done) = set.join_next().await {
            let pod = done.map_err(|e| e.to_string())??;
            *counts.entry(backend_of(&pod)).or_default() += 1;
        }
    }
    let total = step.total_requests.max(1) as f64;
    for (backend, weight) in &step.expected_weights {
        let got = counts.get(backend).copied().unwrap_or_default();
        if *weight == 0.0 && got > 0 {
            return Err(format!("{backend} has weight 0 but got {got} requests"));
        }
        let share = got as f64 / total;
        if (share - weight).abs() > step.tolerance {
            return Err(format!(
                "{backend}: expected share {weight}±{}, got {share:.3} ({counts:?})",
                step.tolerance
            ));
        }
    }
    if let Some(other) = counts
        .keys()
        .find(|b| !step.expected_weights.contains_key(*b))
    {
        return Err(format!(
            "unexpected backend {other} got traffic ({counts:?})"
        ));
    }
    Ok(())
}

/// `infra-backend-v1-<rs-hash>-<pod-hash>` → `infra-backend-v1`.
fn backend_of(pod: &str) -> String {
    let parts: Vec<&str> = pod.split('-').collect();
    parts[..parts.len().saturating_sub(2)].join("-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::judge::REQUEST_ID;

    #[test]
    fn backend_name_drops_two_parts() {
        assert_eq!(
            backend_of("infra-backend-v1-abc12-xyz89"),
            "infra-backend-v1"
        );
        assert_eq!(backend_of("x"), "");
    }

    #[test]
    fn ids_append_to_the_query() {
        assert_eq!(with_id("/a", Some("1")), format!("/a?{REQUEST_ID}=1"));
        assert_eq!(
            with_id("/a?b=c", Some("1")),
            format!("/a?b=c&{REQUEST_ID}=1")
        );
    }
}
