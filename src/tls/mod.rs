//! HTTPS: the project's local CA (`gwsim tls`) and TLS termination by SNI.

pub mod ca;
pub mod server;
