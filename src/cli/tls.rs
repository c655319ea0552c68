//! `gwsim tls`: the project's local CA and certificate Secrets signed by it, so HTTPS
//! listeners can be tried with clients that verify what they connect to.

use crate::tls::ca::{ca_config_map_yaml, secret_yaml, ProjectCa};
use std::path::{Path, PathBuf};

/// Subcommands of `gwsim tls`.
#[derive(Debug, clap::Subcommand)]
pub enum TlsCommand {
    /// Print the project CA certificate (PEM), creating the CA under `<dir>/.gwsim/` on
    /// first use. Trust it in a client: `curl --cacert <(gwsim tls ca) https://...`.
    Ca {
        /// Print it as a ConfigMap of this name (key `ca.crt`), for `spec.tls.frontend`
        /// client validation, instead of bare PEM.
        #[arg(long)]
        configmap: Option<String>,
        /// The ConfigMap's namespace.
        #[arg(short, long, default_value = "default")]
        namespace: String,
        /// The project folder.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Print a client certificate and its key (PEM, one file for `curl --cert`), signed by
    /// the project CA, for listeners that validate client certificates.
    Client {
        /// The certificate's common name.
        #[arg(long)]
        name: String,
        /// The project folder.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Print a `kubernetes.io/tls` Secret with a certificate for the hosts, signed by the
    /// project CA.
    Secret {
        /// The Secret's name.
        #[arg(long)]
        name: String,
        /// The Secret's namespace.
        #[arg(short, long, default_value = "default")]
        namespace: String,
        /// Comma-separated DNS names, wildcards (`*.example.com`) or IP addresses.
        #[arg(long, value_delimiter = ',', required = true)]
        hosts: Vec<String>,
        /// The project folder.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

/// Runs a `gwsim tls` subcommand; returns the exit code.
pub fn run(cmd: TlsCommand) -> i32 {
    let result = match cmd {
        TlsCommand::Ca {
            configmap: None,
            dir,
            ..
        } => load(&dir).map(|ca| ca.cert_pem),
        TlsCommand::Ca {
            configmap: Some(name),
            namespace,
            dir,
        } => load(&dir).map(|ca| ca_config_map_yaml(&name, &namespace, &ca.cert_pem)),
        TlsCommand::Client { name, dir } => load(&dir).and_then(|ca| {
            let (cert, key) = ca.issue_client(&name).map_err(|e| e.to_string())?;
            Ok(format!("{cert}{key}"))
        }),
        TlsCommand::Secret {
            name,
            namespace,
            hosts,
            dir,
        } => load(&dir).and_then(|ca| {
            let hosts: Vec<String> = hosts
                .into_iter()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect();
            let (cert, key) = ca.issue(&hosts).map_err(|e| e.to_string())?;
            Ok(secret_yaml(&name, &namespace, &cert, &key))
        }),
    };
    match result {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(e) => {
            eprintln!("gwsim tls: {e}");
            2
        }
    }
}

fn load(dir: &Path) -> Result<ProjectCa, String> {
    ProjectCa::load_or_create(&crate::runtime::state::state_dir(dir)).map_err(|e| e.to_string())
}
