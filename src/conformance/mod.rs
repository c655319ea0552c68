//! `gwsim conformance`: runs the Gateway API conformance cases (the data format of the shared
//! conformance folder's FORMAT.md) against fresh in-process simulations and reports.

pub mod case;
pub mod http_checks;
pub mod http_client;
pub mod judge;
pub mod manifests;
pub mod report;
pub mod runner;
pub mod status_checks;
#[cfg(test)]
mod status_checks_tests;
pub mod tls_client;
