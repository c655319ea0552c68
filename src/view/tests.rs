//! The view model over hand-built states: health by condition type, where Gateways listen,
//! the traffic split next to the weights, and problems with their file:line.

use super::fixture::{self, helloworld, helloworld_stats, state, state_after};
use super::*;

const WRONG_HOST: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: wrong-host
  namespace: sample
spec:
  parentRefs:
  - name: sample-gateway
    namespace: sample-ingress
  hostnames: [\"shop.example\"]
  rules:
  - backendRefs:
    - name: helloworld
      port: 5000
";

fn build_default(s: &State) -> ViewModel {
    build(
        s,
        &helloworld_stats(s),
        &Rates::default(),
        &fixture::events(),
        &UiState::default(),
    )
}

#[test]
fn healthy_sample_shows_bound_listeners_and_healthy_conditions() {
    let s = state(&helloworld());
    let vm = build_default(&s);
    assert_eq!(vm.header.gateways, 1);
    assert_eq!(vm.header.gateways_programmed, 1);
    assert_eq!(vm.header.routes, 1);
    assert_eq!(vm.header.routes_unhealthy, 0);
    assert_eq!(vm.header.reload_ms, Some(3.2));
    assert!(vm.empty_hint.is_none());

    let g = &vm.gateways[0];
    assert_eq!(g.name, "sample-ingress/sample-gateway");
    assert_eq!(g.class, "istio");
    assert_eq!(g.health, Health::Healthy);
    let l = &g.listeners[0];
    assert_eq!(l.declared, format!("{}:80", g.addresses[0]));
    assert_eq!(l.bound.as_deref(), Some("127.0.0.1:10080"));
    assert_eq!(l.attached_routes, 1);
    // Conflicted=False is the healthy state.
    let conflicted = l
        .conditions
        .iter()
        .find(|c| c.kind == "Conflicted")
        .expect("Conflicted condition");
    assert_eq!(conflicted.status, "False");
    assert_eq!(conflicted.health, Health::Healthy);
    assert_eq!(
        conflicted.last_transition_time.as_deref(),
        Some(fixture::NOW)
    );

    let r = &vm.routes[0];
    assert_eq!(r.name, "sample/helloworld");
    assert_eq!(r.parents[0].gateway, "sample-ingress/sample-gateway");
    assert_eq!(r.health, Health::Healthy);
    assert!(r.origin.starts_with("route.yaml:"), "{}", r.origin);

    let svc: Vec<(&str, usize, usize)> = vm
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.pods.len(), s.wanted))
        .collect();
    assert_eq!(
        svc,
        vec![
            ("sample/helloworld", 2, 2),
            ("sample/helloworld-v1", 1, 1),
            ("sample/helloworld-v2", 1, 1)
        ]
    );
    assert!(vm.problems.is_empty(), "{:?}", vm.problems);
    assert_eq!(vm.events.last().map(|e| e.clock.as_str()), Some("12:01:07"));
}

