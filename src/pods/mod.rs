//! Fake backend pods: loopback HTTP servers that answer like the images a Deployment names.
//!
//! A pod is started from a [`PodSpec`] and serves every container port on its own ephemeral
//! loopback port, speaking HTTP/1.1 and h2c on each. Its stdout is a [`PodLog`].

mod conn;
mod echo;
mod gocompat;
mod helloworld;
mod lifecycle;
pub mod log;
pub mod naming;
mod retry;
pub mod server;
#[cfg(test)]
mod tests;

pub use log::PodLog;
pub use server::{start, PodSpec, RunningPod, DEFAULT_GRACE_PERIOD};

/// How a fake pod answers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Behaviour {
    /// Istio's helloworld image: `GET /hello` answers
    /// `Hello version: <version>, instance: <pod>\n` (text/plain), `/health` answers 200,
    /// other paths 404.
    Helloworld {
        /// The `SERVICE_VERSION` the image reports, e.g. `v1`.
        version: String,
    },
    /// The Gateway API conformance echo server (echo-basic): see the echo contract in the
    /// conformance data's FORMAT.md.
    Echo,
}
