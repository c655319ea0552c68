//! gwsim: a Kubernetes Gateway API cluster in a box.
//!
//! Data flows one way: files → store → controller → routing table → proxy → stats → views.

pub mod admin;
pub mod admission;
pub mod cli;
pub mod conformance;
pub mod controller;
pub mod dataplane;
pub mod ir;
pub mod kube;
pub mod model;
pub mod pipeline;
pub mod pods;
pub mod render;
pub mod runtime;
pub mod sim;
pub mod source;
pub mod stats;
pub mod status;
pub mod store;
pub mod tls;
pub mod tui;
pub mod view;
pub mod yaml;
