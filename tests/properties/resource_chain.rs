//! The zero-configuration chain (RFC 9728 → RFC 8414 → RFC 7591 → code + PKCE) against
//! the fake server, with one of its responses corrupted in any of many ways: it never
//! panics or livelocks, a failure is reported in the step that met the bad answer or a
//! later one (never an earlier one), no request ever goes to a host only a redirect or
//! a tampered document named, the registration asks for a public native client, and
//! tokens are only ever requested for the resource that started the chain.

use oauth_core::{ChainStep, ResourceAuthorizationFlow, ResourceAuthorizationParams};
use oauth_testkit::{FakeAuthorizationServer, Hop, SimError, Simulation};
use proptest::prelude::*;
use std::cell::Cell;
use std::rc::Rc;

const RESOURCE: &str = "https://api.example";
const EVIL: &str = "https://evil.example";

/// What happens to the response to request number `at` (0 resource metadata, 1 server
/// metadata, 2 registration, 3 token).
#[derive(Clone, Debug)]
enum Corruption {
    Status(u16),
    Garbage(Vec<u8>),
    RedirectToEvil(u16),
    DropMember(&'static str),
    SetMemberToEvil(&'static str),
    Truncate(usize),
}

fn corruption() -> impl Strategy<Value = Corruption> {
    let member = prop::sample::select(vec![
        "resource",
        "authorization_servers",
        "issuer",
        "client_id",
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
        "access_token",
        "token_type",
    ]);
    let evil_member = prop::sample::select(vec!["resource", "issuer", "client_id"]);
    prop_oneof![
        (100u16..600).prop_map(Corruption::Status),
        prop::collection::vec(any::<u8>(), 0..200).prop_map(Corruption::Garbage),
        prop::sample::select(vec![301u16, 302, 303, 307, 308]).prop_map(Corruption::RedirectToEvil),
        member.prop_map(Corruption::DropMember),
        evil_member.prop_map(Corruption::SetMemberToEvil),
        (0usize..120).prop_map(Corruption::Truncate),
    ]
}

fn corrupt(response: &mut oauth_core::HttpResponse, how: &Corruption) {
    match how {
        Corruption::Status(s) => {
            *response.status_mut() = http::StatusCode::from_u16(*s).unwrap();
        }
        Corruption::Garbage(bytes) => *response.body_mut() = bytes.clone(),
        Corruption::RedirectToEvil(s) => {
            *response.status_mut() = http::StatusCode::from_u16(*s).unwrap();
            response.headers_mut().insert(
                http::header::LOCATION,
                format!("{EVIL}/.well-known/oauth-protected-resource")
                    .parse()
                    .unwrap(),
            );
        }
        Corruption::DropMember(m) | Corruption::SetMemberToEvil(m) => {
            if let Ok(serde_json::Value::Object(mut doc)) =
                serde_json::from_slice::<serde_json::Value>(response.body())
            {
                if matches!(how, Corruption::DropMember(_)) {
                    doc.remove(*m);
                } else if doc.contains_key(*m) {
                    doc.insert((*m).to_owned(), EVIL.into());
                }
                *response.body_mut() = serde_json::Value::Object(doc).to_string().into_bytes();
            }
        }
        Corruption::Truncate(n) => {
            let n = (*n).min(response.body().len());
            response.body_mut().truncate(n);
        }
    }
}

fn step_index(step: ChainStep) -> usize {
    match step {
        ChainStep::ResourceMetadata => 0,
        ChainStep::ServerMetadata => 1,
        ChainStep::Registration => 2,
        ChainStep::Authorization => 3,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn one_corrupted_answer_never_breaks_the_chain_rules(
        seed in any::<u64>(),
        at in 0usize..4,
        how in corruption(),
    ) {
        let mut sim = Simulation::new(seed, FakeAuthorizationServer::new(seed));
        let seen = Rc::new(Cell::new(0usize));
        let counter = seen.clone();
        let how2 = how.clone();
        sim.set_filter(move |hop| {
            if let Hop::Response(r) = hop {
                let n = counter.get();
                counter.set(n + 1);
                if n == at {
                    corrupt(r, &how2);
                }
            }
        });
        let now = sim.now();
        let params = ResourceAuthorizationParams::for_resource(RESOURCE, "http://127.0.0.1:8080/callback");
        let mut flow = ResourceAuthorizationFlow::start(params, sim.rng(), now).unwrap();
        let result = sim.run(&mut flow);

        // Terminates with the chain's own outcome, never a livelock or a stray wait. (A
        // tampered client_id gets the user an error page at the server, which never
        // redirects back: that is the server's outcome, not the chain's.)
        match &result {
            Ok(_) | Err(SimError::Flow(_)) => {}
            Err(SimError::AuthorizationPage(_)) => prop_assert_eq!(at, 2),
            Err(other) => prop_assert!(false, "{other:?}"),
        }
        // A failure is in the step that met the corrupted answer or a later one.
        if let Err(SimError::Flow(e)) = &result {
            let step = e.step();
            prop_assert!(step.is_some(), "every chain failure names its step: {e:?}");
            if let Some(step) = step {
                prop_assert!(step_index(step) >= at.min(3), "{step:?} before {at}: {e:?}");
            }
        }
        let sent = sim.sent_requests();
        // Nothing follows a redirect or a tampered document to another host.
        for r in sent {
            prop_assert!(!r.uri.starts_with(EVIL), "sent to {}", r.uri);
        }
        // The registration, if any, is a public native client with a loopback redirect.
        for r in sent.iter().filter(|r| r.uri.ends_with("/register")) {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            prop_assert_eq!(&body["token_endpoint_auth_method"], "none");
            prop_assert_eq!(&body["redirect_uris"], &serde_json::json!(["http://127.0.0.1/callback"]));
        }
        // Tokens are only ever asked for the resource that started the chain.
        for r in sent.iter().filter(|r| r.uri.ends_with("/token")) {
            let body = String::from_utf8_lossy(&r.body);
            prop_assert!(body.contains("resource=https%3A%2F%2Fapi.example"), "{body}");
        }
        if let Ok(done) = &result {
            prop_assert_eq!(done.resource.resource.as_str(), RESOURCE);
            prop_assert_eq!(done.server.issuer.as_str(), "https://as.example");
            prop_assert!(sent.iter().any(|r| r.uri.ends_with("/token")));
        }
    }
}
