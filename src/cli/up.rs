//! `gwsim up`: runs the simulation on a manifest folder until interrupted.

use crate::controller::AddressPool;
use crate::dataplane::listener::PortMapping;
use crate::pipeline::Options;
use crate::runtime::sim::{SimOptions, State};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Arguments of `gwsim up`.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Directory (or single file) of manifests.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Seed for every random choice (weighted picks, pod names). Chosen and shown when absent.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Namespace for objects that name none.
    #[arg(short, long, default_value = "default")]
    pub namespace: String,
    /// Serve every listener port shifted by this offset instead of the declared port.
    #[arg(long)]
    pub port_offset: Option<u16>,
    /// First address of the Gateway address pool (Gateways get the next 254 addresses).
    #[arg(long, default_value = "127.0.1.0")]
    pub address_pool: Ipv4Addr,
    /// Plain log lines instead of the terminal dashboard.
    #[arg(long)]
    pub no_tui: bool,
    /// Address of the Kubernetes API for kubectl (`gwsim kubeconfig` prints a kubeconfig).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub kube_api: std::net::SocketAddr,
}

/// When a port below 1024 cannot be bound, listeners move up by this much (80 → 10080).
pub const UNPRIVILEGED_OFFSET: u16 = 10_000;

/// Runs `up`; returns the exit code.
pub fn run(args: UpArgs) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gwsim: cannot start the runtime: {e}");
            return 2;
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: UpArgs) -> i32 {
    let _ = tracing_subscriber::fmt().with_target(false).try_init();
    let seed = args.seed.unwrap_or_else(|| {
        jiff::Timestamp::now().as_nanosecond().unsigned_abs() as u64 % 1_000_000
    });
    let options = SimOptions {
        dir: args.dir.clone(),
        pipeline: Options {
            namespace: args.namespace.clone(),
            controller: crate::controller::Config {
                pool: AddressPool {
                    base: args.address_pool,
                    size: 254,
                },
                ..Default::default()
            },
        },
        seed,
        ports: match args.port_offset {
            Some(off) => PortMapping::Offset(off),
            None => PortMapping::Declared {
                fallback_offset: UNPRIVILEGED_OFFSET,
            },
        },
        persist_state: true,
    };
    let handle = crate::runtime::handle::spawn(options, true).await;
    let state = handle.state();
    print_summary(&state);
    let _kube = start_kube_api(&handle, &args).await;
    println!(
        "Watching {} for changes. Ctrl-C to stop.",
        args.dir.display()
    );
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    0
}

/// Starts the Kubernetes API and records its URL for `gwsim kubeconfig`; serving goes on
/// without it when it cannot start.
async fn start_kube_api(
    handle: &crate::runtime::handle::Handle,
    args: &UpArgs,
) -> Option<crate::kube::KubeServer> {
    match crate::kube::start(handle.clone(), &args.dir, args.kube_api).await {
        Ok(server) => {
            let url = server.url();
            println!(
                "  kubernetes API {url} (kubeconfig: gwsim kubeconfig --dir {})",
                args.dir.display()
            );
            if let Err(e) = crate::kube::record_endpoint(&args.dir, &url) {
                println!("    note: cannot record it in .gwsim/kube.json: {e}");
            }
            Some(server)
        }
        Err(e) => {
            println!("  kubernetes API not started on {}: {e}", args.kube_api);
            None
        }
    }
}

/// What `up` prints once started: problems, where each Gateway listens, the pods.
fn print_summary(state: &State) {
    println!("gwsim up: {} (seed {})", state.dir, state.seed);
    for d in state
        .store
        .diagnostics
        .iter()
        .chain(&state.translation.diagnostics)
    {
        println!("  {d}");
    }
    for l in &state.listeners {
        let bound = match (&l.bound, &l.failure) {
            (Some(a), _) => a.to_string(),
            (None, Some(f)) => format!("not bound: {f}"),
            (None, None) => "not bound".into(),
        };
        println!("  gateway {} {}:{} → {bound}", l.gateway, l.address, l.port);
        if let Some(n) = &l.note {
            println!("    note: {n}");
        }
    }
    for p in &state.pods {
        println!("  pod {}/{}", p.namespace, p.name);
    }
}
