//! Bad input never panics and never loses the rest: each problem is a diagnostic with file,
//! line, column and field, and the other objects still load.

use gwsim::model::Kind;
use gwsim::pipeline::{self, Options};
use gwsim::source::Diagnostic;
use gwsim::store::History;
use std::path::Path;

const GOOD_SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: good\n  namespace: app\nspec:\n  ports:\n  - port: 80\n";

fn load(files: &[(&str, &str)]) -> pipeline::Pass {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
    pipeline::run(
        dir.path(),
        &Options::default(),
        None,
        &mut History::default(),
        "2026-01-01T00:00:00Z",
    )
}

fn only_error(pass: &pipeline::Pass) -> Diagnostic {
    let errors: Vec<&Diagnostic> = pass.diagnostics().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    errors[0].clone()
}

fn good_service_loaded(pass: &pipeline::Pass) -> bool {
    pass.store.get(Kind::Service, "app", "good").is_some()
}

#[test]
fn yaml_syntax_error_names_file_line_and_column_and_keeps_other_documents() {
    let broken =
        format!("{GOOD_SERVICE}---\napiVersion: v1\nkind: Service\nmetadata: {{name: [broken\n");
    let pass = load(&[("a.yaml", &broken)]);
    let d = only_error(&pass);
    assert_eq!(d.file, "a.yaml");
    // The unterminated flow sequence opened on line 12 is noticed at the end of input.
    assert_eq!(d.line, Some(13), "{d}");
    assert!(d.column.is_some(), "{d}");
    assert!(d.message.contains("YAML syntax error"), "{d}");
    assert!(good_service_loaded(&pass));
    assert!(pass.unreadable);
}

#[test]
fn wrong_type_names_the_field() {
    let gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  gatewayClassName: gwsim\n  listeners:\n  - name: http\n    port: eighty\n    protocol: HTTP\n";
    let pass = load(&[("gw.yaml", gw), ("svc.yaml", GOOD_SERVICE)]);
    let d = only_error(&pass);
    assert_eq!(
        (d.file.as_str(), d.line, d.column),
        ("gw.yaml", Some(9), Some(11)),
        "{d}"
    );
    assert_eq!(d.field, "spec.listeners[0].port");
    assert!(d.message.contains("invalid type"), "{d}");
    assert!(good_service_loaded(&pass));
    assert!(pass.store.get(Kind::Gateway, "default", "g").is_none());
}

#[test]
fn missing_required_field_names_the_field() {
    let route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\nspec:\n  rules:\n  - backendRefs:\n    - port: 80\n";
    let pass = load(&[("route.yaml", route), ("svc.yaml", GOOD_SERVICE)]);
    let d = only_error(&pass);
    assert_eq!(d.file, "route.yaml");
    assert_eq!(d.field, "spec.rules[0].backendRefs[0]");
    assert!(d.message.contains("missing field `name`"), "{d}");
    assert_eq!(d.line, Some(8), "{d}");
    assert!(good_service_loaded(&pass));
}

#[test]
fn unknown_field_is_rejected_like_strict_validation() {
    let route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\nspec:\n  rules:\n  - backendRefs:\n    - name: good\n      port: 80\n      weigth: 3\n";
    let pass = load(&[("route.yaml", route), ("svc.yaml", GOOD_SERVICE)]);
    let d = only_error(&pass);
    assert_eq!(d.field, "spec.rules[0].backendRefs[0].weigth");
    assert_eq!((d.line, d.column), (Some(10), Some(7)), "{d}");
    assert!(pass.store.get(Kind::HttpRoute, "default", "r").is_none());
    assert!(good_service_loaded(&pass));
}

#[test]
fn duplicate_object_keeps_the_first_and_points_at_both() {
    let pass = load(&[("a.yaml", GOOD_SERVICE), ("b/dup.yaml", GOOD_SERVICE)]);
    let d = only_error(&pass);
    assert_eq!(d.file, "b/dup.yaml");
    assert!(d.message.contains("already declared at a.yaml:1"), "{d}");
    assert_eq!(
        pass.store
            .get(Kind::Service, "app", "good")
            .map(|o| o.origin.file.as_str()),
        Some("a.yaml")
    );
}

#[test]
fn validation_rule_names_the_rule_and_the_field_position() {
    let route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\nspec:\n  rules:\n  - filters:\n    - type: RequestRedirect\n      requestRedirect:\n        scheme: https\n    backendRefs:\n    - name: good\n      port: 80\n";
    let pass = load(&[("route.yaml", route)]);
    let d = only_error(&pass);
    assert!(
        d.message
            .contains("RequestRedirect filter must not be used together with backendRefs"),
        "{d}"
    );
    assert_eq!(d.field, "spec.rules[0].filters[0].requestRedirect");
    assert_eq!(d.line, Some(9), "{d}");
}

#[test]
fn unknown_kind_is_one_warning_and_ignored() {
    let vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: v\n";
    let pass = load(&[("vs.yaml", vs), ("svc.yaml", GOOD_SERVICE)]);
    let warnings: Vec<_> = pass.diagnostics().filter(|d| !d.is_error()).collect();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("unknown kind VirtualService"));
    assert!(good_service_loaded(&pass));
}

