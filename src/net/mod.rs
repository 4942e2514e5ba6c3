//! The network driver: tokio + hyper around the pure core. `varyedge origin` serves an
//! origin model over HTTP; the staging proxy and `replay --target` live here too.
//! Thin by design: decisions are the core's; this layer converts and does the IO.

pub mod client;
pub mod clock;
pub mod convert;
pub mod log;
pub mod origin_server;
pub mod probe;
pub mod proxy;
pub mod shutdown;
pub mod target;
