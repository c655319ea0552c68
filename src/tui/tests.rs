//! What the dashboard draws, pinned by snapshots of a `TestBackend`: the healthy sample, a
//! broken file with the problem pane, 80×24, traffic bars from known counters, the overlays.

use crate::view::fixture::{self, helloworld, helloworld_stats, series, state, state_after};
use crate::view::{self, Generator, Health, Overlay, Rates, TrafficTarget, UiState, ViewModel};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

fn draw(vm: &ViewModel, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|f| f.render_widget(vm, f.area()))
        .expect("draw");
    terminal
}

fn healthy(ui: &UiState) -> ViewModel {
    let s = state(&helloworld());
    let mut rates = Rates::default();
    let stats = helloworld_stats(&s);
    let before: Vec<_> = stats
        .iter()
        .map(|x| {
            view::fixture::series(
                &x.key.rule,
                &x.key.backend,
                &x.key.pod,
                x.requests - x.requests / 5,
                400,
            )
        })
        .collect();
    rates.observe(0.0, &before);
    rates.observe(1.0, &stats);
    view::build(&s, &stats, &rates, &fixture::events(), ui)
}

#[test]
fn healthy_sample_wide() {
    let vm = healthy(&UiState::default());
    insta::assert_snapshot!(draw(&vm, 120, 36).backend());
}

#[test]
fn healthy_sample_narrow_80x24() {
    let vm = healthy(&UiState::default());
    insta::assert_snapshot!(draw(&vm, 80, 24).backend());
}

#[test]
fn broken_yaml_shows_the_problem_pane() {
    let good = state(&helloworld());
    let mut files = helloworld();
    files.retain(|(f, _)| *f != "route.yaml");
    files.push((
        "route.yaml",
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: [oops\n",
    ));
    files.push((
        "wrong-host.yaml",
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: wrong-host\n  namespace: sample\nspec:\n  parentRefs:\n  - name: sample-gateway\n    namespace: sample-ingress\n  hostnames: [shop.example]\n",
    ));
    let s = state_after(&files, Some(&good.store));
    let vm = view::build(
        &s,
        &[],
        &Rates::default(),
        &fixture::events(),
        &UiState::default(),
    );
    let terminal = draw(&vm, 120, 36);
    insta::assert_snapshot!(terminal.backend());
    // Unhealthy is red and stale is yellow, beside the words.
    let buf = terminal.backend().buffer();
    let colour_of = |symbol: &str| {
        buf.content()
            .iter()
            .find(|c| c.symbol() == symbol)
            .map(|c| c.fg)
    };
    assert_eq!(colour_of("✘"), Some(Color::Red));
    assert_eq!(
        crate::tui::render::health_style(Health::Unknown).fg,
        Some(Color::Yellow)
    );
}

#[test]
fn traffic_bars_follow_known_counters_after_a_weight_change() {
    // The file now says 50/50; the counters still remember the 90/10 traffic.
    let route = include_str!("../../samples/variants/route-90-10.yaml")
        .replace("weight: 90", "weight: 50")
        .replace("weight: 10", "weight: 50");
    let mut files = helloworld();
    files.retain(|(f, _)| *f != "route.yaml");
    files.push(("route.yaml", route.as_str()));
    let s = state(&files);
    let rule = "httproute/sample/helloworld/rule/0";
    let pod = |d: &str| {
        s.pods
            .iter()
            .find(|p| p.deployment == d)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    let stats = vec![
        series(
            rule,
            "sample/helloworld-v1:5000",
            &pod("sample/helloworld-v1"),
            1_300,
            400,
        ),
        series(
            rule,
            "sample/helloworld-v2:5000",
            &pod("sample/helloworld-v2"),
            700,
            900,
        ),
    ];
    let ui = UiState {
        generator: Generator {
            running: true,
            rate: 100,
            target: Some(TrafficTarget {
                addr: "127.0.0.1:10080".into(),
                host: "helloworld.sample.com".into(),
                method: "GET".into(),
                path: "/hello".into(),
                headers: Vec::new(),
            }),
            sent: 2_000,
            failed: 0,
        },
        ..UiState::default()
    };
    let vm = view::build(&s, &stats, &Rates::default(), &[], &ui);
    insta::assert_snapshot!(draw(&vm, 100, 30).backend());
}

#[test]
fn help_overlay() {
    let vm = healthy(&UiState {
        overlay: Overlay::Help,
        ..UiState::default()
    });
    insta::assert_snapshot!(draw(&vm, 100, 30).backend());
}

#[test]
fn details_overlay_shows_yaml_with_file_line() {
    let vm = healthy(&UiState {
        overlay: Overlay::Details,
        ..UiState::default()
    });
    insta::assert_snapshot!(draw(&vm, 100, 40).backend());
}

#[test]
fn empty_folder_says_how_to_get_the_sample() {
    let s = state(&[]);
    let vm = view::build(&s, &[], &Rates::default(), &[], &UiState::default());
    insta::assert_snapshot!(draw(&vm, 80, 24).backend());
}
