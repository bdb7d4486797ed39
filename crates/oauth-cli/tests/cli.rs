//! End-to-end tests of the `oauth` binary against the testkit's fake authorization
//! server ([`HttpServer`]) over real HTTP on loopback.
//!
//! Every test has its own configuration directory (`OAUTH_CONFIG_DIR`) and its own
//! server, runs the binary as a child process (with a 60 s watchdog), and checks every
//! output it saw for secrets: refresh tokens, client secrets, authorization and device
//! codes, and access tokens (except on the stdout of `oauth token`, whose job it is).
//! Logins use the binary's hidden `headless-browser` subcommand as `$BROWSER`.

#![allow(clippy::print_stderr)]

mod common;

use common::{Cli, OAUTH, Run, base64, http};
use oauth_core::UnixTime;
use oauth_testkit::{AuthMethod, Decision, FakeAuthorizationServer, HttpServer, RegisteredClient};
use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime};

impl Cli {
    /// A test's own configuration directory, with the binary's hidden
    /// `headless-browser` subcommand as `$BROWSER`, checked for the fake server's
    /// token shapes too.
    fn new(name: &str) -> Cli {
        Cli::with_browser(
            "oauth-cli-test",
            name,
            format!("{OAUTH} headless-browser"),
            true,
        )
    }
}

// ── the server side ─────────────────────────────────────────────────────────────

/// A port that was free a moment ago (for `--redirect-port`, since the fake server
/// compares redirect URIs exactly).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn callback(port: u16) -> String {
    format!("http://127.0.0.1:{port}/callback")
}

fn server(seed: u64) -> HttpServer {
    HttpServer::start(FakeAuthorizationServer::new(seed)).expect("start the fake server")
}

fn wall_clock() -> UnixTime {
    UnixTime::from_system_time(SystemTime::now())
}

/// A plain `GET` with a bearer token, as `curl -H "Authorization: Bearer $(oauth token)"`
/// would do; returns the status.
fn get_with_bearer(url: &str, token: &str) -> u16 {
    let path = url::Url::parse(url).expect("URL").path().to_owned();
    let bearer = format!("Bearer {token}");
    let headers = [("Authorization", bearer.as_str())];
    http(url, "GET", &path, &headers, "", Duration::from_secs(10)).0
}

fn login_args<'a>(server_args: &'a [&'a str], port: &'a str) -> Vec<&'a str> {
    let mut args = vec!["login"];
    args.extend_from_slice(server_args);
    args.extend_from_slice(&["--redirect-port", port]);
    args
}

/// The fake server `seed` and `N` free ports (picked after the server started), with
/// the public client `cli-app` registered with a loopback callback on each.
fn server_with_cli_app<const N: usize>(seed: u64) -> (HttpServer, [u16; N]) {
    let server = server(seed);
    let ports: [u16; N] = std::array::from_fn(|_| free_port());
    server.with(|s| {
        let mut c = RegisteredClient::public("cli-app", &callback(ports[0]));
        c.redirect_uris
            .extend(ports[1..].iter().map(|p| callback(*p)));
        s.register(c);
    });
    (server, ports)
}

/// `oauth login <first…> --issuer <server> --client-id cli-app --scope api:read
/// --redirect-port <port>`.
fn login_cli_app(cli: &mut Cli, server: &HttpServer, port: u16, first: &[&str]) -> Run {
    let issuer = server.issuer();
    let port = port.to_string();
    let mut server_args = first.to_vec();
    server_args.extend_from_slice(&[
        "--issuer",
        &issuer,
        "--client-id",
        "cli-app",
        "--scope",
        "api:read",
    ]);
    cli.run(&login_args(&server_args, &port))
}

// ── the tests ───────────────────────────────────────────────────────────────────