#[test]
fn hidden_folders_and_other_extensions_are_not_manifests() {
    let pass = load(&[
        (".gwsim/x.yaml", "not: [valid"),
        ("notes.txt", "hello"),
        ("svc.yml", GOOD_SERVICE),
    ]);
    assert_eq!(pass.diagnostics().count(), 0);
    assert!(good_service_loaded(&pass));
}

#[test]
fn namespace_on_cluster_scoped_kind_is_a_diagnostic() {
    let gc = "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: mine\n  namespace: oops\nspec:\n  controllerName: gwsim.dev/gateway-controller\n";
    let pass = load(&[("gc.yaml", gc)]);
    let d: Vec<_> = pass.diagnostics().collect();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].field, "metadata.namespace");
    assert_eq!(d[0].line, Some(5));
    assert!(pass.store.get(Kind::GatewayClass, "", "mine").is_some());
}

#[test]
fn list_items_are_unwrapped_and_default_namespace_applies() {
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: one\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: two\n";
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("l.yaml"), list).expect("write");
    let options = Options {
        namespace: "sample".into(),
        ..Options::default()
    };
    let pass = pipeline::run(
        dir.path(),
        &options,
        None,
        &mut History::default(),
        "2026-01-01T00:00:00Z",
    );
    assert!(pass.store.get(Kind::Service, "sample", "one").is_some());
    let two = pass.store.get(Kind::Service, "sample", "two").expect("two");
    assert_eq!(two.origin.line, 8);
    let ns = pass
        .store
        .get(Kind::Namespace, "", "sample")
        .expect("implicit namespace");
    assert_eq!(
        ns.meta()
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/metadata.name"))
            .map(String::as_str),
        Some("sample")
    );
}

#[test]
fn generation_bumps_only_when_the_spec_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("svc.yaml");
    let mut history = History::default();
    let run = |history: &mut History| {
        pipeline::run(
            Path::new(dir.path()),
            &Options::default(),
            None,
            history,
            "2026-01-01T00:00:00Z",
        )
    };
    std::fs::write(&file, GOOD_SERVICE).expect("write");
    assert_eq!(
        run(&mut history)
            .store
            .get(Kind::Service, "app", "good")
            .map(|o| o.generation()),
        Some(1)
    );
    std::fs::write(&file, format!("# a comment\n{GOOD_SERVICE}")).expect("write");
    assert_eq!(
        run(&mut history)
            .store
            .get(Kind::Service, "app", "good")
            .map(|o| o.generation()),
        Some(1)
    );
    std::fs::write(&file, GOOD_SERVICE.replace("port: 80", "port: 81")).expect("write");
    let pass = run(&mut history);
    let svc = pass.store.get(Kind::Service, "app", "good").expect("svc");
    assert_eq!(svc.generation(), 2);
    assert_eq!(
        svc.meta()
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
        Some("2026-01-01T00:00:00Z".to_string())
    );
}

#[test]
fn stale_objects_of_a_broken_file_are_kept_until_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("svc.yaml");
    let mut history = History::default();
    std::fs::write(&file, GOOD_SERVICE).expect("write");
    let first = pipeline::run(
        dir.path(),
        &Options::default(),
        None,
        &mut history,
        "2026-01-01T00:00:00Z",
    );
    std::fs::write(&file, "metadata: [oops\n").expect("write");
    let second = pipeline::run(
        dir.path(),
        &Options::default(),
        Some(&first.store),
        &mut history,
        "2026-01-01T00:00:01Z",
    );
    let kept = second
        .store
        .get(Kind::Service, "app", "good")
        .expect("kept");
    assert!(kept.stale);
    assert_eq!(second.diagnostics().filter(|d| d.is_error()).count(), 1);
}

#[test]
fn a_file_emptied_in_place_keeps_its_objects_until_it_has_content_or_is_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("svc.yaml");
    let mut history = History::default();
    std::fs::write(&file, GOOD_SERVICE).expect("write");
    let first = pipeline::run(
        dir.path(),
        &Options::default(),
        None,
        &mut history,
        "2026-01-01T00:00:00Z",
    );
    // An editor saving in place truncates first: a reload may see the empty file.
    std::fs::write(&file, "").expect("truncate");
    let second = pipeline::run(
        dir.path(),
        &Options::default(),
        Some(&first.store),
        &mut history,
        "2026-01-01T00:00:01Z",
    );
    assert!(second
        .store
        .get(Kind::Service, "app", "good")
        .is_some_and(|o| o.stale));
    assert!(second
        .diagnostics()
        .any(|d| d.file == "svc.yaml" && d.message.contains("empty")));
    std::fs::remove_file(&file).expect("rm");
    let third = pipeline::run(
        dir.path(),
        &Options::default(),
        Some(&second.store),
        &mut history,
        "2026-01-01T00:00:02Z",
    );
    assert!(third.store.get(Kind::Service, "app", "good").is_none());
}
