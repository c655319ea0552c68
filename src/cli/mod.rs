//! The command line: `gwsim check`, `gwsim up`, `gwsim tls`, and friends.

mod check;
mod conformance;
pub mod get;
pub mod jsonpath;
mod sample;
mod stop_signal;
mod table;
mod tls;
mod up;
pub mod wait;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// gwsim: a Kubernetes Gateway API cluster in a box.
#[derive(Debug, Parser)]
#[command(name = "gwsim", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Yaml,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load a manifest directory, compute the status a Gateway API controller would write,
    /// print every object with it, and exit non-zero when something is not healthy.
    Check {
        /// Directory (or single file) of manifests.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Output::Yaml)]
        output: Output,
        /// Namespace for objects that name none.
        #[arg(short, long, default_value = "default")]
        namespace: String,
    },
    /// Run the simulation: fake pods, real listeners, routing by the HTTPRoutes.
    Up(up::UpArgs),
    /// Show objects of a running `gwsim up`, as `kubectl get` does.
    Get(get::GetArgs),
    /// Wait for a condition on objects of a running `gwsim up`, as `kubectl wait` does.
    Wait(wait::WaitArgs),
    /// Run the Gateway API conformance cases against in-process simulations.
    Conformance(conformance::ConformanceArgs),
    /// Print a kubeconfig for the Kubernetes API of the `gwsim up` running on a folder.
    Kubeconfig {
        /// The folder `gwsim up` runs on.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Write the helloworld sample into a folder; existing files are never overwritten.
    Init {
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// The project's local CA and certificate Secrets for HTTPS listeners.
    #[command(subcommand)]
    Tls(tls::TlsCommand),
}

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check {
            dir,
            output,
            namespace,
        } => check::run(&dir, output, &namespace),
        Command::Up(args) => up::run(args),
        Command::Get(args) => get::run(args),
        Command::Wait(args) => wait::run(args),
        Command::Conformance(args) => conformance::run(args),
        Command::Kubeconfig { dir } => match crate::kube::recorded_endpoint(&dir) {
            Ok(url) => {
                print!("{}", crate::kube::kubeconfig(&url));
                0
            }
            Err(e) => {
                eprintln!(
                    "gwsim: no running `gwsim up` recorded for {}: {e}",
                    dir.display()
                );
                2
            }
        },
        Command::Init { dir } => sample::init(&dir),
        Command::Tls(cmd) => tls::run(cmd),
    }
}

/// Runs a client command on a small runtime; what it wrote to `out` and `err` goes to stdout
/// and stderr once it is done, so tests can call the command body with buffers.
fn run_printing(command: impl AsyncFnOnce(&mut String, &mut String) -> i32) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return 1;
        }
    };
    let mut out = String::new();
    let mut err = String::new();
    let code = runtime.block_on(command(&mut out, &mut err));
    print!("{out}");
    eprint!("{err}");
    code
}