#[test]
fn traffic_shows_observed_share_next_to_weight_per_backend_and_pod() {
    let s = state(&helloworld());
    let vm = build_default(&s);
    let pane = vm.traffic.expect("traffic pane for the first route");
    assert_eq!(pane.route, "sample/helloworld");
    let rule = &pane.rules[0];
    assert_eq!(rule.matches, "helloworld.sample.com Exact /hello");
    assert_eq!(rule.totals.requests, 2_000);
    assert_eq!(rule.totals.codes, BTreeMap::from([(200, 2_000)]));
    assert_eq!(rule.totals.p50_ms, Some(0.5));
    assert_eq!(rule.totals.p99_ms, Some(2.5));
    let rows: Vec<(&str, u32, f64, String)> = rule
        .backends
        .iter()
        .map(|b| {
            (
                b.label.as_str(),
                b.weight,
                b.weight_share,
                format!("{:.1}", b.share.unwrap_or(-1.0)),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("helloworld-v1", 90, 90.0, "89.7".to_string()),
            ("helloworld-v2", 10, 10.0, "10.3".to_string())
        ]
    );
    assert_eq!(rule.backends[0].pods.len(), 1);
    assert!(rule.backends[0].pods[0].pod.starts_with("helloworld-v1-"));
    assert!(rule.backends.iter().all(|b| b.problem.is_none()));

    let target = pane.target.expect("a target");
    assert_eq!(target.addr, "127.0.0.1:10080");
    assert_eq!(target.host, "helloworld.sample.com");
    assert_eq!(
        (target.method.as_str(), target.path.as_str()),
        ("GET", "/hello")
    );
}

#[test]
fn rates_feed_requests_per_second_and_history() {
    let s = state(&helloworld());
    let mut rates = Rates::default();
    let mut later = helloworld_stats(&s);
    rates.observe(0.0, &later);
    for x in &mut later {
        x.requests += 100;
    }
    rates.observe(2.0, &later);
    let vm = build(&s, &later, &rates, &[], &UiState::default());
    let rule = &vm.traffic.expect("pane").rules[0];
    assert_eq!(rule.rps, 100.0);
    assert_eq!(rule.history, vec![100]);
    assert_eq!(rule.backends[0].rps, 50.0);
}

#[test]
fn unhealthy_route_condition_is_a_problem_with_reason_and_file_line() {
    let mut files = helloworld();
    files.push(("wrong-host.yaml", WRONG_HOST));
    let s = state(&files);
    let vm = build_default(&s);
    assert_eq!(vm.header.routes, 2);
    assert_eq!(vm.header.routes_unhealthy, 1);
    let route = vm
        .routes
        .iter()
        .find(|r| r.name == "sample/wrong-host")
        .expect("route");
    assert_eq!(route.health, Health::Unhealthy);
    let p = vm
        .problems
        .iter()
        .find(|p| p.object.as_deref() == Some("HTTPRoute sample/wrong-host"))
        .expect("a problem for the route");
    assert_eq!(p.health, Health::Unhealthy);
    assert_eq!(p.condition.as_deref(), Some("Accepted=False"));
    assert_eq!(p.reason.as_deref(), Some("NoMatchingListenerHostname"));
    assert_eq!(
        p.place.as_deref(),
        Some("parent sample-ingress/sample-gateway")
    );
    assert_eq!(p.location.as_deref(), Some("wrong-host.yaml:1"));
    assert!(!p.message.is_empty());
}

#[test]
fn broken_yaml_keeps_last_good_route_stale_and_reports_file_line() {
    let good = state(&helloworld());
    let mut files = helloworld();
    files.retain(|(f, _)| *f != "route.yaml");
    files.push((
        "route.yaml",
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: [oops\n",
    ));
    let s = state_after(&files, Some(&good.store));
    let vm = build_default(&s);
    let route = &vm.routes[0];
    assert!(route.stale);
    assert_eq!(route.health, Health::Unknown);
    assert_eq!(vm.header.errors, 1);
    let first = &vm.problems[0];
    assert_eq!(first.health, Health::Unhealthy);
    assert!(
        first
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("route.yaml:")),
        "{first:?}"
    );
    assert!(vm
        .problems
        .iter()
        .any(|p| p.message.contains("last good objects are still served")));
    // Traffic keeps its pane: the stale route is still served.
    assert_eq!(vm.traffic.expect("pane").rules.len(), 1);
}

#[test]
fn selection_falls_back_to_the_first_route_and_details_show_yaml_with_status() {
    let mut files = helloworld();
    files.push(("wrong-host.yaml", WRONG_HOST));
    let s = state(&files);
    let ui = UiState {
        selected_route: Some("sample/gone".into()),
        overlay: Overlay::Details,
        ..UiState::default()
    };
    let vm = build(&s, &[], &Rates::default(), &[], &ui);
    assert_eq!(vm.selected_route.as_deref(), Some("sample/helloworld"));
    let d = vm.details.expect("details");
    assert_eq!(d.title, "HTTPRoute sample/helloworld");
    assert!(d.origin.starts_with("route.yaml:"));
    assert!(d.yaml.contains("status:"), "{}", d.yaml);
    assert!(d.yaml.contains("lastTransitionTime"), "{}", d.yaml);

    let ui = UiState {
        selected_route: Some("sample/wrong-host".into()),
        ..UiState::default()
    };
    let vm = build(&s, &[], &Rates::default(), &[], &ui);
    let pane = vm.traffic.expect("pane");
    assert!(pane.rules.is_empty());
    assert!(pane.target.is_none());
    assert!(pane.no_target.is_some());
    assert!(vm.details.is_none());
}

#[test]
fn empty_folder_says_how_to_get_the_sample() {
    let s = state(&[]);
    let vm = build(&s, &[], &Rates::default(), &[], &UiState::default());
    assert!(vm.gateways.is_empty() && vm.routes.is_empty());
    assert!(vm
        .empty_hint
        .as_deref()
        .is_some_and(|h| h.contains("gwsim init")));
    assert!(vm.traffic.is_none());
}

#[test]
fn view_model_serializes_to_json_with_health_words() {
    let s = state(&helloworld());
    let vm = build_default(&s);
    let json = serde_json::to_value(&vm).expect("json");
    assert_eq!(json["gateways"][0]["health"], "healthy");
    assert_eq!(
        json["traffic"]["rules"][0]["backends"][0]["label"],
        "helloworld-v1"
    );
    assert_eq!(json["header"]["gatewaysProgrammed"], 1);
}
