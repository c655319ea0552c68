//! `gwsim up`: runs the simulation on a manifest folder (or an embedded sample) until the
//! viewer quits: the terminal dashboard when stdout is a terminal, plain log lines otherwise.

use super::sample;
use crate::controller::AddressPool;
use crate::dataplane::listener::PortMapping;
use crate::pipeline::Options;
use crate::runtime::sim::{SimOptions, State};
use std::io::IsTerminal;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// Arguments of `gwsim up`.
#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Directory (or single file) of manifests.
    #[arg(default_value = ".", conflicts_with = "sample")]
    pub dir: PathBuf,
    /// Run an embedded sample instead of a folder (`helloworld`); nothing is written here.
    #[arg(long, value_name = "NAME")]
    pub sample: Option<String>,
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
    /// Plain log lines instead of the terminal dashboard (the default when stdout is not a
    /// terminal).
    #[arg(long)]
    pub no_tui: bool,
    /// Address of the admin API, metrics and web dashboard (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub admin: std::net::SocketAddr,
    /// Address of the Kubernetes API for kubectl (`gwsim kubeconfig` prints a kubeconfig).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub kube_api: std::net::SocketAddr,
    /// Format of the plain log lines.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How plain log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
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

/// A sample written to a private temporary folder, removed when dropped.
struct SampleDir(PathBuf);

impl SampleDir {
    fn create(name: &str) -> Result<SampleDir, String> {
        let files = sample::files(name).ok_or_else(|| {
            format!(
                "no sample named {name:?}; samples: {}",
                sample::NAMES.join(", ")
            )
        })?;
        let dir = std::env::temp_dir().join(format!("gwsim-{name}-{}", std::process::id()));
        // A leftover of an earlier process with the same id is ours to replace.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        sample::write(&dir, files).map_err(|e| e.to_string())?;
        Ok(SampleDir(dir))
    }
}

impl Drop for SampleDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn serve(args: UpArgs) -> i32 {
    let stop = super::stop_signal::StopSignal::listen();
    let dashboard = !args.no_tui && std::io::stdout().is_terminal();
    // The dashboard owns the screen: log lines would tear it, and its event pane shows them.
    if !dashboard {
        match args.log_format {
            LogFormat::Text => {
                let _ = tracing_subscriber::fmt().with_target(false).try_init();
            }
            LogFormat::Json => {
                let _ = tracing_subscriber::fmt().json().try_init();
            }
        }
    }
    let sample_dir = match args.sample.as_deref().map(SampleDir::create) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            eprintln!("gwsim up: {e}");
            return 2;
        }
    };
    let dir = sample_dir
        .as_ref()
        .map(|d| d.0.clone())
        .unwrap_or_else(|| args.dir.clone());
    let seed = args.seed.unwrap_or_else(|| {
        jiff::Timestamp::now().as_nanosecond().unsigned_abs() as u64 % 1_000_000
    });
    let options = SimOptions {
        dir: dir.clone(),
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
        // A temporary sample has nothing to remember across runs.
        persist_state: sample_dir.is_none(),
    };
    let handle = crate::runtime::handle::spawn(options, true).await;
    let admin = match crate::admin::start(handle.clone(), args.admin, &dir).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gwsim up: {e}");
            handle.shutdown().await;
            return 2;
        }
    };
    let _kube = start_kube_api(&handle, &dir, args.kube_api).await;
    if dashboard {
        let code = match crate::tui::run(handle, stop.requested()).await {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("gwsim up: terminal: {e}");
                1
            }
        };
        admin.stop().await;
        return code;
    }
    let state = handle.state();
    if args.log_format == LogFormat::Text {
        print_summary(&state);
        println!("  admin API and web dashboard: {}/", admin.url());
        if is_empty(&state) {
            println!("{}", empty_hint(&dir));
        }
        println!("Watching {} for changes. Ctrl-C to stop.", dir.display());
    } else if is_empty(&state) {
        tracing::warn!("{}", empty_hint(&dir));
    }
    stop.requested().await;
    if args.log_format == LogFormat::Text {
        println!("Stopping: answering the requests in flight, then stopping the pods.");
    }
    handle.shutdown().await;
    admin.stop().await;
    0
}

/// Starts the Kubernetes API and records its URL for `gwsim kubeconfig`; serving goes on
/// without it when it cannot start. What happened goes to the event log, which the dashboard
/// and the plain log lines both show.
async fn start_kube_api(
    handle: &crate::runtime::handle::Handle,
    dir: &Path,
    addr: std::net::SocketAddr,
) -> Option<crate::kube::KubeServer> {
    use crate::runtime::events::EventKind;
    match crate::kube::start(handle.clone(), dir, addr).await {
        Ok(server) => {
            let url = server.url();
            handle.events().push(
                EventKind::Listener,
                format!(
                    "kubernetes API {url} (kubeconfig: gwsim kubeconfig --dir {})",
                    dir.display()
                ),
            );
            if let Err(e) = crate::kube::record_endpoint(dir, &url) {
                handle.events().push(
                    EventKind::Problem,
                    format!("cannot record the kubernetes API in .gwsim/kube.json: {e}"),
                );
            }
            Some(server)
        }
        Err(e) => {
            handle.events().push(
                EventKind::Problem,
                format!("kubernetes API not started on {addr}: {e}"),
            );
            None
        }
    }
}

/// True when the folder holds no manifests (only built-in objects are loaded).
fn is_empty(state: &State) -> bool {
    state
        .store
        .objects
        .values()
        .all(|o| o.origin.file.is_empty())
}

fn empty_hint(dir: &Path) -> String {
    format!(
        "No manifests in {}: it starts empty. `gwsim init` writes the helloworld sample here; `gwsim up --sample helloworld` runs it without writing files.",
        dir.display()
    )
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
