//! Ports: a listener port another process holds is reported on the listener as
//! `Programmed=False/PortUnavailable`, never shared; the others keep serving.

mod common;

use common::{copy_sample, options};
use gwsim::dataplane::listener::PortMapping;
use gwsim::model::{Kind, ObjectKey};
use gwsim::runtime::sim::Sim;
use gwsim::status::{CondStatus, CondType, ObjectStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_held_by_another_process_is_port_unavailable() {
    let dir = copy_sample("helloworld");
    // Hold a socket on the address the Gateway will get, then ask gwsim to use that port.
    let probe = Sim::start(options(dir.path(), 1, 31)).await;
    let address = probe.translation().routing.ports[0].address.clone();
    probe.shutdown().await;
    let holder = std::net::TcpListener::bind((address.as_str(), 0)).expect("hold a port");
    let held = holder.local_addr().expect("addr").port();
    let mut opts = options(dir.path(), 1, 31);
    opts.ports = PortMapping::Offset(held - 80);
    let sim = Sim::start(opts).await;
    let key = ObjectKey::new(Kind::Gateway, "sample-ingress", "sample-gateway");
    let Some(ObjectStatus::Gateway(g)) = sim.translation().status.get(&key) else {
        panic!("gateway status");
    };
    let http = g
        .listeners
        .iter()
        .find(|l| l.name == "http")
        .expect("listener");
    let programmed = http
        .conditions
        .get(CondType::Programmed)
        .expect("Programmed");
    assert_eq!(programmed.status, CondStatus::False);
    assert_eq!(programmed.reason.as_str(), "PortUnavailable");
    assert!(
        programmed.message.contains("cannot bind"),
        "{}",
        programmed.message
    );
    assert!(sim.address("sample-ingress/sample-gateway", 80).is_none());
    assert!(
        g.conditions.is(CondType::Programmed, CondStatus::False),
        "the Gateway is not programmed either"
    );
    sim.shutdown().await;
    drop(holder);
}
