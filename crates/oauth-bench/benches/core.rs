//! The sans-IO core against the `oauth2` crate (5.x, doing the same work where its API
//! allows) and against the limits, over the inputs of `payloads.json`. Every group
//! names ours `ours`, the comparison `oauth2`, the limit `limit`; the ratio table is
//! printed at the end.
//!
//! `cargo bench -p oauth-bench --bench core`

#![allow(missing_docs, clippy::print_stdout)]

mod compare;

use compare::{
    PlainErrorResponse, PlainTokenResponse, SameRngAsOauth2, bare_challenge, oauth2_callback,
    oauth2_client, oauth2_full_exchange, oauth2_refresh_request, oauth2_token_request,
    oauth2_url_fixed, oauth2_url_random, url_floor, url_floor_base,
};
use criterion::{BatchSize, Criterion};
use oauth_bench::ops::{self, FixedRng};
use oauth_bench::payloads;
use oauth_bench::report::{Row, table};
use oauth2::basic::{BasicErrorResponse, BasicTokenResponse};
use oauth2::{CsrfToken, PkceCodeChallenge, PkceCodeVerifier};
use std::hint::black_box;
use std::time::{Duration, Instant};
use url::Url;

// ── the benchmarks ──────────────────────────────────────────────────────────────

fn token_parse(c: &mut Criterion) {
    let p = payloads();
    for (group, body) in [
        ("token_parse_typical", &p.token_response_typical),
        ("token_parse_oidc", &p.token_response_oidc),
    ] {
        let response = ops::json_response(200, body);
        let bytes = body.as_bytes();
        let mut g = c.benchmark_group(group);
        g.bench_function("ours", |b| {
            b.iter(|| ops::parse_token_response(black_box(&response)))
        });
        g.bench_function("oauth2", |b| {
            b.iter(|| serde_json::from_slice::<BasicTokenResponse>(black_box(bytes)).unwrap())
        });
        g.bench_function("limit", |b| {
            b.iter(|| serde_json::from_slice::<PlainTokenResponse>(black_box(bytes)).unwrap())
        });
        g.finish();
    }
}

fn error_parse(c: &mut Criterion) {
    let body = &payloads().error_response;
    let response = ops::json_response(400, body);
    let bytes = body.as_bytes();
    let mut g = c.benchmark_group("error_parse");
    g.bench_function("ours", |b| {
        b.iter(|| ops::parse_error_response(black_box(&response)))
    });
    g.bench_function("oauth2", |b| {
        b.iter(|| serde_json::from_slice::<BasicErrorResponse>(black_box(bytes)).unwrap())
    });
    g.bench_function("limit", |b| {
        b.iter(|| serde_json::from_slice::<PlainErrorResponse>(black_box(bytes)).unwrap())
    });
    g.finish();
}

fn authorization_url(c: &mut Criterion) {
    let client = ops::client();
    let o2 = oauth2_client();
    let (state, verifier) = ops::fixed_secrets();

    let mut g = c.benchmark_group("authorization_url_fixed");
    g.bench_function("ours", |b| {
        b.iter(|| ops::authorization_url(&client, &mut FixedRng::new()))
    });
    g.bench_function("oauth2", |b| {
        b.iter(|| oauth2_url_fixed(&o2, &state, &verifier))
    });
    let base = url_floor_base();
    let challenge = oauth_core::challenge_s256(&verifier);
    g.bench_function("limit", |b| {
        b.iter(|| url_floor(black_box(&base), &state, &challenge))
    });
    g.finish();

    // Ours on the OS source, as oauth-ureq's `system_rng()` gives it (one getrandom
    // call per flow) …
    let mut g = c.benchmark_group("authorization_url_random");
    g.bench_function("ours", |b| {
        b.iter(|| ops::authorization_url(&client, &mut oauth_ureq::system_rng()))
    });
    g.bench_function("oauth2", |b| b.iter(|| oauth2_url_random(&o2)));
    g.finish();

    // … and on the thread-local CSPRNG oauth2 uses.
    let mut g = c.benchmark_group("authorization_url_random_same_rng");
    let mut rng = SameRngAsOauth2(rand::thread_rng());
    g.bench_function("ours", |b| {
        b.iter(|| ops::authorization_url(&client, &mut rng))
    });
    g.bench_function("oauth2", |b| b.iter(|| oauth2_url_random(&o2)));
    g.finish();
}

