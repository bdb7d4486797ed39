//! The subcommands.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use crate::config::{self, GrantKind, Profile};
use crate::exit::{CliError, Kind};
use crate::{Output, ServerArgs};
use oauth_core::parse::Introspection;
use oauth_core::{
    AuthorizationCodeFlow, AuthorizationParams, ClientCredentialsFlow, ClientCredentialsParams,
    DeviceFlow, IntrospectionFlow, RefreshFlow, RevocationFlow, Scope, Session, TokenRef, TokenSet,
    redact,
};
use oauth_ureq::{
    AuthorizedClient, Browser, BrowserAuthorizer, FileStore, LoopbackCallback, LoopbackConfig,
    LoopbackListener, TokenStore, Transport, TransportConfig, discover, now, run, system_rng,
};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

/// Refresh this long before expiry.
const SKEW_SECS: u64 = 30;

/// The transport, logging every exchange (redacted) to stderr with `-v`.
fn transport(out: Output) -> Transport {
    let t = Transport::new(TransportConfig::default());
    if !out.verbose {
        return t;
    }
    t.with_observer(Arc::new(|req, res| {
        eprintln!(
            "> {}",
            redact::request(req)
                .to_string()
                .trim_end()
                .replace('\n', "\n> ")
        );
        match res {
            Ok(r) => eprintln!(
                "< {}",
                redact::response(r)
                    .to_string()
                    .trim_end()
                    .replace('\n', "\n< ")
            ),
            Err(f) => eprintln!("< transport failure: {f}"),
        }
    }))
}

/// Reads a secret from the terminal without echo.
fn prompt_secret(what: &str) -> Result<String, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(format!(
            "{what} is needed: name an environment variable holding it with --client-secret-env"
        )));
    }
    eprint!("{what}: ");
    let _ = std::io::stderr().flush();
    let echo_off = cfg!(unix)
        && std::process::Command::new("stty")
            .arg("-echo")
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success());
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    if echo_off {
        let _ = std::process::Command::new("stty")
            .arg("echo")
            .stdin(std::process::Stdio::inherit())
            .status();
    }
    eprintln!();
    read.map_err(|e| CliError::local(format!("reading the secret: {e}")))?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        return Err(CliError::usage(format!("{what} is empty")));
    }
    Ok(secret)
}

fn scopes(args: &[String]) -> Result<Vec<String>, CliError> {
    let mut out = Vec::new();
    for a in args {
        out.extend(a.split_whitespace().map(str::to_owned));
    }
    Scope::new(out.clone()).map_err(|e| CliError::usage(e.to_string()))?;
    Ok(out)
}

