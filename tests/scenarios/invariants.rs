//! ARCHITECTURE.md invariant 1, checked on the source: `oauth-core` depends only on
//! its allowed crates, does no IO, reads no clock, draws no OS randomness, prints
//! nothing, and forbids `unsafe`. Also AUTHZ-02: no password grant anywhere in it.

use std::path::{Path, PathBuf};

fn core_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/oauth-core")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_dependencies_are_the_allowed_set() {
    let manifest = std::fs::read_to_string(core_dir().join("Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .expect("a [dependencies] table")
        .split("\n[")
        .next()
        .unwrap();
    let names: Vec<&str> = deps
        .lines()
        .filter_map(|l| l.split(['.', '=']).next())
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .collect();
    assert!(names.len() >= 7, "parsed {names:?}");
    let allowed = [
        "serde",
        "serde_json",
        "url",
        "http",
        "base64",
        "sha2",
        "rand_core",
    ];
    for n in &names {
        assert!(
            allowed.contains(n),
            "oauth-core depends on {n}, outside {allowed:?}"
        );
    }
}

#[test]
fn core_source_is_pure() {
    let mut files = Vec::new();
    rust_files(&core_dir().join("src"), &mut files);
    assert!(files.len() >= 15, "found only {} source files", files.len());
    let forbidden = [
        "std::net",
        "std::fs",
        "std::thread",
        "std::process",
        "std::env",
        "SystemTime::now",
        "Instant::now",
        "OsRng",
        "thread_rng",
        "getrandom::",
        "println!",
        "eprintln!",
        "print!",
        "dbg!",
        "unsafe ",
        "unsafe{",
        "grant_type=password",
        "\"password\")",
    ];
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for pat in forbidden {
                assert!(
                    !code.contains(pat),
                    "{}:{}: `{pat}` in oauth-core: {line}",
                    f.display(),
                    i + 1
                );
            }
        }
    }
    let lib = std::fs::read_to_string(core_dir().join("src/lib.rs")).unwrap();
    assert!(lib.contains("#![forbid(unsafe_code)]"));
}
