//! Recording real exchanges as replayable vectors (`OAUTH_RECORD_VECTORS=1`).
//!
//! Each vector file is one scenario: the callback URLs and the token-endpoint and API
//! responses oidc-provider really sent, with every secret replaced by a fixed test value
//! (`code` → `test-code`, `state` → `test-state`, tokens → `test-…`), and what the core
//! made of each. `tests/scenarios/vectors.rs` replays them with no network.

use crate::vector_expect;
use oauth_core::{
    AuthorizationCodeFlow, HttpResponse, TransportFailure, UnixTime, invalid_token_challenge, parse,
};
use oauth_ureq::{CallbackSource, Observer};
use serde_json::{Value, json};
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use url::Url;

pub(crate) const TEST_CODE: &str = "test-code";

#[derive(Clone)]
pub(crate) struct Recorder {
    scenario: &'static str,
    issuer: String,
    steps: Option<Arc<Mutex<Vec<Value>>>>,
}

fn recording() -> bool {
    std::env::var("OAUTH_RECORD_VECTORS").is_ok_and(|v| v == "1")
}

impl Recorder {
    pub(crate) fn new(scenario: &'static str, issuer: &str) -> Self {
        Recorder {
            scenario,
            issuer: issuer.to_owned(),
            steps: recording().then(|| Arc::new(Mutex::new(Vec::new()))),
        }
    }

    fn push(&self, step: Value) {
        if let Some(steps) = &self.steps {
            steps.lock().expect("recorder lock").push(step);
        }
    }

    /// Nothing to do: `state` values are replaced by name. Kept so that each login
    /// names the flow whose exchanges are recorded.
    pub(crate) fn expect_state(&self, _flow: &AuthorizationCodeFlow) {}

    /// A transport observer that records token-endpoint and API responses.
    pub(crate) fn observer(&self) -> Observer {
        let me = self.clone();
        Arc::new(
            move |req: &http::Request<Vec<u8>>, res: Result<&HttpResponse, &TransportFailure>| {
                let Ok(resp) = res else { return };
                let path = req.uri().path();
                if path.ends_with("/token") {
                    me.token_response(req, resp);
                } else if path.ends_with("/api/me") {
                    me.push(json!({
                        "kind": "api_response",
                        "status": resp.status().as_u16(),
                        "www_authenticate": header(resp, "www-authenticate"),
                        "expect": { "invalid_token": invalid_token_challenge(resp).is_some() },
                    }));
                }
            },
        )
    }

    fn token_response(&self, req: &http::Request<Vec<u8>>, resp: &HttpResponse) {
        let grant_type = parse::parse_form(std::str::from_utf8(req.body()).unwrap_or(""))
            .unwrap_or_default()
            .into_iter()
            .find(|(k, _)| k == "grant_type")
            .map(|(_, v)| v);
        let body = scrub_body(resp.body());
        let mut scrubbed = http::Response::new(body.clone().into_bytes());
        *scrubbed.status_mut() = resp.status();
        *scrubbed.headers_mut() = resp.headers().clone();
        let expect = vector_expect::token_response(&scrubbed);
        self.push(json!({
            "kind": "token_response",
            "grant_type": grant_type,
            "status": resp.status().as_u16(),
            "content_type": header(resp, "content-type"),
            "www_authenticate": header(resp, "www-authenticate"),
            "body": body,
            "expect": expect,
        }));
    }

    /// Wraps a callback source so that delivered callbacks are recorded.
    pub(crate) fn callback_source<C: CallbackSource>(&self, inner: C) -> Recording<C> {
        Recording {
            inner,
            recorder: self.clone(),
        }
    }

    fn callback(&self, url: &Url) {
        let mut scrubbed = url.clone();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = match k.as_ref() {
                    "code" => TEST_CODE.to_owned(),
                    "state" => vector_expect::TEST_STATE.to_owned(),
                    _ => v.into_owned(),
                };
                (k.into_owned(), v)
            })
            .collect();
        scrubbed.query_pairs_mut().clear().extend_pairs(pairs);
        let expect = vector_expect::callback(&scrubbed, &self.issuer);
        self.push(json!({ "kind": "callback", "url": scrubbed.as_str(), "expect": expect }));
    }

    /// Writes the vector file (when recording).
    pub(crate) fn finish(&self, server: &str) {
        let Some(steps) = &self.steps else { return };
        let steps = steps.lock().expect("recorder lock").clone();
        let doc = json!({
            "scenario": self.scenario,
            "server": server,
            "issuer": self.issuer,
            "steps": steps,
        });
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/oidc-provider");
        std::fs::create_dir_all(&dir).expect("create the vectors directory");
        let text = serde_json::to_string_pretty(&doc).expect("serialisable") + "\n";
        std::fs::write(dir.join(format!("{}.json", self.scenario)), text)
            .expect("write the vector");
    }
}

fn header(resp: &HttpResponse, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Replaces token values in a JSON body by fixed test values.
fn scrub_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body).into_owned();
    let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&text) else {
        return text;
    };
    for (k, fixed) in [
        ("access_token", "test-access-token"),
        ("refresh_token", "test-refresh-token"),
        ("id_token", "test.id.token"),
    ] {
        if let Some(v) = m.get_mut(k) {
            *v = Value::String(fixed.to_owned());
        }
    }
    Value::Object(m).to_string()
}

/// A callback source that records what it delivers.
pub(crate) struct Recording<C> {
    inner: C,
    recorder: Recorder,
}

impl<C: CallbackSource> CallbackSource for Recording<C> {
    fn visit(&mut self, url: &oauth_core::AuthorizationUrl) -> io::Result<()> {
        self.inner.visit(url)
    }

    fn wait(
        &mut self,
        deadline: UnixTime,
        accepts: &mut dyn FnMut(&Url) -> bool,
    ) -> io::Result<Option<Url>> {
        let got = self.inner.wait(deadline, accepts)?;
        if let Some(url) = &got {
            self.recorder.callback(url);
        }
        Ok(got)
    }
}
