//! Replays every committed fuzz corpus file through the harness function its fuzz
//! target calls, on stable, so that CI re-runs every input fuzzing ever kept —
//! crash reproducers included.

use std::path::{Path, PathBuf};

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn replay(target: &str, run: fn(&[u8])) {
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "{target}: expected a seed corpus in {}, found {} files",
        dir.display(),
        files.len()
    );
    for path in &files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(
            outcome.is_ok(),
            "{target}: {} fails the harness",
            path.display()
        );
    }
}

#[test]
fn token_response_corpus() {
    replay("token_response", oauth_testkit::fuzzing::token_response);
}

#[test]
fn error_response_corpus() {
    replay("error_response", oauth_testkit::fuzzing::error_response);
}

#[test]
fn callback_corpus() {
    replay("callback", oauth_testkit::fuzzing::callback);
}

#[test]
fn www_authenticate_corpus() {
    replay("www_authenticate", oauth_testkit::fuzzing::www_authenticate);
}

#[test]
fn auth_code_sequence_corpus() {
    replay(
        "auth_code_sequence",
        oauth_testkit::fuzzing::auth_code_sequence,
    );
}

#[test]
fn introspection_corpus() {
    replay("introspection", oauth_testkit::fuzzing::introspection);
}

#[test]
fn device_authorization_corpus() {
    replay(
        "device_authorization",
        oauth_testkit::fuzzing::device_authorization,
    );
}

#[test]
fn metadata_corpus() {
    replay("metadata", oauth_testkit::fuzzing::metadata);
}

#[test]
fn par_corpus() {
    replay("par", oauth_testkit::fuzzing::par);
}

#[test]
fn resource_metadata_corpus() {
    replay(
        "resource_metadata",
        oauth_testkit::fuzzing::resource_metadata,
    );
}

#[test]
fn registration_corpus() {
    replay("registration", oauth_testkit::fuzzing::registration);
}

/// The happy-path seed really reaches tokens: the sequence harness is not vacuous.
#[test]
fn happy_sequence_seed_gets_tokens() {
    use oauth_testkit::fuzzing::{Op, run_auth_code_ops};
    let ops = [
        Op::Poll,
        Op::Poll,
        Op::Approve,
        Op::Poll,
        Op::Deliver,
        Op::Poll,
    ];
    let report = run_auth_code_ops(1, false, &ops);
    assert!(report.got_tokens, "{report:?}");
    assert_eq!(report.requests_sent, 1);
    assert_eq!(report.final_state, "Done");
}

/// A corpus file as the response its harness builds from it (for seeds written with
/// status byte 0, 1 or 4: 200, 201 or 401, and `application/json` or no content type).
fn seed_response(target: &str, name: &str) -> oauth_core::HttpResponse {
    let data = std::fs::read(corpus_dir(target).join(name)).expect("a seed file");
    let status = match data[0] {
        0 => 200,
        1 => 201,
        3 => 400,
        4 => 401,
        other => panic!("{name}: unexpected status byte {other}"),
    };
    let mut b = http::Response::builder().status(status);
    if data[1] == 1 {
        b = b.header("content-type", "application/json");
    }
    b.body(data[3..].to_vec()).expect("a valid response")
}

/// The resource-metadata seeds reach the harness's `Ok` branches, and the lying ones
/// its refusals: the harness's properties are exercised, not vacuous.
#[test]
fn resource_metadata_seeds_reach_the_checks() {
    use oauth_core::parse::{ParseOptions, ResourceCheck, resource_metadata};
    use oauth_core::{Error, UnixTime, Violation};
    let opts = ParseOptions::default();
    let now = UnixTime::from_secs(1_700_000_000);
    let request = url::Url::parse("https://rs.example/api/v1/me?x=1").unwrap();
    let valid = seed_response("resource_metadata", "valid");
    let m = resource_metadata(
        &valid,
        ResourceCheck::Exact("https://rs.example/api"),
        now,
        &opts,
    )
    .expect("the valid seed parses");
    assert_eq!(m.authorization_servers, ["https://as.example"]);
    assert!(resource_metadata(&valid, ResourceCheck::Covers(&request), now, &opts).is_ok());
    let root = seed_response("resource_metadata", "root_covers");
    assert!(resource_metadata(&root, ResourceCheck::Covers(&request), now, &opts).is_ok());
    for lying in ["lying_resource", "sibling_path"] {
        assert_eq!(
            resource_metadata(
                &seed_response("resource_metadata", lying),
                ResourceCheck::Covers(&request),
                now,
                &opts
            ),
            Err(Error::Violation(Violation::ResourceMismatch)),
            "{lying}"
        );
    }
    let mut hint = seed_response("resource_metadata", "hint_header");
    let value = http::HeaderValue::from_bytes(hint.body()).unwrap();
    hint.headers_mut()
        .insert(http::header::WWW_AUTHENTICATE, value);
    assert_eq!(
        oauth_core::resource_metadata_hint(&hint).map(String::from),
        Some("https://rs.example/.well-known/oauth-protected-resource/api".to_owned())
    );
}

/// The registration seeds reach `Ok` with both secrets, and the error seeds keep them
/// out of the error's text.
#[test]
fn registration_seeds_reach_the_checks() {
    use oauth_core::UnixTime;
    use oauth_core::parse::{ParseOptions, registration_response};
    let opts = ParseOptions::default();
    let now = UnixTime::from_secs(1_700_000_000);
    let ok = registration_response(
        &seed_response("registration", "with_access_token"),
        now,
        &opts,
    )
    .expect("the seed registers");
    assert_eq!(ok.client_id, "c1");
    assert_eq!(
        ok.client_secret.as_ref().map(|s| s.secret()),
        Some("hunter2 horse")
    );
    assert!(!format!("{ok:?}").contains("hunter2"));
    for (seed, secret) in [
        ("secret_in_400", "correct horse"),
        ("bom_secret_400", "correct horse"),
        ("missing_client_id", "s3cret-value"),
    ] {
        let e = registration_response(&seed_response("registration", seed), now, &opts)
            .expect_err(seed);
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(secret), "{seed}: {shown}");
    }
}