/// Login by discovery and by explicit endpoints; `token`, `curl` and `profiles`.
#[test]
fn login_token_curl_profiles() {
    let (server, [p1, p2]) = server_with_cli_app(1);
    let issuer = server.issuer();
    let mut cli = Cli::new("login");

    // Discovery.
    let (port1, port2) = (p1.to_string(), p2.to_string());
    let server_args = [
        "--issuer",
        &issuer,
        "--client-id",
        "cli-app",
        "--scope",
        "profile api:read",
    ];
    let login = cli.run(&login_args(&server_args, &port1));
    login.ok();
    assert!(
        login.stderr.contains("Logged in (profile default"),
        "{}",
        login.stderr
    );
    assert!(
        login.stdout.is_empty(),
        "login printed on stdout: {}",
        login.stdout
    );
    let profile: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli.profile_path("default")).unwrap()).unwrap();
    assert_eq!(profile["issuer"], issuer.as_str());
    assert_eq!(profile["token_endpoint"], format!("{issuer}/token"));
    assert_eq!(profile["revocation_endpoint"], format!("{issuer}/revoke"));
    assert_eq!(profile["auth_method"], "none");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [cli.profile_path("default"), cli.tokens_path("default")] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }

    // `oauth token`: one line, the stored access token, nothing on stderr.
    let token = cli.run(&["token"]);
    token.ok();
    let access = cli.stored_access("default");
    assert_eq!(token.stdout, format!("{access}\n"));
    assert!(token.stderr.is_empty(), "stderr: {}", token.stderr);
    assert_eq!(get_with_bearer(&server.resource_url("/me"), &access), 200);

    // `oauth curl`: the API body on stdout.
    let me = server.resource_url("/me");
    let curl = cli.run(&["curl", &me]);
    curl.ok();
    let body = curl.json();
    assert_eq!(body["client_id"], "cli-app");
    assert_eq!(body["path"], "/api/me");
    assert_eq!(body["method"], "GET");
    assert_eq!(body["scope"], "profile api:read");

    // POST with -d and a header.
    let post = cli.run(&["curl", "-d", "a=1", "-H", "X-Test: yes", &me]);
    post.ok();
    let body = post.json();
    assert_eq!(body["method"], "POST");

    // Explicit endpoints, another profile.
    let auth_url = format!("{issuer}/authorize");
    let token_url = format!("{issuer}/token");
    let server_args = [
        "--profile",
        "manual",
        "--auth-url",
        &auth_url,
        "--token-url",
        &token_url,
        "--client-id",
        "cli-app",
        "--scope",
        "api:read",
    ];
    let mut args = login_args(&server_args, &port2);
    args.insert(0, "--json");
    let login = cli.run(&args);
    login.ok();
    let report = login.json();
    assert_eq!(report["profile"], "manual");
    assert_eq!(report["refresh_token"], true);
    assert_eq!(report["scope"], "api:read");
    let manual = cli.run(&["token", "--profile", "manual"]);
    manual.ok();
    assert_eq!(manual.stdout, format!("{}\n", cli.stored_access("manual")));
    assert_ne!(manual.stdout.trim(), access);
    let curl = cli.run(&["curl", "--profile", "manual", &me]);
    curl.ok();
    assert!(
        curl.stdout.contains("\"scope\":\"api:read\""),
        "{}",
        curl.stdout
    );

    // `oauth profiles`, plain and JSON, without secrets (checked by `Cli`).
    let profiles = cli.run(&["profiles"]);
    profiles.ok();
    let lines: Vec<&str> = profiles.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", profiles.stdout);
    assert!(lines[0].starts_with("default\tcli-app\t"), "{}", lines[0]);
    assert!(lines[0].contains(&issuer), "{}", lines[0]);
    assert!(lines[0].contains("valid for"), "{}", lines[0]);
    assert!(lines[1].starts_with("manual\tcli-app\t"), "{}", lines[1]);
    assert!(lines[1].contains(&token_url), "{}", lines[1]);
    let json = cli.run(&["profiles", "--json"]);
    json.ok();
    let rows = json.json();
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["profile"], "default");
    assert_eq!(rows[0]["grant"], "authorization_code");
    assert_eq!(rows[0]["client_id"], "cli-app");
    assert_eq!(rows[0]["server"], issuer.as_str());
    assert_eq!(rows[0]["scope"], "profile api:read");
    assert_eq!(rows[1]["profile"], "manual");
    assert_eq!(rows[1]["server"], token_url.as_str());

    let stats = server.with(|s| s.stats());
    assert_eq!(stats.codes_issued, 2);
    assert!(stats.resource_requests >= 4);
    cli.finish();
}

