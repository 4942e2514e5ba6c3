//! HAR 1.2 (HTTP Archive, <http://www.softwareishard.com/blog/har-12-spec/>): the traffic
//! users already hold, exported by DevTools (Chrome, Firefox, Safari), Playwright's
//! `recordHar`, Charles or Fiddler.
//!
//! - [`read`]: a streaming reader (one entry in memory at a time) whose errors name the
//!   JSON path (`log.entries[12].request`) and what was expected;
//! - [`classify`]: what the headers say about the cache that answered (hit/miss, which
//!   CDN) and the browser that asked;
//! - [`import`]: entries → a v1 scenario (clients, timed steps, an inferred origin model);
//! - [`diagnose`]: the cache-induced CORS failures visible in the recording itself;
//! - [`write`]: recorded exchanges → a HAR document (for `replay --target --har`).

pub mod classify;
pub mod diagnose;
pub mod import;
mod infer;
pub mod read;
pub mod write;

pub use read::{read, Entry, Har, HarError, Sender};
