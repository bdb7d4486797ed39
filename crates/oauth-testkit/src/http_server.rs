//! The fake authorization server and protected resource over real HTTP on loopback,
//! and a headless "browser" that approves the login the way a user would.
//!
//! [`HttpServer`] binds `127.0.0.1` on an ephemeral port and serves
//! [`FakeAuthorizationServer`] there: `GET /authorize` is the consent page, answered
//! by the configured [`Decision`] with a `302` to the client's callback (a headless
//! approval); `POST /token` is the token endpoint; `/api/…` is the protected resource.
//! Requests are parsed with `httparse`, bounded in size and time. Faults of the fake
//! server apply, and [`HttpFault`]s add what only a real connection can do: stall, drop
//! mid-body, redirect.

use crate::server::{AuthorizeError, Decision, FakeAuthorizationServer};
use http::HeaderValue;
use oauth_core::{ClientRegistrationBuilder, HttpResponse, TransportErrorKind, UnixTime};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};
use url::Url;

/// Faults that only a real connection can show, applied to the next token-endpoint
/// request (in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpFault {
    /// Wait this long before answering (past the client's timeout, typically).
    Stall(Duration),
    /// Send the headers and half of the body, then close the connection.
    DropMidBody,
    /// Answer `307 Temporary Redirect` to this URL instead of processing the request.
    Redirect(String),
}

struct Shared {
    server: Mutex<FakeAuthorizationServer>,
    decision: Mutex<Decision>,
    faults: Mutex<VecDeque<HttpFault>>,
    stop: AtomicBool,
    requests: AtomicUsize,
    authority: String,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in a handler thread must not take the whole server down with it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running loopback HTTP server. Stops when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn wall_clock() -> UnixTime {
    UnixTime::from_system_time(SystemTime::now())
}

impl HttpServer {
    /// Serves `server` on `127.0.0.1` at an ephemeral port. Its issuer becomes
    /// `http://127.0.0.1:PORT`, its endpoints `…/authorize` and `…/token`, and the
    /// protected resource `…/api/`.
    pub fn start(mut server: FakeAuthorizationServer) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        server.set_issuer(&base);
        server.set_resource_base(&format!("{base}/api/"));
        let shared = Arc::new(Shared {
            server: Mutex::new(server),
            decision: Mutex::new(Decision::Approve),
            faults: Mutex::new(VecDeque::new()),
            stop: AtomicBool::new(false),
            requests: AtomicUsize::new(0),
            authority: addr.to_string(),
        });
        let s = Arc::clone(&shared);
        let thread = std::thread::spawn(move || accept_loop(&listener, &s));
        Ok(HttpServer {
            addr,
            shared,
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the issuer.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of `path` on the protected resource.
    pub fn resource_url(&self, path: &str) -> String {
        format!("http://{}/api/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Runs `f` on the fake server (to register clients, switch quirks, inject faults,
    /// read counters).
    pub fn with<R>(&self, f: impl FnOnce(&mut FakeAuthorizationServer) -> R) -> R {
        f(&mut lock(&self.shared.server))
    }

    /// A registration builder for `client_id` pointing at this server.
    pub fn registration(&self, client_id: &str) -> Option<ClientRegistrationBuilder> {
        self.with(|s| s.registration(client_id))
    }

    /// What the headless user answers at `/authorize` (default: approve).
    pub fn set_decision(&self, decision: Decision) {
        *lock(&self.shared.decision) = decision;
    }

    /// Queues a connection-level fault for the next token-endpoint request.
    pub fn inject_http_fault(&self, fault: HttpFault) {
        lock(&self.shared.faults).push_back(fault);
    }

    /// Requests served so far.
    pub fn requests_served(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // The accept loop blocks in `accept`: one connection wakes it up to see the
        // flag. Should that connection fail, the thread is left to end with the
        // process rather than joined forever.
        let woken = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(t) = self.thread.take()
            && woken
        {
            let _ = t.join();
        }
    }
}

/// Accepts connections as they come (a blocking `accept`, so that a request is served
/// at once rather than at the next poll), one thread each, until the server stops.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok(_) if shared.stop.load(Ordering::SeqCst) => break,
            Ok((stream, _)) => {
                let s = Arc::clone(shared);
                std::thread::spawn(move || {
                    let _ = serve(stream, &s);
                });
            }
            // Out of descriptors or the like: do not spin.
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 1 << 20;

/// Reads one HTTP/1.1 request with `httparse`: head, then `Content-Length` bytes.
fn read_request(mut stream: &TcpStream, authority: &str) -> io::Result<http::Request<Vec<u8>>> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let (head_len, mut request) = loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let mut b = http::Request::builder()
                    .method(req.method.unwrap_or("GET"))
                    .uri(format!("http://{authority}{}", req.path.unwrap_or("/")));
                for h in req.headers.iter() {
                    b = b.header(h.name, h.value);
                }
                let r = b
                    .body(Vec::new())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                break (len, r);
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            _ => return Err(io::ErrorKind::InvalidData.into()),
        }
    };
    let want = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if want > MAX_BODY {
        return Err(io::ErrorKind::InvalidData.into());
    }
    let mut body = buf.split_off(head_len);
    while body.len() < want {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(want);
    *request.body_mut() = body;
    Ok(request)
}

fn write_response(
    mut stream: &TcpStream,
    response: &HttpResponse,
    body_limit: Option<usize>,
) -> io::Result<()> {
    let status = response.status();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    for (name, value) in response.headers() {
        head.push_str(name.as_str());
        head.push_str(": ");
        head.push_str(&String::from_utf8_lossy(value.as_bytes()));
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        response.body().len()
    ));
    stream.write_all(head.as_bytes())?;
    let body = response.body();
    stream.write_all(&body[..body_limit.unwrap_or(body.len()).min(body.len())])?;
    stream.flush()
}

fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let request = read_request(&stream, &shared.authority)?;
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let now = wall_clock();
    let path = request.uri().path().to_owned();