/// After expiry, `token` and `curl` refresh first and save the rotated refresh token.
#[test]
fn refresh_after_expiry_rotates_and_saves() {
    let (server, [port]) = server_with_cli_app(2);
    server.with(|s| {
        s.set_access_token_ttl(2);
    });
    let mut cli = Cli::new("refresh");
    login_cli_app(&mut cli, &server, port, &[]).ok();
    let (at0, rt0) = (cli.stored_access("default"), cli.stored_refresh("default"));

    std::thread::sleep(Duration::from_secs(3));
    let before = server.with(|s| s.stats().token_requests);
    let token = cli.run(&["token"]);
    token.ok();
    let at1 = token.stdout.trim_end().to_owned();
    assert_eq!(token.stdout.lines().count(), 1);
    assert!(token.stderr.is_empty(), "stderr: {}", token.stderr);
    assert_ne!(at1, at0, "the access token was not refreshed");
    assert_eq!(at1, cli.stored_access("default"));
    let rt1 = cli.stored_refresh("default");
    assert_ne!(rt1, rt0, "the rotated refresh token was not saved");
    assert_eq!(server.with(|s| s.is_grant_revoked(&rt1)), Some(false));
    assert_eq!(server.with(|s| s.stats().token_requests), before + 1);

    std::thread::sleep(Duration::from_secs(3));
    let curl = cli.run(&["curl", &server.resource_url("/me")]);
    curl.ok();
    assert!(
        curl.stdout.contains("\"client_id\":\"cli-app\""),
        "{}",
        curl.stdout
    );
    let rt2 = cli.stored_refresh("default");
    assert_ne!(rt2, rt1, "curl did not save the rotated refresh token");
    assert_ne!(cli.stored_access("default"), at1);
    let stats = server.with(|s| s.stats());
    assert_eq!(stats.refresh_reuse_detected, 0);
    assert_eq!(server.with(|s| s.is_grant_revoked(&rt2)), Some(false));
    cli.finish();
}

/// A confidential client whose secret lives in an environment variable of the child
/// only: it is never printed (even with -v), never stored, and needed at each use.
#[test]
fn confidential_client_secret_from_env() {
    const SECRET: &str = "cli-conf-secret:+/=%42 value";
    const VAR: &str = "OAUTH_CLI_TEST_SECRET";
    let server = server(3);
    server.with(|s| {
        s.set_access_token_ttl(2);
    });
    let port = free_port();
    server.with(|s| {
        s.register(RegisteredClient::confidential(
            "conf-app",
            SECRET,
            AuthMethod::Basic,
            &callback(port),
        ));
    });
    let mut cli = Cli::new("confidential");
    cli.secret("conf-app", SECRET);
    assert!(std::env::var_os(VAR).is_none());
    let env = [(VAR, SECRET)];
    let issuer = server.issuer();
    let port_s = port.to_string();
    let server_args = [
        "--issuer",
        &issuer,
        "--client-id",
        "conf-app",
        "--client-secret-env",
        VAR,
        "--scope",
        "api:read",
    ];
    let mut args = login_args(&server_args, &port_s);
    args.insert(0, "-v");
    let login = cli.run_with(&args, &env);
    login.ok();
    assert!(
        login.stderr.contains("authorization: Basic <redacted>"),
        "{}",
        login.stderr
    );
    assert!(login.stderr.contains("code=<redacted>"), "{}", login.stderr);
    assert!(
        login.stderr.contains("code_verifier=<redacted>"),
        "{}",
        login.stderr
    );

    let profile = std::fs::read_to_string(cli.profile_path("default")).unwrap();
    let profile: serde_json::Value = serde_json::from_str(&profile).unwrap();
    assert_eq!(profile["client_secret_env"], VAR);
    assert_eq!(profile["client_secret"], serde_json::Value::Null);
    assert_eq!(profile["auth_method"], "client_secret_basic");

    // Expired: the refresh authenticates with the secret read from the environment.
    std::thread::sleep(Duration::from_secs(3));
    let rt0 = cli.stored_refresh("default");
    let curl = cli.run_with(&["-v", "curl", &server.resource_url("/me")], &env);
    curl.ok();
    assert!(
        curl.stderr.contains("grant_type=refresh_token"),
        "{}",
        curl.stderr
    );
    assert!(
        curl.stderr.contains("refresh_token=<redacted>"),
        "{}",
        curl.stderr
    );
    assert!(
        curl.stderr.contains("authorization: Bearer <redacted>"),
        "{}",
        curl.stderr
    );
    assert!(
        curl.stdout.contains("\"client_id\":\"conf-app\""),
        "{}",
        curl.stdout
    );
    assert_ne!(cli.stored_refresh("default"), rt0);

    let introspect = cli.run_with(&["-v", "introspect"], &env);
    introspect.ok();
    let doc = introspect.json();
    assert_eq!(doc["client_id"], "conf-app");

    // Without the variable: a usage error naming it (the secret was not stored).
    let missing = cli.run(&["curl", &server.resource_url("/me")]);
    missing.expect(2);
    assert!(missing.stderr.contains(VAR), "{}", missing.stderr);

    let logout = cli.run_with(&["-v", "logout"], &env);
    logout.ok();
    assert!(!cli.tokens_path("default").exists());
    assert_eq!(server.with(|s| s.stats().revocations), 1);
    cli.finish();
}

