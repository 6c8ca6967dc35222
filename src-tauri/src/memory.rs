//! The app process's heap on Linux: glibc's malloc told to hand big buffers back to the system.
//!
//! A license file passes through several buffers of its size (the gateway's answer, the sealed
//! copy, what goes to the page), and so do the page's own assets at start. glibc serves the first
//! big buffers with mmap, but once one is freed it raises its threshold and serves later ones from
//! the heap, whose freed pages it keeps: `scripts/measure` found 20 MB of an idle counter's
//! 120 MB held that way. A fixed threshold keeps big buffers in mmap, returned when freed.

/// Buffers of 64 KiB and more; below that, reusing the heap is what makes malloc fast.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 64 * 1024;

pub(crate) fn return_big_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets a tuning parameter of glibc's allocator; it may be called at
        // any time from any thread and takes two plain integers.
        #[allow(unsafe_code)]
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        if set != 1 {
            tracing::warn!("glibc refused the mmap threshold: the app may hold more memory than it uses");
        }
    }
}
