//! Keeping the allocator's footprint near what the store holds (glibc only).
//!
//! The store churns: at capacity every new entry evicts others, so small blocks are freed
//! on one worker thread and allocated on another. glibc gives each thread an arena of its
//! own (up to 8 per core) and keeps freed pages mapped, so the resident set grew past the
//! bytes actually held (measured with `benches/soak/mem.sh`: 99.7 MiB RSS for a 64 MiB
//! store after 800k distinct entries). Two arenas and a periodic `malloc_trim(0)`, which
//! returns free pages inside the arenas to the kernel, keep it near the capacity.
//! Elsewhere (musl, macOS) these are no-ops.

use std::time::Duration;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    use std::ffi::c_int;

    /// `M_ARENA_MAX` from glibc's `<malloc.h>`.
    const M_ARENA_MAX: c_int = -8;

    extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
        fn malloc_trim(pad: usize) -> c_int;
    }

    pub(super) fn limit_arenas(n: c_int) {
        // SAFETY: mallopt only sets an allocator parameter; any value is accepted or
        // refused with a return of 0, never undefined behaviour.
        unsafe {
            mallopt(M_ARENA_MAX, n);
        }
    }

    pub(super) fn trim() {
        // SAFETY: malloc_trim takes the arenas' locks itself; calling it from any thread
        // at any time is allowed.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Caps the allocator at two arenas. Call before the worker threads start.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    glibc::limit_arenas(2);
}

/// Returns free memory to the kernel every `every` until `stop` turns true, on a thread
/// of its own.
pub fn trim_every(every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = std::thread::Builder::new()
        .name("varyedge-trim".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(every) => {
                            #[cfg(all(target_os = "linux", target_env = "gnu"))]
                            glibc::trim();
                        }
                        _ = stop.wait_for(|s| *s) => break,
                    }
                }
            });
        });
}
