//! Building token-endpoint requests, with client authentication (RFC 6749 §2.3, §3.2).

use crate::client::{ClientAuth, ClientRegistration, Endpoint};
use crate::io::HttpRequest;
use crate::parse::form::append_pair;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method};
use url::form_urlencoded::byte_serialize;

/// A `GET` of `url` asking for JSON (discovery documents).
pub(crate) fn get_json(uri: http::Uri) -> HttpRequest {
    let mut request = http::Request::new(Vec::new());
    *request.uri_mut() = uri;
    request
        .headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("application/json"));
    HttpRequest::from_http(request)
}

/// The `Authorization` value for `client_secret_basic`.
///
/// RFC 6749 §2.3.1: "The client identifier is encoded using the
/// application/x-www-form-urlencoded encoding algorithm per Appendix B, and the encoded
/// value is used as the username; the client password is encoded using the same
/// algorithm and used as the password."
pub fn basic_authorization(client_id: &str, secret: &str) -> String {
    let mut joined = String::with_capacity(client_id.len() + secret.len() + 8);
    joined.extend(byte_serialize(client_id.as_bytes()));
    joined.push(':');
    joined.extend(byte_serialize(secret.as_bytes()));
    let mut out = String::with_capacity(6 + joined.len().div_ceil(3) * 4);
    out.push_str("Basic ");
    STANDARD.encode_string(joined.as_bytes(), &mut out);
    crate::secret::wipe(&mut joined);
    out
}

/// The headers of a form `POST` by `client_id` authenticating with `auth`: form body,
/// JSON wanted (TOK-06), and the `Authorization` value of `client_secret_basic`,
/// marked sensitive so that no log shows it.
pub(crate) fn form_headers(client_id: &str, auth: &ClientAuth) -> http::HeaderMap {
    let mut headers = http::HeaderMap::with_capacity(3);
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    if let ClientAuth::ClientSecretBasic(secret) = auth {
        let mut value = HeaderValue::try_from(basic_authorization(client_id, secret.secret()))
            .expect("\"Basic \" followed by base64 is always a valid header value");
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    headers
}

/// A `POST` to the token endpoint with `params` form-encoded (TOK-09: through a
/// serializer, never by concatenation), `Accept: application/json` (TOK-06), and the
/// client's one authentication method (TOK-05).
pub(crate) fn token_request(client: &ClientRegistration, params: &[(&str, &str)]) -> HttpRequest {
    // RFC 8707 §2.2: the resource indicators go with every token request too.
    if client.resources().is_empty() {
        return form_request(client, client.token(), params, false);
    }
    let mut all: Vec<(&str, &str)> = params.to_vec();
    for r in client.resources() {
        if !params.iter().any(|(k, v)| *k == "resource" && *v == r) {
            all.push(("resource", r));
        }
    }
    form_request(client, client.token(), &all, false)
}

/// A `POST` of `params` to `endpoint` with the client's authentication, as at the
/// token endpoint (RFC 7009 §2.1, RFC 7662 §2.1, RFC 8628 §3.1 and RFC 9126 §2 all say
/// so). With `client_id_always`, `client_id` is in the body even with HTTP Basic
/// (RFC 9126 §2.1 servers such as oidc-provider need it).
pub(crate) fn form_request(
    client: &ClientRegistration,
    endpoint: &Endpoint,
    params: &[(&str, &str)],
    client_id_always: bool,
) -> HttpRequest {
    // Encoding at most triples a byte: one allocation, never a reallocation.
    let secret_len = match client.auth() {
        ClientAuth::ClientSecretPost(secret) => secret.secret().len(),
        _ => 0,
    };
    let raw_len: usize = params
        .iter()
        .map(|(k, v)| k.len() + v.len() + 2)
        .sum::<usize>()
        + client.client_id().len()
        + secret_len
        + 32;
    let mut form = Vec::with_capacity(3 * raw_len);
    for (k, v) in params {
        append_pair(&mut form, k, v);
    }
    let mut request = http::Request::new(Vec::new());
    *request.method_mut() = Method::POST;
    *request.uri_mut() = endpoint.uri.clone();
    *request.headers_mut() = client.form_headers().clone();
    match client.auth() {
        ClientAuth::None => {
            // RFC 6749 §3.2.1: a public client sends its client_id.
            append_pair(&mut form, "client_id", client.client_id());
        }
        ClientAuth::ClientSecretPost(secret) => {
            append_pair(&mut form, "client_id", client.client_id());
            append_pair(&mut form, "client_secret", secret.secret());
        }
        // The `Authorization` header is among the form headers.
        ClientAuth::ClientSecretBasic(_) => {
            if client_id_always {
                append_pair(&mut form, "client_id", client.client_id());
            }
        }
    }
    *request.body_mut() = form;
    HttpRequest::from_http(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ClientSecret;

    #[test]
    fn tok_05_rfc6749_basic_vector() {
        assert_eq!(
            basic_authorization("s6BhdRkqt3", "7Fjfp0ZBr1KtDRbnfVdmIw"),
            "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3"
        );
    }

    #[test]
    fn tok_05_appauth_vector_is_form_encoded_first() {
        assert_eq!(
            basic_authorization(
                "1PpG/Q 1",
                "z/tZ9VwFZqApmIQ+ZH1I5pLk/uB4ud:X2/8bL+wfFTt1rFw="
            ),
            "Basic MVBwRyUyRlErMTp6JTJGdFo5VndGWnFBcG1JUSUyQlpIMUk1cExrJTJGdUI0dWQlM0FYMiUyRjhiTCUyQndmRlR0MXJGdyUzRA=="
        );
    }

    fn client(auth: ClientAuth) -> ClientRegistration {
        ClientRegistration::builder("my client")
            .auth(auth)
            .token_endpoint("https://as.example/token?tenant=t1")
            .build()
            .unwrap()
    }

    #[test]
    fn tok_01_shape_and_query_kept() {
        let r = token_request(&client(ClientAuth::None), &[("grant_type", "x")]);
        assert_eq!(r.method(), Method::POST);
        assert_eq!(r.uri(), "https://as.example/token?tenant=t1");
        assert_eq!(
            r.headers()[CONTENT_TYPE],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(r.headers()[ACCEPT], "application/json");
        assert_eq!(r.body(), b"grant_type=x&client_id=my+client");
        assert!(r.headers().get(AUTHORIZATION).is_none());
    }

    #[test]
    fn tok_05_exactly_one_method() {
        let post = token_request(
            &client(ClientAuth::ClientSecretPost(ClientSecret::new("s&=x"))),
            &[("grant_type", "x")],
        );
        assert!(post.headers().get(AUTHORIZATION).is_none());
        assert_eq!(
            post.body(),
            b"grant_type=x&client_id=my+client&client_secret=s%26%3Dx"
        );

        let basic = token_request(
            &client(ClientAuth::ClientSecretBasic(ClientSecret::new("s"))),
            &[("grant_type", "x")],
        );
        assert!(basic.headers()[AUTHORIZATION].is_sensitive());
        assert_eq!(basic.body(), b"grant_type=x");
        assert!(!format!("{basic:?}").contains("bXk"));
    }
}
