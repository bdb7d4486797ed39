//! The harness both CLI test binaries (`cli.rs` against the testkit's fake server,
//! `interop.rs` against oidc-provider) share: running the `oauth` binary as a child
//! process with a watchdog, one configuration directory per test, and the checks that
//! no output ever shows a secret.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub(crate) const OAUTH: &str = env!("CARGO_BIN_EXE_oauth");
/// The longest any one command may run before the watchdog kills it.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

// ── running the binary ──────────────────────────────────────────────────────────

/// What one command did.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    pub(crate) args: Vec<String>,
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    #[track_caller]
    pub(crate) fn expect(&self, code: i32) -> &Self {
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
    pub(crate) fn ok(&self) -> &Self {
        self.expect(0)
    }

    /// Stdout parsed as JSON.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Whether this was `oauth … token …` (whose stdout is the access token).
    pub(crate) fn is_token_command(&self) -> bool {
        self.args
            .iter()
            .find(|a| !a.starts_with('-'))
            .map(String::as_str)
            == Some("token")
    }
}

/// A child `oauth` process whose stderr is read line by line as it runs.
pub(crate) struct Running {
    args: Vec<String>,
    child: Child,
    stdout: Option<JoinHandle<String>>,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<()>>,
    seen: Vec<String>,
}

