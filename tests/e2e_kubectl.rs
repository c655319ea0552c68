//! The real kubectl against gwsim's Kubernetes API: the Istio getting-started walk-through
//! command for command (with curl through the Gateway for both splits), Table columns,
//! `kubectl wait`, and the layering of API changes over the user's files. Skipped with a
//! message when no kubectl is installed.

mod common;

use common::kubectl::{versions, Cluster, Out, GATEWAY, ROUTE, ROUTE_90_10};
use common::{copy_sample, options};
use gwsim::runtime::handle::spawn;
use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn istio_walkthrough_runs_command_for_command() {
    let empty = tempfile::tempdir().expect("tempdir");
    let Some(c) = Cluster::start(empty, 7, 70).await else {
        return;
    };
    // The guide installs the CRDs only when this check fails: they are pre-seeded.
    let out = c
        .ok(&["get", "crd", "gateways.gateway.networking.k8s.io"], None)
        .await;
    assert!(out.stdout.starts_with("NAME"), "{out:?}");

    // kubectl 1.32 sends this one as protobuf.
    let out = c.ok(&["create", "ns", "sample"], None).await;
    assert_eq!(out.stdout.trim(), "namespace/sample created");
    let helloworld = c.sample("helloworld/helloworld.yaml");
    let out = c
        .ok(&["apply", "-f", &helloworld, "-n", "sample"], None)
        .await;
    assert!(
        out.stdout.contains("deployment.apps/helloworld-v2 created"),
        "{out:?}"
    );
    let out = c.ok(&["get", "pod", "-n", "sample"], None).await;
    let pods: Vec<&str> = out.stdout.lines().skip(1).collect();
    assert_eq!(pods.len(), 2, "{out:?}");
    assert!(
        pods.iter()
            .all(|l| l.contains("1/1") && l.contains("Running")),
        "{out:?}"
    );

    c.ok(&["create", "namespace", "sample-ingress"], None).await;
    let out = c.ok(&["apply", "-f", "-"], Some(GATEWAY)).await;
    assert_eq!(
        out.stdout.trim(),
        "gateway.gateway.networking.k8s.io/sample-gateway created"
    );
    c.ok(
        &[
            "wait",
            "-n",
            "sample-ingress",
            "--for=condition=programmed",
            "gateway",
            "sample-gateway",
        ],
        None,
    )
    .await;
    let ingress_host = c
        .ok(
            &[
                "get",
                "-n",
                "sample-ingress",
                "gateway",
                "sample-gateway",
                "-o",
                "jsonpath={.status.addresses[0].value}",
            ],
            None,
        )
        .await
        .stdout;
    assert!(ingress_host.starts_with("127.0.70."), "{ingress_host:?}");

    let out = c
        .ok(&["apply", "-n", "sample", "-f", "-"], Some(ROUTE))
        .await;
    assert_eq!(
        out.stdout.trim(),
        "httproute.gateway.networking.k8s.io/helloworld created"
    );
    let addr = c.bound(&ingress_host, 80);
    let even = versions(addr, 10).await;
    assert_eq!(even.keys().collect::<Vec<_>>(), ["v1", "v2"], "{even:?}");

    let out = c.ok(&["get", "gtw,httproute", "-A"], None).await;
    assert!(
        out.stdout
            .contains("gateway.gateway.networking.k8s.io/sample-gateway   istio"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("[\"helloworld.sample.com\"]"),
        "{out:?}"
    );
    let yaml = c
        .ok(
            &[
                "get",
                "httproute",
                "helloworld",
                "-n",
                "sample",
                "-o",
                "yaml",
            ],
            None,
        )
        .await
        .stdout;
    for want in [
        "apiVersion: gateway.networking.k8s.io/v1\n",
        "kubectl.kubernetes.io/last-applied-configuration",
        "controllerName: istio.io/gateway-controller",
        "type: Accepted",
        "observedGeneration: 1",
        "lastTransitionTime:",
    ] {
        assert!(yaml.contains(want), "{want} missing in\n{yaml}");
    }

    let out = c
        .ok(&["apply", "-n", "sample", "-f", "-"], Some(ROUTE_90_10))
        .await;
    assert_eq!(
        out.stdout.trim(),
        "httproute.gateway.networking.k8s.io/helloworld configured"
    );
    let versions_file = c.sample("helloworld/helloworld-versions.yaml");
    c.ok(&["apply", "-n", "sample", "-f", &versions_file], None)
        .await;
    let split = versions(addr, 200).await;
    let v1 = split.get("v1").copied().unwrap_or_default();
    assert!((160..=195).contains(&v1), "{split:?}");
    assert_eq!(
        v1 + split.get("v2").copied().unwrap_or_default(),
        200,
        "{split:?}"
    );

    // Outside the watched folder: a file there would be one of the user's manifests.
    let route_file = c.cache.path().join("route-input.yaml");
    std::fs::write(&route_file, ROUTE_90_10).expect("write");
    let route_file = route_file.display().to_string();
    let out = c
        .ok(&["delete", "-n", "sample", "-f", &route_file], None)
        .await;
    assert_eq!(
        out.stdout.trim(),
        "httproute.gateway.networking.k8s.io \"helloworld\" deleted"
    );
    assert_eq!(
        versions(addr, 1).await.keys().collect::<Vec<_>>(),
        ["status 404"]
    );
    let out = c.ok(&["get", "httproute", "-n", "sample"], None).await;
    assert!(
        out.stderr
            .contains("No resources found in sample namespace."),
        "{out:?}"
    );
    c.handle.shutdown().await;
}

/// Ages change from run to run; the rest of the output is deterministic.
fn redact_ages(text: &str) -> String {
    let age = regex::Regex::new(r"\b\d+(s|m\d*s?|h\d*m?|d\d*h?)$").expect("regex");
    let date = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").expect("regex");
    text.lines()
        .map(|l| {
            date.replace_all(&age.replace(l.trim_end(), "<age>"), "<date>")
                .into_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_prints_the_columns_kubectl_users_know() {
    let Some(c) = Cluster::start(copy_sample("helloworld"), 7, 72).await else {
        return;
    };
    let mut text = String::new();
    for args in [
        &["get", "gatewayclasses"][..],
        &["get", "gtw,httproute", "-A"],
        &["get", "pod", "-n", "sample"],
        &["get", "ns"],
        &["get", "svc,deploy", "-n", "sample"],
        &[
            "get",
            "svc",
            "-n",
            "sample-ingress",
            "-l",
            "gateway.networking.k8s.io/gateway-name=sample-gateway",
        ],
        &["get", "crd"],
    ] {
        let out = c.ok(args, None).await;
        text.push_str(&format!(
            "$ kubectl {}\n{}\n",
            args.join(" "),
            redact_ages(&out.stdout)
        ));
    }
    insta::assert_snapshot!("kubectl_get_columns", text);
    c.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_returns_as_soon_as_the_condition_holds_and_times_out_when_it_cannot() {
    let Some(c) = Cluster::start(copy_sample("helloworld"), 3, 73).await else {
        return;
    };
    let started = Instant::now();
    c.ok(
        &[
            "wait",
            "-n",
            "sample-ingress",
            "--for=condition=programmed",
            "gateway",
            "sample-gateway",
            "--timeout=20s",
        ],
        None,
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let out = c
        .kubectl(
            &[
                "wait",
                "-n",
                "sample-ingress",
                "--for=condition=Exploded",
                "gateway",
                "sample-gateway",
                "--timeout=1s",
            ],
            None,
        )
        .await;
    assert!(!out.ok);
    assert!(
        out.stderr.contains("timed out waiting for the condition"),
        "{out:?}"
    );

    // A Gateway of a class nobody declared yet is not Programmed; declaring the class makes
    // it so, and the waiting kubectl sees it through its watch.
    let pending = GATEWAY
        .replace("sample-gateway", "later")
        .replace("gatewayClassName: istio", "gatewayClassName: later");
    c.ok(&["apply", "-f", "-"], Some(&pending)).await;
    let waiting = {
        let mut cmd = Command::new(&c.kubectl);
        cmd.env("KUBECONFIG", &c.kubeconfig)
            .arg("--cache-dir")
            .arg(c.cache.path().join("cache"))
            .args([
                "wait",
                "-n",
                "sample-ingress",
                "--for=condition=Programmed",
                "gateway/later",
                "--timeout=30s",
            ]);
        tokio::task::spawn_blocking(move || cmd.output().expect("kubectl wait"))
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let class = "apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: later
spec:
  controllerName: gwsim.dev/gateway-controller
";
    let declared = Instant::now();
    c.ok(&["apply", "-f", "-"], Some(class)).await;
    let out = waiting.await.expect("wait task");
    assert!(out.status.success(), "{out:?}");
    assert!(
        declared.elapsed() < Duration::from_secs(10),
        "{:?}",
        declared.elapsed()
    );
    c.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_changes_layer_over_user_files_which_win_when_edited() {
    let Some(c) = Cluster::start(copy_sample("helloworld"), 5, 74).await else {
        return;
    };
    let route_path = c.dir.path().join("route.yaml");
    let route_before = std::fs::read_to_string(&route_path).expect("route.yaml");
    let generation = |c: &Cluster| {
        c.handle
            .state()
            .store
            .get(gwsim::model::Kind::HttpRoute, "sample", "helloworld")
            .map(|o| o.generation())
    };
    let rv = |out: &Out| out.stdout.trim().parse::<u64>().expect("resourceVersion");
    let rv_args = [
        "get",
        "httproute",
        "helloworld",
        "-n",
        "sample",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ];
    let rv0 = rv(&c.ok(&rv_args, None).await);

    // A metadata change: new resourceVersion, same generation.
    c.ok(
        &[
            "annotate",
            "httproute",
            "helloworld",
            "-n",
            "sample",
            "note=hi",
        ],
        None,
    )
    .await;
    let rv1 = rv(&c.ok(&rv_args, None).await);
    assert!(rv1 > rv0);
    assert_eq!(generation(&c), Some(1));

    // A spec change of a file's object: kept in gwsim's layer, with a warning; the file stays.
    let out = c
        .ok(&["apply", "-n", "sample", "-f", "-"], Some(ROUTE_90_10))
        .await;
    assert!(
        out.stderr
            .contains("Warning: gwsim: HTTPRoute sample/helloworld is declared in route.yaml"),
        "{out:?}"
    );
    assert_eq!(generation(&c), Some(2));
    assert_eq!(
        std::fs::read_to_string(&route_path).expect("route"),
        route_before
    );
    assert!(c
        .dir
        .path()
        .join(".gwsim/applied/httproute_sample_helloworld.json")
        .is_file());
    c.ok(
        &[
            "apply",
            "-n",
            "sample",
            "-f",
            &c.sample("helloworld/helloworld-versions.yaml"),
        ],
        None,
    )
    .await;
    let addr = c.bound(
        &c.ok(
            &[
                "get",
                "gtw",
                "sample-gateway",
                "-n",
                "sample-ingress",
                "-o",
                "jsonpath={.status.addresses[0].value}",
            ],
            None,
        )
        .await
        .stdout,
        80,
    );
    let split = versions(addr, 100).await;
    assert!(
        split.get("v1").copied().unwrap_or_default() >= 80,
        "{split:?}"
    );

    // The layer survives a restart.
    c.handle.shutdown().await;
    let again = spawn(options(c.dir.path(), 5, 75), false).await;
    assert_eq!(
        again
            .state()
            .store
            .get(gwsim::model::Kind::HttpRoute, "sample", "helloworld")
            .map(|o| o.origin.file.clone()),
        Some(".gwsim/applied/httproute_sample_helloworld.json".to_string())
    );
    again.shutdown().await;

    // Editing the file itself wins again.
    let c = Cluster::start(c.dir, 5, 76)
        .await
        .expect("kubectl still there");
    let edited = route_before.replace(
        "hostnames: [\"helloworld.sample.com\"]",
        "hostnames: [\"helloworld.sample.com\", \"hello.sample.com\"]",
    );
    assert_ne!(edited, route_before);
    std::fs::write(&route_path, edited).expect("edit");
    c.handle.reload().await.expect("reload");
    let out = c
        .ok(
            &[
                "get",
                "httproute",
                "helloworld",
                "-n",
                "sample",
                "-o",
                "jsonpath={.spec.rules[0].backendRefs[*].name}",
            ],
            None,
        )
        .await;
    assert_eq!(out.stdout, "helloworld");

    // Deleting a file's object tombstones it in the layer; the file stays.
    let out = c
        .ok(
            &[
                "delete",
                "gateway",
                "sample-gateway",
                "-n",
                "sample-ingress",
            ],
            None,
        )
        .await;
    assert!(
        out.stderr.contains("is declared in gateway.yaml"),
        "{out:?}"
    );
    let out = c
        .kubectl(
            &["get", "gateway", "sample-gateway", "-n", "sample-ingress"],
            None,
        )
        .await;
    assert!(!out.ok);
    assert!(out.stderr.contains("NotFound"), "{out:?}");
    assert!(c.dir.path().join("gateway.yaml").is_file());
    c.handle.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_read_like_the_api_servers() {
    let Some(c) = Cluster::start(copy_sample("helloworld"), 1, 77).await else {
        return;
    };
    let invalid = ROUTE.replace("value: /hello", "value: hello");
    let out = c
        .kubectl(&["apply", "-n", "sample", "-f", "-"], Some(&invalid))
        .await;
    assert!(!out.ok);
    assert!(out.stderr.contains("is invalid"), "{out:?}");
    assert!(
        out.stderr.contains("spec.rules[0].matches[0].path.value"),
        "{out:?}"
    );

    let unknown = ROUTE.replace("hostnames:", "hostnamez:");
    let out = c
        .kubectl(&["apply", "-n", "sample", "-f", "-"], Some(&unknown))
        .await;
    assert!(
        out.stderr.contains("(BadRequest)") && out.stderr.contains("unknown field"),
        "{out:?}"
    );

    let out = c
        .kubectl(&["apply", "-n", "nope", "-f", "-"], Some(ROUTE))
        .await;
    assert!(
        out.stderr.contains("namespaces \"nope\" not found"),
        "{out:?}"
    );

    let out = c.kubectl(&["create", "namespace", "sample"], None).await;
    assert!(out.stderr.contains("(AlreadyExists)"), "{out:?}");

    let out = c
        .kubectl(&["get", "gateway", "nope", "-n", "sample"], None)
        .await;
    assert!(
        out.stderr
            .contains("gateways.gateway.networking.k8s.io \"nope\" not found"),
        "{out:?}"
    );
    c.handle.shutdown().await;
}
