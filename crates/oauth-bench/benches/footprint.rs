//! Memory: `size_of` of every flow and session value, and the allocations of each
//! measured operation, counted by a counting global allocator. Deterministic counts,
//! printed as tables.
//!
//! `cargo bench -p oauth-bench --bench footprint`

#![allow(missing_docs, clippy::print_stdout)]

use oauth_bench::alloc::CountingAlloc;
use oauth_bench::footprint::{
    FLOWS, MAX_EXCHANGE_ALLOCATIONS, MAX_FLOW_BYTES, allocations, exchange_steps, sizes,
};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

fn main() {
    // `cargo bench` passes `--bench`; a filter or other flags are ignored here.
    println!("| value | size_of (bytes) | goal |");
    println!("|---|---:|---|");
    for (name, size) in sizes() {
        let goal = if FLOWS.contains(&name) {
            format!("< {MAX_FLOW_BYTES}")
        } else {
            String::new()
        };
        println!("| `{name}` | {size} | {goal} |");
    }
    println!();
    println!("| operation | allocations | reallocs | bytes allocated | bytes live after |");
    println!("|---|---:|---:|---:|---:|");
    for (name, c) in allocations() {
        println!(
            "| {name} | {} | {} | {} | {} |",
            c.allocs,
            c.reallocs,
            c.bytes,
            c.live()
        );
    }
    println!();
    println!("| full exchange, step by step | allocations | reallocs | bytes allocated |");
    println!("|---|---:|---:|---:|");
    for (name, c) in exchange_steps() {
        println!("| {name} | {} | {} | {} |", c.allocs, c.reallocs, c.bytes);
    }
    println!();
    println!(
        "goal: at most {MAX_EXCHANGE_ALLOCATIONS} allocations (alloc + realloc) per full exchange in the core"
    );
}
