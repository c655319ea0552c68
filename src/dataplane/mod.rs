//! The data plane: compiled routing table, listeners, matching, filters, seeded backend
//! picks and forwarding to fake pods.

pub mod filters;
pub mod listener;
pub mod matcher;
pub mod proxy;
pub mod reqlog;
pub mod respond;
pub mod table;
pub mod tls;
pub mod upstream;
