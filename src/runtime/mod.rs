//! The effectful edges around the pure core: wall clock, gwsim's own state folder, and the
//! running simulation.

pub mod clock;
pub mod events;
pub mod handle;
pub mod loadgen;
pub mod sim;
pub mod state;
pub mod transitions;
pub mod versions;
pub mod watch;
