//! End-to-end tests of the `oauth` binary against a real authorization server we did
//! not write: oidc-provider 9.x (`tests/interop/server/`), over HTTP on loopback, with
//! `headless-browser.js` as the user's browser (`$BROWSER`).
//!
//! Without Node.js each test says so and passes; with `CI=true` it fails instead.
//! Every output is checked for the secrets the test knows of: the client secrets, every
//! refresh token ever stored, access tokens (except on the stdout of `oauth token`),
//! and unredacted `code=` / `code_verifier=` values.

#![allow(clippy::print_stderr)]

#[path = "../../../tests/common/oidc_provider.rs"]
mod oidc_provider;

use oidc_provider::Provider;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const OAUTH: &str = env!("CARGO_BIN_EXE_oauth");
const TIMEOUT: Duration = Duration::from_secs(60);
const CONFIDENTIAL_SECRET: &str = "interop-secret-with-special-chars:+/=%";
const SERVICE_SECRET: &str = "service-secret";

fn server_dir() -> PathBuf {
    oidc_provider::server_dir_from(env!("CARGO_MANIFEST_DIR"), "../../tests/interop/server")
}

fn provider(access_token_ttl: Option<u64>) -> Option<Provider> {
    oidc_provider::provider_or_skip(&server_dir(), access_token_ttl)
}

/// `node <abs path>/headless-browser.js`, split on whitespace by the CLI.
fn browser() -> String {
    let script = server_dir()
        .join("headless-browser.js")
        .canonicalize()
        .expect("headless-browser.js");
    let script = script.display().to_string();
    assert!(
        !script.contains(char::is_whitespace),
        "$BROWSER is split on whitespace: {script}"
    );
    format!("node {script}")
}

// ── running the binary ──────────────────────────────────────────────────────────

#[derive(Clone, Debug)]
struct Run {
    args: Vec<String>,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "`oauth {}` exited {:?}, expected {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    fn ok(&self) -> &Self {
        self.expect(0)
    }

    #[track_caller]
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    fn is_token_command(&self) -> bool {
        self.args
            .iter()
            .find(|a| !a.starts_with('-'))
            .map(String::as_str)
            == Some("token")
    }
}

struct Running {
    args: Vec<String>,
    child: Child,
    stdout: Option<JoinHandle<String>>,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<()>>,
    seen: Vec<String>,
}

