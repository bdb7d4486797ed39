//! Every provider quirk: accepted with the matching client quirk, refused without it.

use crate::REDIRECT;
use oauth_core::parse::Quirks;
use oauth_core::{Error, ErrorCode, ParseErrorKind, TokenType, Violation};
use oauth_testkit::{
    FakeAuthorizationServer, RegisteredClient, ServerQuirks, SimError, Simulation,
};

fn run(
    server_quirks: ServerQuirks,
    client_quirks: Quirks,
    seed: u64,
) -> Result<oauth_core::TokenSet, SimError> {
    let mut server = FakeAuthorizationServer::new(seed);
    server
        .set_quirks(server_quirks)
        .register(RegisteredClient::public("app", REDIRECT));
    let client = server
        .registration("app")
        .unwrap()
        .quirks(client_quirks)
        .build()
        .unwrap();
    let mut sim = Simulation::new(seed, server);
    sim.authorize(&client, "repo gist")
}

fn parse_kind(r: Result<oauth_core::TokenSet, SimError>) -> ParseErrorKind {
    match r {
        Err(SimError::Flow(Error::Parse(p))) => p.kind,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn form_encoded_responses() {
    let q = ServerQuirks {
        form_encoded_responses: true,
        ..ServerQuirks::default()
    };
    let t = run(q, Quirks::default(), 30).expect("form bodies read by default");
    assert_eq!(t.expires_at.map(|e| e.as_secs() > 0), Some(true));
    assert!(matches!(
        parse_kind(run(q, Quirks::strict(), 30)),
        ParseErrorKind::UnsupportedContentType(_)
    ));
}

#[test]
fn expires_in_as_string() {
    let q = ServerQuirks::azure_v1();
    let t = run(q, Quirks::default(), 31).expect("string expires_in by default");
    assert!(t.expires_at.is_some());
    assert_eq!(
        parse_kind(run(q, Quirks::strict(), 31)),
        ParseErrorKind::WrongType
    );
}

#[test]
fn lowercase_bearer_is_always_fine() {
    let q = ServerQuirks {
        lowercase_bearer: true,
        ..ServerQuirks::default()
    };
    // RFC 6749 §5.1: token_type is case-insensitive, so even strict accepts it.
    for quirks in [Quirks::default(), Quirks::strict()] {
        let t = run(q, quirks, 32).expect("lowercase bearer");
        assert_eq!(t.token_type, TokenType::Bearer);
    }
}

#[test]
fn errors_with_status_200() {
    let q = ServerQuirks {
        errors_with_status_200: true,
        ..ServerQuirks::default()
    };
    // Make the exchange fail: an unknown client gets invalid_client, here with 200.
    let mut server = FakeAuthorizationServer::new(33);
    server
        .set_quirks(q)
        .register(RegisteredClient::public("app", REDIRECT));
    let client = server.registration("app").unwrap().build().unwrap();
    let strict = server
        .registration("app")
        .unwrap()
        .quirks(Quirks::strict())
        .build()
        .unwrap();
    let mut sim = Simulation::new(33, server);
    sim.server.set_code_ttl(0);
    sim.set_latency(1);
    match sim.authorize(&client, "read") {
        Err(SimError::Flow(Error::Server(r))) => {
            assert_eq!(r.code, ErrorCode::InvalidGrant);
            assert_eq!(r.status, Some(http::StatusCode::OK));
        }
        other => panic!("{other:?}"),
    }
    match sim.authorize(&strict, "read") {
        Err(SimError::Flow(Error::Violation(Violation::ErrorInSuccessResponse(r)))) => {
            assert_eq!(r.code, ErrorCode::InvalidGrant)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn github_preset_end_to_end() {
    let t = run(ServerQuirks::github(), Quirks::github(), 34).expect("GitHub-style server");
    assert_eq!(t.token_type, TokenType::Bearer);
    assert_eq!(t.scope.map(|s| s.to_string()).as_deref(), Some("repo gist"));
}