/// A profile from the command line: endpoints from discovery, a preset, or flags.
/// `secret_override` is the demo's way to pass a secret without an environment variable.
fn build_profile(
    server: &ServerArgs,
    grant: GrantKind,
    resources: &[String],
    secret_override: Option<String>,
    out: Output,
) -> Result<Profile, CliError> {
    config::check_name(&server.profile)?;
    let mut p = Profile {
        version: 1,
        grant,
        client_id: server.client_id.clone(),
        client_secret_env: server.client_secret_env.clone(),
        client_secret: None,
        auth_method: "none".into(),
        provider: None,
        issuer: None,
        require_iss: false,
        authorization_endpoint: None,
        token_endpoint: String::new(),
        revocation_endpoint: server.revocation_url.clone(),
        introspection_endpoint: server.introspection_url.clone(),
        device_authorization_endpoint: server.device_url.clone(),
        par_endpoint: None,
        require_par: false,
        scopes: scopes(&server.scopes)?,
        resources: resources.to_vec(),
    };
    if let Some(issuer) = &server.issuer {
        let m = discover(issuer, &transport(out))
            .map_err(|e| CliError::from_driver("discovery failed", &e))?;
        if m.code_challenge_methods_supported
            .as_ref()
            .is_some_and(|l| !l.iter().any(|x| x == "S256"))
        {
            return Err(CliError::new(
                Kind::Server,
                "the server does not support PKCE with S256",
            ));
        }
        p.issuer = Some(m.issuer.clone());
        p.require_iss = m.authorization_response_iss_parameter_supported;
        p.authorization_endpoint = m.authorization_endpoint.clone();
        p.token_endpoint = m.token_endpoint.clone().unwrap_or_default();
        p.revocation_endpoint = p.revocation_endpoint.or(m.revocation_endpoint.clone());
        p.introspection_endpoint = p
            .introspection_endpoint
            .or(m.introspection_endpoint.clone());
        p.device_authorization_endpoint = p
            .device_authorization_endpoint
            .or(m.device_authorization_endpoint.clone());
        p.par_endpoint = m.pushed_authorization_request_endpoint.clone();
        p.require_par = m.require_pushed_authorization_requests;
    } else if let Some(name) = &server.provider {
        let preset = match (name.as_str(), &server.tenant, &server.gitlab_url) {
            ("microsoft", Some(t), _) => {
                oauth_core::providers::microsoft(t).map_err(|e| CliError::usage(e.to_string()))?
            }
            ("gitlab", _, Some(u)) => oauth_core::providers::gitlab_self_hosted(u)
                .map_err(|e| CliError::usage(e.to_string()))?,
            (n, _, _) => oauth_core::providers::by_name(n).ok_or_else(|| {
                CliError::usage(format!(
                    "unknown provider {n:?}: github, google, microsoft or gitlab"
                ))
            })?,
        };
        p.provider = Some(preset.name.to_owned());
        p.issuer = preset.issuer.clone();
        p.authorization_endpoint = Some(preset.authorization_endpoint.clone());
        p.token_endpoint = preset.token_endpoint.clone();
        let requested = Scope::new(p.scopes.clone()).ok().filter(|s| !s.is_empty());
        let params_scope = requested.unwrap_or_else(|| preset.default_scope.clone());
        p.scopes = (preset.scope_hook)(params_scope)
            .iter()
            .map(str::to_owned)
            .collect();
    } else {
        p.authorization_endpoint = server.auth_url.clone();
        p.token_endpoint = server.token_url.clone().ok_or_else(|| {
            CliError::usage("name the server: --issuer, --provider, or --auth-url with --token-url")
        })?;
    }
    if p.token_endpoint.is_empty() {
        return Err(CliError::new(
            Kind::Server,
            "the server's metadata names no token endpoint",
        ));
    }
    // The secret: never from the command line. From `$VAR` it is read again at each use
    // and not stored; typed at a prompt (or given by the demo) it is kept in the
    // profile, a file only its owner can read.
    let secret = match (secret_override, &server.client_secret_env) {
        (Some(s), _) => {
            p.client_secret = Some(s.clone());
            Some(s)
        }
        (None, Some(var)) => match std::env::var(var) {
            Ok(s) if !s.is_empty() => Some(s),
            _ => {
                let s = prompt_secret(&format!("client secret (${var} is not set)"))?;
                p.client_secret = Some(s.clone());
                Some(s)
            }
        },
        (None, None) => None,
    };
    if secret.is_some() {
        p.auth_method = if server.client_secret_post {
            "client_secret_post".into()
        } else {
            "client_secret_basic".into()
        };
    }
    // Validate now rather than at first use.
    p.registration(Some("http://127.0.0.1:1/callback"))?;
    Ok(p)
}

fn save(name: &str, profile: &Profile, tokens: &TokenSet) -> Result<(), CliError> {
    let store = Profile::store(name)?;
    store
        .save(tokens)
        .map_err(|e| CliError::local(format!("saving the tokens failed: {e}")))?;
    profile.save(name)
}

fn report_login(name: &str, tokens: &TokenSet, out: Output) {
    let expires_in = tokens.expires_at.map(|e| now().secs_until(e));
    let scope = tokens.scope.as_ref().map(ToString::to_string);
    if out.json {
        println!(
            "{}",
            serde_json::json!({
                "profile": name,
                "scope": scope,
                "expires_in": expires_in,
                "refresh_token": tokens.refresh_token.is_some(),
            })
        );
    } else {
        eprintln!(
            "Logged in (profile {name}{}{}).",
            scope
                .map(|s| format!(", scope \"{s}\""))
                .unwrap_or_default(),
            expires_in
                .map(|s| format!(", token valid for {s} s"))
                .unwrap_or_default()
        );
    }
}

