//! A global allocator that counts, per thread, the allocations made while counting is
//! switched on. Install it in a binary with
//! `#[global_allocator] static A: oauth_bench::alloc::CountingAlloc = oauth_bench::alloc::CountingAlloc;`
//! and measure a closure with [`count`].
//!
//! Counting is per thread, so the threads of a test harness or of a benchmark framework
//! do not disturb one another; only the thread that runs [`count`] is measured.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, with per-thread counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAlloc;

/// What a closure allocated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls to `alloc` and `alloc_zeroed`.
    pub allocs: u64,
    /// Calls to `realloc` (a growing `Vec` or `String`).
    pub reallocs: u64,
    /// Calls to `dealloc`.
    pub deallocs: u64,
    /// Bytes taken: the sizes of `alloc` and `alloc_zeroed`, the new sizes of `realloc`.
    pub bytes: u64,
    /// Bytes given back: the sizes of `dealloc`, the old sizes of `realloc`.
    pub freed: u64,
}

impl Counts {
    /// Allocations in the sense of the goals: `alloc` plus `realloc` calls (each may
    /// take a fresh block from the allocator).
    pub fn total(&self) -> u64 {
        self.allocs + self.reallocs
    }

    /// Bytes still held when counting stopped (by what the closure returned).
    pub fn live(&self) -> u64 {
        self.bytes.saturating_sub(self.freed)
    }
}

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNTS: Cell<Counts> = const {
        Cell::new(Counts { allocs: 0, reallocs: 0, deallocs: 0, bytes: 0, freed: 0 })
    };
}

fn record(f: impl FnOnce(&mut Counts)) {
    // `try_with`: during thread teardown the thread-locals may be gone; then nothing
    // is counted (and nothing is being measured either).
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = COUNTS.try_with(|c| {
                let mut counts = c.get();
                f(&mut counts);
                c.set(counts);
            });
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are ours; the bookkeeping touches only `Cell`s of plain integers
// in const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(|c| {
            c.allocs += 1;
            c.bytes += layout.size() as u64;
        });
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(|c| {
            c.allocs += 1;
            c.bytes += layout.size() as u64;
        });
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(|c| {
            c.deallocs += 1;
            c.freed += layout.size() as u64;
        });
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(|c| {
            c.reallocs += 1;
            c.bytes += new_size as u64;
            c.freed += layout.size() as u64;
        });
        // SAFETY: forwarded unchanged (see above).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` on this thread with counting on and returns its result and what it
/// allocated. Meaningful only in a binary whose global allocator is [`CountingAlloc`]
/// (otherwise the counts stay zero). What `f` returns is dropped by the caller, after
/// counting stopped.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, Counts) {
    COUNTS.with(|c| c.set(Counts::default()));
    ON.with(|on| on.set(true));
    let result = f();
    ON.with(|on| on.set(false));
    (result, COUNTS.with(Cell::get))
}
