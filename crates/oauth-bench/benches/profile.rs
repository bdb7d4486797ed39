//! One operation of ours in a loop, nothing else: the target for a profiler.
//!
//! `cargo bench -p oauth-bench --bench profile -- OPERATION [ITERATIONS]`, or, for
//! stable instruction counts per function,
//! `valgrind --tool=callgrind target/release/deps/profile-<hash> OPERATION 1000`
//! (`callgrind_annotate` then shows where they go). Without an operation it lists them.

#![allow(missing_docs, clippy::print_stdout)]

use oauth_bench::ops::{self, FixedRng};
use oauth_bench::payloads;
use std::hint::black_box;
use url::Url;

const OPERATIONS: &[&str] = &[
    "authorization_url",
    "token_request",
    "full_exchange",
    "token_parse_typical",
    "token_parse_oidc",
    "error_parse",
    "device_poll_step",
    "api_session_call",
    "www_authenticate_parse",
];

fn main() {
    // `cargo bench` adds `--bench`; skip flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(op) = args.first() else {
        println!("operations: {}", OPERATIONS.join(", "));
        return;
    };
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let p = payloads();
    let client = ops::client();
    let (state, _) = ops::fixed_secrets();
    let callback = ops::callback_text(&state);
    let callback_url = Url::parse(&callback).expect("a valid callback");
    match op.as_str() {
        "authorization_url" => {
            for _ in 0..n {
                black_box(ops::authorization_url(&client, &mut FixedRng::new()));
            }
        }
        "token_request" => {
            for _ in 0..n {
                let mut flow = ops::started_flow(&client, &mut FixedRng::new());
                black_box(ops::callback_to_token_request(
                    &mut flow,
                    callback_url.clone(),
                ));
            }
        }
        "full_exchange" => {
            for _ in 0..n {
                black_box(ops::full_exchange_prepared(
                    &client,
                    &mut FixedRng::new(),
                    callback_url.clone(),
                    ops::json_response(200, &p.token_response_typical),
                ));
            }
        }
        "token_parse_typical" | "token_parse_oidc" => {
            let body = if op == "token_parse_typical" {
                &p.token_response_typical
            } else {
                &p.token_response_oidc
            };
            let response = ops::json_response(200, body);
            for _ in 0..n {
                black_box(ops::parse_token_response(&response));
            }
        }
        "error_parse" => {
            let response = ops::json_response(400, &p.error_response);
            for _ in 0..n {
                black_box(ops::parse_error_response(&response));
            }
        }
        "device_poll_step" => {
            let mut left = n;
            while left > 0 {
                let mut poller = ops::DevicePoller::new(&client);
                for _ in 0..left.min(ops::DevicePoller::STEPS) {
                    black_box(poller.step(ops::json_response(400, &p.device_pending)));
                }
                left = left.saturating_sub(ops::DevicePoller::STEPS);
            }
        }
        "api_session_call" => {
            let mut session = ops::session();
            for _ in 0..n {
                black_box(ops::api_call(
                    &mut session,
                    ops::api_request(),
                    ops::json_response(200, "{}"),
                ));
            }
        }
        "www_authenticate_parse" => {
            let response = ops::challenge_response();
            for _ in 0..n {
                black_box(ops::parse_www_authenticate(&response));
            }
        }
        other => {
            println!(
                "unknown operation {other}; operations: {}",
                OPERATIONS.join(", ")
            );
            std::process::exit(2);
        }
    }
}
