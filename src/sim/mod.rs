//! Everything that makes gwsim deterministic: seeded random streams.

pub mod rng;
