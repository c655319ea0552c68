//! The effectful edges around the pure core: wall clock and gwsim's own state folder.

pub mod clock;
pub mod state;
