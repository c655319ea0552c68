//! The data plane: compiled routing table, listeners, matching, filters, seeded backend
//! picks and forwarding to fake pods.

pub mod filters;
mod head;
mod hop;
pub mod hostindex;
pub mod listener;
pub mod matcher;
pub mod pool;
pub mod proxy;
pub mod reqlog;
pub mod respond;
pub mod table;
pub mod tls;
pub mod upstream;
pub mod workers;
