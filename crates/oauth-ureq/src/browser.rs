//! Opening the authorization URL in the user's browser.

use std::io;
use std::process::{Child, Command, Stdio};

/// How the authorization URL reaches the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Browser {
    /// `$BROWSER` when set (split on whitespace; the URL is appended as one more
    /// argument — no shell is involved), else the platform's opener (`xdg-open`,
    /// `open`, `rundll32 url.dll,FileProtocolHandler`).
    #[default]
    System,
    /// This program and arguments; the URL is appended as the last argument.
    Command(Vec<String>),
    /// Do not open anything (headless use): the URL is only printed.
    PrintOnly,
}

impl Browser {
    /// Prints the URL to stderr (always, so a headless user can copy it), then starts
    /// the browser. The child is returned so the caller can reap it; failing to start a
    /// browser is not fatal to a login, since the URL was printed.
    pub fn open(&self, url: &str) -> io::Result<Option<Child>> {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("Open this URL in your browser to sign in:\n\n    {url}\n");
        }
        let argv: Vec<String> = match self {
            Browser::PrintOnly => return Ok(None),
            Browser::Command(argv) => argv.clone(),
            Browser::System => match std::env::var("BROWSER") {
                Ok(b) if !b.trim().is_empty() => b.split_whitespace().map(str::to_owned).collect(),
                _ => platform_opener(),
            },
        };
        let Some((program, args)) = argv.split_first() else {
            return Ok(None);
        };
        // AUTHZ-12: the URL is one argument to a program, never part of a shell string
        // (cmd's `start` would split it at `&`).
        Command::new(program)
            .args(args)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map(Some)
    }
}

fn platform_opener() -> Vec<String> {
    let argv: &[&str] = if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["rundll32", "url.dll,FileProtocolHandler"]
    } else {
        &["xdg-open"]
    };
    argv.iter().map(|s| (*s).to_owned()).collect()
}