impl Running {
    fn next_line(&mut self, timeout: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    fn wait(mut self, timeout: Duration) -> Run {
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        let stdout = self
            .stdout
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
        self.seen.extend(self.lines.try_iter());
        let run = Run {
            args: self.args.clone(),
            code: status.and_then(|s| s.code()),
            stdout,
            stderr: self.seen.concat(),
        };
        assert!(
            status.is_some(),
            "`oauth {}` did not finish within {timeout:?}\n--- stdout\n{}\n--- stderr\n{}",
            run.args.join(" "),
            run.stdout,
            run.stderr
        );
        run
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// One test's configuration directory, child environment and outputs.
struct Cli {
    dir: PathBuf,
    env: Vec<(String, String)>,
    runs: Vec<Run>,
    secrets: Vec<String>,
    access_tokens: Vec<String>,
}

impl Cli {
    fn new(name: &str) -> Cli {
        let dir = std::env::temp_dir().join(format!(
            "oauth-cli-interop-{name}-{}-{}",
            std::process::id(),
            DIRS.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the configuration directory");
        Cli {
            dir,
            env: vec![("BROWSER".into(), browser())],
            runs: Vec::new(),
            secrets: Vec::new(),
            access_tokens: Vec::new(),
        }
    }

    /// A client secret: never printed, neither raw, urlencoded, nor as a Basic value.
    fn secret(&mut self, client_id: &str, secret: &str) {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        self.secrets.push(secret.to_owned());
        self.secrets.push(enc(secret));
        self.secrets.push(base64(
            format!("{}:{}", enc(client_id), enc(secret)).as_bytes(),
        ));
        self.secrets
            .push(base64(format!("{client_id}:{secret}").as_bytes()));
    }

    fn tokens_path(&self, profile: &str) -> PathBuf {
        self.dir.join("tokens").join(format!("{profile}.json"))
    }

    fn stored(&self, profile: &str) -> serde_json::Value {
        let bytes = std::fs::read(self.tokens_path(profile)).expect("the tokens file");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("tokens file is JSON");
        v["tokens"].clone()
    }

    fn stored_refresh(&self, profile: &str) -> String {
        self.stored(profile)["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_owned()
    }

    fn stored_access(&self, profile: &str) -> String {
        self.stored(profile)["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    fn learn_tokens(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.dir.join("tokens")) else {
            return;
        };
        for e in entries.flatten() {
            let Some(v) = std::fs::read(e.path())
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            else {
                continue;
            };
            let t = &v["tokens"];
            let learn = |list: &mut Vec<String>, member: &str| {
                if let Some(s) = t[member].as_str()
                    && !list.iter().any(|x| x == s)
                {
                    list.push(s.to_owned());
                }
            };
            learn(&mut self.secrets, "refresh_token");
            learn(&mut self.access_tokens, "access_token");
            learn(&mut self.access_tokens, "id_token");
            // A client registered by `oauth curl` (RFC 7591): its secrets are kept here.
            for member in ["registration_access_token", "client_secret"] {
                if let Some(s) = v["client"][member].as_str()
                    && !self.secrets.iter().any(|x| x == s)
                {
                    self.secrets.push(s.to_owned());
                }
            }
        }
    }

    fn spawn_with(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Running {
        let mut cmd = Command::new(OAUTH);
        cmd.args(args)
            .env("OAUTH_CONFIG_DIR", &self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start oauth");
        let mut out = child.stdout.take().expect("stdout");
        let stdout = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        });
        let err = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        let stderr = std::thread::spawn(move || {
            let mut r = BufReader::new(err);
            loop {
                let mut line = Vec::new();
                match r.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx
                            .send(String::from_utf8_lossy(&line).into_owned())
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        Running {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            child,
            stdout: Some(stdout),
            lines,
            stderr: Some(stderr),
            seen: Vec::new(),
        }
    }

    fn record(&mut self, run: Run) -> Run {
        self.learn_tokens();
        self.check(&run);
        self.runs.push(run.clone());
        run
    }

    fn run_with(&mut self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
        let run = self.spawn_with(args, extra_env).wait(TIMEOUT);
        self.record(run)
    }

    fn run(&mut self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    #[track_caller]
    fn check(&self, run: &Run) {
        let cmd = format!("oauth {}", run.args.join(" "));
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            for s in &self.secrets {
                assert!(
                    !text.contains(s.as_str()),
                    "`{cmd}` printed a secret on {stream}:\n{text}"
                );
            }
            if !(stream == "stdout" && run.is_token_command()) {
                for at in &self.access_tokens {
                    assert!(
                        !text.contains(at.as_str()),
                        "`{cmd}` printed a token on {stream}:\n{text}"
                    );
                }
            }
            for param in ["code", "code_verifier", "refresh_token", "device_code"] {
                if let Some(value) = unredacted_param(text, param) {
                    panic!("`{cmd}` printed {param}={value} on {stream}:\n{text}");
                }
            }
        }
        for line in run.stderr.lines() {
            let l = line
                .trim_start_matches(['>', '<', ' '])
                .to_ascii_lowercase();
            if l.starts_with("authorization:") {
                assert!(
                    line.trim_end().ends_with("<redacted>"),
                    "`{cmd}` logged an Authorization header unredacted: {line}"
                );
            }
        }
    }

    fn finish(mut self) {
        self.learn_tokens();
        for run in &self.runs {
            self.check(run);
        }
        if let Ok(entries) = std::fs::read_dir(self.dir.join("profiles")) {
            for e in entries.flatten() {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                for s in self.secrets.iter().chain(&self.access_tokens) {
                    assert!(
                        !text.contains(s.as_str()),
                        "{} holds a secret",
                        e.path().display()
                    );
                }
            }
        }
        self.runs.clear();
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn unredacted_param(text: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=");
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find(&needle) {
        let start = from + pos;
        let value_start = start + needle.len();
        from = value_start;
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let value: String = text[value_start..]
            .chars()
            .take_while(|c| !matches!(c, '&' | ' ' | '\n' | '"' | '\''))
            .collect();
        let ok = value.is_empty()
            || value.starts_with("<redacted>")
            || value.to_ascii_lowercase().starts_with("%3credacted%3e");
        if !ok {
            return Some(value);
        }
    }
    None
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `POST {issuer}/__test/device/approve` (the provider's headless confirmation hook);
/// returns the status and body.
fn approve_device(issuer: &str, user_code: &str) -> (u16, String) {
    let u = url::Url::parse(issuer).expect("issuer URL");
    let authority = &u[url::Position::BeforeHost..url::Position::AfterPort];
    let body = format!("user_code={user_code}&decision=approve");
    let mut s = TcpStream::connect(authority).expect("connect to the provider");
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    write!(
        s,
        "POST /__test/device/approve HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    let _ = s.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn login_public(cli: &mut Cli, issuer: &str) -> Run {
    let run = cli.run(&[
        "login",
        "--issuer",
        issuer,
        "--client-id",
        "public-native",
        "--scope",
        "openid api:read",
    ]);
    run.ok();
    run
}

// ── the tests ───────────────────────────────────────────────────────────────────

/// Code flow with PKCE through the real provider's login and consent, then `token`,
/// `curl`, `profiles`; revocation kills the grant and `curl` says log in again (3).
#[test]
fn login_curl_revoke() {
    let Some(p) = provider(None) else { return };
    let mut cli = Cli::new("login");
    let login = login_public(&mut cli, &p.issuer);
    assert!(
        login.stderr.contains("Logged in (profile default"),
        "{}",
        login.stderr
    );
    assert!(
        login
            .stderr
            .contains("headless-browser: callback http://127.0.0.1:"),
        "{}",
        login.stderr
    );

    let token = cli.run(&["token"]);
    token.ok();
    assert_eq!(token.stdout, format!("{}\n", cli.stored_access("default")));
    assert!(token.stderr.is_empty(), "{}", token.stderr);

    let me = format!("{}/api/me", p.issuer);
    let curl = cli.run(&["curl", &me]);
    curl.ok();
    let body = curl.json();
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["client_id"], "public-native");
    assert_eq!(body["scope"], "openid api:read");

    let profiles = cli.run(&["--json", "profiles"]);
    profiles.ok();
    let rows = profiles.json();
    assert_eq!(rows[0]["server"], p.issuer.as_str());
    assert_eq!(rows[0]["client_id"], "public-native");

    let rt = cli.stored_refresh("default");
    let revoke = cli.run(&["-v", "revoke"]);
    revoke.ok();
    assert!(
        revoke.stderr.contains("/token/revocation"),
        "{}",
        revoke.stderr
    );
    assert!(
        revoke.stderr.contains("token=<redacted>"),
        "{}",
        revoke.stderr
    );
    let curl = cli.run(&["curl", &me]);
    curl.expect(3);
    assert!(curl.stderr.contains("invalid_grant"), "{}", curl.stderr);
    assert!(curl.stdout.is_empty(), "{}", curl.stdout);
    // The revoked refresh token was not replaced by anything.
    if cli.tokens_path("default").exists() {
        assert_eq!(cli.stored_refresh("default"), rt);
    }
    cli.finish();
}

/// Short-lived access tokens: after expiry `curl` refreshes first, oidc-provider
/// rotates the refresh token, and the new one is what is stored.
#[test]
fn refresh_with_rotation() {
    let Some(p) = provider(Some(2)) else { return };
    let mut cli = Cli::new("refresh");
    login_public(&mut cli, &p.issuer);
    let (at0, rt0) = (cli.stored_access("default"), cli.stored_refresh("default"));

    std::thread::sleep(Duration::from_secs(3));
    let me = format!("{}/api/me", p.issuer);
    let curl = cli.run(&["curl", &me]);
    curl.ok();
    assert_eq!(curl.json()["sub"], "alice");
    let (at1, rt1) = (cli.stored_access("default"), cli.stored_refresh("default"));
    assert_ne!(at1, at0, "no refresh happened");
    assert_ne!(rt1, rt0, "the rotated refresh token was not saved");

    std::thread::sleep(Duration::from_secs(3));
    let token = cli.run(&["token"]);
    token.ok();
    let at2 = cli.stored_access("default");
    assert_eq!(token.stdout, format!("{at2}\n"));
    assert_ne!(at2, at1);
    assert_ne!(cli.stored_refresh("default"), rt1);
    // The stored refresh token is the live one: the provider would have revoked the
    // grant had an old one been replayed, and the API would refuse the new token.
    let curl = cli.run(&["curl", &me]);
    curl.ok();
    assert_eq!(curl.json()["sub"], "alice");
    cli.finish();
}

/// Device login: the user code is read from the running child's stderr and approved
/// through the provider's test hook; the child finishes after its first poll (5 s).
#[test]
fn device_login() {
    let Some(p) = provider(None) else { return };
    let mut cli = Cli::new("device");
    let args = [
        "login",
        "--device",
        "--issuer",
        &p.issuer,
        "--client-id",
        "public-native",
        "--scope",
        "openid api:read",
    ];
    let mut child = cli.spawn_with(&args, &[]);
    let started = Instant::now();
    let mut code = None;
    while started.elapsed() < Duration::from_secs(15) {
        let Some(line) = child.next_line(Duration::from_secs(1)) else {
            continue;
        };
        if let Some(rest) = line.trim().strip_prefix("To sign in, visit ") {
            let (uri, user_code) = rest.split_once(" and enter the code ").expect("the line");
            assert_eq!(uri, format!("{}/device", p.issuer));
            code = Some(user_code.trim().to_owned());
            break;
        }
    }
    let code = code.expect("the user code on stderr");
    let (status, body) = approve_device(&p.issuer, &code);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"outcome\":\"approved\""), "{body}");
    let run = child.wait(Duration::from_secs(20));
    let run = cli.record(run);
    run.ok();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        run.stderr.contains("Logged in (profile default"),
        "{}",
        run.stderr
    );
    let curl = cli.run(&["curl", &format!("{}/api/me", p.issuer)]);
    curl.ok();
    assert_eq!(curl.json()["sub"], "alice");
    cli.finish();
}

/// Client credentials for `service` (secret from the environment), then `token` and
/// `curl`; a wrong secret is the server's invalid_client (5).
#[test]
fn client_credentials() {
    let Some(p) = provider(None) else { return };
    let mut cli = Cli::new("cc");
    cli.secret("service", SERVICE_SECRET);
    cli.secret("service", "not-the-service-secret");
    let args = [
        "-v",
        "client-credentials",
        "--issuer",
        &p.issuer,
        "--client-id",
        "service",
        "--client-secret-env",
        "SERVICE_SECRET",
        "--scope",
        "api:read",
    ];
    let wrong = cli.run_with(&args, &[("SERVICE_SECRET", "not-the-service-secret")]);
    wrong.expect(5);
    assert!(wrong.stderr.contains("invalid_client"), "{}", wrong.stderr);

    let env = [("SERVICE_SECRET", SERVICE_SECRET)];
    let right = cli.run_with(&args, &env);
    right.ok();
    assert!(
        right.stderr.contains("authorization: Basic <redacted>"),
        "{}",
        right.stderr
    );
    let token = cli.run_with(&["token"], &env);
    token.ok();
    assert_eq!(token.stdout, format!("{}\n", cli.stored_access("default")));
    assert!(cli.stored("default")["refresh_token"].is_null());
    let curl = cli.run_with(&["curl", &format!("{}/api/me", p.issuer)], &env);
    curl.ok();
    let body = curl.json();
    assert_eq!(body["sub"], "service");
    assert_eq!(body["client_id"], "service");
    assert_eq!(body["scope"], "api:read");
    cli.finish();
}

/// `confidential-basic` (a secret that needs RFC 6749 §2.3.1 encoding): introspection
/// says active, and inactive after `revoke --access`.
#[test]
fn introspect_and_revoke_access() {
    let Some(p) = provider(None) else { return };
    let mut cli = Cli::new("introspect");
    cli.secret("confidential-basic", CONFIDENTIAL_SECRET);
    let env = [("INTEROP_SECRET", CONFIDENTIAL_SECRET)];
    let login = cli.run_with(
        &[
            "-v",
            "login",
            "--issuer",
            &p.issuer,
            "--client-id",
            "confidential-basic",
            "--client-secret-env",
            "INTEROP_SECRET",
            "--scope",
            "openid api:read",
        ],
        &env,
    );
    login.ok();
    assert!(login.stderr.contains("code=<redacted>"), "{}", login.stderr);
    assert!(
        login.stderr.contains("code_verifier=<redacted>"),
        "{}",
        login.stderr
    );

    let active = cli.run_with(&["introspect", "--json"], &env);
    active.ok();
    let doc = active.json();
    assert_eq!(doc["active"], true, "{doc}");
    assert_eq!(doc["sub"], "alice");
    assert_eq!(doc["client_id"], "confidential-basic");
    assert_eq!(doc["iss"], p.issuer.as_str());

    let refresh = cli.run_with(&["introspect", "--refresh", "--json"], &env);
    refresh.ok();
    assert_eq!(refresh.json()["active"], true);

    let revoke = cli.run_with(&["revoke", "--access", "--json"], &env);
    revoke.ok();
    assert_eq!(revoke.json()["revoked"], "access_token");

    let inactive = cli.run_with(&["introspect", "--json"], &env);
    inactive.ok();
    assert_eq!(inactive.json(), serde_json::json!({ "active": false }));
    // oidc-provider revokes the whole grant with the access token.
    let refresh = cli.run_with(&["introspect", "--refresh", "--json"], &env);
    refresh.ok();
    assert_eq!(refresh.json()["active"], false);

    let logout = cli.run_with(&["logout"], &env);
    logout.ok();
    assert!(!cli.tokens_path("default").exists());
    cli.finish();
}

/// `oauth curl <issuer>/api/me` with nothing configured: the peer's 401 announces its
/// resource metadata, the chain discovers the server, registers a native public client
/// at `/reg`, logs in through the headless browser with `resource`, calls the API and
/// saves a profile; the second call just uses it.
#[test]
fn curl_with_no_configuration() {
    let Some(p) = provider(None) else { return };
    let mut cli = Cli::new("zero-config");
    let me = format!("{}/api/me", p.issuer);
    let first = cli.run(&["curl", &me]);
    first.ok();
    let body = first.json();
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["scope"], "api:read");
    assert!(
        first.stderr.contains("Saved profile default"),
        "{}",
        first.stderr
    );
    let profile: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli.dir.join("profiles/default.json")).unwrap())
            .unwrap();
    assert_eq!(profile["grant"], "resource");
    assert_eq!(profile["issuer"], p.issuer.as_str());
    assert_eq!(
        profile["resources"],
        serde_json::json!([format!("{}/api", p.issuer)])
    );
    // The API saw the client the chain registered.
    assert_eq!(body["client_id"], profile["client_id"]);
    assert_ne!(body["client_id"], "public-native");

    let second = cli.run(&["curl", &me]);
    second.ok();
    assert_eq!(second.json()["client_id"], profile["client_id"]);
    assert!(!second.stderr.contains("No profile"), "{}", second.stderr);
    assert!(
        !second.stderr.contains("headless-browser"),
        "no second login: {}",
        second.stderr
    );
    cli.finish();
}
