//! Fake backend pods: loopback HTTP servers that answer like the images a Deployment names.

pub mod log;
pub mod naming;

pub use log::PodLog;

/// How a fake pod answers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Behaviour {
    /// Istio's helloworld image: `GET /hello` answers
    /// `Hello version: <version>, instance: <pod>\n`, `/health` answers 200, other paths 404.
    Helloworld {
        /// The `SERVICE_VERSION` the image reports, e.g. `v1`.
        version: String,
    },
    /// The Gateway API conformance echo server (echo-basic).
    Echo,
}
