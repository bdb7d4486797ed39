//! The ratio table printed after a benchmark run, from criterion's own estimates
//! (`<criterion dir>/<group>/<function>/new/estimates.json`, the median).

use std::fmt::Write as _;
use std::path::PathBuf;

/// Where criterion writes its results, found the way criterion finds it:
/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else the target directory
/// `cargo metadata` names, else `target/criterion`.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let metadata = std::env::var_os("CARGO").and_then(|cargo| {
        std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()
    });
    metadata
        .and_then(|out| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok())
        .and_then(|v| v["target_directory"].as_str().map(PathBuf::from))
        .map_or_else(
            || PathBuf::from("target/criterion"),
            |t| t.join("criterion"),
        )
}

/// The median time of `group/function` in the latest run, in nanoseconds.
pub fn median_ns(group: &str, function: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// One line of the table: an operation, ours and what it is compared with.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    /// What is measured, for people.
    pub what: &'a str,
    /// The criterion group.
    pub group: &'a str,
    /// The function id of the comparison (`oauth2`, `raw ureq`, …) in that group, if any.
    pub other: Option<&'a str>,
    /// The function id of the limit (bare serde_json, bare SHA-256) in that group, if any.
    pub limit: Option<&'a str>,
}

/// A time for the table: ns below 10 µs, µs above.
pub fn human(ns: f64) -> String {
    if ns < 10_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 10_000_000.0 {
        format!("{:.1} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}

/// The markdown table for `rows` (ours is function `ours` in each group): times and the
/// ratios ours / comparison and ours / limit. Rows not measured in this run are left
/// out.
pub fn table(rows: &[Row<'_>], other_name: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| operation | ours | {other_name} | ours / {other_name} | limit | ours / limit |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for row in rows {
        let Some(ours) = median_ns(row.group, "ours") else {
            continue;
        };
        let cell = |id: Option<&str>| match id.and_then(|id| median_ns(row.group, id)) {
            Some(t) => (human(t), format!("{:.2}", ours / t)),
            None => ("—".to_owned(), "—".to_owned()),
        };
        let (other, other_ratio) = cell(row.other);
        let (limit, limit_ratio) = cell(row.limit);
        let _ = writeln!(
            out,
            "| {} | {} | {other} | {other_ratio} | {limit} | {limit_ratio} |",
            row.what,
            human(ours)
        );
    }
    out
}
