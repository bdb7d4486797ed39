//! The whole OAuth flow, offline: authorization code with PKCE against the built-in
//! fake authorization server, an API call, token expiry, refresh, and another call.
//! Prints each step and the redacted transcript of everything that crossed the
//! simulated network.
//!
//! Run it with `cargo run -p oauth-testkit --example simulation`.

#![allow(clippy::print_stdout)]

use http::Method;
use oauth_core::parse::bearer_challenge;
use oauth_core::{AuthorizationParams, Scope, redact};
use oauth_testkit::{AuthMethod, FakeAuthorizationServer, RegisteredClient, Simulation};
use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2026);

    // A confidential client registered at the fake server, with client_secret_basic.
    let mut server = FakeAuthorizationServer::new(seed);
    server.register(RegisteredClient::confidential(
        "demo-app",
        "demo secret: never printed",
        AuthMethod::Basic,
        "http://127.0.0.1:8080/callback",
    ));
    server.set_access_token_ttl(300);
    let client = server
        .registration("demo-app")
        .ok_or("demo-app is registered")?
        .build()?;
    let mut sim = Simulation::new(seed, server);
    println!("client: {client:?}\n");

    // 1. Start the flow and show the authorization URL (state redacted).
    let params = AuthorizationParams::new().scope(Scope::parse("profile api:read")?);
    let mut flow = sim.start_authorization(&client, params)?;
    let url = flow.authorization_url().ok_or("a new flow has its URL")?;
    println!("1. authorization URL: {}", redact::url(url));
    // 2–3. The simulated user approves; the callback is validated; the code is exchanged.
    let tokens = sim.run(&mut flow)?;
    println!("2. tokens: {tokens:?}");

    // 4. Call the protected API with the bearer token.
    let resp = sim.call_api(Method::GET, "/v1/me", &tokens)?;
    println!(
        "3. GET /v1/me → {} {}",
        resp.status(),
        String::from_utf8_lossy(resp.body())
    );

    // 5. Time passes; the access token expires and the API says so.
    sim.advance(301);
    let resp = sim.call_api(Method::GET, "/v1/me", &tokens)?;
    let error = bearer_challenge(resp.headers())?.and_then(|c| c.error);
    let error = error.map_or_else(|| "no error".to_owned(), |e| e.to_string());
    println!("4. after expiry → {} ({error})", resp.status());

    // 6. Refresh (the server rotates the refresh token) and call again.
    let refreshed = sim.refresh(&client, &tokens, None)?;
    let rotated = refreshed.refresh_token != tokens.refresh_token;
    println!("5. refreshed: {refreshed:?} (refresh token rotated: {rotated})");
    let resp = sim.call_api(Method::GET, "/v1/me", &refreshed)?;
    println!(
        "6. GET /v1/me → {} {}",
        resp.status(),
        String::from_utf8_lossy(resp.body())
    );

    println!("\nredacted transcript:\n{}", sim.transcript());
    let stats = sim.server.stats();
    println!(
        "server: {} token requests, {} API requests, {} refresh-token reuses detected",
        stats.token_requests, stats.resource_requests, stats.refresh_reuse_detected
    );
    if !(rotated && resp.status().is_success()) {
        return Err("the demo flow did not complete".into());
    }
    Ok(())
}
