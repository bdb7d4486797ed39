//! Hermetic replay of the exchanges recorded against real servers
//! (`tests/vectors/<server>/<scenario>.json`, written by the interop suite with
//! `OAUTH_RECORD_VECTORS=1`): every callback, token response and API response a real
//! server sent is fed to the pure core again, with no network and no Node.js, and must
//! be classified as it was when recorded.

use oauth_core::invalid_token_challenge;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn vector_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let mut out = Vec::new();
    for server in std::fs::read_dir(&root).expect("tests/vectors exists") {
        let dir = server.unwrap().path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir).unwrap() {
                let p = f.unwrap().path();
                if p.extension().is_some_and(|e| e == "json") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

fn response(step: &Value, body: &str) -> http::Response<Vec<u8>> {
    let mut b = http::Response::builder().status(step["status"].as_u64().unwrap() as u16);
    for (field, header) in [
        ("content_type", "content-type"),
        ("www_authenticate", "www-authenticate"),
    ] {
        if let Some(v) = step[field].as_str() {
            b = b.header(header, v);
        }
    }
    b.body(body.as_bytes().to_vec()).unwrap()
}

fn replay_callback(step: &Value, issuer: &str) -> Value {
    let url = url::Url::parse(step["url"].as_str().unwrap()).unwrap();
    crate::vector_expect::callback(&url, issuer)
}

fn replay_token_response(step: &Value) -> Value {
    let body = step["body"].as_str().unwrap();
    // The vectors hold no real token.
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(body) {
        for (k, fixed) in [
            ("access_token", "test-access-token"),
            ("refresh_token", "test-refresh-token"),
            ("id_token", "test.id.token"),
        ] {
            if let Some(v) = m.get(k) {
                assert_eq!(v, fixed, "an unscrubbed {k} in a vector");
            }
        }
    }
    crate::vector_expect::token_response(&response(step, body))
}

#[test]
fn recorded_vectors_replay_against_the_core() {
    let files = vector_files();
    assert!(
        files.len() >= 7,
        "expected the recorded oidc-provider vectors, found {}",
        files.len()
    );
    let mut steps_replayed = 0;
    for file in &files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let issuer = doc["issuer"].as_str().expect("an issuer");
        let steps = doc["steps"].as_array().expect("steps");
        assert!(!steps.is_empty(), "{}: no steps", file.display());
        for (i, step) in steps.iter().enumerate() {
            let got = match step["kind"].as_str().unwrap() {
                "callback" => replay_callback(step, issuer),
                "token_response" => replay_token_response(step),
                "api_response" => {
                    let resp = response(step, "");
                    json!({ "invalid_token": invalid_token_challenge(&resp).is_some() })
                }
                other => panic!("{}: unknown step kind {other}", file.display()),
            };
            assert_eq!(got, step["expect"], "{} step {i}", file.display());
            steps_replayed += 1;
        }
    }
    assert!(steps_replayed >= 20, "only {steps_replayed} steps replayed");
}

/// The recorded scenarios cover what the interop suite proves.
#[test]
fn vectors_cover_the_interop_outcomes() {
    let all: Vec<Value> = vector_files()
        .iter()
        .flat_map(|f| {
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            doc["steps"].as_array().unwrap().clone()
        })
        .collect();
    let has = |pred: &dyn Fn(&Value) -> bool| all.iter().any(pred);
    assert!(has(
        &|s| s["expect"]["tokens"] == true && s["grant_type"] == "authorization_code"
    ));
    assert!(has(
        &|s| s["expect"]["tokens"] == true && s["grant_type"] == "refresh_token"
    ));
    assert!(has(&|s| s["expect"]["error"] == "invalid_grant"));
    assert!(has(&|s| s["expect"]["error"] == "invalid_client"));
    assert!(has(
        &|s| s["kind"] == "callback" && s["expect"]["error"] == "access_denied"
    ));
    assert!(has(
        &|s| s["kind"] == "api_response" && s["expect"]["invalid_token"] == true
    ));
    assert!(has(
        &|s| s["kind"] == "api_response" && s["expect"]["invalid_token"] == false
    ));
}
