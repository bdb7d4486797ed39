//! [`LoopbackListener`] under hostile input, poked with raw TCP.
//!
//! Each test binds its own listener, runs `wait` on a thread with an `accepts` that
//! takes only a callback whose single `state` is `"good"` (as the core's `accepts` does:
//! exactly one `state`, compared with the pending one), sends raw bytes, and asserts
//! the status, the headers, and that the wait went on. Most tests end with a good
//! callback and check that *it* is what `wait` returned: proof that nothing earlier
//! ended the wait. Test names carry the security-checklist items
//! (`/work/shared/design/security-checklist.md` §4, LOOP-*).

#![allow(clippy::print_stderr)]

use oauth_ureq::{LoopbackConfig, LoopbackIp, LoopbackListener};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use url::Url;

/// Generous: no test should come near it, but a broken listener must not hang CI.
const WAIT_DEADLINE: Duration = Duration::from_secs(10);

/// The core's rule, mimicked: exactly one `state`, equal to the pending one.
fn only_good_state(url: &Url) -> bool {
    let states: Vec<_> = url
        .query_pairs()
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .collect();
    states.len() == 1 && states[0] == "good"
}

/// A listener waiting on its own thread.
struct Waiting {
    addr: SocketAddr,
    handle: JoinHandle<io::Result<Option<Url>>>,
}

impl Waiting {
    fn start() -> Waiting {
        Waiting::start_with(
            LoopbackListener::bind_default().expect("bind"),
            only_good_state,
        )
    }

    fn start_with(
        listener: LoopbackListener,
        accepts: impl FnMut(&Url) -> bool + Send + 'static,
    ) -> Waiting {
        let addr = listener.local_addr();
        let handle =
            std::thread::spawn(move || listener.wait(Instant::now() + WAIT_DEADLINE, accepts));
        Waiting { addr, handle }
    }

    /// `Host` as a browser sends it for the redirect URI.
    fn host(&self) -> String {
        match self.addr {
            SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
            SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        }
    }

    /// A well-formed `GET` with our `Host`.
    fn get(&self, target: &str) -> Reply {
        self.send(
            format!(
                "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.host()
            )
            .as_bytes(),
        )
    }

    fn send(&self, request: &[u8]) -> Reply {
        raw(self.addr, request)
    }

    fn assert_still_waiting(&self) {
        // Replies are written only after the verdict, so a wait that ended on the last
        // request would already be finished (or within a few ms of it).
        std::thread::sleep(Duration::from_millis(30));
        assert!(!self.handle.is_finished(), "the wait ended early");
    }

    /// Ends the wait with a good callback and returns what it returned.
    fn finish(self) -> Option<Url> {
        let reply = self.get("/callback?code=final&state=good");
        assert_eq!(reply.status, 200, "{reply:?}");
        self.join()
    }

    fn join(self) -> Option<Url> {
        self.handle
            .join()
            .expect("the wait thread")
            .expect("wait returns Ok")
    }
}

/// What came back on a raw connection.
#[derive(Debug)]
struct Reply {
    status: u16,
    /// The header section, as sent.
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn assert_safe_headers(&self) {
        assert_eq!(self.header("Cache-Control"), Some("no-store"), "{self:?}");
        assert_eq!(
            self.header("Referrer-Policy"),
            Some("no-referrer"),
            "{self:?}"
        );
        assert_eq!(self.header("Location"), None, "{self:?}");
        assert_eq!(self.header("Set-Cookie"), None, "{self:?}");
    }
}

/// A tiny HTTP/1.1 client: writes `request`, reads until the server closes, and splits
/// the response. A server that closes with unread request bytes may reset the
/// connection; what was received before the reset still counts.
fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    match stream.write_all(request) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
            ) => {}
        Err(e) => panic!("write failed: {e}"),
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && !buf.is_empty() => break,
            Err(e) => panic!("read failed after {} bytes: {e}", buf.len()),
        }
    }
    let text = String::from_utf8(buf).expect("a UTF-8 response");
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header section end in {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    assert!(head.starts_with("HTTP/1.1 "), "{head:?}");
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn port_is_closed(addr: SocketAddr) -> bool {
    match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
        Ok(_) => false,
        Err(e) => {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
            true
        }
    }
}

