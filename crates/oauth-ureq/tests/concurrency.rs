//! [`AuthorizedClient`] shared by many threads, over real sockets, against the
//! testkit's fake authorization server and protected resource on loopback, with
//! one-second access tokens and refresh-token rotation with reuse detection.
//!
//! Security checklist (`/work/shared/design/security-checklist.md`): RT-01 (the rotated
//! refresh token replaces the old one: a reuse would revoke the grant and show in the
//! server's `refresh_reuse_detected`), RT-02 (persist before use), RT-03 (single
//! flight: one refresh per expiry, never one per thread).

#![allow(clippy::print_stderr)]

use oauth_core::{
    AuthorizationCodeFlow, AuthorizationParams, ClientRegistration, HttpResponse, Scope, Session,
    TokenSet, TransportFailure,
};
use oauth_testkit::{FakeAuthorizationServer, HttpServer, RegisteredClient, headless_browser};
use oauth_ureq::{
    ApiError, AuthorizedClient, Browser, FileStore, LoopbackCallback, LoopbackListener,
    MemoryStore, StoreError, TokenStore, Transport, TransportConfig, now, run, system_rng,
};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "concurrency-test-app";

/// A fake server on loopback: 1-second access tokens, rotating refresh tokens.
fn server(seed: u64) -> HttpServer {
    let mut fake = FakeAuthorizationServer::new(seed);
    fake.set_access_token_ttl(1).set_rotate_refresh_tokens(true);
    HttpServer::start(fake).expect("start the fake server")
}

/// A logged-in public client, as in the demo: loopback listener, headless user.
struct Login {
    client: ClientRegistration,
    tokens: TokenSet,
    /// When the tokens arrived.
    received: Instant,
}

fn login(server: &HttpServer) -> Login {
    let listener = LoopbackListener::bind_default().expect("bind the loopback listener");
    let redirect_uri = listener.redirect_uri();
    server.with(|s| {
        s.register(RegisteredClient::public(CLIENT_ID, &redirect_uri));
    });
    let client = server
        .registration(CLIENT_ID)
        .expect("registered above")
        .build()
        .expect("a valid registration");
    let params = AuthorizationParams::new().scope(Scope::parse("profile api:read").unwrap());
    let mut flow =
        AuthorizationCodeFlow::start(&client, params, &mut system_rng(), now()).expect("start");
    let browser = Browser::Custom(Arc::new(|url: String| {
        let _ = headless_browser(&url);
    }));
    let mut callbacks = LoopbackCallback::new(listener, browser);
    let tokens = run(&mut flow, &Transport::default(), Some(&mut callbacks)).expect("login");
    let received = Instant::now();
    assert!(
        tokens.refresh_token.is_some(),
        "the server issues refresh tokens"
    );
    assert!(
        tokens.expires_at.is_some(),
        "the server says when tokens expire"
    );
    Login {
        client,
        tokens,
        received,
    }
}

fn get(url: &str) -> http::Request<Vec<u8>> {
    http::Request::get(url).body(Vec::new()).unwrap()
}

