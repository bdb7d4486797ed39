//! One operation of ours in a loop, nothing else: the target for a profiler.
//!
//! `cargo bench -p oauth-bench --bench profile -- OPERATION [ITERATIONS]`, or, for
//! stable instruction counts per function,
//! `valgrind --tool=callgrind target/release/deps/profile-<hash> OPERATION 1000`
//! (`callgrind_annotate` then shows where they go). Without an operation it lists them.

#![allow(missing_docs, clippy::print_stdout)]

mod compare;

use compare::{
    PlainTokenResponse, oauth2_callback, oauth2_client, oauth2_full_exchange, oauth2_token_request,
    oauth2_url_fixed,
};
use oauth_bench::ops::{self, FixedRng};
use oauth_bench::payloads;
use std::hint::black_box;
use url::Url;

const OPERATIONS: &[&str] = &[
    "authorization_url",
    "token_request",
    "full_exchange",
    "refresh_request",
    "token_parse_typical",
    "token_parse_oidc",
    "limit_typical",
    "limit_oidc",
    "loopback_ours",
    "loopback_raw",
    "oauth2_authorization_url",
    "oauth2_token_request",
    "oauth2_full_exchange",
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
    let (state, verifier) = ops::fixed_secrets();
    let o2 = oauth2_client();
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
        "refresh_request" => {
            let tokens = ops::refreshable_tokens();
            for _ in 0..n {
                black_box(ops::refresh_request(&client, &tokens));
            }
        }
        "full_exchange" => {
            for _ in 0..n {
                black_box(ops::full_exchange(
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
        "limit_typical" | "limit_oidc" => {
            let body = if op == "limit_typical" {
                &p.token_response_typical
            } else {
                &p.token_response_oidc
            };
            for _ in 0..n {
                black_box(
                    serde_json::from_slice::<PlainTokenResponse>(body.as_bytes()).expect("valid"),
                );
            }
        }
        "oauth2_authorization_url" => {
            for _ in 0..n {
                let _ = black_box(oauth2_url_fixed(&o2, &state, &verifier));
            }
        }
        "oauth2_token_request" => {
            for _ in 0..n {
                let csrf = oauth2::CsrfToken::new(state.clone());
                let v = oauth2::PkceCodeVerifier::new(verifier.clone());
                let code = oauth2_callback(&callback_url, &csrf);
                black_box(oauth2_token_request(&o2, code, v));
            }
        }
        "oauth2_full_exchange" => {
            for _ in 0..n {
                black_box(oauth2_full_exchange(
                    &o2,
                    &state,
                    &verifier,
                    &callback_url,
                    &p.token_response_typical,
                ));
            }
        }
        "loopback_ours" | "loopback_raw" => {
            let lb = oauth_bench::loopback::Loopback::start().expect("the server starts");
            for _ in 0..n {
                let status = if op == "loopback_ours" {
                    lb.ours_login_and_call()
                } else {
                    lb.raw_login_and_call(&lb.agent)
                };
                assert_eq!(status, 200);
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
