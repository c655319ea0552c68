//! HTTPS: the project's local CA (`gwsim tls`), TLS termination by SNI and client
//! certificate validation.

pub mod ca;
pub mod client_auth;
pub mod server;
