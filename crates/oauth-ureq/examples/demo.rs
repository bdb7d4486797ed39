//! The README's main job: a complete OAuth flow over real HTTP on loopback, offline.
//!
//! The testkit's fake authorization server and protected resource run on
//! `127.0.0.1`; a headless "browser" approves the login; this program runs the
//! authorization-code flow with PKCE through the ureq driver and its loopback redirect
//! listener, calls the API, lets the token expire, refreshes it and calls again.
//! Every step is printed with secrets redacted.
//!
//! `cargo run -p oauth-ureq --example demo`

#![allow(clippy::print_stdout)]

use oauth_core::{AuthorizationCodeFlow, AuthorizationParams, RefreshFlow, Scope, redact};
use oauth_testkit::{
    AuthMethod, FakeAuthorizationServer, HttpServer, RegisteredClient, headless_browser,
};
use oauth_ureq::{
    ApiError, Browser, LoopbackCallback, LoopbackListener, Transport, call_api, now, run,
    system_rng,
};
use std::error::Error;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn Error>> {
    // The provider: a strict fake authorization server on loopback. Access tokens live
    // 2 s so that the demo sees one expire.
    let mut fake = FakeAuthorizationServer::new(std::process::id().into());
    fake.set_access_token_ttl(2);
    let server = HttpServer::start(fake)?;
    println!(
        "provider:  {} (fake authorization server on loopback)",
        server.issuer()
    );

    // The client: a loopback redirect listener on an ephemeral port, and a confidential
    // client registered for exactly that redirect URI.
    let listener = LoopbackListener::bind_default()?;
    let redirect_uri = listener.redirect_uri();
    server.with(|s| {
        s.register(RegisteredClient::confidential(
            "demo-app",
            "demo secret: never printed",
            AuthMethod::Basic,
            &redirect_uri,
        ));
    });
    let client = server
        .registration("demo-app")
        .ok_or("registered above")?
        .build()?;
    println!("client:    {client:?}");

    // 1. Start the flow: fresh state and PKCE verifier from the OS random source.
    let params = AuthorizationParams::new().scope(Scope::parse("profile api:read")?);
    let mut flow = AuthorizationCodeFlow::start(&client, params, &mut system_rng(), now())?;
    let url = flow
        .authorization_url()
        .ok_or("a new flow has its URL")?
        .clone();
    println!("1. authorization URL: {}", redact::url(&url));

    // 2–4. The headless browser follows the URL; the server approves and redirects to the
    // loopback listener; the driver validates the callback and exchanges the code.
    let browser = Browser::Custom(Arc::new(|url: String| {
        if let Err(e) = headless_browser(&url) {
            println!("   (headless browser failed: {e})");
        }
    }));
    let mut callbacks = LoopbackCallback::new(listener, browser);
    let transport = Transport::default();
    let tokens = run(&mut flow, &transport, Some(&mut callbacks))?;
    println!("2. callback validated (state, iss), code exchanged");
    println!("3. tokens: {tokens:?}");

    // 5. Call the protected API.
    let me = server.resource_url("/me");
    let response = call_api(
        &transport,
        http::Request::get(me.as_str()).body(Vec::new())?,
        &tokens,
    )?;
    println!(
        "4. GET {me} → {} {}",
        response.status(),
        String::from_utf8_lossy(response.body())
    );

    // 6. The access token expires; the API says so with RFC 6750's invalid_token.
    std::thread::sleep(std::time::Duration::from_secs(3));
    match call_api(
        &transport,
        http::Request::get(me.as_str()).body(Vec::new())?,
        &tokens,
    ) {
        Err(ApiError::InvalidToken { challenge, .. }) => println!(
            "5. after expiry → 401 invalid_token ({})",
            challenge
                .error_description
                .as_deref()
                .unwrap_or("no description")
        ),
        other => return Err(format!("expected invalid_token, got {other:?}").into()),
    }

    // 7. Refresh (the server rotates the refresh token) and call again.
    let mut refresh = RefreshFlow::start(&client, &tokens, None)?;
    let refreshed = run(&mut refresh, &transport, None)?;
    let rotated = refreshed.refresh_token != tokens.refresh_token;
    println!("6. refreshed: {refreshed:?} (refresh token rotated: {rotated})");
    let response = call_api(
        &transport,
        http::Request::get(me.as_str()).body(Vec::new())?,
        &refreshed,
    )?;
    println!(
        "7. GET {me} → {} {}",
        response.status(),
        String::from_utf8_lossy(response.body())
    );

    let stats = server.with(|s| s.stats());
    println!(
        "provider saw {} token requests and {} API requests over HTTP",
        stats.token_requests, stats.resource_requests
    );
    if !(rotated && response.status().is_success()) {
        return Err("the demo flow did not complete".into());
    }
    println!("demo complete");
    Ok(())
}
