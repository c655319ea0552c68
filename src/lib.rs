//! gwsim: a Kubernetes Gateway API cluster in a box.
//!
//! Data flows one way: files → store → controller → routing table → proxy → stats → views.

pub mod model;
pub mod yaml;
pub mod sim;
pub mod ir;
pub mod source;
pub mod status;
pub mod admission;
pub mod store;