impl Running {
    /// The next stderr line, waiting at most `timeout`.
    pub(crate) fn next_line(&mut self, timeout: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// The user code of a device login, read from the stderr line
    /// `To sign in, visit <verification_uri> and enter the code <code>` (whose URI must
    /// be `verification_uri`), looking until `within` after `started`.
    pub(crate) fn user_code(
        &mut self,
        verification_uri: &str,
        started: Instant,
        within: Duration,
    ) -> Option<String> {
        while started.elapsed() < within {
            let Some(line) = self.next_line(Duration::from_secs(1)) else {
                continue;
            };
            if let Some(rest) = line.trim().strip_prefix("To sign in, visit ") {
                let (uri, user_code) = rest.split_once(" and enter the code ").expect("the line");
                assert_eq!(uri, verification_uri);
                return Some(user_code.trim().to_owned());
            }
        }
        None
    }

    /// Waits for the exit (killing the child after `timeout`) and collects the output.
    pub(crate) fn wait(mut self, timeout: Duration) -> Run {
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
        // Only reached with a live child when a test failed half-way.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ── one test's world ────────────────────────────────────────────────────────────

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A configuration directory, the environment of the children, and every output seen.
pub(crate) struct Cli {
    pub(crate) dir: PathBuf,
    pub(crate) env: Vec<(String, String)>,
    runs: Vec<Run>,
    /// Values that must never be printed.
    pub(crate) secrets: Vec<String>,
    /// Access (and ID) tokens: printed only by `oauth token`.
    pub(crate) access_tokens: Vec<String>,
    /// Whether to look for the fake server's token shapes too (see [`Cli::check`]).
    fake_server_shapes: bool,
}

impl Cli {
    /// A fresh directory `<temp>/<dir_prefix>-<name>-<pid>-<n>`, with `browser` as
    /// `$BROWSER`; `fake_server_shapes` when the server is the testkit's.
    pub(crate) fn with_browser(
        dir_prefix: &str,
        name: &str,
        browser: String,
        fake_server_shapes: bool,
    ) -> Cli {
        let dir = std::env::temp_dir().join(format!(
            "{dir_prefix}-{name}-{}-{}",
            std::process::id(),
            DIRS.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the configuration directory");
        Cli {
            dir,
            env: vec![("BROWSER".into(), browser)],
            runs: Vec::new(),
            secrets: Vec::new(),
            access_tokens: Vec::new(),
            fake_server_shapes,
        }
    }

    /// A client secret: never to be printed, neither raw, urlencoded, nor as a Basic
    /// credential (with or without the RFC 6749 §2.3.1 encoding).
    pub(crate) fn secret(&mut self, client_id: &str, secret: &str) {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        self.secrets.push(secret.to_owned());
        self.secrets.push(enc(secret));
        self.secrets.push(base64(
            format!("{}:{}", enc(client_id), enc(secret)).as_bytes(),
        ));
        self.secrets
            .push(base64(format!("{client_id}:{secret}").as_bytes()));
    }

    pub(crate) fn tokens_path(&self, profile: &str) -> PathBuf {
        self.dir.join("tokens").join(format!("{profile}.json"))
    }

    pub(crate) fn profile_path(&self, profile: &str) -> PathBuf {
        self.dir.join("profiles").join(format!("{profile}.json"))
    }

    /// The stored token set of `profile` (the `tokens` member of the file).
    pub(crate) fn stored(&self, profile: &str) -> serde_json::Value {
        let bytes = std::fs::read(self.tokens_path(profile)).expect("the tokens file");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("tokens file is JSON");
        assert_eq!(v["format"], "oauth-sansio/token-set");
        v["tokens"].clone()
    }

    pub(crate) fn stored_refresh(&self, profile: &str) -> String {
        self.stored(profile)["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_owned()
    }

    pub(crate) fn stored_access(&self, profile: &str) -> String {
        self.stored(profile)["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// Learns the tokens now on disk (every profile), so that later and earlier
    /// outputs are checked against them.
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

    pub(crate) fn spawn_with(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Running {
        let mut cmd = Command::new(OAUTH);
        cmd.args(args)
            .env("OAUTH_CONFIG_DIR", &self.dir)
            .env_remove("XDG_CONFIG_HOME")
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

    /// Records a finished run and checks it for secrets.
    pub(crate) fn record(&mut self, run: Run) -> Run {
        self.learn_tokens();
        self.check(&run);
        self.runs.push(run.clone());
        run
    }

    pub(crate) fn run_with(&mut self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
        let run = self.spawn_with(args, extra_env).wait(TIMEOUT);
        self.record(run)
    }

    pub(crate) fn run(&mut self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// Fails when `run` shows a secret.
    #[track_caller]
    pub(crate) fn check(&self, run: &Run) {
        let cmd = format!("oauth {}", run.args.join(" "));
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            for s in &self.secrets {
                assert!(
                    !text.contains(s.as_str()),
                    "`{cmd}` printed a secret on {stream}:\n{text}"
                );
            }
            let token_stdout = stream == "stdout" && run.is_token_command();
            if !token_stdout {
                for at in &self.access_tokens {
                    assert!(
                        !text.contains(at.as_str()),
                        "`{cmd}` printed an access token on {stream}:\n{text}"
                    );
                }
            }
            // The fake server's secrets have known shapes: a prefix and 32 base64url
            // characters (24 random bytes).
            if self.fake_server_shapes {
                let mut shapes = vec!["code_", "rt_", "dc_"];
                if !token_stdout {
                    shapes.push("at_");
                }
                for prefix in shapes {
                    if let Some(found) = token_shaped(text, prefix) {
                        panic!("`{cmd}` printed {found:?} on {stream}:\n{text}");
                    }
                }
            }
            for param in ["code", "code_verifier", "refresh_token", "device_code"] {
                if let Some(value) = unredacted_param(text, param) {
                    panic!("`{cmd}` printed {param}={value} on {stream}:\n{text}");
                }
            }
        }
        // With -v, every Authorization header is shown redacted.
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

    /// Checks every output of the test once more against every secret learned since,
    /// and that the profiles never hold a secret.
    pub(crate) fn finish(mut self) {
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

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `prefix` followed by 32 or more base64url characters, not inside a longer word.
fn token_shaped(text: &str, prefix: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find(prefix) {
        let start = from + pos;
        let end = start + prefix.len();
        let run = bytes[end..].iter().take_while(|b| is_b64url(**b)).count();
        if (start == 0 || !is_b64url(bytes[start - 1])) && run >= 32 {
            return Some(text[start..end + run].to_owned());
        }
        from = end;
    }
    None
}

/// A `name=value` (not `other_name=`) whose value is neither empty nor redacted. A
/// `-` before the name does not make it another name (`x-code=` is looked at).
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

/// Standard base64 with padding (for the Basic credential a leak would show).
pub(crate) fn base64(input: &[u8]) -> String {
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

// ── plain HTTP beside the CLI ───────────────────────────────────────────────────

/// One HTTP/1.1 request on a fresh connection to the host and port of `base_url`:
/// `{method} {path}`, then `Host`, `headers`, `Content-Length` when there is a body,
/// `Connection: close`. Returns the status (0 when there is none) and the body.
pub(crate) fn http(
    base_url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    read_timeout: Duration,
) -> (u16, String) {
    let u = url::Url::parse(base_url).expect("URL");
    let authority = &u[url::Position::BeforeHost..url::Position::AfterPort];
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("Connection: close\r\n\r\n");
    request.push_str(body);
    let mut s = TcpStream::connect(authority).expect("connect");
    s.set_read_timeout(Some(read_timeout)).ok();
    s.write_all(request.as_bytes()).expect("write");
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
