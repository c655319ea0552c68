//! gwsim: a Kubernetes Gateway API cluster in a box.
//!
//! Data flows one way: files → store → controller → routing table → proxy → stats → views.

pub mod model;
pub mod yaml;
pub mod sim;