/// Revocation at the server makes `curl` fail with 3 (the API says invalid_token and
/// the refresh is refused); logout forgets the tokens and revokes them.
#[test]
fn revoke_and_logout() {
    let (server, [p1, p2]) = server_with_cli_app(4);
    let mut cli = Cli::new("revoke");
    let me = server.resource_url("/me");

    // revoke, then curl.
    login_cli_app(&mut cli, &server, p1, &[]).ok();
    let rt = cli.stored_refresh("default");
    cli.run(&["curl", &me]).ok();
    let revoke = cli.run(&["revoke"]);
    revoke.ok();
    assert!(
        revoke.stderr.contains("Revoked the refresh token"),
        "{}",
        revoke.stderr
    );
    assert_eq!(server.with(|s| s.is_grant_revoked(&rt)), Some(true));
    assert_eq!(server.with(|s| s.stats().revocations), 1);
    let curl = cli.run(&["curl", &me]);
    curl.expect(3);
    assert!(curl.stdout.is_empty(), "{}", curl.stdout);
    assert!(curl.stderr.contains("invalid_grant"), "{}", curl.stderr);

    // logout.
    login_cli_app(&mut cli, &server, p2, &[]).ok();
    let json = cli.run(&["revoke", "--access", "--json"]);
    json.ok();
    assert_eq!(json.json()["revoked"], "access_token");
    assert_eq!(server.with(|s| s.stats().revocations), 2);
    let logout = cli.run(&["logout"]);
    logout.ok();
    assert!(logout.stderr.contains("Logged out"), "{}", logout.stderr);
    assert!(
        !cli.tokens_path("default").exists(),
        "the tokens file is still there"
    );
    assert!(cli.profile_path("default").exists());
    assert_eq!(server.with(|s| s.stats().revocations), 3);
    let token = cli.run(&["token"]);
    token.expect(3);
    assert!(token.stdout.is_empty());
    assert!(token.stderr.contains("log in again"), "{}", token.stderr);
    let profiles = cli.run(&["profiles"]);
    profiles.ok();
    assert!(profiles.stdout.contains("no tokens"), "{}", profiles.stdout);
    let again = cli.run(&["logout"]);
    again.ok();
    assert_eq!(server.with(|s| s.stats().revocations), 3);
    cli.finish();
}

