//! [`FileStore`] and [`MemoryStore`]: round trips, the file's mode and format, what
//! happens to files that are not ours (never overwritten), error messages without
//! secrets, and crash safety under `kill -9` (security checklist RT-02: a rotated
//! token set must survive, whole, whatever instant the process dies at).
//!
//! The kill test re-runs this very test binary as the writer: the ignored test
//! [`kill9_child_writer`] saves two token sets alternately in an endless loop when
//! [`CHILD_ENV`] names the store file, and does nothing otherwise.

#![allow(clippy::print_stderr)]

use oauth_core::{AccessToken, IdToken, RefreshToken, Scope, TokenSet, TokenType, UnixTime};
use oauth_ureq::{FILE_FORMAT, FILE_VERSION, FileStore, MemoryStore, StoreError, TokenStore};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Carries the store path to the child writer of the kill test.
const CHILD_ENV: &str = "OAUTH_UREQ_KILL9_STORE";
/// The name of the child writer test (run with `--exact`).
const CHILD_TEST: &str = "kill9_child_writer";

const SECRET_ACCESS: &str = "at_SECRET_access_value_0123456789";
const SECRET_REFRESH: &str = "rt_SECRET_refresh_value_9876543210";

/// A fresh directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "oauth-ureq-store-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the test directory");
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A token set with every field filled in.
fn full_set() -> TokenSet {
    let mut extra = BTreeMap::new();
    extra.insert("session_state".to_owned(), serde_json::json!("abc-123"));
    extra.insert(
        "nested".to_owned(),
        serde_json::json!({"a": [1, 2.5, null, true], "b": {"c": "d"}}),
    );
    TokenSet {
        access_token: AccessToken::new(SECRET_ACCESS),
        token_type: TokenType::Bearer,
        expires_at: Some(UnixTime::from_secs(1_900_000_000)),
        refresh_token: Some(RefreshToken::new(SECRET_REFRESH)),
        scope: Some(Scope::parse("profile api:read offline_access").unwrap()),
        id_token: Some(IdToken::new("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.")),
        received_at: UnixTime::from_secs(1_899_996_400),
        extra,
    }
}

/// A token set with only the required fields.
fn minimal_set() -> TokenSet {
    TokenSet {
        access_token: AccessToken::new("at_minimal"),
        token_type: TokenType::Bearer,
        expires_at: None,
        refresh_token: None,
        scope: None,
        id_token: None,
        received_at: UnixTime::from_secs(1),
        extra: BTreeMap::new(),
    }
}

fn read_bytes(path: &Path) -> Vec<u8> {
    fs::read(path).expect("read the file")
}

/// Asserts that `save` refuses to touch `path`, whose content is `bytes`.
fn assert_save_refused(store: &FileStore, path: &Path, bytes: &[u8]) -> StoreError {
    let err = store
        .save(&full_set())
        .expect_err("save must refuse to overwrite a file it cannot read");
    assert_eq!(read_bytes(path), bytes, "the file was changed by save");
    err
}

fn assert_no_secrets(message: &str) {
    for secret in [SECRET_ACCESS, SECRET_REFRESH, "SECRET"] {
        assert!(
            !message.contains(secret),
            "error message leaks a secret: {message}"
        );
    }
}

#[test]
fn memory_store_round_trips_and_clears() {
    let store = MemoryStore::new();
    assert!(store.load().unwrap().is_none());
    store.save(&full_set()).unwrap();
    assert_eq!(store.load().unwrap(), Some(full_set()));
    store.save(&minimal_set()).unwrap();
    assert_eq!(store.load().unwrap(), Some(minimal_set()));
    store.clear().unwrap();
    assert!(store.load().unwrap().is_none());
    store.clear().unwrap();
}

#[test]
fn file_store_round_trips_every_field() {
    let dir = TempDir::new("roundtrip");
    let path = dir.file("tokens.json");
    let store = FileStore::new(&path);
    assert_eq!(store.path(), path);

    store.save(&full_set()).unwrap();
    let loaded = store.load().unwrap().expect("saved above");
    assert_eq!(loaded, full_set());
    // Field by field too, so that a failure says which one.
    assert_eq!(loaded.access_token.secret(), SECRET_ACCESS);
    assert_eq!(
        loaded.refresh_token.as_ref().map(RefreshToken::secret),
        Some(SECRET_REFRESH)
    );
    assert_eq!(
        loaded.scope.as_ref().map(ToString::to_string).as_deref(),
        Some("profile api:read offline_access")
    );
    assert_eq!(loaded.extra, full_set().extra);
    assert_eq!(loaded.expires_at, full_set().expires_at);
    assert_eq!(loaded.received_at, full_set().received_at);
    assert_eq!(loaded.id_token, full_set().id_token);

    // A second store at the same path (a restart) reads the same.
    assert_eq!(FileStore::new(&path).load().unwrap(), Some(full_set()));

    // Replacing with a minimal set drops the optional fields.
    store.save(&minimal_set()).unwrap();
    assert_eq!(store.load().unwrap(), Some(minimal_set()));

    // No temporary files are left behind by successful saves.
    let names: Vec<_> = fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["tokens.json".to_owned()]);
}