    if path == "/authorize" {
        let url = Url::parse(&request.uri().to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let decision = *lock(&shared.decision);
        let outcome = lock(&shared.server).authorize(&url, decision, now);
        let response = match outcome {
            Ok(callback) => redirect(302, callback.as_str()),
            Err(e) => text(400, &authorize_error_text(&e)),
        };
        return write_response(&stream, &response, None);
    }

    let fault = if path == "/token" {
        lock(&shared.faults).pop_front()
    } else {
        None
    };
    let mut cut = None;
    match fault {
        Some(HttpFault::Stall(d)) => std::thread::sleep(d),
        Some(HttpFault::Redirect(to)) => return write_response(&stream, &redirect(307, &to), None),
        Some(HttpFault::DropMidBody) => cut = Some(()),
        None => {}
    }
    let result = lock(&shared.server).handle(&request, now);
    match result {
        Ok(response) => {
            let limit = cut.map(|()| response.body().len() / 2);
            write_response(&stream, &response, limit)
        }
        // Transport faults of the fake server: close without an answer.
        Err(f)
            if f.kind == TransportErrorKind::Connect
                || f.kind == TransportErrorKind::ConnectionClosed =>
        {
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

fn redirect(status: u16, location: &str) -> HttpResponse {
    let mut r = http::Response::new(Vec::new());
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::FOUND);
    if let Ok(v) = HeaderValue::try_from(location) {
        r.headers_mut().insert(http::header::LOCATION, v);
    }
    r
}

fn text(status: u16, body: &str) -> HttpResponse {
    let mut r = http::Response::new(body.as_bytes().to_vec());
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    r
}

fn authorize_error_text(e: &AuthorizeError) -> String {
    format!("the authorization request was refused: {e:?}")
}

/// A headless browser: `GET`s `url` and follows `Location` headers (at most 10) as a
/// browser would, ending at the client's loopback callback. Returns the final status.
/// Only plain `http` URLs are followed (everything here is on loopback).
pub fn headless_browser(url: &str) -> io::Result<u16> {
    let mut next = Url::parse(url).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    for _ in 0..10 {
        let (status, location) = get(&next)?;
        match location {
            Some(loc) if (300..400).contains(&status) => {
                next = next
                    .join(&loc)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            }
            _ => return Ok(status),
        }
    }
    Err(io::Error::other("too many redirects"))
}

fn get(url: &Url) -> io::Result<(u16, Option<String>)> {
    if url.scheme() != "http" {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "only http:// on loopback",
        ));
    }
    let host = url.host_str().ok_or(io::ErrorKind::InvalidInput)?;
    let port = url.port_or_known_default().unwrap_or(80);
    let host_for_connect = host.trim_start_matches('[').trim_end_matches(']');
    let mut stream = TcpStream::connect((host_for_connect, port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let authority = &url[url::Position::BeforeHost..url::Position::AfterPort];
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: oauth-testkit-headless-browser\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf)?;
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(&buf) {
        Ok(httparse::Status::Complete(_)) => {
            let location = resp
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("location"))
                .map(|h| String::from_utf8_lossy(h.value).into_owned());
            Ok((resp.code.unwrap_or(0), location))
        }
        _ => Err(io::ErrorKind::InvalidData.into()),
    }
}
