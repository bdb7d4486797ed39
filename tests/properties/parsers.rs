//! Parsers and encoders over arbitrary input.

use oauth_core::parse::{
    self, CallbackExpectation, ParseOptions, Quirks, parse_challenges, parse_form,
};
use oauth_core::{
    AuthorizationCodeFlow, AuthorizationParams, ClientRegistration, Scope, UnixTime,
    basic_authorization,
};
use oauth_testkit::SeededRng;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every parser returns Ok or a typed error for any bytes (PARSE-10).
    #[test]
    fn parsers_never_panic(status in 100u16..600, ct in 0usize..5, body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let cts = ["application/json", "application/x-www-form-urlencoded", "text/plain", "text/html", ""];
        let mut b = http::Response::builder().status(status);
        if !cts[ct].is_empty() {
            b = b.header("content-type", cts[ct]);
        }
        let resp = b.body(body.clone()).unwrap();
        let opts = ParseOptions { quirks: Quirks::tolerant(), ..ParseOptions::default() };
        let _ = parse::token_response(&resp, UnixTime::from_secs(1), &opts);
        let _ = parse::error_response(&resp, UnixTime::from_secs(1), &opts);
        let _ = parse_challenges(&body);
        let _ = parse_form(&String::from_utf8_lossy(&body));
    }

    /// JSON-shaped bodies with arbitrary members: a 2xx with an `error` member never
    /// yields tokens (ERR-02), whatever the quirks.
    #[test]
    fn error_member_never_yields_tokens(
        error in "[a-z_]{1,20}",
        extra in proptest::collection::btree_map("[a-z_]{1,10}", "[ -~]{0,10}", 0..5),
        tolerant in any::<bool>(),
    ) {
        let mut m = serde_json::Map::new();
        for (k, v) in extra { m.insert(k, v.into()); }
        m.insert("access_token".into(), "abc".into());
        m.insert("token_type".into(), "Bearer".into());
        m.insert("error".into(), error.into());
        let resp = http::Response::builder().status(200).header("content-type", "application/json")
            .body(serde_json::Value::Object(m).to_string().into_bytes()).unwrap();
        let quirks = if tolerant { Quirks::tolerant() } else { Quirks::strict() };
        let opts = ParseOptions { quirks, ..ParseOptions::default() };
        prop_assert!(parse::token_response(&resp, UnixTime::from_secs(1), &opts).is_err());
    }

    /// TOK-09: arbitrary Unicode names and values survive form encoding and our strict
    /// decoder, with no `&`/`=` injection.
    #[test]
    fn form_round_trip(pairs in proptest::collection::vec(("\\PC{0,12}", "\\PC{0,24}"), 0..8)) {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .finish();
        let decoded = parse_form(&encoded).unwrap();
        prop_assert_eq!(decoded, pairs);
    }

    /// TOK-05: `client_secret_basic` decodes, as an RFC 6749 §2.3.1 server does, to
    /// the original id and secret, whatever characters they contain.
    #[test]
    fn basic_auth_round_trip(id in "\\PC{1,20}", secret in "\\PC{0,40}") {
        use base64::Engine as _;
        let header = basic_authorization(&id, &secret);
        let b64 = header.strip_prefix("Basic ").unwrap();
        let raw = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
        let (eid, esec) = raw.split_once(':').unwrap();
        prop_assert!(!eid.contains(':'));
        let dec = |s: &str| parse_form(&format!("x={s}")).unwrap().pop().map(|(_, v)| v).unwrap_or_default();
        prop_assert_eq!(dec(eid), id);
        prop_assert_eq!(dec(esec), secret);
    }

    /// The authorization URL round-trips: parsing it back yields exactly the
    /// parameters put in (the endpoint's own, ours, the caller's), each once.
    #[test]
    fn authorization_url_round_trip(
        seed in any::<u64>(),
        scope in proptest::collection::vec("[!#-\\[\\]-~]{1,8}", 0..4),
        extra in proptest::collection::btree_map("x_\\PC{0,10}", "\\PC{0,20}", 0..4),
        tenant in "\\PC{0,10}",
    ) {
        let endpoint = format!(
            "https://as.example/authorize?tenant={}",
            url::form_urlencoded::byte_serialize(tenant.as_bytes()).collect::<String>()
        );
        let client = ClientRegistration::builder("client id/ü")
            .authorization_endpoint(endpoint)
            .token_endpoint("https://as.example/token")
            .redirect_uri("http://127.0.0.1:4242/cb?x=1")
            .build()
            .unwrap();
        let scope = Scope::new(scope).unwrap();
        let mut params = AuthorizationParams::new().scope(scope.clone());
        for (k, v) in &extra {
            params = params.param(k.clone(), v.clone());
        }
        let mut rng = SeededRng::new(seed);
        let flow = AuthorizationCodeFlow::start(&client, params, &mut rng, UnixTime::from_secs(1)).unwrap();
        let text = flow.authorization_url().unwrap();
        // The text the flow builds without a URL parser is exactly what the `url`
        // crate makes of it, and what the `url` crate's own serializer would build.
        let url = text.to_url();
        prop_assert_eq!(url.as_str(), text.as_str());
        let mut reference = url::Url::parse(&format!(
            "https://as.example/authorize?tenant={}",
            url::form_urlencoded::byte_serialize(tenant.as_bytes()).collect::<String>()
        )).unwrap();
        {
            let state = text.query_param("state").unwrap();
            let challenge = text.query_param("code_challenge").unwrap();
            let mut q = reference.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", "client id/ü")
                .append_pair("redirect_uri", "http://127.0.0.1:4242/cb?x=1");
            if !scope.is_empty() {
                q.append_pair("scope", scope.as_str());
            }
            q.append_pair("state", &state)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            for (k, v) in &extra {
                q.append_pair(k, v);
            }
        }
        prop_assert_eq!(reference.as_str(), text.as_str());
        let pairs = parse_form(url.query().unwrap()).unwrap();
        let mut keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        let len = keys.len();
        keys.dedup();
        prop_assert_eq!(keys.len(), len, "AUTHZ-04: a parameter appears twice");
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        prop_assert_eq!(get("tenant"), Some(tenant));
        prop_assert_eq!(get("response_type"), Some("code".to_owned()));
        prop_assert_eq!(get("client_id"), Some("client id/ü".to_owned()));
        prop_assert_eq!(get("redirect_uri"), Some("http://127.0.0.1:4242/cb?x=1".to_owned()));
        prop_assert_eq!(get("scope"), (!scope.is_empty()).then(|| scope.to_string()));
        prop_assert_eq!(get("code_challenge_method"), Some("S256".to_owned()));
        prop_assert_eq!(get("code_challenge").map(|c| c.len()), Some(43));
        prop_assert_eq!(get("state").map(|c| c.len()), Some(43));
        for (k, v) in &extra {
            prop_assert_eq!(get(k), Some(v.clone()));
        }
        let ours = 6 + usize::from(!scope.is_empty());
        prop_assert_eq!(pairs.len(), 1 + ours + extra.len());
    }

    /// PKCE-01 / AUTHZ-05: verifiers match the RFC 7636 alphabet and length, state and
    /// verifier are 43 base64url characters, and different seeds give different values.
    #[test]
    fn random_values_are_well_formed_and_distinct(a in any::<u64>(), b in any::<u64>()) {
        prop_assume!(a != b);
        let client = ClientRegistration::builder("c")
            .authorization_endpoint("https://as.example/a")
            .token_endpoint("https://as.example/t")
            .redirect_uri("https://app.example/cb")
            .build().unwrap();
        let url_of = |seed| {
            let f = AuthorizationCodeFlow::start(&client, AuthorizationParams::new(), &mut SeededRng::new(seed), UnixTime::EPOCH).unwrap();
            f.authorization_url().unwrap().to_url()
        };
        let get = |u: &url::Url, k: &str| u.query_pairs().find(|(n, _)| n == k).unwrap().1.into_owned();
        let (ua, ub) = (url_of(a), url_of(b));
        for u in [&ua, &ub] {
            let s = get(u, "state");
            prop_assert_eq!(s.len(), 43);
            prop_assert!(oauth_core::is_valid_verifier(&s));
        }
        prop_assert_ne!(get(&ua, "state"), get(&ub, "state"));
        prop_assert_ne!(get(&ua, "code_challenge"), get(&ub, "code_challenge"));
        prop_assert_ne!(get(&ua, "state"), get(&ua, "code_challenge"));
    }

    /// Callback validation accepts a code only with the exact state.
    #[test]
    fn callback_needs_the_exact_state(state in "[A-Za-z0-9_-]{43}", other in "[A-Za-z0-9_-]{0,50}", code in "[ -~]{1,40}") {
        let redirect = url::Url::parse("http://127.0.0.1:1/cb").unwrap();
        let exp = CallbackExpectation { state: &state, redirect_uri: &redirect, issuer: None, require_issuer: false };
        let mut url = redirect.clone();
        url.query_pairs_mut().append_pair("code", &code).append_pair("state", &other);
        let result = parse::callback(&url, &exp);
        prop_assert_eq!(result.is_ok(), other == state);
        if let Ok(c) = result {
            prop_assert_eq!(c.secret(), code.as_str());
        }
    }

    /// Scope strings round-trip through parse and display.
    #[test]
    fn scope_round_trip(tokens in proptest::collection::vec("[!#-\\[\\]-~]{1,10}", 0..6)) {
        let s = Scope::new(tokens).unwrap();
        prop_assert_eq!(Scope::parse(&s.to_string()).unwrap(), s);
    }
}
