//! varyedge: a CDN edge-cache emulator that finds cache-induced CORS failures.
//!
//! A pure core (`edge`, `browser`, `origin`) driven by two drivers: `sim` (virtual time,
//! deterministic) and `net` (tokio + hyper). See `README.md` and `ARCHITECTURE` notes in
//! each module.
#![warn(missing_docs)]

pub mod browser;
pub mod edge;
pub mod error;
pub mod explore;
pub mod fields;
pub mod fix;
pub mod flow;
pub mod har;
pub mod import;
pub mod lint;
pub mod message;
#[cfg(feature = "net")]
pub mod net;
pub mod origin;
pub mod profile;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod time;
pub mod traffic;

#[cfg(test)]
mod mutation_tests;
