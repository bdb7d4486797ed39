//! The memory goals of issue 8, as regression tests: deterministic counts, not
//! timings (the timings live in `crates/oauth-bench`, which also prints these).
//!
//! - every flow, the API session and one API call take less than 1 KiB (`size_of`);
//! - one full authorization-code exchange in the core (start → URL → callback → token
//!   request → response → token set) allocates at most 30 times, counted by the
//!   bench crate's counting global allocator on this test's own thread.

use oauth_bench::alloc::{CountingAlloc, count};
use oauth_bench::footprint::{
    FLOWS, FULL_EXCHANGE, MAX_EXCHANGE_ALLOCATIONS, MAX_FLOW_BYTES, allocations, size_of_named,
};
use oauth_bench::ops::{self, FixedRng};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

#[test]
fn every_idle_flow_is_under_one_kib() {
    for name in FLOWS {
        let size = size_of_named(name).expect("listed in sizes()");
        assert!(size < MAX_FLOW_BYTES, "{name} takes {size} bytes");
    }
}

#[test]
fn a_full_exchange_in_the_core_allocates_at_most_30_times() {
    let (_, counts) = allocations()
        .into_iter()
        .find(|(name, _)| *name == FULL_EXCHANGE)
        .expect("the full exchange is counted");
    assert!(
        counts.total() <= MAX_EXCHANGE_ALLOCATIONS,
        "{counts:?}: {} allocations",
        counts.total()
    );
}

#[test]
fn the_counter_counts() {
    let client = ops::client();
    let (_, counts) = count(|| ops::started_flow(&client, &mut FixedRng::new()));
    assert!(counts.allocs > 0, "{counts:?}");
}
