//! The admin API's handlers, called in-process with `tower::ServiceExt::oneshot` on an
//! instance of the sample (seed 42, addresses from 127.0.60.0/24), and `/metrics` parsed back
//! with a Prometheus text parser. Times and ports are redacted from snapshots.

mod common;

use axum::body::Body;
use common::{copy_sample, options, Client};
use gwsim::runtime::handle::{spawn, Handle};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const HOST: &str = "helloworld.sample.com";
const RULE: &str = "httproute/sample/helloworld/rule/0";

async fn call(handle: &Handle, uri: &str) -> (StatusCode, String) {
    let router = gwsim::admin::router(handle.clone());
    let resp = router
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn json(handle: &Handle, uri: &str) -> Value {
    let (status, body) = call(handle, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).expect("json")
}

async fn traffic(handle: &Handle, n: usize) {
    let addr = handle.state().listeners[0].bound.expect("bound");
    let mut client = Client::connect(addr).await;
    for _ in 0..n {
        assert_eq!(client.get(HOST, "/hello").await.status, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_objects_with_stamped_status() {
    let dir = copy_sample("helloworld");
    let h = spawn(options(dir.path(), 42, 60), false).await;
    assert_eq!(call(&h, "/healthz").await, (StatusCode::OK, "ok".into()));
    assert_eq!(call(&h, "/readyz").await, (StatusCode::OK, "ok".into()));

    let gateways = json(&h, "/api/objects?kind=gtw&namespace=sample-ingress").await;
    insta::assert_json_snapshot!("gateways", gateways, {
        ".**.lastTransitionTime" => "[time]",
        ".**.creationTimestamp" => "[time]",
        ".**.uid" => "[uid]",
    });
    let one = json(
        &h,
        "/api/objects?kind=httproutes&namespace=sample&name=helloworld",
    )
    .await;
    assert_eq!(one["items"].as_array().map(Vec::len), Some(1));
    let route = &one["items"][0];
    assert_eq!(route["kind"], "HTTPRoute");
    let cond = &route["status"]["parents"][0]["conditions"][0];
    assert!(cond["lastTransitionTime"].as_str().is_some(), "{cond}");

    let (status, body) = call(&h, "/api/objects?kind=virtualservices").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("doesn't have a resource type"), "{body}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_pods_logs_and_diagnostics() {
    let dir = copy_sample("helloworld");
    let h = spawn(options(dir.path(), 42, 61), false).await;
    let routing = json(&h, "/api/routing").await;
    insta::assert_json_snapshot!("routing", routing);

    let pods = json(&h, "/api/pods").await;
    insta::assert_json_snapshot!("pods", pods, {
        ".**.creationTimestamp" => "[time]",
        ".**.startTime" => "[time]",
        ".**.startedAt" => "[time]",
        ".**.lastTransitionTime" => "[time]",
        ".**.uid" => "[uid]",
        ".**[\"gwsim.dev/listening\"]" => "[addrs]",
    });
    let name = pods["items"][0]["metadata"]["name"]
        .as_str()
        .expect("a pod")
        .to_string();
    traffic(&h, 3).await;
    let log = json(&h, &format!("/api/pods/sample/{name}/log")).await;
    assert!(log["lines"].as_array().is_some(), "{log}");
    let (status, _) = call(&h, "/api/pods/sample/nope/log").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    assert_eq!(json(&h, "/api/diagnostics").await, serde_json::json!([]));
    let events = json(&h, "/api/events").await;
    assert!(
        events
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["kind"] == "reload")),
        "{events}"
    );
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_requests_and_view_after_traffic() {
    let dir = copy_sample("helloworld");
    let h = spawn(options(dir.path(), 42, 62), false).await;
    traffic(&h, 20).await;

    let stats = json(&h, "/api/stats").await;
    insta::assert_json_snapshot!("stats", stats, {
        ".series[].latencyBuckets" => "[latency]",
        ".series[].latencySumUs" => "[latency]",
    });

    let requests = json(&h, "/api/requests").await;
    let requests = requests.as_array().expect("array");
    assert_eq!(requests.len(), 20);
    assert!(requests
        .iter()
        .all(|r| r["rule"] == RULE && r["status"] == 200));
    let cursor = &requests[17]["seq"];
    let later = json(&h, &format!("/api/requests?since={cursor}")).await;
    assert_eq!(later.as_array().map(Vec::len), Some(2));

    let view = json(&h, "/api/view").await;
    insta::assert_json_snapshot!("view_traffic", view["trafficByRoute"], {
        ".**.p50Ms" => "[latency]",
        ".**.p99Ms" => "[latency]",
        ".**.addr" => "[addr]",
    });
    assert_eq!(view["header"]["gatewaysProgrammed"], 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_back_with_the_rule_counter() {
    let dir = copy_sample("helloworld");
    let h = spawn(options(dir.path(), 42, 63), false).await;
    let n = 25;
    traffic(&h, n).await;
    let (status, text) = call(&h, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let scrape =
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses");
    let counted: f64 = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "gwsim_requests_total")
        .filter(|s| s.labels.get("rule") == Some(RULE) && s.labels.get("code") == Some("200"))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) => v,
            _ => panic!("gwsim_requests_total is a counter: {s:?}"),
        })
        .sum();
    assert_eq!(counted, n as f64);
    let reloads = scrape
        .samples
        .iter()
        .find(|s| s.metric == "gwsim_reloads_total")
        .expect("reloads");
    assert_eq!(reloads.value, prometheus_parse::Value::Counter(1.0));
    let errors = scrape
        .samples
        .iter()
        .find(|s| s.metric == "gwsim_config_errors")
        .expect("config errors");
    assert_eq!(errors.value, prometheus_parse::Value::Gauge(0.0));
    for histogram in [
        "gwsim_request_duration_seconds",
        "gwsim_reload_duration_seconds",
    ] {
        assert!(
            scrape.samples.iter().any(|s| s.metric == histogram
                && matches!(&s.value, prometheus_parse::Value::Histogram(b) if b.len() >= 16)),
            "{histogram} with the stats buckets"
        );
    }
    assert!(text.contains("le=\"5e-05\"") || text.contains("le=\"0.00005\""));
    h.shutdown().await;
}
