//! End-to-end tests of the `oauth` binary against a real authorization server we did
//! not write: oidc-provider 9.x (`tests/interop/server/`), over HTTP on loopback, with
//! `headless-browser.js` as the user's browser (`$BROWSER`).
//!
//! Without Node.js each test says so and passes; with `CI=true` it fails instead.
//! Every output is checked for the secrets the test knows of: the client secrets, every
//! refresh token ever stored, access tokens (except on the stdout of `oauth token`),
//! and unredacted `code=` / `code_verifier=` values.

#![allow(clippy::print_stderr)]

mod common;
#[path = "../../../tests/common/oidc_provider.rs"]
mod oidc_provider;

use common::{Cli, Run, http};
use oidc_provider::Provider;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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

impl Cli {
    /// A test's own configuration directory, with `headless-browser.js` as `$BROWSER`.
    fn new(name: &str) -> Cli {
        Cli::with_browser("oauth-cli-interop", name, browser(), false)
    }
}

/// `POST {issuer}/__test/device/approve` (the provider's headless confirmation hook);
/// returns the status and body.
fn approve_device(issuer: &str, user_code: &str) -> (u16, String) {
    http(
        issuer,
        "POST",
        "/__test/device/approve",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("user_code={user_code}&decision=approve"),
        Duration::from_secs(20),
    )
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

/// `oauth curl <issuer>/api/me` (with `env`), which must succeed; the API's JSON.
fn curl_me(cli: &mut Cli, p: &Provider, env: &[(&str, &str)]) -> serde_json::Value {
    let curl = cli.run_with(&["curl", &format!("{}/api/me", p.issuer)], env);
    curl.ok();
    curl.json()
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

    let body = curl_me(&mut cli, &p, &[]);
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
    let curl = cli.run(&["curl", &format!("{}/api/me", p.issuer)]);
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
    assert_eq!(curl_me(&mut cli, &p, &[])["sub"], "alice");
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
    assert_eq!(curl_me(&mut cli, &p, &[])["sub"], "alice");
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
    let code = child
        .user_code(
            &format!("{}/device", p.issuer),
            started,
            Duration::from_secs(15),
        )
        .expect("the user code on stderr");
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
    assert_eq!(curl_me(&mut cli, &p, &[])["sub"], "alice");
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
    let body = curl_me(&mut cli, &p, &env);
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
        serde_json::from_slice(&std::fs::read(cli.profile_path("default")).unwrap()).unwrap();
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
