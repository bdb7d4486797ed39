//! Starting and stopping the oidc-provider interop peer (`tests/interop/server/`),
//! shared by the interop suites of the `tests` crate and of `oauth-cli`.
//!
//! Without Node.js the suite says so and skips; with `CI=true` it fails instead.

#![allow(dead_code, clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The peer's directory, from a crate's manifest directory and the path to it.
pub(crate) fn server_dir_from(manifest_dir: &str, relative: &str) -> PathBuf {
    Path::new(manifest_dir).join(relative)
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
fn ensure_installed(dir: &Path) -> Result<(), String> {
    // Tests run on parallel threads; one `npm ci` at a time.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if dir.join("node_modules/oidc-provider/package.json").exists() {
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .map_err(|e| {
            format!("cannot run npm ({e}); Node.js and npm are needed for the interop suite")
        })?;
    if !status.success() {
        return Err(format!("`npm ci` in {} failed: {status}", dir.display()));
    }
    Ok(())
}

fn start(dir: &Path, access_token_ttl: Option<u64>) -> Result<Provider, String> {
    let t0 = Instant::now();
    let version = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("Node.js is not installed or not on PATH ({e})"))?;
    if !version.status.success() {
        return Err("`node --version` failed".into());
    }
    ensure_installed(dir)?;
    let mut child = Command::new("node")
        .arg("server.js")
        .current_dir(dir)
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

/// The provider in `dir`, or `None` (with a clear message) when it cannot run here.
/// Under `CI=true` a provider that cannot start fails the test.
pub(crate) fn provider_or_skip(dir: &Path, access_token_ttl: Option<u64>) -> Option<Provider> {
    match start(dir, access_token_ttl) {
        Ok(p) => Some(p),
        Err(why) if ci() => panic!("interop server could not start under CI=true: {why}"),
        Err(why) => {
            eprintln!("SKIPPED: the oidc-provider interop suite cannot run here: {why}");
            None
        }
    }
}
