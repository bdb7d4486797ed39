//! SEC-01 / SEC-03: secrets never show in `Debug`, `Display`, errors or transcripts.

use oauth_core::{
    AccessToken, AuthorizationCodeFlow, AuthorizationParams, ClientAuth, ClientRegistration,
    ClientSecret, Error, Flow, Input, Output, RefreshFlow, RefreshToken, TokenSet, TokenType,
    UnixTime,
};
use oauth_testkit::SeededRng;
use proptest::prelude::*;

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~+/-]{24,64}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn debug_and_errors_never_show_secrets(at in token(), rt in token(), secret in token(), seed in any::<u64>()) {
        let client = ClientRegistration::builder("app")
            .auth(ClientAuth::ClientSecretBasic(ClientSecret::new(secret.clone())))
            .authorization_endpoint("https://as.example/authorize")
            .token_endpoint("https://as.example/token")
            .redirect_uri("https://app.example/cb")
            .build()
            .unwrap();
        let shown = format!("{:?}", client);
        prop_assert!(!shown.contains(&secret));

        let set = TokenSet {
            access_token: AccessToken::new(at.clone()),
            token_type: TokenType::Bearer,
            expires_at: None,
            refresh_token: Some(RefreshToken::new(rt.clone())),
            scope: None,
            id_token: None,
            received_at: UnixTime::EPOCH,
            extra: Default::default(),
        };
        let shown = format!("{set:?}");
        prop_assert!(!shown.contains(&at) && !shown.contains(&rt));

        // The refresh request's Debug hides the refresh token and the Basic credentials.
        let mut flow = RefreshFlow::start(&client, &set, None).unwrap();
        let Output::Send(req) = flow.poll() else { panic!("a refresh starts by sending") };
        let dbg = format!("{req:?}");
        prop_assert!(!dbg.contains(&rt));
        prop_assert!(!dbg.contains(&secret));
        let basic = oauth_core::basic_authorization("app", &secret);
        prop_assert!(!dbg.contains(basic.trim_start_matches("Basic ")));

        // An error body that echoes the tokens does not carry them into the error.
        let body = format!(r#"{{"error":"invalid_grant","error_description":"bad token {rt}","access_token":"{at}"}}"#);
        flow.handle(Input::Response(http::Response::builder().status(400).body(body.into_bytes()).unwrap()), UnixTime::EPOCH);
        let Output::Done(Err(e)) = flow.poll() else { panic!("the refresh failed") };
        let text = format!("{e} {e:?}");
        prop_assert!(!text.contains(&rt), "{}", text);
        prop_assert!(!text.contains(&at));

        // A non-OAuth error page that echoes a token: the snippet masks it.
        let page = format!("<html>upstream said {at} and {rt}</html>");
        let e = oauth_core::parse::error_response(
            &http::Response::builder().status(502).header("content-type", "text/html").body(page.into_bytes()).unwrap(),
            UnixTime::EPOCH,
            &Default::default(),
        ).unwrap_err();
        prop_assert!(matches!(e, Error::Http(_)));
        let text = format!("{e} {e:?}");
        prop_assert!(!text.contains(&rt) && !text.contains(&at), "{}", text);

        // The authorization flow's Debug hides state.
        let flow = AuthorizationCodeFlow::start(&client, AuthorizationParams::new(), &mut SeededRng::new(seed), UnixTime::EPOCH).unwrap();
        let state = flow.authorization_url().unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
        let shown = format!("{:?}", flow);
        prop_assert!(!shown.contains(&state));
        let _ = flow.accepts(&Input::Tick);
    }
}