pub(crate) fn login(
    server: &ServerArgs,
    redirect_port: Option<u16>,
    device: bool,
    out: Output,
) -> Result<ExitCode, CliError> {
    let grant = if device {
        GrantKind::Device
    } else {
        GrantKind::AuthorizationCode
    };
    let profile = build_profile(server, grant, &[], None, out)?;
    let tokens = login_with(&profile, redirect_port, Browser::System, out)?;
    save(&server.profile, &profile, &tokens)?;
    report_login(&server.profile, &tokens, out);
    Ok(ExitCode::SUCCESS)
}

/// Runs the profile's interactive grant and returns the tokens (not yet saved).
fn login_with(
    profile: &Profile,
    redirect_port: Option<u16>,
    browser: Browser,
    out: Output,
) -> Result<TokenSet, CliError> {
    let scope = Scope::new(profile.scopes.clone()).map_err(|e| CliError::usage(e.to_string()))?;
    if profile.grant == GrantKind::Device {
        let client = profile.registration(None)?;
        let mut flow = DeviceFlow::start(&client, scope)
            .map_err(|e| CliError::from_core("device login", &e))?;
        // A dot per poll, so that the user sees it is waiting.
        let progress = transport(out).with_observer(Arc::new(move |req, res| {
            if std::str::from_utf8(req.body()).is_ok_and(|b| b.contains("device_code=")) {
                eprint!(".");
                let _ = std::io::stderr().flush();
            }
            if out.verbose {
                eprintln!(
                    "\n> {}",
                    redact::request(req)
                        .to_string()
                        .trim_end()
                        .replace('\n', "\n> ")
                );
                if let Ok(r) = res {
                    eprintln!(
                        "< {}",
                        redact::response(r)
                            .to_string()
                            .trim_end()
                            .replace('\n', "\n< ")
                    );
                }
            }
        }));
        let result = run(&mut flow, &progress, None);
        eprintln!();
        return result.map_err(|e| CliError::from_driver("device login failed", &e));
    }
    let listener = LoopbackListener::bind(LoopbackConfig {
        port: redirect_port.unwrap_or(0),
        ..LoopbackConfig::default()
    })
    .map_err(|e| CliError::local(format!("cannot listen on 127.0.0.1: {e}")))?;
    let client = profile.registration(Some(&listener.redirect_uri()))?;
    let mut params = AuthorizationParams::new().scope(scope);
    if let Some(preset) = profile
        .provider
        .as_deref()
        .and_then(oauth_core::providers::by_name)
    {
        for (k, v) in &preset.extra_params {
            params = params.param(k.clone(), v.clone());
        }
    }
    let mut flow = AuthorizationCodeFlow::start(&client, params, &mut system_rng(), now())
        .map_err(|e| CliError::from_core("login", &e))?;
    let mut callbacks = LoopbackCallback::new(listener, browser);
    run(&mut flow, &transport(out), Some(&mut callbacks))
        .map_err(|e| CliError::from_driver("login failed", &e))
}

/// The saved profile, its registration, its store and its tokens.
fn load(
    name: &str,
) -> Result<(Profile, oauth_core::ClientRegistration, FileStore, TokenSet), CliError> {
    let (profile, store, tokens) = load_tokens(name)?;
    let client = profile.registration(None)?;
    Ok((profile, client, store, tokens))
}

/// The profile, its store and its tokens, without building the registration (which
/// may need the client secret).
fn load_tokens(name: &str) -> Result<(Profile, FileStore, TokenSet), CliError> {
    let profile = Profile::load(name)?;
    let store = Profile::store(name)?;
    let tokens = store
        .load()
        .map_err(|e| CliError::local(e.to_string()))?
        .ok_or_else(|| CliError::auth(format!("profile {name} has no tokens: log in again")))?;
    Ok((profile, store, tokens))
}

/// A client-credentials grant for the profile.
fn client_credentials_grant(
    profile: &Profile,
    client: &oauth_core::ClientRegistration,
    out: Output,
) -> Result<TokenSet, CliError> {
    let mut params = ClientCredentialsParams::new()
        .scope(Scope::new(profile.scopes.clone()).map_err(|e| CliError::usage(e.to_string()))?);
    for r in &profile.resources {
        params = params.resource(r.clone());
    }
    let mut flow = ClientCredentialsFlow::start(client, params)
        .map_err(|e| CliError::from_core("client credentials", &e))?;
    run(&mut flow, &transport(out), None)
        .map_err(|e| CliError::from_driver("client credentials failed", &e))
}