#[test]
fn file_store_missing_file_loads_none_and_clear_removes_it() {
    let dir = TempDir::new("missing");
    let path = dir.file("tokens.json");
    let store = FileStore::new(&path);
    assert!(store.load().unwrap().is_none());
    // Clearing nothing is fine.
    store.clear().unwrap();

    store.save(&full_set()).unwrap();
    assert!(path.exists());
    store.clear().unwrap();
    assert!(!path.exists(), "clear must remove the file");
    assert!(store.load().unwrap().is_none());
    store.clear().unwrap();
}

#[test]
fn file_store_writes_versioned_json() {
    let dir = TempDir::new("format");
    let path = dir.file("tokens.json");
    let store = FileStore::new(&path);
    store.save(&full_set()).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&read_bytes(&path)).unwrap();
    assert_eq!(value["format"], "oauth-sansio/token-set");
    assert_eq!(value["format"], FILE_FORMAT);
    assert_eq!(value["version"], 1);
    assert_eq!(value["version"], FILE_VERSION);
    let tokens = &value["tokens"];
    assert_eq!(tokens["access_token"], SECRET_ACCESS);
    assert_eq!(tokens["refresh_token"], SECRET_REFRESH);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "profile api:read offline_access");
    assert_eq!(tokens["extra"]["session_state"], "abc-123");
}

#[cfg(unix)]
#[test]
fn file_store_file_is_private_0600_after_every_save() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("mode");
    let path = dir.file("tokens.json");
    let store = FileStore::new(&path);
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;

    store.save(&full_set()).unwrap();
    assert_eq!(mode(&path), 0o600, "first save");
    store.save(&minimal_set()).unwrap();
    assert_eq!(mode(&path), 0o600, "second save");

    // A token file someone made world-readable is replaced by a private one.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    store.save(&full_set()).unwrap();
    assert_eq!(mode(&path), 0o600, "save over a 0644 file");
    assert_eq!(store.load().unwrap(), Some(full_set()));
}

#[test]
fn file_store_corrupt_files_are_reported_and_never_overwritten() {
    let dir = TempDir::new("corrupt");
    let path = dir.file("tokens.json");
    let store = FileStore::new(&path);

    // One of our own files, cut in half (what a non-atomic writer leaves after a crash).
    store.save(&full_set()).unwrap();
    let ours = read_bytes(&path);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![("truncated", ours[..ours.len() / 2].to_vec())];
    // Random bytes (not UTF-8: the first byte is a continuation byte).
    let mut rng = XorShift::new(42);
    let mut random: Vec<u8> = (0..512).map(|_| rng.next() as u8).collect();
    random[0] = 0x9c;
    cases.push(("random bytes", random));
    cases.push(("empty", Vec::new()));
    // Ours by its marker, but broken inside.
    cases.push((
        "no version",
        br#"{"format":"oauth-sansio/token-set","tokens":{}}"#.to_vec(),
    ));
    cases.push((
        "version 0",
        br#"{"format":"oauth-sansio/token-set","version":0,"tokens":{}}"#.to_vec(),
    ));
    cases.push((
        "no tokens",
        br#"{"format":"oauth-sansio/token-set","version":1}"#.to_vec(),
    ));
    // A token set whose member has the wrong type: the message must not echo it.
    let mut bad = serde_json::from_slice::<serde_json::Value>(&ours).unwrap();
    bad["tokens"]["token_type"] = serde_json::json!(format!("Mac {SECRET_ACCESS}"));
    cases.push(("bad member", serde_json::to_vec(&bad).unwrap()));

    for (what, bytes) in cases {
        fs::write(&path, &bytes).unwrap();
        let err = store.load().expect_err(what);
        assert!(
            matches!(&err, StoreError::Corrupt { path: p, .. } if *p == path),
            "{what}: expected Corrupt, got {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&path.display().to_string()),
            "{what}: the message must name the file: {message}"
        );
        assert_no_secrets(&message);
        assert_no_secrets(&format!("{err:?}"));

        let err = assert_save_refused(&store, &path, &bytes);
        assert!(
            matches!(err, StoreError::Corrupt { .. }),
            "{what}: save: {err:?}"
        );
        // Clearing is the user's explicit way out; it is not refused.
    }
    store.clear().unwrap();
    store.save(&full_set()).unwrap();
    assert_eq!(store.load().unwrap(), Some(full_set()));
}

