//! Refresh sequences against the fake server: a token the client has seen replaced is
//! never sent again (RT-01, ARCHITECTURE invariant 5), with rotation on or off, across
//! clock jumps, API calls and faults; and the client secret never leaves for anywhere
//! but the token endpoint.

use oauth_core::{Scope, TokenSet};
use oauth_testkit::{AuthMethod, FakeAuthorizationServer, Fault, RegisteredClient, Simulation};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    Refresh,
    RefreshNarrower,
    CallApi,
    Advance(u64),
    ClockBack(u64),
    Fault(Fault),
    ToggleRotation,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Refresh),
        1 => Just(Step::RefreshNarrower),
        2 => Just(Step::CallApi),
        2 => (0u64..7200).prop_map(Step::Advance),
        1 => (0u64..600).prop_map(Step::ClockBack),
        1 => prop_oneof![
            Just(Fault::InternalError),
            Just(Fault::ServiceUnavailable { retry_after: 5 }),
            Just(Fault::GarbageBody),
            Just(Fault::ConnectionRefused),
        ].prop_map(Step::Fault),
        1 => Just(Step::ToggleRotation),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn retired_refresh_tokens_are_never_sent_again(
        seed in any::<u64>(),
        rotate in any::<bool>(),
        basic in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..30),
    ) {
        const SECRET: &str = "s3cret-Value-0123456789";
        let mut server = FakeAuthorizationServer::new(seed);
        let method = if basic { AuthMethod::Basic } else { AuthMethod::Post };
        server.register(RegisteredClient::confidential("app", SECRET, method, "http://127.0.0.1:8080/cb"));
        server.set_rotate_refresh_tokens(rotate);
        let client = server.registration("app").unwrap().build().unwrap();
        let mut sim = Simulation::new(seed, server);
        let mut rotating = rotate;
        let mut current: TokenSet = sim.authorize(&client, "read write").unwrap();
        let mut retired: Vec<(String, usize)> = Vec::new();

        for s in steps {
            match s {
                Step::Refresh | Step::RefreshNarrower => {
                    let scope = matches!(s, Step::RefreshNarrower).then(|| Scope::parse("read").unwrap());
                    let before = sim.sent_requests().len();
                    match sim.refresh(&client, &current, scope) {
                        Ok(next) => {
                            prop_assert!(next.refresh_token.is_some(), "RT-01: the refresh token was lost");
                            if next.refresh_token != current.refresh_token {
                                prop_assert!(rotating, "a rotated token without rotation");
                                retired.push((current.refresh_token.as_ref().unwrap().secret().to_owned(), sim.sent_requests().len()));
                            }
                            prop_assert!(next.expires_at.is_some());
                            current = next;
                        }
                        Err(e) => {
                            // Only injected faults (which fail before the grant logic) or a
                            // narrower scope than already held can fail here.
                            prop_assert!(sim.sent_requests().len() <= before + 1);
                            let e = e.flow_error().cloned().unwrap();
                            prop_assert!(!e.needs_new_authorization(), "unexpected {:?}", e);
                        }
                    }
                }
                Step::CallApi => {
                    let r = sim.call_api(http::Method::GET, "/me", &current).unwrap();
                    let expired = current.is_expired(sim.now(), 0);
                    prop_assert!(r.status() == 200 || expired, "a valid token refused: {}", r.status());
                }
                Step::Advance(secs) => sim.advance(secs),
                Step::ClockBack(secs) => {
                    let t = sim.now().saturating_sub(secs);
                    sim.set_now(t);
                }
                Step::Fault(f) => { sim.server.inject_fault(f); }
                Step::ToggleRotation => {
                    rotating = !rotating;
                    sim.server.set_rotate_refresh_tokens(rotating);
                }
            }
            // Every refresh request sent after a token was retired must not carry it.
            for (token, retired_at) in &retired {
                for req in &sim.sent_requests()[*retired_at..] {
                    let body = std::str::from_utf8(&req.body).unwrap_or("");
                    let sent = oauth_core::parse::parse_form(body).unwrap_or_default();
                    let carries = sent.iter().any(|(k, v)| k == "refresh_token" && v == token);
                    prop_assert!(!carries, "a retired refresh token was sent again");
                }
            }
            prop_assert_eq!(sim.server.stats().refresh_reuse_detected, 0);
            // ARCHITECTURE invariant 4: the client secret goes to the token endpoint only.
            let basic_value = oauth_core::basic_authorization("app", SECRET);
            for req in sim.sent_requests() {
                let carries_secret = String::from_utf8_lossy(&req.body).contains(SECRET)
                    || req.headers.get("authorization").is_some_and(|v| v == basic_value.as_str());
                if carries_secret {
                    prop_assert_eq!(req.uri.as_str(), client.token_endpoint().as_str());
                }
            }
        }
    }
}