/// A token set that is valid for at least [`SKEW_SECS`]: refreshed (or, for client
/// credentials, granted again) and saved first when needed. The client secret is read
/// only when a refresh is needed.
fn fresh(name: &str, out: Output) -> Result<TokenSet, CliError> {
    let (profile, store, tokens) = load_tokens(name)?;
    if !tokens.needs_refresh(now(), SKEW_SECS) {
        return Ok(tokens);
    }
    let client = profile.registration(None)?;
    let renewed = if tokens.refresh_token.is_some() {
        let mut flow = RefreshFlow::start(&client, &tokens, None)
            .map_err(|e| CliError::from_core("refresh", &e))?;
        run(&mut flow, &transport(out), None)
            .map_err(|e| CliError::from_driver("refreshing the token failed", &e))?
    } else if profile.grant == GrantKind::ClientCredentials {
        client_credentials_grant(&profile, &client, out)?
    } else {
        return Err(CliError::auth(format!(
            "the access token of profile {name} expired and cannot be refreshed: log in again"
        )));
    };
    // Saved before it is printed or used (a rotated refresh token must not be lost).
    store
        .save(&renewed)
        .map_err(|e| CliError::local(format!("saving the refreshed tokens failed: {e}")))?;
    Ok(renewed)
}

pub(crate) fn token(name: &str, out: Output) -> Result<ExitCode, CliError> {
    let tokens = fresh(name, out)?;
    if out.json {
        println!(
            "{}",
            serde_json::json!({
                "access_token": tokens.access_token.secret(),
                "token_type": tokens.token_type.as_str(),
                "expires_in": tokens.expires_at.map(|e| now().secs_until(e)),
                "scope": tokens.scope.as_ref().map(ToString::to_string),
            })
        );
    } else {
        println!("{}", tokens.access_token.secret());
    }
    Ok(ExitCode::SUCCESS)
}

fn request(
    method: Option<&str>,
    headers: &[String],
    data: Option<&str>,
    url: &str,
) -> Result<http::Request<Vec<u8>>, CliError> {
    let body = match data {
        Some(d) if d.starts_with('@') => std::fs::read(&d[1..])
            .map_err(|e| CliError::usage(format!("reading {}: {e}", &d[1..])))?,
        Some(d) => d.as_bytes().to_vec(),
        None => Vec::new(),
    };
    let method = method.unwrap_or(if data.is_some() { "POST" } else { "GET" });
    let mut b = http::Request::builder().method(method).uri(url);
    let mut has_content_type = false;
    for h in headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| CliError::usage(format!("a header is `Name: value`, not {h:?}")))?;
        if k.trim().eq_ignore_ascii_case("authorization") {
            return Err(CliError::usage("the Authorization header is set by oauth"));
        }
        has_content_type |= k.trim().eq_ignore_ascii_case("content-type");
        b = b.header(k.trim(), v.trim());
    }
    if data.is_some() && !has_content_type {
        b = b.header("content-type", "application/x-www-form-urlencoded");
    }
    b.body(body)
        .map_err(|e| CliError::usage(format!("invalid request: {e}")))
}

pub(crate) fn curl(
    name: &str,
    method: Option<&str>,
    headers: &[String],
    data: Option<&str>,
    url: &str,
    out: Output,
) -> Result<ExitCode, CliError> {
    let req = request(method, headers, data, url)?;
    if !Profile::exists(name)? {
        return curl_zero_config(name, req, out);
    }
    let (profile, client, store, tokens) = load(name)?;
    let store: Arc<dyn TokenStore> = Arc::new(store);
    let session = Session::new(&client, tokens).with_skew(SKEW_SECS);
    let api = if profile.grant == GrantKind::Resource {
        AuthorizedClient::with_authorizer(
            session,
            transport(out),
            Arc::clone(&store),
            Arc::new(authorizer()),
        )
    } else {
        AuthorizedClient::with_session(session, transport(out), Arc::clone(&store))
    };
    let response = match api.call(req) {
        Err(e) if e.needs_new_authorization() && profile.grant == GrantKind::ClientCredentials => {
            // Client credentials have no refresh token: a new grant, then one retry.
            let tokens = client_credentials_grant(&profile, &client, out)?;
            api.replace_tokens(tokens)
                .map_err(|e| CliError::local(format!("saving the tokens failed: {e}")))?;
            api.call(request(method, headers, data, url)?)
        }
        other => other,
    }
    .map_err(|e| CliError::from_api("the API call failed", &e));
    if profile.grant == GrantKind::Resource {
        remember_client(name, Some(&profile), &api, out)?;
    }
    write_response(&response?)
}