fn pkce(c: &mut Criterion) {
    let (_, verifier) = ops::fixed_secrets();
    let mut g = c.benchmark_group("pkce_challenge");
    g.bench_function("ours", |b| {
        b.iter(|| oauth_core::challenge_s256(black_box(&verifier)))
    });
    g.bench_function("oauth2", |b| {
        b.iter_batched(
            || PkceCodeVerifier::new(verifier.clone()),
            |v| PkceCodeChallenge::from_code_verifier_sha256(&v),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("limit", |b| b.iter(|| bare_challenge(black_box(&verifier))));
    g.finish();
}

fn token_request(c: &mut Criterion) {
    let client = ops::client();
    let o2 = oauth2_client();
    let (state, verifier) = ops::fixed_secrets();
    let callback = Url::parse(&ops::callback_text(&state)).expect("a valid callback");

    let mut g = c.benchmark_group("token_request");
    g.bench_function("ours", |b| {
        b.iter_batched(
            || {
                (
                    ops::started_flow(&client, &mut FixedRng::new()),
                    callback.clone(),
                )
            },
            |(mut flow, callback)| {
                let request = ops::callback_to_token_request(&mut flow, callback);
                (flow, request)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("oauth2", |b| {
        b.iter_batched(
            || {
                (
                    CsrfToken::new(state.clone()),
                    PkceCodeVerifier::new(verifier.clone()),
                    callback.clone(),
                )
            },
            |(csrf, verifier, callback)| {
                let code = oauth2_callback(&callback, &csrf);
                oauth2_token_request(&o2, code, verifier)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn refresh_request(c: &mut Criterion) {
    let client = ops::client();
    let o2 = oauth2_client();
    let tokens = ops::refreshable_tokens();
    let refresh_token = oauth2::RefreshToken::new(
        tokens
            .refresh_token
            .as_ref()
            .expect("the payloads' response has a refresh token")
            .secret()
            .to_owned(),
    );
    let mut g = c.benchmark_group("refresh_request");
    g.bench_function("ours", |b| {
        b.iter(|| ops::refresh_request(&client, black_box(&tokens)))
    });
    g.bench_function("oauth2", |b| {
        b.iter(|| oauth2_refresh_request(&o2, black_box(&refresh_token)))
    });
    g.finish();
}

fn full_exchange(c: &mut Criterion) {
    let client = ops::client();
    let o2 = oauth2_client();
    let (state, verifier) = ops::fixed_secrets();
    // The redirect as the driver (ours) or the application (oauth2) parsed it; the
    // token endpoint's answer is made inside, on both sides.
    let callback = Url::parse(&ops::callback_text(&state)).expect("a valid callback");
    let body = &payloads().token_response_typical;

    let mut g = c.benchmark_group("full_exchange");
    g.bench_function("ours", |b| {
        b.iter_batched(
            || callback.clone(),
            |callback| {
                let response = ops::json_response(200, body);
                ops::full_exchange(&client, &mut FixedRng::new(), callback, response)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("oauth2", |b| {
        b.iter_batched(
            || callback.clone(),
            |callback| oauth2_full_exchange(&o2, &state, &verifier, &callback, body),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn ours_only(c: &mut Criterion) {
    let client = ops::client();
    let p = payloads();

    // A device code lives 1800 s and is polled every 5 s: each chunk of steps gets a
    // fresh flow (made, with its answers, outside the timed part).
    c.benchmark_group("device_poll_step")
        .bench_function("ours", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(ops::DevicePoller::STEPS);
                    let mut poller = ops::DevicePoller::new(&client);
                    let answers: Vec<_> = (0..n)
                        .map(|_| ops::json_response(400, &p.device_pending))
                        .collect();
                    let start = Instant::now();
                    for pending in answers {
                        black_box(poller.step(pending));
                    }
                    total += start.elapsed();
                    left -= n;
                }
                total
            })
        });

    let mut session = ops::session();
    c.benchmark_group("api_session_call")
        .bench_function("ours", |b| {
            b.iter_batched(
                || (ops::api_request(), ops::json_response(200, "{}")),
                |(request, response)| ops::api_call(&mut session, request, response),
                BatchSize::SmallInput,
            )
        });

    let challenge = ops::challenge_response();
    c.benchmark_group("www_authenticate_parse")
        .bench_function("ours", |b| {
            b.iter(|| ops::parse_www_authenticate(black_box(&challenge)))
        });
}

/// The rows of the README's table, in order.
const ROWS: &[Row<'static>] = &[
    Row {
        what: "token response parse, 143 B",
        group: "token_parse_typical",
        other: Some("oauth2"),
        limit: Some("limit"),
    },
    Row {
        what: "token response parse, 828 B with id_token + extras",
        group: "token_parse_oidc",
        other: Some("oauth2"),
        limit: Some("limit"),
    },
    Row {
        what: "error response parse",
        group: "error_parse",
        other: Some("oauth2"),
        limit: Some("limit"),
    },
    Row {
        what: "authorization URL, fixed state/verifier (limit: the url crate's own floor)",
        group: "authorization_url_fixed",
        other: Some("oauth2"),
        limit: Some("limit"),
    },
    Row {
        what: "authorization URL, random: ours on the OS source (getrandom), oauth2 on its own",
        group: "authorization_url_random",
        other: Some("oauth2"),
        limit: None,
    },
    Row {
        what: "authorization URL, random, ours on oauth2's thread-local CSPRNG",
        group: "authorization_url_random_same_rng",
        other: Some("oauth2"),
        limit: None,
    },
    Row {
        what: "PKCE challenge",
        group: "pkce_challenge",
        other: Some("oauth2"),
        limit: Some("limit"),
    },
    Row {
        what: "callback → token request",
        group: "token_request",
        other: Some("oauth2"),
        limit: None,
    },
    Row {
        what: "token request build, refresh grant (no callback)",
        group: "refresh_request",
        other: Some("oauth2"),
        limit: None,
    },
    Row {
        what: "full code exchange (canned response)",
        group: "full_exchange",
        other: Some("oauth2"),
        limit: None,
    },
    Row {
        what: "device poll step",
        group: "device_poll_step",
        other: None,
        limit: None,
    },
    Row {
        what: "API session call decision",
        group: "api_session_call",
        other: None,
        limit: None,
    },
    Row {
        what: "WWW-Authenticate parse",
        group: "www_authenticate_parse",
        other: None,
        limit: None,
    },
];

fn main() {
    let mut c = Criterion::default().configure_from_args();
    token_parse(&mut c);
    error_parse(&mut c);
    authorization_url(&mut c);
    pkce(&mut c);
    token_request(&mut c);
    refresh_request(&mut c);
    full_exchange(&mut c);
    ours_only(&mut c);
    c.final_summary();
    println!("\n{}", table(ROWS, "oauth2"));
}