// ── LOOP-01 / LOOP-02: where it binds, what URI it gives ───────────────────────────

#[test]
fn loop01_loop02_binds_loopback_and_uri_has_ip_literal_and_real_port() {
    let listener = LoopbackListener::bind_default().unwrap();
    let addr = listener.local_addr();
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_eq!(addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_ne!(addr.port(), 0);
    assert_eq!(
        listener.redirect_uri(),
        format!("http://127.0.0.1:{}/callback", addr.port())
    );

    // A connection to the port on a non-loopback address of this host fails. (Finding
    // the address sends nothing: a UDP `connect` only picks a route.)
    let outward = UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr());
    match outward {
        Ok(a) if !a.ip().is_loopback() && !a.ip().is_unspecified() => {
            let there = SocketAddr::new(a.ip(), addr.port());
            assert!(
                TcpStream::connect_timeout(&there, Duration::from_secs(1)).is_err(),
                "the listener answered on {there}"
            );
        }
        other => eprintln!("skipped the non-loopback check: no outward address ({other:?})"),
    }
}

#[test]
fn loop02_ipv6_uri_is_bracketed() {
    let config = LoopbackConfig {
        ip: LoopbackIp::V6,
        ..Default::default()
    };
    let listener = match LoopbackListener::bind(config) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("skipped: IPv6 loopback [::1] cannot be bound here: {e}");
            return;
        }
    };
    let addr = listener.local_addr();
    assert!(addr.is_ipv6() && addr.ip().is_loopback(), "{addr}");
    assert_eq!(
        listener.redirect_uri(),
        format!("http://[::1]:{}/callback", addr.port())
    );
    // And it serves a callback with the bracketed Host.
    let waiting = Waiting::start_with(listener, only_good_state);
    assert_eq!(waiting.host(), format!("[::1]:{}", addr.port()));
    let url = waiting.finish().expect("the callback");
    assert_eq!(url.host_str(), Some("[::1]"));
}

// ── LOOP-05: only GET on the exact path ────────────────────────────────────────────

#[test]
fn loop05_favicon_and_other_paths_are_404_and_the_wait_goes_on() {
    let w = Waiting::start();
    for target in [
        "/favicon.ico",
        "/",
        "/callbackx?state=good",
        "/callback/?state=good",
        "/Callback?state=good",
        "/other/callback?state=good",
    ] {
        let reply = w.get(target);
        assert_eq!(reply.status, 404, "{target}: {reply:?}");
        reply.assert_safe_headers();
        w.assert_still_waiting();
    }
    assert!(w.finish().is_some());
}

#[test]
fn loop05_head_on_the_callback_is_204_and_does_not_end_the_wait() {
    let w = Waiting::start();
    let reply = w.send(
        format!(
            "HEAD /callback?code=c&state=good HTTP/1.1\r\nHost: {}\r\n\r\n",
            w.host()
        )
        .as_bytes(),
    );
    assert_eq!(reply.status, 204, "{reply:?}");
    w.assert_still_waiting();
    let url = w.finish().expect("the callback");
    assert_eq!(url.query(), Some("code=final&state=good"));
}