/// The browser login of the zero-configuration chain (`$BROWSER`, else the system's).
fn authorizer() -> BrowserAuthorizer {
    BrowserAuthorizer::new(Browser::System).client_name("oauth CLI")
}

/// `oauth curl URL` with no profile: the resource's 401 says where to authorize
/// (RFC 9728), a client is registered there (RFC 7591), the user logs in through the
/// browser, and the tokens — for this resource only (RFC 8707) — are kept in a new
/// profile for the next call.
fn curl_zero_config(
    name: &str,
    req: http::Request<Vec<u8>>,
    out: Output,
) -> Result<ExitCode, CliError> {
    if !out.json {
        eprintln!(
            "No profile {name}: asking {} how to authorize (RFC 9728).",
            req.uri()
        );
    }
    let store: Arc<dyn TokenStore> = Arc::new(Profile::store(name)?);
    let api = AuthorizedClient::zero_config(transport(out), store, Arc::new(authorizer()));
    let response = api
        .call(req)
        .map_err(|e| CliError::from_api("the API call failed", &e));
    remember_client(name, None, &api, out)?;
    write_response(&response?)
}

/// Saves the profile of the client the chain set up, when it is new or changed.
fn remember_client(
    name: &str,
    saved: Option<&Profile>,
    api: &AuthorizedClient,
    out: Output,
) -> Result<(), CliError> {
    let Some(client) = api.client() else {
        return Ok(());
    };
    if saved.is_some_and(|p| p.client_id == client.client_id()) {
        return Ok(());
    }
    let scopes = api
        .tokens()
        .and_then(|t| t.scope)
        .map(|s| s.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    Profile::from_client(&client, scopes).save(name)?;
    if !out.json {
        eprintln!(
            "Saved profile {name}: client {} at {}{}.",
            client.client_id(),
            client.issuer().unwrap_or("the authorization server"),
            client
                .resources()
                .first()
                .map(|r| format!(", tokens for {r}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// Writes the API's body to stdout; a non-2xx status is exit code `ApiStatus`.
fn write_response(response: &oauth_core::HttpResponse) -> Result<ExitCode, CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(response.body())
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::local(format!("writing the response: {e}")))?;
    if response.status().is_success() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(CliError::new(
            Kind::ApiStatus,
            format!("HTTP {}", response.status()),
        ))
    }
}

pub(crate) fn client_credentials(
    server: &ServerArgs,
    resources: &[String],
    out: Output,
) -> Result<ExitCode, CliError> {
    let profile = build_profile(server, GrantKind::ClientCredentials, resources, None, out)?;
    if profile.auth_method == "none" {
        return Err(CliError::usage(
            "the client credentials grant needs a client secret: --client-secret-env VAR",
        ));
    }
    let client = profile.registration(None)?;
    let tokens = client_credentials_grant(&profile, &client, out)?;
    save(&server.profile, &profile, &tokens)?;
    report_login(&server.profile, &tokens, out);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn revoke(name: &str, access: bool, out: Output) -> Result<ExitCode, CliError> {
    let (_, client, _, tokens) = load(name)?;
    let token = if access {
        TokenRef::Access(&tokens.access_token)
    } else {
        TokenRef::to_revoke(&tokens)
    };
    let mut flow =
        RevocationFlow::start(&client, token).map_err(|e| CliError::from_core("revocation", &e))?;
    run(&mut flow, &transport(out), None)
        .map_err(|e| CliError::from_driver("revocation failed", &e))?;
    let which = token.hint().as_str();
    if out.json {
        println!("{}", serde_json::json!({ "revoked": which }));
    } else {
        eprintln!("Revoked the {} of profile {name}.", which.replace('_', " "));
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn introspect(name: &str, refresh: bool, out: Output) -> Result<ExitCode, CliError> {
    let (_, client, _, tokens) = load(name)?;
    let token = match (&tokens.refresh_token, refresh) {
        (Some(rt), true) => TokenRef::Refresh(rt),
        (None, true) => return Err(CliError::usage("this profile has no refresh token")),
        _ => TokenRef::Access(&tokens.access_token),
    };
    let mut flow = IntrospectionFlow::start(&client, token)
        .map_err(|e| CliError::from_core("introspection", &e))?;
    let answer = run(&mut flow, &transport(out), None)
        .map_err(|e| CliError::from_driver("introspection failed", &e))?;
    let json = match answer {
        Introspection::Inactive => serde_json::json!({ "active": false }),
        Introspection::Active(t) => {
            let mut m = serde_json::Map::new();
            m.insert("active".into(), true.into());
            let mut put = |k: &str, v: serde_json::Value| {
                if !v.is_null() {
                    m.insert(k.into(), v);
                }
            };
            put("scope", t.scope.as_ref().map(ToString::to_string).into());
            put("client_id", t.client_id.clone().into());
            put("username", t.username.clone().into());
            put("token_type", t.token_type.clone().into());
            put("exp", t.exp.map(|x| x.as_secs()).into());
            put("iat", t.iat.map(|x| x.as_secs()).into());
            put("nbf", t.nbf.map(|x| x.as_secs()).into());
            put("sub", t.sub.clone().into());
            if !t.aud.is_empty() {
                put("aud", t.aud.clone().into());
            }
            put("iss", t.iss.clone().into());
            put("jti", t.jti.clone().into());
            serde_json::Value::Object(m)
        }
    };
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn logout(name: &str, out: Output) -> Result<ExitCode, CliError> {
    let profile = Profile::load(name)?;
    let client = profile.registration(None)?;
    let store: Arc<dyn TokenStore> = Arc::new(Profile::store(name)?);
    let tokens = store.load().map_err(|e| CliError::local(e.to_string()))?;
    let Some(tokens) = tokens else {
        eprintln!("Profile {name} holds no tokens.");
        return Ok(ExitCode::SUCCESS);
    };
    let api = AuthorizedClient::new(&client, tokens, transport(out), Arc::clone(&store));
    let result = api.logout();
    if out.json {
        println!(
            "{}",
            serde_json::json!({ "logged_out": name, "revoked": result.is_ok() })
        );
    }
    match result {
        Ok(()) => {
            if !out.json {
                eprintln!("Logged out of profile {name}: tokens revoked and forgotten.");
            }
            Ok(ExitCode::SUCCESS)
        }
        // The tokens are forgotten whatever the revocation's outcome (REV-04).
        Err(e) => Err(CliError::from_api(
            "logged out locally, but the revocation failed",
            &e,
        )),
    }
}

pub(crate) fn profiles(out: Output) -> Result<ExitCode, CliError> {
    let mut rows = Vec::new();
    for name in config::profile_names()? {
        let row = match Profile::load(&name) {
            Ok(p) => {
                let tokens = Profile::store(&name)
                    .ok()
                    .and_then(|s| s.load().ok().flatten());
                let status = match &tokens {
                    None => "no tokens".to_owned(),
                    Some(t) if t.is_expired(now(), 0) && t.refresh_token.is_some() => {
                        "expired (refreshable)".into()
                    }
                    Some(t) if t.is_expired(now(), 0) => "expired".into(),
                    Some(t) => match t.expires_at {
                        Some(e) => format!("valid for {} s", now().secs_until(e)),
                        None => "valid (no expiry given)".into(),
                    },
                };
                serde_json::json!({
                    "profile": name,
                    "grant": p.grant,
                    "client_id": p.client_id,
                    "server": p.issuer.clone().unwrap_or(p.token_endpoint.clone()),
                    "provider": p.provider,
                    "scope": p.scopes.join(" "),
                    "tokens": status,
                })
            }
            Err(e) => serde_json::json!({ "profile": name, "error": e.to_string() }),
        };
        rows.push(row);
    }
    if out.json {
        println!("{}", serde_json::Value::Array(rows));
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        eprintln!("No profiles yet: oauth login --help");
    }
    for r in rows {
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        if r.get("error").is_some() {
            println!("{}\terror: {}", s("profile"), s("error"));
        } else {
            println!(
                "{}\t{}\t{}\t{}",
                s("profile"),
                s("client_id"),
                s("server"),
                s("tokens")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn headless_browser(url: &str) -> Result<ExitCode, CliError> {
    let u = url::Url::parse(url).map_err(|e| CliError::usage(e.to_string()))?;
    if u.scheme() != "http" || !u.host_str().is_some_and(oauth_core::is_loopback_host) {
        return Err(CliError::usage(
            "the headless browser only follows http:// URLs on loopback",
        ));
    }
    let status = oauth_testkit::headless_browser(url)
        .map_err(|e| CliError::new(Kind::Network, e.to_string()))?;
    if (200..300).contains(&status) {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(CliError::new(
            Kind::ApiStatus,
            format!("the last page answered HTTP {status}"),
        ))
    }
}

/// The whole flow against the testkit's fake provider on loopback, in a throw-away
/// configuration directory.
pub(crate) fn demo(out: Output) -> Result<ExitCode, CliError> {
    use oauth_testkit::{AuthMethod, FakeAuthorizationServer, HttpServer, RegisteredClient};
    let dir = std::env::temp_dir().join(format!("oauth-demo-{}", std::process::id()));
    config::set_dir_override(dir.clone());
    let result = (|| {
        let mut fake = FakeAuthorizationServer::new(u64::from(std::process::id()));
        fake.set_access_token_ttl(2);
        let server = HttpServer::start(fake)
            .map_err(|e| CliError::local(format!("starting the demo provider: {e}")))?;
        let port = LoopbackListener::bind_default()
            .map(|l| l.local_addr().port())
            .map_err(|e| CliError::local(e.to_string()))?;
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let secret = "demo-secret: never printed".to_owned();
        server.with(|s| {
            s.register(RegisteredClient::confidential(
                "demo-app",
                &secret,
                AuthMethod::Basic,
                &redirect,
            ));
        });
        println!(
            "1. provider:   {} (fake authorization server on loopback)",
            server.issuer()
        );
        let args = ServerArgs {
            profile: "demo".into(),
            issuer: Some(server.issuer()),
            provider: None,
            tenant: None,
            gitlab_url: None,
            auth_url: None,
            token_url: None,
            device_url: None,
            revocation_url: None,
            introspection_url: None,
            client_id: "demo-app".into(),
            client_secret_env: None,
            client_secret_post: false,
            scopes: vec!["profile api:read".into()],
        };
        println!(
            "2. oauth login --issuer {} --client-id demo-app --scope 'profile api:read'",
            server.issuer()
        );
        let profile = build_profile(&args, GrantKind::AuthorizationCode, &[], Some(secret), out)?;
        let browser = Browser::Custom(Arc::new(|url: String| {
            let _ = oauth_testkit::headless_browser(&url);
        }));
        let tokens = login_with(&profile, Some(port), browser, out)?;
        save("demo", &profile, &tokens)?;
        println!("   logged in: {tokens:?}");
        println!(
            "3. oauth token → an access token ({} characters, not shown here)",
            tokens.access_token.secret().len()
        );
        let me = server.resource_url("/me");
        println!("4. oauth curl {me}");
        curl("demo", None, &[], None, &me, out)?;
        println!();
        std::thread::sleep(std::time::Duration::from_secs(3));
        println!("5. (the access token expired) oauth curl {me}");
        curl("demo", None, &[], None, &me, out)?;
        println!();
        let (_, _, _, now_tokens) = load("demo")?;
        let rotated = now_tokens.refresh_token != tokens.refresh_token;
        println!("   refreshed first, and the rotated refresh token was saved: {rotated}");
        println!("6. oauth introspect");
        introspect("demo", false, out)?;
        println!("7. oauth logout");
        logout("demo", out)?;
        let stats = server.with(|s| s.stats());
        println!(
            "provider saw {} token requests, {} API requests, {} revocations",
            stats.token_requests, stats.resource_requests, stats.revocations
        );
        if !rotated {
            return Err(CliError::local("the demo did not refresh"));
        }
        println!("demo complete");
        Ok(ExitCode::SUCCESS)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
