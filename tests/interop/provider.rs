//! Starting and stopping oidc-provider, and logging in through it.

use crate::record::Recorder;
use oauth_core::{
    AuthorizationCodeFlow, AuthorizationParams, ClientAuth, ClientRegistration, ClientSecret,
    Scope, TokenSet,
};
use oauth_ureq::{Browser, LoopbackCallback, LoopbackListener, Transport, now, run, system_rng};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub(crate) const BASIC_SECRET: &str = "interop-secret-with-special-chars:+/=%";
pub(crate) const POST_SECRET: &str = "interop-post-secret";

pub(crate) fn server_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/server")
}

/// A running oidc-provider; killed when dropped.
pub(crate) struct Provider {
    child: Child,
    pub(crate) issuer: String,
    pub(crate) started_in: Duration,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Installs the npm package if needed (`npm ci` against the committed lockfile).
fn ensure_installed() -> Result<(), String> {
    // Tests run on parallel threads; one `npm ci` at a time.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = server_dir();
    if dir.join("node_modules/oidc-provider/package.json").exists() {
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .status()
        .map_err(|e| {
            format!("cannot run npm ({e}); Node.js and npm are needed for the interop suite")
        })?;
    if !status.success() {
        return Err(format!("`npm ci` in {} failed: {status}", dir.display()));
    }
    Ok(())
}

fn start(access_token_ttl: Option<u64>) -> Result<Provider, String> {
    let t0 = Instant::now();
    let version = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("Node.js is not installed or not on PATH ({e})"))?;
    if !version.status.success() {
        return Err("`node --version` failed".into());
    }
    ensure_installed()?;
    let mut child = Command::new("node")
        .arg("server.js")
        .current_dir(server_dir())
        .env("PORT", "0")
        .env(
            "ACCESS_TOKEN_TTL",
            access_token_ttl.unwrap_or(3600).to_string(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start node server.js: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            return Err("oidc-provider did not print READY within 30 s".into());
        }
    };
    match line.trim().strip_prefix("READY ") {
        Some(issuer) => Ok(Provider {
            child,
            issuer: issuer.to_owned(),
            started_in: t0.elapsed(),
        }),
        None => {
            let _ = child.kill();
            Err(format!("oidc-provider printed {line:?} instead of READY"))
        }
    }
}

/// The provider, or `None` (with a clear message) when it cannot run here. Under
/// `CI=true` a provider that cannot start fails the test.
pub(crate) fn provider() -> Option<Provider> {
    provider_with_ttl(None)
}

/// [`provider`] with access tokens that live `ttl` seconds.
pub(crate) fn provider_with_ttl(ttl: Option<u64>) -> Option<Provider> {
    match start(ttl) {
        Ok(p) => Some(p),
        Err(why) if ci() => panic!("interop server could not start under CI=true: {why}"),
        Err(why) => {
            eprintln!("SKIPPED: the oidc-provider interop suite cannot run here: {why}");
            None
        }
    }
}

/// How a test client authenticates.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Who {
    Public,
    Basic,
    Post,
    WrongSecret,
}

impl Provider {
    /// A registration for one of the server's clients, redirecting to `redirect_uri`.
    pub(crate) fn client(&self, who: Who, redirect_uri: &str) -> ClientRegistration {
        let (id, auth) = match who {
            Who::Public => ("public-native", ClientAuth::None),
            Who::Basic => (
                "confidential-basic",
                ClientAuth::ClientSecretBasic(ClientSecret::new(BASIC_SECRET)),
            ),
            Who::Post => (
                "confidential-post",
                ClientAuth::ClientSecretPost(ClientSecret::new(POST_SECRET)),
            ),
            Who::WrongSecret => (
                "confidential-basic",
                ClientAuth::ClientSecretBasic(ClientSecret::new("not-the-secret")),
            ),
        };
        ClientRegistration::builder(id)
            .auth(auth)
            .authorization_endpoint(format!("{}/auth", self.issuer))
            .token_endpoint(format!("{}/token", self.issuer))
            .issuer(self.issuer.clone())
            // oidc-provider sends `iss` on every authorization response (RFC 9207).
            .require_issuer_parameter(true)
            .redirect_uri(redirect_uri)
            .build()
            .expect("a valid registration")
    }

    pub(crate) fn api_url(&self) -> String {
        format!("{}/api/me", self.issuer)
    }
}

/// The headless browser: `node headless-browser.js URL` follows the authorization URL,
/// completes login and consent, and delivers the redirect to our listener.
pub(crate) fn headless_browser() -> Browser {
    Browser::Command(vec![
        "node".into(),
        server_dir()
            .join("headless-browser.js")
            .display()
            .to_string(),
    ])
}

pub(crate) fn transport(recorder: &Recorder) -> Transport {
    let config = oauth_ureq::TransportConfig {
        connect_timeout: Some(Duration::from_secs(5)),
        call_timeout: Some(Duration::from_secs(20)),
        ..Default::default()
    };
    Transport::new(config).with_observer(recorder.observer())
}

/// A whole login through the loopback listener and the headless browser.
pub(crate) fn login(
    provider: &Provider,
    who: Who,
    extra: &[(&str, &str)],
    recorder: &Recorder,
) -> (Result<TokenSet, oauth_ureq::Error>, ClientRegistration) {
    let listener = LoopbackListener::bind_default().expect("bind 127.0.0.1");
    let client = provider.client(who, &listener.redirect_uri());
    let mut params =
        AuthorizationParams::new().scope(Scope::parse("openid api:read").expect("valid scope"));
    for (k, v) in extra {
        params = params.param(*k, *v);
    }
    let mut flow =
        AuthorizationCodeFlow::start(&client, params, &mut system_rng(), now()).expect("start");
    recorder.expect_state(&flow);
    let mut callbacks =
        recorder.callback_source(LoopbackCallback::new(listener, headless_browser()));
    let result = run(&mut flow, &transport(recorder), Some(&mut callbacks));
    (result, client)
}
