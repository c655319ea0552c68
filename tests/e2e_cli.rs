//! `gwsim get` and `gwsim wait` end to end: an in-process instance of the sample with its
//! admin server registered in the folder's `.gwsim/instance.json` (addresses from
//! 127.0.64.0/24 upward, ephemeral ports), and the commands run against it as a user would.

mod common;

use common::{copy_sample, options};
use gwsim::cli::get::{get, GetArgs, Target};
use gwsim::cli::wait::{wait, WaitArgs};
use gwsim::runtime::handle::{spawn, Handle};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

async fn up(dir: &Path, pool: u8) -> (Handle, gwsim::admin::Running) {
    let handle = spawn(options(dir, 42, pool), true).await;
    let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let admin = gwsim::admin::start(handle.clone(), any, dir)
        .await
        .expect("admin server");
    (handle, admin)
}

fn target(dir: &Path) -> Target {
    Target {
        dir: dir.to_path_buf(),
        server: None,
    }
}

async fn run_get(dir: &Path, argv: &[&str]) -> (i32, String, String) {
    let mut args = GetArgs {
        kind: argv[0].to_string(),
        names: Vec::new(),
        namespace: None,
        all_namespaces: false,
        output: None,
        target: target(dir),
    };
    let mut rest = argv[1..].iter();
    while let Some(a) = rest.next() {
        match *a {
            "-n" => args.namespace = rest.next().map(|s| s.to_string()),
            "-A" => args.all_namespaces = true,
            "-o" => args.output = rest.next().map(|s| s.to_string()),
            name => args.names.push(name.to_string()),
        }
    }
    let (mut out, mut err) = (String::new(), String::new());
    let code = get(&args, &mut out, &mut err).await;
    (code, out, err)
}

async fn run_wait(
    dir: &Path,
    objects: &[&str],
    ns: &str,
    for_: &str,
    timeout: &str,
) -> (i32, String, String) {
    let args = WaitArgs {
        objects: objects.iter().map(|s| s.to_string()).collect(),
        for_: for_.to_string(),
        timeout: timeout.to_string(),
        namespace: Some(ns.to_string()),
        target: target(dir),
    };
    let (mut out, mut err) = (String::new(), String::new());
    let code = wait(&args, &mut out, &mut err).await;
    (code, out, err)
}

