//! Driver overhead over loopback, against the testkit's fake server: ours
//! (`oauth-ureq`) against a hand-written minimal raw-ureq sequence making the same HTTP
//! calls. Every group names ours `ours` and the comparison `raw`; the ratio table is
//! printed at the end.
//!
//! `cargo bench -p oauth-bench --bench driver`

#![allow(missing_docs, clippy::print_stdout)]

use criterion::{Criterion, Throughput};
use oauth_bench::loopback::Loopback;
use oauth_bench::report::{Row, table};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Threads sharing one client.
const THREADS: u64 = 64;

/// Runs `iters` calls spread over [`THREADS`] threads, each making its share with
/// `call`, and returns the time from the moment all threads are ready until the last
/// one is done (thread start-up is not timed).
fn threaded(iters: u64, call: &(dyn Fn() -> u16 + Sync)) -> Duration {
    let barrier = Barrier::new(THREADS as usize + 1);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let share = iters / THREADS + u64::from(t < iters % THREADS);
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for _ in 0..share {
                    assert_eq!(call(), 200);
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        // The scope joins every thread before it returns.
        start
    })
    .elapsed()
}

/// Runs every sequence `iters` times, in turn, and returns the time spent in
/// sequence `timed`.
fn interleaved(iters: u64, sequences: &[(&str, &dyn Fn() -> u16)], timed: usize) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        for (i, (_, run)) in sequences.iter().enumerate() {
            let start = Instant::now();
            assert_eq!(run(), 200);
            if i == timed {
                total += start.elapsed();
            }
        }
    }
    total
}

const ROWS: &[Row<'static>] = &[
    Row {
        what: "login (code exchange) + 1 API call, loopback",
        group: "login_and_call",
        other: Some("raw"),
        limit: Some("raw_timeouts"),
    },
    Row {
        what: "API call, 64 threads, one shared client (time per call)",
        group: "api_64_threads",
        other: Some("raw"),
        limit: Some("raw_timeouts"),
    },
];

fn main() {
    let lb = Loopback::start().expect("the loopback server starts");
    let mut c = Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(10))
        .configure_from_args();

    // Each iteration runs all three sequences and times one of them, so that the three
    // see the same server and the same kernel state (a loopback login is ~0.5 ms and
    // drifts with both).
    let sequences: [(&str, &dyn Fn() -> u16); 3] = [
        ("ours", &|| lb.ours_login_and_call()),
        ("raw", &|| lb.raw_login_and_call(&lb.agent)),
        ("raw_timeouts", &|| lb.raw_login_and_call(&lb.timed)),
    ];
    let mut g = c.benchmark_group("login_and_call");
    for (timed, (name, _)) in sequences.iter().enumerate() {
        g.bench_function(*name, |b| {
            b.iter_custom(|iters| interleaved(iters, &sequences, timed))
        });
    }
    g.finish();

    let tokens = lb.ours_login();
    let header = format!("Bearer {}", tokens.access_token.secret());
    let api = lb.authorized_client(tokens);
    let calls: [(&str, &(dyn Fn() -> u16 + Sync)); 3] = [
        ("ours", &|| lb.ours_call(&api)),
        ("raw", &|| lb.raw_call(&lb.agent, &header)),
        ("raw_timeouts", &|| lb.raw_call(&lb.timed, &header)),
    ];
    let mut g = c.benchmark_group("api_64_threads");
    g.throughput(Throughput::Elements(1));
    for (timed, (name, _)) in calls.iter().enumerate() {
        g.bench_function(*name, |b| {
            // All three run in turn with the same number of calls; one is timed.
            b.iter_custom(|iters| {
                let times: Vec<Duration> = calls
                    .iter()
                    .map(|(_, call)| threaded(iters, *call))
                    .collect();
                times[timed]
            })
        });
    }
    g.finish();

    c.final_summary();
    // The "limit" columns are raw ureq with our transport's timeouts.
    println!("\n{}", table(ROWS, "raw ureq"));
}