#[test]
fn loop05_post_with_a_password_is_405_and_nothing_is_reflected() {
    let w = Waiting::start();
    let body = "username=alice&password=hunter2&state=good";
    let reply = w.send(
        format!(
            "POST /callback?state=good HTTP/1.1\r\nHost: {}\r\n\
Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            w.host(),
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(reply.status, 405, "{reply:?}");
    assert!(!reply.head.contains("hunter2") && !reply.body.contains("hunter2"));
    reply.assert_safe_headers();
    w.assert_still_waiting();
    assert!(w.finish().is_some());
}

// ── LOOP-06: Host ──────────────────────────────────────────────────────────────────

#[test]
fn loop06_foreign_or_missing_host_is_400_and_the_wait_goes_on() {
    let w = Waiting::start();
    let port = w.addr.port();
    let requests = [
        format!("GET /callback?code=c&state=good HTTP/1.1\r\nHost: evil.example:{port}\r\n\r\n"),
        "GET /callback?code=c&state=good HTTP/1.1\r\n\r\n".to_owned(),
        // The right host on another port, and a second Host header.
        format!(
            "GET /callback?code=c&state=good HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
            port ^ 1
        ),
        format!(
            "GET /callback?code=c&state=good HTTP/1.1\r\nHost: {0}\r\nHost: {0}\r\n\r\n",
            w.host()
        ),
    ];
    for request in &requests {
        let reply = w.send(request.as_bytes());
        assert_eq!(reply.status, 400, "{request:?}: {reply:?}");
        reply.assert_safe_headers();
        w.assert_still_waiting();
    }
    assert!(w.finish().is_some());
}

// ── state routing ──────────────────────────────────────────────────────────────────

#[test]
fn wrong_state_is_400_and_the_wait_goes_on() {
    let w = Waiting::start();
    for target in [
        "/callback?code=c&state=bad",
        "/callback?code=c",
        "/callback?code=c&state=",
        "/callback?code=c&state=goodx",
        "/callback",
    ] {
        let reply = w.get(target);
        assert_eq!(reply.status, 400, "{target}: {reply:?}");
        assert!(!reply.body.is_empty(), "a refusal page is shown");
        reply.assert_safe_headers();
        w.assert_still_waiting();
    }
    let url = w.finish().expect("the good callback");
    assert_eq!(url.query(), Some("code=final&state=good"));
}

#[test]
fn duplicate_state_is_not_accepted() {
    let w = Waiting::start();
    let reply = w.get("/callback?code=c&state=good&state=good");
    assert_eq!(reply.status, 400, "{reply:?}");
    w.assert_still_waiting();
    let reply = w.get("/callback?code=c&state=good&state=evil");
    assert_eq!(reply.status, 400, "{reply:?}");
    w.assert_still_waiting();
    assert_eq!(
        w.finish().expect("the good callback").query(),
        Some("code=final&state=good")
    );
}

#[test]
fn missing_code_with_good_state_is_taken_the_listener_routes_by_state_only() {
    // By design the listener offers any GET on the callback path to `accepts`, which
    // routes by `state`; a missing `code` is the core's to report (Violation::MissingCode),
    // so that the flow ends with a typed error instead of waiting out its deadline.
    let w = Waiting::start();
    let reply = w.get("/callback?state=good");
    assert_eq!(reply.status, 200, "{reply:?}");
    // Without a code the login cannot succeed: the page says so rather than "Signed in".
    assert!(reply.body.contains("Sign-in failed"), "{reply:?}");
    reply.assert_safe_headers();
    let url = w.join().expect("taken");
    assert_eq!(url.query(), Some("state=good"));
    assert_eq!(url.path(), "/callback");
}

// ── LOOP-07: resource limits ───────────────────────────────────────────────────────

#[test]
fn loop07_huge_request_line_is_431_and_the_wait_goes_on() {
    let w = Waiting::start();
    let target = format!("/callback?state=good&pad={}", "a".repeat(64 * 1024));
    let reply = w.get(&target);
    assert_eq!(reply.status, 431, "status {}", reply.status);
    reply.assert_safe_headers();
    w.assert_still_waiting();
    // Huge headers too.
    let reply = w.send(
        format!(
            "GET /callback?state=good HTTP/1.1\r\nHost: {}\r\nX-Pad: {}\r\n\r\n",
            w.host(),
            "b".repeat(64 * 1024)
        )
        .as_bytes(),
    );
    assert_eq!(reply.status, 431, "status {}", reply.status);
    w.assert_still_waiting();
    assert!(w.finish().is_some());
}

#[test]
fn loop07_slowloris_does_not_delay_a_concurrent_valid_callback() {
    let w = Waiting::start();
    // One connection that never sends, one that stops mid-request.
    let idle = TcpStream::connect(w.addr).unwrap();
    let mut partial = TcpStream::connect(w.addr).unwrap();
    partial
        .write_all(b"GET /callback?code=c&state=good HTTP/1.1\r\nHo")
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    let url = w.finish().expect("the good callback");
    let took = started.elapsed();
    assert_eq!(url.query(), Some("code=final&state=good"));
    // The connection timeout is 5 s; the callback must not wait behind the stalled ones.
    assert!(took < Duration::from_secs(1), "took {took:?}");
    drop((idle, partial));
}

// ── LOOP-08: constant pages, safe headers ──────────────────────────────────────────

#[test]
fn loop08_header_injection_in_the_target_is_not_reflected() {
    let injected = "/callback?code=c&state=good%0d%0aSet-Cookie:x%3dy";

    // With the pending state "good", this is a stale/forged callback: constant refusal.
    let w = Waiting::start();
    let reply = w.get(injected);
    assert_eq!(reply.status, 400, "{reply:?}");
    reply.assert_safe_headers();
    assert!(!reply.body.contains("Set-Cookie") && !reply.body.contains("good"));
    w.assert_still_waiting();
    assert!(w.finish().is_some());

    // A flow that takes it (any single state starting with "good") gets it as a URL,
    // still percent-encoded, and the browser gets the constant success page.
    let listener = LoopbackListener::bind_default().unwrap();
    let w = Waiting::start_with(listener, |url: &Url| {
        url.query_pairs()
            .filter(|(k, v)| k == "state" && v.starts_with("good"))
            .count()
            == 1
    });
    let reply = w.get(injected);
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.assert_safe_headers();
    assert!(!reply.head.contains("x=y") && !reply.head.to_lowercase().contains("set-cookie"));
    assert!(!reply.body.contains("Set-Cookie") && !reply.body.contains("good"));
    assert!(reply.body.contains("Signed in"), "{reply:?}");
    let url = w.join().expect("taken");
    assert!(!url.as_str().contains(['\r', '\n']), "{url}");
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned());
    assert_eq!(state.as_deref(), Some("good\r\nSet-Cookie:x=y"));
}

#[test]
fn loop08_success_and_failure_pages_are_constant_and_reflect_nothing() {
    let pages: Vec<(String, Reply)> = [
        "/callback?code=MARKER_CODE_1&state=good",
        "/callback?code=%3Cscript%3EMARKER_CODE_2&state=good&extra=MARKER_X",
        "/callback?error=access_denied&error_description=%3Cscript%3EMARKER_DESC&state=good",
        "/callback?error=server_error&error_uri=https%3A%2F%2Fevil.example%2FMARKER_URI&state=good",
    ]
    .into_iter()
    .map(|target| {
        let w = Waiting::start();
        let reply = w.get(target);
        assert!(w.join().is_some(), "{target} was taken");
        (target.to_owned(), reply)
    })
    .collect();

    for (target, reply) in &pages {
        assert_eq!(reply.status, 200, "{target}: {reply:?}");
        reply.assert_safe_headers();
        assert_eq!(
            reply.header("Content-Security-Policy"),
            Some("default-src 'none'")
        );
        for needle in [
            "MARKER",
            "<script",
            "access_denied",
            "server_error",
            "evil.example",
            "good",
        ] {
            assert!(
                !reply.head.contains(needle) && !reply.body.contains(needle),
                "{target} reflected {needle:?}: {reply:?}"
            );
        }
    }
    // Two templates only: success for both successes, failure for both errors.
    assert_eq!(pages[0].1.body, pages[1].1.body);
    assert_eq!(pages[2].1.body, pages[3].1.body);
    assert_ne!(pages[0].1.body, pages[2].1.body);
    assert!(pages[0].1.body.contains("Signed in"));
    assert!(pages[2].1.body.contains("Sign-in failed"));
}

// ── LOOP-04: the port closes ───────────────────────────────────────────────────────

#[test]
fn loop04_port_is_closed_after_the_first_valid_callback() {
    let w = Waiting::start();
    let addr = w.addr;
    assert!(w.finish().is_some());
    assert!(
        port_is_closed(addr),
        "a second callback could still connect"
    );
}

#[test]
fn loop04_timeout_returns_none_and_closes_the_port() {
    let listener = LoopbackListener::bind_default().unwrap();
    let addr = listener.local_addr();
    let started = Instant::now();
    let result = listener
        .wait(Instant::now() + Duration::from_millis(300), only_good_state)
        .expect("wait");
    let took = started.elapsed();
    assert_eq!(result, None);
    assert!(took >= Duration::from_millis(300), "took {took:?}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(port_is_closed(addr));
}