/// Device login: the user code is read from the running child's stderr and approved
/// at the server; the child then finishes.
#[test]
fn device_login() {
    let server = server(5);
    server.with(|s| {
        s.register(RegisteredClient::public(
            "tv-app",
            "http://127.0.0.1:1/unused",
        ));
        s.set_device_interval(Some(1));
    });
    let mut cli = Cli::new("device");
    let issuer = server.issuer();
    let args = [
        "login",
        "--device",
        "--issuer",
        &issuer,
        "--client-id",
        "tv-app",
        "--scope",
        "api:read",
    ];
    let mut child = cli.spawn_with(&args, &[]);
    let started = Instant::now();
    let code = child
        .user_code(
            &format!("{issuer}/device"),
            started,
            Duration::from_secs(15),
        )
        .expect("the user code on stderr");
    assert!(server.with(|s| s.approve_device(&code, Decision::Approve, wall_clock())));
    let run = child.wait(Duration::from_secs(15));
    let run = cli.record(run);
    run.ok();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        run.stderr.contains("Logged in (profile default"),
        "{}",
        run.stderr
    );
    let profile: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli.profile_path("default")).unwrap()).unwrap();
    assert_eq!(profile["grant"], "device");
    assert!(server.with(|s| s.stats().device_polls) >= 1);
    let curl = cli.run(&["curl", &server.resource_url("/me")]);
    curl.ok();
    assert!(
        curl.stdout.contains("\"client_id\":\"tv-app\""),
        "{}",
        curl.stdout
    );
    cli.finish();
}

/// Client credentials: a wrong secret is the server's invalid_client (5); the right
/// one gets a token that `token` and `curl` use.
#[test]
fn client_credentials_secrets() {
    const RIGHT: &str = "service-secret-right";
    const WRONG: &str = "service-secret-wrong";
    let server = server(6);
    server.with(|s| {
        s.register(RegisteredClient::confidential(
            "svc",
            RIGHT,
            AuthMethod::Basic,
            "http://127.0.0.1:1/unused",
        ));
    });
    let mut cli = Cli::new("cc");
    cli.secret("svc", RIGHT);
    cli.secret("svc", WRONG);
    let issuer = server.issuer();
    let args = [
        "-v",
        "client-credentials",
        "--issuer",
        &issuer,
        "--client-id",
        "svc",
        "--client-secret-env",
        "SVC_SECRET",
        "--scope",
        "api:read",
    ];
    let wrong = cli.run_with(&args, &[("SVC_SECRET", WRONG)]);
    wrong.expect(5);
    assert!(wrong.stderr.contains("invalid_client"), "{}", wrong.stderr);
    assert!(!cli.tokens_path("default").exists());
    assert!(!cli.profile_path("default").exists());

    // No secret at all: usage.
    let none = cli.run(&args[1..]);
    none.expect(2);
    assert!(none.stderr.contains("SVC_SECRET"), "{}", none.stderr);

    let right = cli.run_with(&args[1..], &[("SVC_SECRET", RIGHT)]);
    right.ok();
    let token = cli.run_with(&["token"], &[("SVC_SECRET", RIGHT)]);
    token.ok();
    assert_eq!(token.stdout, format!("{}\n", cli.stored_access("default")));
    let curl = cli.run_with(
        &["curl", &server.resource_url("/me")],
        &[("SVC_SECRET", RIGHT)],
    );
    curl.ok();
    assert!(
        curl.stdout.contains("\"client_id\":\"svc\""),
        "{}",
        curl.stdout
    );
    cli.finish();
}

/// Denied consent is an authorization failure (3) naming access_denied; nothing saved.
#[test]
fn denied_consent() {
    let (server, [port]) = server_with_cli_app(7);
    server.set_decision(Decision::Deny);
    let mut cli = Cli::new("deny");
    let login = login_cli_app(&mut cli, &server, port, &[]);
    login.expect(3);
    assert!(login.stderr.contains("access_denied"), "{}", login.stderr);
    assert!(!cli.tokens_path("default").exists());
    assert!(!cli.profile_path("default").exists());
    cli.finish();
}