#[test]
fn file_store_foreign_files_are_left_alone() {
    let dir = TempDir::new("foreign");
    let path = dir.file("tokens.json");
    let store = FileStore::new(&path);
    let cases: [&[u8]; 6] = [
        br#"{"some":"other app"}"#,
        b"[]",
        b"\"a string\"",
        b"42",
        br#"{"format":"someone-else/tokens","version":1,"tokens":{}}"#,
        br#"{"access_token":"at_SECRET_x","token_type":"Bearer"}"#,
    ];
    for bytes in cases {
        let what = String::from_utf8_lossy(bytes).into_owned();
        fs::write(&path, bytes).unwrap();
        let err = store.load().expect_err(&what);
        assert!(
            matches!(&err, StoreError::Foreign { path: p } if *p == path),
            "{what}: expected Foreign, got {err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert_no_secrets(&message);
        let err = assert_save_refused(&store, &path, bytes);
        assert!(matches!(err, StoreError::Foreign { .. }), "{what}: {err:?}");
    }
}

#[test]
fn file_store_newer_version_is_unsupported_and_kept() {
    let dir = TempDir::new("version");
    let path = dir.file("tokens.json");
    let store = FileStore::new(&path);
    store.save(&full_set()).unwrap();
    let mut value: serde_json::Value = serde_json::from_slice(&read_bytes(&path)).unwrap();
    value["version"] = serde_json::json!(2);
    let bytes = serde_json::to_vec_pretty(&value).unwrap();
    fs::write(&path, &bytes).unwrap();

    let err = store.load().unwrap_err();
    assert!(
        matches!(&err, StoreError::UnsupportedVersion { path: p, version: 2 } if *p == path),
        "got {err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("version 2"), "{message}");
    assert_no_secrets(&message);
    assert_no_secrets(&format!("{err:?}"));

    let err = assert_save_refused(&store, &path, &bytes);
    assert!(
        matches!(err, StoreError::UnsupportedVersion { version: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn file_store_io_errors_name_the_path() {
    let dir = TempDir::new("io");
    // A directory where the file should be.
    let path = dir.file("tokens.json");
    fs::create_dir(&path).unwrap();
    let store = FileStore::new(&path);
    let err = store.load().unwrap_err();
    assert!(
        matches!(&err, StoreError::Io { path: p, .. } if *p == path),
        "{err:?}"
    );
    assert!(err.to_string().contains(&path.display().to_string()));
    assert!(std::error::Error::source(&err).is_some());
    assert!(store.save(&full_set()).is_err());
    assert!(path.is_dir(), "the directory is untouched");

    // A missing parent directory.
    let store = FileStore::new(dir.file("no-such-dir").join("tokens.json"));
    assert!(store.load().unwrap().is_none());
    let err = store.save(&full_set()).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-dir"), "{err}");
    assert_no_secrets(&err.to_string());
}

// ── kill -9 ────────────────────────────────────────────────────────────────────

/// xorshift64: a deterministic, dependency-free source of jitter.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Spread small seeds; never zero.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// One of the two token sets the child writes: several KB each, so that a write takes
/// a while and a torn one could not go unnoticed.
fn kill_set(which: char) -> TokenSet {
    let mut extra = BTreeMap::new();
    for i in 0..16 {
        let filler: String = std::iter::repeat_n(which, 400).collect();
        extra.insert(
            format!("pad_{i:02}"),
            serde_json::json!(format!("{i}:{filler}")),
        );
    }
    extra.insert("which".to_owned(), serde_json::json!(which.to_string()));
    TokenSet {
        access_token: AccessToken::new(format!("at_{which}_access_token")),
        token_type: TokenType::Bearer,
        expires_at: Some(UnixTime::from_secs(if which == 'A' {
            1_000
        } else {
            2_000
        })),
        refresh_token: Some(RefreshToken::new(format!("rt_{which}_refresh_token"))),
        scope: Some(Scope::parse(if which == 'A' { "a" } else { "b b2" }).unwrap()),
        id_token: None,
        received_at: UnixTime::from_secs(if which == 'A' { 10 } else { 20 }),
        extra,
    }
}

/// The child of [`file_store_survives_kill_9_at_any_instant`]: saves B, A, B, A, … to
/// the file named by [`CHILD_ENV`] until it is killed. Without that variable (an
/// ordinary `cargo test -- --ignored`), it returns at once.
#[test]
#[ignore = "the child process of file_store_survives_kill_9_at_any_instant"]
fn kill9_child_writer() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let store = FileStore::new(PathBuf::from(path));
    let sets = [kill_set('B'), kill_set('A')];
    for i in 0usize.. {
        if let Err(e) = store.save(&sets[i % 2]) {
            panic!("child save {i} failed: {e}");
        }
    }
}

#[test]
fn file_store_survives_kill_9_at_any_instant() {
    const ITERATIONS: u32 = 300;
    let dir = TempDir::new("kill9");
    let path = dir.file("tokens.json");
    let store = FileStore::new(&path);
    let (a, b) = (kill_set('A'), kill_set('B'));
    assert_ne!(a, b);
    store.save(&a).unwrap();
    let exe = std::env::current_exe().expect("the test binary");

    let started = Instant::now();
    let (mut seen_a, mut seen_b) = (0u32, 0u32);
    for i in 0..ITERATIONS {
        let mut child = Command::new(&exe)
            .args(["--ignored", "--exact", CHILD_TEST, "--nocapture"])
            .env(CHILD_ENV, &path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the writer");
        let delay = XorShift::new(u64::from(i) + 1).next() % 40_001;
        std::thread::sleep(Duration::from_micros(delay));
        if let Some(status) = child.try_wait().expect("poll the writer") {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut stderr);
            }
            panic!("iteration {i}: the writer exited by itself ({status}): {stderr}");
        }
        child.kill().expect("kill the writer"); // SIGKILL on Unix
        let status = child.wait().expect("reap the writer");
        assert!(
            !status.success(),
            "iteration {i}: the writer was not killed"
        );

        match store.load() {
            Ok(Some(set)) if set == a => seen_a += 1,
            Ok(Some(set)) if set == b => seen_b += 1,
            Ok(Some(set)) => panic!("iteration {i}: a token set that is neither A nor B: {set:?}"),
            Ok(None) => panic!("iteration {i}: the token file is gone"),
            Err(e) => panic!("iteration {i} (killed after {delay} µs): {e}"),
        }
    }
    let elapsed = started.elapsed();
    let leftovers = fs::read_dir(&dir.0).unwrap().count() - 1;
    eprintln!(
        "kill -9: {ITERATIONS} iterations in {elapsed:.2?}: A {seen_a} times, B {seen_b} times \
         ({leftovers} temporary files left by killed writers)"
    );
    assert!(
        seen_a > 0 && seen_b > 0,
        "the writer must have been seen at work (A {seen_a}, B {seen_b})"
    );
    // The file is still ours and writable after all that.
    store.save(&a).unwrap();
    assert_eq!(store.load().unwrap(), Some(a));
}

fn kept_client() -> oauth_core::parse::RegisteredClientInfo {
    let json = serde_json::json!({
        "client_id": "dyn_client_1",
        "client_secret": "dcs_SECRET_client_secret_value",
        "client_secret_expires_at": null,
        "registration_access_token": "rat_SECRET_registration_token_value",
        "registration_client_uri": "https://as.example/register/dyn_client_1",
        "token_endpoint_auth_method": "client_secret_basic",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "issuer": "https://as.example",
    });
    serde_json::from_value(json).expect("a kept registration")
}

#[test]
fn stores_keep_the_registered_client_beside_the_tokens() {
    let memory = MemoryStore::new();
    assert!(memory.load_client().unwrap().is_none());
    memory.save_client(&kept_client()).unwrap();
    memory.save(&full_set()).unwrap();
    memory.clear().unwrap();
    assert_eq!(memory.load_client().unwrap(), Some(kept_client()));
    memory.forget_client().unwrap();
    assert!(memory.load_client().unwrap().is_none());

    let dir = TempDir::new("client");
    let path = dir.file("tokens.json");
    let store = FileStore::new(&path);
    assert!(store.load_client().unwrap().is_none());
    // Registered before any token set exists (the chain keeps it first).
    store.save_client(&kept_client()).unwrap();
    assert!(store.load().unwrap().is_none());
    assert_eq!(store.load_client().unwrap(), Some(kept_client()));
    // Saving tokens keeps the client, and the other way round.
    store.save(&full_set()).unwrap();
    assert_eq!(store.load_client().unwrap(), Some(kept_client()));
    assert_eq!(store.load().unwrap(), Some(full_set()));
    let value: serde_json::Value = serde_json::from_slice(&read_bytes(&path)).unwrap();
    assert_eq!(value["client"]["client_id"], "dyn_client_1");
    assert_eq!(value["client"]["issuer"], "https://as.example");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the file holds the client secret");
    }
    // Logging out forgets the tokens, not the client; the file stays for it.
    store.clear().unwrap();
    assert!(store.load().unwrap().is_none());
    assert_eq!(store.load_client().unwrap(), Some(kept_client()));
    assert!(path.exists());
    // Forgetting the client too leaves nothing: the file goes.
    store.forget_client().unwrap();
    assert!(store.load_client().unwrap().is_none());
    assert!(!path.exists());
}