/// Replaces the AGE column's values (the last column) with `AGE`.
fn without_ages(table: &str) -> String {
    table
        .lines()
        .map(|l| match l.rsplit_once("   ") {
            Some((head, _)) if !l.starts_with("NAME") && !l.starts_with("NAMESPACE") => {
                format!("{head}   AGE")
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_prints_kubectl_tables_and_formats() {
    let dir = copy_sample("helloworld");
    let (h, admin) = up(dir.path(), 64).await;
    let address = h.state().listeners[0].address.clone();

    let (code, out, _) = run_get(dir.path(), &["gtw", "-n", "sample-ingress"]).await;
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "NAME             CLASS   ADDRESS{}PROGRAMMED   AGE",
            " ".repeat(address.len() - 4)
        )
    );
    assert!(
        lines[1].starts_with(&format!(
            "sample-gateway   istio   {address}   True         "
        )),
        "{out}"
    );
    let age = lines[1].rsplit(' ').next().unwrap_or_default();
    assert!(age.ends_with('s') || age.ends_with('m'), "age {age}");

    let (_, out, _) = run_get(dir.path(), &["httproute", "-A"]).await;
    assert_eq!(
        without_ages(&out),
        "NAMESPACE   NAME         HOSTNAMES                   AGE\nsample      helloworld   [\"helloworld.sample.com\"]   AGE"
    );
    let (_, out, _) = run_get(dir.path(), &["gatewayclasses"]).await;
    assert_eq!(
        without_ages(&out),
        "NAME    CONTROLLER                     ACCEPTED   AGE\ngwsim   gwsim.dev/gateway-controller   True       AGE\nistio   istio.io/gateway-controller    True       AGE"
    );
    let (_, out, _) = run_get(dir.path(), &["pods", "-n", "sample"]).await;
    assert_eq!(
        without_ages(&out),
        "NAME                             READY   STATUS    RESTARTS   AGE\nhelloworld-v1-7cf5b7476f-845rd   1/1     Running   0          AGE\nhelloworld-v2-c95c47fb9-wdncf    1/1     Running   0          AGE"
    );
    let (_, out, _) = run_get(dir.path(), &["deploy", "-n", "sample", "helloworld-v1"]).await;
    assert!(
        out.lines()
            .nth(1)
            .unwrap_or_default()
            .starts_with("helloworld-v1   1/1     1            1           "),
        "{out}"
    );

    let (code, out, _) = run_get(
        dir.path(),
        &[
            "gateway",
            "sample-gateway",
            "-n",
            "sample-ingress",
            "-o",
            "jsonpath={.status.addresses[0].value}",
        ],
    )
    .await;
    assert_eq!((code, out), (0, address.clone()));
    let (_, out, _) = run_get(
        dir.path(),
        &["gateways", "-A", "-o", "jsonpath={.items[*].metadata.name}"],
    )
    .await;
    assert_eq!(out, "sample-gateway");
    let (_, out, _) = run_get(
        dir.path(),
        &["httproutes", "-n", "sample", "-o", "jsonpath={range .items[*]}{.metadata.name}: {.status.parents[0].conditions[?(@.type==\"Accepted\")].status}{\"\\n\"}{end}"],
    )
    .await;
    assert_eq!(out, "helloworld: True\n");
    let (_, out, _) = run_get(dir.path(), &["gtw", "-A", "-o", "name"]).await;
    assert_eq!(out, "gateway.gateway.networking.k8s.io/sample-gateway\n");
    let (_, out, _) = run_get(
        dir.path(),
        &["svc/helloworld", "-n", "sample", "-o", "yaml"],
    )
    .await;
    assert!(out.starts_with("apiVersion: v1\nkind: Service\n"), "{out}");
    // The Gateway's generated Service, listed as kubectl lists it.
    let (_, out, _) = run_get(
        dir.path(),
        &[
            "svc",
            "-n",
            "sample-ingress",
            "-o",
            "jsonpath={.items[*].metadata.name} {.items[0].status.loadBalancer.ingress[0].ip}",
        ],
    )
    .await;
    assert_eq!(out, format!("sample-gateway-istio {address}"));

    let (code, _, err) = run_get(dir.path(), &["gtw", "nope", "-n", "sample-ingress"]).await;
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "Error from server (NotFound): gateways.gateway.networking.k8s.io \"nope\" not found\n"
    );
    let (code, out, err) = run_get(dir.path(), &["svc", "-n", "empty"]).await;
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (0, "", "No resources found in empty namespace.\n")
    );
    let (code, _, err) = run_get(dir.path(), &["virtualservice"]).await;
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "error: the server doesn't have a resource type \"virtualservice\"\n"
        )
    );

    admin.stop().await;
    h.shutdown().await;
    assert!(
        !dir.path().join(".gwsim/instance.json").exists(),
        "removed on stop"
    );
    let (code, _, err) = run_get(dir.path(), &["gtw"]).await;
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: no running gwsim found for"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_reports_met_conditions_timeouts_and_follows_reloads() {
    let dir = copy_sample("helloworld");
    let (h, admin) = up(dir.path(), 65).await;
    let gw = ["gtw/sample-gateway"];

    assert_eq!(
        run_wait(
            dir.path(),
            &gw,
            "sample-ingress",
            "condition=programmed",
            "10s"
        )
        .await,
        (
            0,
            "gateway.gateway.networking.k8s.io/sample-gateway condition met\n".into(),
            String::new()
        )
    );
    assert_eq!(
        run_wait(
            dir.path(),
            &["gateway", "sample-gateway"],
            "sample-ingress",
            "condition=Programmed=False",
            "1s"
        )
        .await,
        (
            1,
            String::new(),
            "error: timed out waiting for the condition on gateways/sample-gateway\n".into()
        )
    );
    let (code, _, err) = run_wait(
        dir.path(),
        &["gtw/nope"],
        "sample-ingress",
        "condition=Programmed",
        "1s",
    )
    .await;
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "Error from server (NotFound): gateways.gateway.networking.k8s.io \"nope\" not found\n"
        )
    );

    // A wait started before an edit is answered by the reload the edit causes.
    let path = dir.path().to_path_buf();
    let port_change = tokio::spawn(async move {
        run_wait(
            &path,
            &["gtw/sample-gateway"],
            "sample-ingress",
            "jsonpath={.spec.listeners[0].port}=8080",
            "20s",
        )
        .await
    });
    let gateway = dir.path().join("gateway.yaml");
    let text = std::fs::read_to_string(&gateway).expect("read");
    std::fs::write(&gateway, text.replace("port: 80", "port: 8080")).expect("write");
    let (code, out, err) = tokio::time::timeout(Duration::from_secs(25), port_change)
        .await
        .expect("wait returns")
        .expect("task");
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "gateway.gateway.networking.k8s.io/sample-gateway condition met\n",
            ""
        )
    );
    // Generation 2 is observed by the new status, so the condition counts again.
    let (code, _, _) = run_wait(
        dir.path(),
        &gw,
        "sample-ingress",
        "condition=Programmed",
        "10s",
    )
    .await;
    assert_eq!(code, 0);

    let path = dir.path().to_path_buf();
    let deletion = tokio::spawn(async move {
        run_wait(&path, &["httproute/helloworld"], "sample", "delete", "20s").await
    });
    std::fs::remove_file(dir.path().join("route.yaml")).expect("remove");
    let (code, out, _) = tokio::time::timeout(Duration::from_secs(25), deletion)
        .await
        .expect("wait returns")
        .expect("task");
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "httproute.gateway.networking.k8s.io/helloworld condition met\n"
        )
    );

    admin.stop().await;
    h.shutdown().await;
}