/// A corrupt tokens file is a local error (1) naming it, and is left as it was; an
/// unknown profile is an authorization failure (3) with a hint to log in.
#[test]
fn corrupt_tokens_file_and_missing_profile() {
    let (server, [port]) = server_with_cli_app(8);
    let mut cli = Cli::new("corrupt");
    login_cli_app(&mut cli, &server, port, &["--profile", "work"]).ok();
    let path = cli.tokens_path("work");
    let garbage = b"{ this is not \x00 a token file";
    std::fs::write(&path, garbage).unwrap();
    for args in [
        &["token", "--profile", "work"][..],
        &["curl", "--profile", "work", &server.resource_url("/me")][..],
    ] {
        let run = cli.run(args);
        run.expect(1);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(
            run.stderr.contains(&path.display().to_string()),
            "the message does not name the file: {}",
            run.stderr
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            garbage,
            "the file was changed"
        );
    }

    let missing = cli.run(&["token", "--profile", "nobody"]);
    missing.expect(3);
    assert!(missing.stderr.contains("oauth login"), "{}", missing.stderr);
    assert!(missing.stderr.contains("nobody"), "{}", missing.stderr);
    let bad_name = cli.run(&["token", "--profile", "../etc"]);
    bad_name.expect(2);
    cli.finish();
}

/// `curl` to an API answering 404: exit 6, the body on stdout, the status on stderr;
/// and usage errors exit 2.
#[test]
fn curl_status_and_usage_errors() {
    let (server, [port]) = server_with_cli_app(9);
    let mut cli = Cli::new("curl");
    let issuer = server.issuer();
    login_cli_app(&mut cli, &server, port, &[]).ok();

    let not_found = cli.run(&["curl", &format!("{issuer}/no/such/path")]);
    not_found.expect(6);
    assert_eq!(not_found.stdout, "not found");
    assert!(not_found.stderr.contains("404"), "{}", not_found.stderr);

    for args in [
        &["curl"][..],
        &["curl", "-H", "no-colon", &server.resource_url("/me")][..],
        &[
            "curl",
            "-H",
            "Authorization: Bearer x",
            &server.resource_url("/me"),
        ][..],
        &[
            "curl",
            "-d",
            "@/nonexistent/oauth-cli-test",
            &server.resource_url("/me"),
        ][..],
        &["token", "--no-such-flag"][..],
        &["login", "--client-id", "x"][..],
        &["frobnicate"][..],
    ] {
        let run = cli.run(args);
        run.expect(2);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(!run.stderr.is_empty());
    }
    // Nothing was sent for the refused requests.
    let served = server.with(|s| s.stats().resource_requests);
    assert_eq!(served, 0, "a refused request reached the API");
    cli.finish();
}

/// `oauth curl URL` with no profile and no login: the resource's 401 leads to its
/// metadata, the server's, a registration and a browser login; the next call needs
/// none of it; a lost grant is authorized again with the kept client.
#[test]
fn curl_zero_config() {
    let server = server(11);
    let mut cli = Cli::new("zero-config");
    let me = server.resource_url("/me");

    let first = cli.run(&["curl", &me]);
    first.ok();
    let body = first.json();
    let resource = format!("{}/api", server.issuer());
    assert_eq!(body["audience"], resource.as_str());
    assert!(
        first.stderr.contains("No profile default"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("Saved profile default"),
        "{}",
        first.stderr
    );
    assert_eq!(server.with(|s| s.registered_clients()), 1);

    // The profile and the store: a resource profile, the registered client kept.
    let profile: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli.profile_path("default")).unwrap()).unwrap();
    assert_eq!(profile["grant"], "resource");
    assert_eq!(profile["resources"], serde_json::json!([resource]));
    assert_eq!(profile["issuer"], server.issuer().as_str());
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cli.tokens_path("default")).unwrap()).unwrap();
    assert_eq!(file["client"]["client_id"], profile["client_id"]);
    assert!(file["client"]["registration_access_token"].is_string());
    assert_eq!(body["client_id"], profile["client_id"]);

    // The next call uses the saved tokens: no browser, no registration.
    let second = cli.run(&["curl", &server.resource_url("/other")]);
    second.ok();
    assert!(!second.stderr.contains("No profile"), "{}", second.stderr);
    assert_eq!(server.with(|s| s.stats().codes_issued), 1);
    cli.run(&["token"]).ok();

    // BEARER-05: the profile's token is not sent to another resource.
    let elsewhere = cli.run(&["curl", &format!("{}/not-the-api", server.issuer())]);
    elsewhere.expect(2);
    assert!(
        elsewhere.stderr.contains("another resource"),
        "{}",
        elsewhere.stderr
    );

    // The grant is revoked at the server: the refresh fails with invalid_grant and
    // the call authorizes again through the browser, with the kept client.
    let refresh = cli.stored_refresh("default");
    assert!(server.with(|s| s.revoke_refresh_token_grant(&refresh)));
    let again = cli.run(&["curl", &me]);
    again.ok();
    assert_eq!(server.with(|s| s.stats().codes_issued), 2);
    assert_eq!(server.with(|s| s.registered_clients()), 1);
    cli.finish();
}

