//! Memory: `size_of` of every flow and of the session values, and the allocations of
//! each measured operation. These are deterministic counts, not timings: the
//! `footprint` benchmark prints them and the `footprint` test in `tests/` holds them to
//! the goals.

use crate::alloc::{Counts, count};
use crate::ops::{self, FixedRng, NOW};
use crate::payloads;
use oauth_core::{
    ApiCall, AuthorizationCodeFlow, AuthorizationParams, ClientCredentialsFlow, ClientRegistration,
    DeviceFlow, DiscoveryFlow, Flow, Input, IntrospectionFlow, RefreshFlow,
    ResourceAuthorizationFlow, RevocationFlow, Scope, Session, TokenSet,
};
use std::mem::size_of;
use url::Url;

/// An idle flow must take less than this many bytes (`size_of`).
pub const MAX_FLOW_BYTES: usize = 1024;
/// A full code exchange in the core may allocate at most this many times.
pub const MAX_EXCHANGE_ALLOCATIONS: u64 = 30;

/// `size_of` of every flow, the session values and what they hold.
pub fn sizes() -> Vec<(&'static str, usize)> {
    vec![
        ("AuthorizationCodeFlow", size_of::<AuthorizationCodeFlow>()),
        ("RefreshFlow", size_of::<RefreshFlow>()),
        ("ClientCredentialsFlow", size_of::<ClientCredentialsFlow>()),
        ("DeviceFlow", size_of::<DeviceFlow>()),
        ("RevocationFlow", size_of::<RevocationFlow>()),
        ("IntrospectionFlow", size_of::<IntrospectionFlow>()),
        ("DiscoveryFlow", size_of::<DiscoveryFlow>()),
        (
            "ResourceAuthorizationFlow",
            size_of::<ResourceAuthorizationFlow>(),
        ),
        ("Session", size_of::<Session>()),
        ("ApiCall", size_of::<ApiCall>()),
        ("TokenSet", size_of::<TokenSet>()),
        ("ClientRegistration", size_of::<ClientRegistration>()),
    ]
}

/// The flows among [`sizes`] (the values held to [`MAX_FLOW_BYTES`]).
pub const FLOWS: &[&str] = &[
    "AuthorizationCodeFlow",
    "RefreshFlow",
    "ClientCredentialsFlow",
    "DeviceFlow",
    "RevocationFlow",
    "IntrospectionFlow",
    "DiscoveryFlow",
    "ResourceAuthorizationFlow",
    "Session",
    "ApiCall",
];

/// The name of the full exchange's line in [`allocations`].
pub const FULL_EXCHANGE: &str = "full code exchange, core only";

/// What each operation allocates (on this thread; needs [`crate::alloc::CountingAlloc`]
/// as the global allocator). Inputs are made before counting unless the line says so.
pub fn allocations() -> Vec<(&'static str, Counts)> {
    let p = payloads();
    let client = ops::client();
    let (state, _) = ops::fixed_secrets();
    let callback = || Url::parse(&ops::callback_text(&state)).expect("a valid callback");
    let typical = ops::json_response(200, &p.token_response_typical);
    let oidc = ops::json_response(200, &p.token_response_oidc);
    let error = ops::json_response(400, &p.error_response);
    let challenge = ops::challenge_response();

    let mut out = Vec::new();
    let mut line = |name, counts: Counts| out.push((name, counts));

    let (response, url) = (
        ops::json_response(200, &p.token_response_typical),
        callback(),
    );
    line(
        FULL_EXCHANGE,
        count(|| ops::full_exchange(&client, &mut FixedRng::new(), url, response)).1,
    );
    line(
        "authorization URL (start + Visit)",
        count(|| ops::authorization_url(&client, &mut FixedRng::new())).1,
    );
    line(
        "idle flow: start, URL shown, awaiting the callback (live = its heap)",
        count(|| ops::started_flow(&client, &mut FixedRng::new())).1,
    );
    let (mut flow, url) = (ops::started_flow(&client, &mut FixedRng::new()), callback());
    line(
        "callback → token request",
        count(|| ops::callback_to_token_request(&mut flow, url)).1,
    );
    line(
        "token response parse, 143 B",
        count(|| ops::parse_token_response(&typical)).1,
    );
    line(
        "token response parse, 828 B",
        count(|| ops::parse_token_response(&oidc)).1,
    );
    line(
        "error response parse",
        count(|| ops::parse_error_response(&error)).1,
    );
    line(
        "WWW-Authenticate parse",
        count(|| ops::parse_www_authenticate(&challenge)).1,
    );
    let mut poller = ops::DevicePoller::new(&client);
    let pending = ops::json_response(400, &p.device_pending);
    line("device poll step", count(|| poller.step(pending)).1);
    let mut session = ops::session();
    let (request, response) = (ops::api_request(), ops::json_response(200, "{}"));
    line(
        "API session call (valid token)",
        count(|| ops::api_call(&mut session, request, response)).1,
    );
    out
}

/// Where the allocations of the full exchange go, step by step (inputs made first).
pub fn exchange_steps() -> Vec<(&'static str, Counts)> {
    let p = payloads();
    let client = ops::client();
    let (state, _) = ops::fixed_secrets();
    let callback = Url::parse(&ops::callback_text(&state)).expect("a valid callback");
    let response = ops::json_response(200, &p.token_response_typical);
    let scope = Scope::parse(&p.scope).expect("a valid scope");
    let mut rng = FixedRng::new();
    let mut out = Vec::new();
    let (flow, c) = count(|| {
        AuthorizationCodeFlow::start(
            &client,
            AuthorizationParams::new().scope(scope),
            &mut rng,
            NOW,
        )
    });
    let mut flow = flow.expect("the flow starts");
    out.push(("start (state, verifier, challenge, URL)", c));
    out.push(("poll → Visit(url)", count(|| drop(flow.poll())).1));
    out.push(("poll → AwaitCallback", count(|| drop(flow.poll())).1));
    out.push((
        "handle(Callback): checks, token request",
        count(|| flow.handle(Input::Callback(callback), NOW)).1,
    ));
    let (request, c) = count(|| flow.poll());
    out.push(("poll → Send(token request)", c));
    out.push((
        "(the driver drops the sent request)",
        count(|| drop(request)).1,
    ));
    out.push((
        "handle(Response): parse, token set",
        count(|| flow.handle(Input::Response(response), NOW)).1,
    ));
    let (done, c) = count(|| flow.poll());
    out.push(("poll → Done(token set)", c));
    out.push(("(the caller drops the flow)", count(|| drop(flow)).1));
    drop(done);
    out
}

/// The size of `name` in [`sizes`].
pub fn size_of_named(name: &str) -> Option<usize> {
    sizes()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
}