/// Sleeps until the access token is expired for both the client and the server.
fn wait_until_expired(tokens: &TokenSet) {
    let expires_at = tokens.expires_at.expect("an expiry");
    while now() < expires_at {
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn describe(result: &Result<HttpResponse, ApiError>) -> String {
    match result {
        Ok(r) => format!("status {}", r.status()),
        Err(e) => format!("error: {e}"),
    }
}

/// The two load tests run one at a time: on a small machine, two of them at once
/// would saturate the CPUs, and seconds of queueing make tokens expire in flight.
static LOAD: Mutex<()> = Mutex::new(());

/// Calls `call` on `threads` threads, each once per `interval` (the threads staggered
/// evenly over it, so that the load is steady and the server never saturates: with
/// one-second tokens and no skew, a request queued for a second would find even a
/// brand-new token expired), until `stop` says so. Returns the calls made and the
/// calls that did not end in 200.
fn paced_calls(
    threads: usize,
    interval: Duration,
    client: &AuthorizedClient,
    url: &str,
    stop: impl Fn(u64) -> bool + Sync,
) -> (u64, Vec<String>) {
    let calls = AtomicU64::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let client = client.clone();
            let (calls, failures, stop) = (&calls, &failures, &stop);
            let mut next = start + interval.mul_f64(t as f64 / threads as f64);
            scope.spawn(move || {
                loop {
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                    if stop(calls.load(Ordering::SeqCst)) {
                        break;
                    }
                    next = (next + interval).max(Instant::now());
                    let result = client.call(get(url));
                    if !matches!(&result, Ok(r) if r.status() == 200) {
                        failures.lock().unwrap().push(describe(&result));
                    }
                    calls.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    (calls.into_inner(), failures.into_inner().unwrap())
}

#[test]
fn rt_03_64_threads_refresh_once_per_expiry() {
    const THREADS: usize = 64;
    const MIN_CALLS: u64 = 3000;
    const MIN_DURATION: Duration = Duration::from_secs(3);
    const GIVE_UP: Duration = Duration::from_secs(60);
    // 64 threads each calling every 100 ms: 640 calls a second.
    const INTERVAL: Duration = Duration::from_millis(100);

    let _load = LOAD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let server = server(64);
    let Login {
        client,
        tokens,
        received,
    } = login(&server);
    let session = Session::new(&client, tokens).with_skew(0);
    let client =
        AuthorizedClient::with_session(session, Transport::default(), Arc::new(MemoryStore::new()));
    let me = server.resource_url("/me");
    let (calls, failures) = paced_calls(THREADS, INTERVAL, &client, &me, |done| {
        let elapsed = received.elapsed();
        (done >= MIN_CALLS && elapsed >= MIN_DURATION) || elapsed >= GIVE_UP
    });
    let duration = received.elapsed().as_secs_f64();
    let refreshes = client.refresh_count();
    let stats = server.with(|s| s.stats());
    eprintln!(
        "64 threads: {calls} calls in {duration:.2} s, {refreshes} refreshes \
         (server: {} token requests, {} resource requests)",
        stats.token_requests, stats.resource_requests
    );

    assert!(
        failures.is_empty(),
        "{} of {calls} calls failed, first: {:?}",
        failures.len(),
        failures.first()
    );
    assert!(calls >= MIN_CALLS, "only {calls} calls in {duration:.2} s");
    assert_eq!(
        stats.refresh_reuse_detected, 0,
        "a refresh token was reused"
    );
    assert_eq!(
        (stats.token_requests - 1) as u64,
        refreshes,
        "every refresh request reaching the server succeeded and was counted"
    );
    let (low, high) = (duration.floor() - 1.0, duration.ceil() + 1.0);
    assert!(
        (low..=high).contains(&(refreshes as f64)),
        "one refresh per expiry: {refreshes} refreshes in {duration:.2} s (expected {low}..={high})"
    );
    assert!(
        stats.resource_requests as u64 >= calls,
        "every call reached the resource"
    );
}

#[test]
fn rt_03_32_callers_on_an_expired_token_make_one_refresh() {
    const THREADS: usize = 32;
    let server = server(32);
    let login = login(&server);
    // Later tokens live long, so that the one refresh serves every caller.
    server.with(|s| {
        s.set_access_token_ttl(3600);
    });
    wait_until_expired(&login.tokens);
    let client = AuthorizedClient::with_session(
        Session::new(&login.client, login.tokens.clone()).with_skew(0),
        Transport::default(),
        Arc::new(MemoryStore::new()),
    );
    let before = server.with(|s| s.stats());
    let me = server.resource_url("/me");
    let barrier = Barrier::new(THREADS);

    let results: Vec<Result<HttpResponse, ApiError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (client, barrier, me) = (client.clone(), &barrier, &me);
                scope.spawn(move || {
                    barrier.wait();
                    client.call(get(me))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let after = server.with(|s| s.stats());
    for (i, result) in results.iter().enumerate() {
        assert!(
            matches!(result, Ok(r) if r.status() == 200),
            "call {i}: {}",
            describe(result)
        );
    }
    assert_eq!(
        after.token_requests - before.token_requests,
        1,
        "exactly one refresh request"
    );
    assert_eq!(client.refresh_count(), 1);
    assert_eq!(after.refresh_reuse_detected, 0);
    // Nobody sent the expired token: every caller waited for the refreshed one.
    assert_eq!(after.resource_requests - before.resource_requests, THREADS);
    assert!(client.tokens().unwrap().refresh_token != login.tokens.refresh_token);
}

// ── persist before use ─────────────────────────────────────────────────────────

/// One clock for the saves and the sends.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

fn tick() -> u64 {
    SEQUENCE.fetch_add(1, Ordering::SeqCst)
}

/// A [`FileStore`] that records, after each successful save, the sequence number and
/// the access token saved.
struct RecordingStore {
    file: FileStore,
    saved: Mutex<Vec<(u64, String)>>,
}

impl TokenStore for RecordingStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        self.file.load()
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        self.file.save(tokens)?;
        let seq = tick();
        self.saved
            .lock()
            .unwrap()
            .push((seq, tokens.access_token.secret().to_owned()));
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.file.clear()
    }
}

/// Records the bearer token of each resource request just before ureq sends it.
struct SendLog {
    sent: Arc<Mutex<Vec<(u64, String)>>>,
}

impl ureq::middleware::Middleware for SendLog {
    fn handle(
        &self,
        request: http::Request<ureq::SendBody>,
        next: ureq::middleware::MiddlewareNext,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        if request.uri().path().starts_with("/api/")
            && let Some(token) = bearer(request.headers())
        {
            let seq = tick();
            self.sent.lock().unwrap().push((seq, token));
        }
        next.handle(request)
    }
}

fn bearer(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

#[test]
fn rt_02_no_access_token_is_sent_before_it_is_persisted() {
    const THREADS: usize = 16;
    const DURATION: Duration = Duration::from_millis(2600);
    // 16 threads each calling every 40 ms: 400 calls a second.
    const INTERVAL: Duration = Duration::from_millis(40);

    let _load = LOAD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);

    let server = server(2);
    let login = login(&server);
    let dir = std::env::temp_dir().join(format!("oauth-ureq-concurrency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("tokens.json");
    let store = Arc::new(RecordingStore {
        file: FileStore::new(&path),
        saved: Mutex::new(Vec::new()),
    });
    // The application persists the login's tokens first, as it should.
    store.save(&login.tokens).unwrap();

    // Before each send (ureq middleware), and after each exchange (the observer).
    let sent = Arc::new(Mutex::new(Vec::new()));
    let seen: Arc<Mutex<Vec<(String, u16)>>> = Arc::new(Mutex::new(Vec::new()));
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .middleware(SendLog {
            sent: Arc::clone(&sent),
        })
        .build()
        .new_agent();
    let observer_seen = Arc::clone(&seen);
    let transport =
        Transport::with_agent(agent, TransportConfig::default()).with_observer(Arc::new(
            move |request: &http::Request<Vec<u8>>,
                  result: Result<&HttpResponse, &TransportFailure>| {
                if request.uri().path().starts_with("/api/")
                    && let Some(token) = bearer(request.headers())
                {
                    let status = result.map_or(0, |r| r.status().as_u16());
                    observer_seen.lock().unwrap().push((token, status));
                }
            },
        ));
    let client = AuthorizedClient::with_session(
        Session::new(&login.client, login.tokens.clone()).with_skew(0),
        transport,
        Arc::clone(&store) as Arc<dyn TokenStore>,
    );
    let me = server.resource_url("/me");
    let (_, failures) = paced_calls(THREADS, INTERVAL, &client, &me, |_| {
        login.received.elapsed() >= DURATION
    });
    assert!(failures.is_empty(), "failed calls: {failures:?}");
    let saved = store.saved.lock().unwrap().clone();
    let sent = sent.lock().unwrap().clone();
    let seen = seen.lock().unwrap().clone();
    let refreshes = client.refresh_count();
    assert!(
        refreshes >= 2,
        "the run saw expiries ({refreshes} refreshes)"
    );
    assert_eq!(
        saved.len() as u64,
        refreshes + 1,
        "the login's set, then each refresh"
    );
    assert_eq!(saved[0].1, login.tokens.access_token.secret());

    let mut distinct: Vec<&str> = Vec::new();
    for (send_seq, token) in &sent {
        let saved_at = saved.iter().find(|(_, t)| t == token).map(|(s, _)| *s);
        match saved_at {
            Some(s) if s < *send_seq => {}
            Some(s) => panic!("a token was sent (#{send_seq}) before it was saved (#{s})"),
            None => panic!("a token that was never saved was sent (#{send_seq})"),
        }
        if !distinct.contains(&token.as_str()) {
            distinct.push(token);
        }
    }
    // The observer saw the same requests after their exchange: all answered 200, or
    // 401 for a token that expired on its way (then replayed with the next token).
    assert_eq!(seen.len(), sent.len());
    let non_200 = seen.iter().filter(|(_, status)| *status != 200).count();
    eprintln!(
        "persist before use: {} sends with {} distinct tokens, {} saves, {refreshes} refreshes, \
         {non_200} answered 401 and replayed",
        sent.len(),
        distinct.len(),
        saved.len()
    );
    assert!(seen.iter().all(|(_, s)| *s == 200 || *s == 401), "{seen:?}");
    // A refreshed token can go unused when it expires before anyone gets to it, but
    // the run used some.
    assert!(distinct.len() >= 2, "the refreshed tokens were used");

    // What is on disk is what the client uses now.
    let on_disk = FileStore::new(&path).load().unwrap().unwrap();
    assert_eq!(Some(on_disk), client.tokens());
    assert_eq!(server.with(|s| s.stats()).refresh_reuse_detected, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

// ── a failed persist, retried ──────────────────────────────────────────────────

/// Fails the first save; blocks the second until released, telling the test it is
/// there; lets the rest through.
struct FlakyStore {
    saves: AtomicU64,
    entered: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
    inner: MemoryStore,
}

impl TokenStore for FlakyStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        self.inner.load()
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        match self.saves.fetch_add(1, Ordering::SeqCst) {
            0 => {
                return Err(StoreError::Io {
                    path: PathBuf::from("/nowhere/tokens.json"),
                    source: std::io::Error::other("disk full"),
                });
            }
            1 => {
                self.entered.lock().unwrap().send(()).unwrap();
                self.release.lock().unwrap().recv().unwrap();
            }
            _ => {}
        }
        self.inner.save(tokens)
    }

    fn clear(&self) -> Result<(), StoreError> {
        self.inner.clear()
    }
}

/// RT-02/RT-03: after a failed persist the next call persists the kept token set; a
/// call that waits for that retry gets its result — not the earlier failure.
#[test]
fn rt_02_a_caller_waiting_for_a_persist_retry_gets_its_result() {
    let server = server(7);
    let login = login(&server);
    server.with(|s| {
        s.set_access_token_ttl(3600);
    });
    wait_until_expired(&login.tokens);
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let store = Arc::new(FlakyStore {
        saves: AtomicU64::new(0),
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
        inner: MemoryStore::new(),
    });
    let client = AuthorizedClient::with_session(
        Session::new(&login.client, login.tokens.clone()).with_skew(0),
        Transport::default(),
        store,
    );
    let me = server.resource_url("/me");

    // 1. The refresh succeeds, saving its result fails: the call reports it.
    let first = client.call(get(&me));
    assert!(
        matches!(
            &first,
            Err(ApiError::Token(oauth_core::Error::PersistFailed(_)))
        ),
        "{}",
        describe(&first)
    );
    std::thread::scope(|scope| {
        // 2. The next call persists the kept set again; the store holds it there.
        let retrying = scope.spawn(|| client.call(get(&me)));
        entered_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the retry reached the store");
        // 3. Meanwhile another call finds the old token expired and waits.
        let waiting = scope.spawn(|| client.call(get(&me)));
        std::thread::sleep(Duration::from_millis(300));
        // 4. The retry is saved: both calls use the new token.
        release_tx.send(()).unwrap();
        let retrying = retrying.join().unwrap();
        let waiting = waiting.join().unwrap();
        assert!(
            matches!(&retrying, Ok(r) if r.status() == 200),
            "retrying call: {}",
            describe(&retrying)
        );
        assert!(
            matches!(&waiting, Ok(r) if r.status() == 200),
            "waiting call: {}",
            describe(&waiting)
        );
    });
    let stats = server.with(|s| s.stats());
    assert_eq!(stats.token_requests, 2, "the login and one refresh");
    assert_eq!(client.refresh_count(), 1);
    assert_eq!(stats.refresh_reuse_detected, 0);
}
