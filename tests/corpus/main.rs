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
