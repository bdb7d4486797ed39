//! A loopback redirect listener for native apps (RFC 8252 §7.3).
//!
//! It binds `127.0.0.1` (or `[::1]`) only — never a wildcard address — on an ephemeral
//! or given port, and produces the matching redirect URI with the IP literal. While a
//! login is pending it answers the browser:
//!
//! - `GET` on the exact callback path with a loopback `Host`: the URL is offered to the
//!   flow (through [`oauth_core::Flow::accepts`], which checks `state` in constant
//!   time); if taken, a static success or failure page is returned and the listener
//!   closes; if not (a forged or stale callback), a static refusal and it keeps waiting;
//! - anything else — `/favicon.ico`, other paths, `HEAD`, other methods, a foreign
//!   `Host` (DNS rebinding), oversized or malformed requests, clients that never
//!   finish — gets a short error status and changes nothing.
//!
//! Requests are parsed with `httparse`; each connection is bounded in size (16 KiB) and
//! time, and handled on its own thread so that a stalled connection cannot hold up a
//! real callback. Pages are constant: nothing from the request is reflected, the
//! request line is never logged, and responses carry `Cache-Control: no-store` and
//! `Referrer-Policy: no-referrer`.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use url::Url;

/// Which loopback address to bind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoopbackIp {
    /// `127.0.0.1`, falling back to `[::1]` when IPv4 cannot be bound.
    #[default]
    Auto,
    /// `127.0.0.1` only.
    V4,
    /// `[::1]` only.
    V6,
}

/// Settings for a [`LoopbackListener`].
#[derive(Clone, Debug)]
pub struct LoopbackConfig {
    /// The address family.
    pub ip: LoopbackIp,
    /// The port; 0 for an ephemeral one (recommended).
    pub port: u16,
    /// The callback path, starting with `/`.
    pub path: String,
    /// The largest request (request line and headers) read, in bytes.
    pub max_request_bytes: usize,
    /// How long one connection may take to send its request.
    pub connection_timeout: Duration,
    /// How many connections may be open at once; more are refused.
    pub max_connections: usize,
}

impl Default for LoopbackConfig {
    fn default() -> Self {
        LoopbackConfig {
            ip: LoopbackIp::Auto,
            port: 0,
            path: "/callback".to_owned(),
            max_request_bytes: 16 * 1024,
            connection_timeout: Duration::from_secs(5),
            max_connections: 16,
        }
    }
}

/// A bound loopback listener. Create it when the login starts; it closes when
/// [`wait`](Self::wait) returns (or when dropped).
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    addr: SocketAddr,
    config: LoopbackConfig,
}

impl LoopbackListener {
    /// Binds according to `config`.
    pub fn bind(config: LoopbackConfig) -> io::Result<Self> {
        if !config.path.starts_with('/') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the callback path must start with '/'",
            ));
        }
        let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, config.port));
        let listener = match config.ip {
            LoopbackIp::V4 => TcpListener::bind(v4)?,
            LoopbackIp::V6 => TcpListener::bind(v6)?,
            LoopbackIp::Auto => TcpListener::bind(v4).or_else(|_| TcpListener::bind(v6))?,
        };
        let addr = listener.local_addr()?;
        debug_assert!(addr.ip().is_loopback());
        listener.set_nonblocking(true)?;
        Ok(LoopbackListener {
            listener,
            addr,
            config,
        })
    }

    /// Binds `127.0.0.1` on an ephemeral port with the default settings.
    pub fn bind_default() -> io::Result<Self> {
        LoopbackListener::bind(LoopbackConfig::default())
    }

    /// The bound address (always a loopback address).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The redirect URI to register and send: `http://127.0.0.1:PORT/path` or
    /// `http://[::1]:PORT/path` (RFC 8252 §7.3; an IP literal, not `localhost`).
    pub fn redirect_uri(&self) -> String {
        format!("http://{}{}", authority(self.addr), self.config.path)
    }

    /// Serves the browser until a callback that `accepts` takes arrives, or until
    /// `deadline`. Returns the callback URL, or `None` on timeout. The port is closed
    /// when this returns.
    pub fn wait(
        self,
        deadline: Instant,
        mut accepts: impl FnMut(&Url) -> bool,
    ) -> io::Result<Option<Url>> {
        let (tx, rx) = mpsc::channel::<Candidate>();
        let active = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            authority: authority(self.addr),
            path: self.config.path.clone(),
            max_request_bytes: self.config.max_request_bytes,
            connection_timeout: self.config.connection_timeout,
        });
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if active.load(Ordering::SeqCst) >= self.config.max_connections {
                        let _ = respond(&stream, Reply::Busy);
                        continue;
                    }
                    active.fetch_add(1, Ordering::SeqCst);
                    let (tx, active, shared) =
                        (tx.clone(), Arc::clone(&active), Arc::clone(&shared));
                    std::thread::spawn(move || {
                        handle_connection(stream, &shared, &tx);
                        active.fetch_sub(1, Ordering::SeqCst);
                    });
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let wait = deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(20));
            match rx.recv_timeout(wait) {
                Ok(candidate) => {
                    if accepts(&candidate.url) {
                        // The page tells the user the browser's part is over; the
                        // application reports the final outcome of the login.
                        let has = |name: &str| candidate.url.query_pairs().any(|(k, _)| k == name);
                        let failed = has("error") || !has("code");
                        let reply = if failed {
                            Reply::Failure
                        } else {
                            Reply::Success
                        };
                        let _ = candidate.verdict.send(reply);
                        // Let the page reach the browser before the port closes.
                        let _ = candidate.written.recv_timeout(Duration::from_secs(2));
                        return Ok(Some(candidate.url));
                    }
                    let _ = candidate.verdict.send(Reply::NotPending);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {}
            }
        }
    }
}

