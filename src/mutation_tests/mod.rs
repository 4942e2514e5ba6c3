//! Unit tests written from mutation testing (`cargo mutants`, issue #19): each pins a rule
//! of the pure core that the tests beside the code let a small change slip through. Kept
//! apart from the modules under test so that parallel work on those files merges cleanly.
//! Tests that need a module's private items live at the bottom of that module instead.

mod cache_status;
mod cors;
mod decide;
mod fields;
mod fix_hint;
mod flow;
mod forward;
mod framing;
mod freshness;
mod http_cache;
mod invalidate;
mod origin;
mod preflight_cache;
mod range;
mod run;
mod scenario;
mod time;
mod validate;