/// `oauth curl URL` where the resource announces nothing: a clear authorization error.
#[test]
fn curl_zero_config_without_a_challenge() {
    let server = server(12);
    server.with(|s| {
        s.set_announce_resource_metadata(false);
    });
    let mut cli = Cli::new("zero-config-none");
    let run = cli.run(&["curl", &server.resource_url("/me")]);
    run.expect(3);
    assert!(run.stderr.contains("not authorized"), "{}", run.stderr);
    assert!(!cli.profile_path("default").exists());
    cli.finish();
}

/// `oauth demo` runs the whole flow on loopback.
#[test]
fn demo() {
    let mut cli = Cli::new("demo");
    cli.env.retain(|(k, _)| k != "BROWSER");
    let run = cli.run(&["demo"]);
    run.ok();
    assert!(
        run.stdout.trim_end().ends_with("demo complete"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("never printed"),
        "the demo secret was printed"
    );
    assert!(
        !run.stderr.contains("never printed"),
        "the demo secret was printed"
    );
    cli.finish();
}

/// The secret checks themselves catch what they are meant to catch.
#[test]
fn harness_catches_leaks() {
    assert_eq!(base64(b"svc:pw"), "c3ZjOnB3");
    assert_eq!(base64(b"a"), "YQ==");
    assert_eq!(base64(b"ab"), "YWI=");
    let mut cli = Cli::new("harness");
    cli.secret("app", "pw:+/");
    cli.secrets.push("known-refresh-token".into());
    cli.access_tokens.push("known-access-token".into());
    let run = |args: &[&str], stdout: &str, stderr: &str| Run {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        code: Some(0),
        stdout: stdout.into(),
        stderr: stderr.into(),
    };
    let basic = format!("authorization: Basic {}", base64(b"app:pw%3A%2B%2F"));
    let leaks = [
        run(&["profiles"], "known-refresh-token", ""),
        run(&["curl", "x"], "", "pw:+/"),
        run(&["curl", "x"], "", &basic),
        run(&["-v", "curl", "x"], "", "> authorization: Bearer abc"),
        run(&["curl", "x"], "known-access-token", ""),
        run(&["token"], "", "known-access-token"),
        run(&["login"], "", "GET /callback?code=abc&state=x"),
        run(&["login"], "", "code_verifier=xyz"),
        run(&["login"], "", "x rt_0123456789abcdefABCDEF0123456789 y"),
        run(&["login"], "", "(code_0123456789abcdefABCDEF0123456789)"),
    ];
    for r in &leaks {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cli.check(r)));
        assert!(caught.is_err(), "not caught: {r:?}");
    }
    let fine = [
        run(&["token"], "known-access-token\n", ""),
        run(
            &["-v", "token", "--profile", "x"],
            "at_0123456789abcdefABCDEF0123456789\n",
            "",
        ),
        run(
            &["-v", "login"],
            "",
            "> authorization: Basic <redacted>\n> grant_type=authorization_code&code=<redacted>&code_verifier=<redacted>\n\
             ?response_type=code&code_challenge=abc&code_challenge_method=S256\n?user_code=ABCD-EFGH",
        ),
    ];
    for r in &fine {
        cli.check(r);
    }
}