fn authority(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

struct Shared {
    authority: String,
    path: String,
    max_request_bytes: usize,
    connection_timeout: Duration,
}

/// A request on the callback path, handed to the waiting thread for a verdict.
struct Candidate {
    url: Url,
    verdict: mpsc::Sender<Reply>,
    written: mpsc::Receiver<()>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    Success,
    Failure,
    NotPending,
    NotFound,
    MethodNotAllowed,
    NoContent,
    BadRequest,
    TooLarge,
    Busy,
}

const SUCCESS_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Signed in</title>\
<h1>Signed in</h1><p>You can close this window and return to the application.</p>";
const FAILURE_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Sign-in failed</title>\
<h1>Sign-in failed</h1><p>Return to the application for details.</p>";
const NOT_PENDING_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Not expected</title>\
<h1>This response does not belong to a pending sign-in</h1>";

fn respond(mut stream: &TcpStream, reply: Reply) -> io::Result<()> {
    let (status, body) = match reply {
        Reply::Success => ("200 OK", SUCCESS_PAGE),
        Reply::Failure => ("200 OK", FAILURE_PAGE),
        Reply::NotPending => ("400 Bad Request", NOT_PENDING_PAGE),
        Reply::NotFound => ("404 Not Found", ""),
        Reply::MethodNotAllowed => ("405 Method Not Allowed", ""),
        Reply::NoContent => ("204 No Content", ""),
        Reply::BadRequest => ("400 Bad Request", ""),
        Reply::TooLarge => ("431 Request Header Fields Too Large", ""),
        Reply::Busy => ("503 Service Unavailable", ""),
    };
    // RFC 9110 §8.6: no Content-Length on a 204.
    let length = if reply == Reply::NoContent {
        String::new()
    } else {
        format!("Content-Length: {}\r\n", body.len())
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n{length}\
Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n\
Content-Security-Policy: default-src 'none'\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

/// Reads one request (bounded in size and time) and answers it.
fn handle_connection(stream: TcpStream, shared: &Shared, tx: &mpsc::Sender<Candidate>) {
    let started = Instant::now();
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(shared.connection_timeout));
    let reply = match read_request(&stream, shared, started) {
        Ok(Parsed::Candidate(url)) => {
            let (verdict_tx, verdict_rx) = mpsc::channel();
            let (written_tx, written_rx) = mpsc::channel();
            let candidate = Candidate {
                url,
                verdict: verdict_tx,
                written: written_rx,
            };
            if tx.send(candidate).is_err() {
                // The login is over: nothing is pending any more.
                let _ = respond(&stream, Reply::NotPending);
                return;
            }
            let reply = verdict_rx
                .recv_timeout(shared.connection_timeout)
                .unwrap_or(Reply::NotPending);
            let _ = respond(&stream, reply);
            let _ = written_tx.send(());
            return;
        }
        Ok(Parsed::Reply(r)) => r,
        Err(_) => return,
    };
    let _ = respond(&stream, reply);
}

enum Parsed {
    Candidate(Url),
    Reply(Reply),
}

fn read_request(mut stream: &TcpStream, shared: &Shared, started: Instant) -> io::Result<Parsed> {
    let mut buf = vec![0u8; shared.max_request_bytes];
    let mut filled = 0;
    loop {
        let left = shared.connection_timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(left))?;
        let n = stream.read(&mut buf[filled..])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        filled += n;
        let mut headers = [httparse::EMPTY_HEADER; 48];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf[..filled]) {
            Ok(httparse::Status::Complete(_)) => return Ok(classify(&req, shared)),
            Ok(httparse::Status::Partial) if filled == buf.len() => {
                return Ok(Parsed::Reply(Reply::TooLarge));
            }
            Ok(httparse::Status::Partial) => continue,
            Err(httparse::Error::TooManyHeaders) => return Ok(Parsed::Reply(Reply::TooLarge)),
            Err(_) => return Ok(Parsed::Reply(Reply::BadRequest)),
        }
    }
}

/// Decides what a complete request is. Only a `GET` on the exact path, with a loopback
/// `Host` naming our port, becomes a candidate callback.
fn classify(req: &httparse::Request<'_, '_>, shared: &Shared) -> Parsed {
    let (Some(method), Some(target)) = (req.method, req.path) else {
        return Parsed::Reply(Reply::BadRequest);
    };
    // LOOP-06: a Host other than our loopback authority is a DNS-rebinding page.
    let hosts: Vec<&[u8]> = req
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("host"))
        .map(|h| h.value)
        .collect();
    let host_ok = match hosts.as_slice() {
        [h] => {
            let h = String::from_utf8_lossy(h);
            let h = h.trim();
            h == shared.authority
        }
        _ => false,
    };
    if !host_ok {
        return Parsed::Reply(Reply::BadRequest);
    }
    let path = target.split('?').next().unwrap_or("");
    if path != shared.path {
        return Parsed::Reply(Reply::NotFound);
    }
    match method {
        "GET" => {}
        "HEAD" => return Parsed::Reply(Reply::NoContent),
        _ => return Parsed::Reply(Reply::MethodNotAllowed),
    }
    if !target.starts_with('/') || target.contains('#') {
        return Parsed::Reply(Reply::BadRequest);
    }
    match Url::parse(&format!("http://{}{}", shared.authority, target)) {
        Ok(url) => Parsed::Candidate(url),
        Err(_) => Parsed::Reply(Reply::BadRequest),
    }
}
