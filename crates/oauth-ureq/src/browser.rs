//! Opening the authorization URL in the user's browser.

use std::fmt;
use std::io;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

/// A function that shows the URL to the user (a GUI, a QR code, a test's headless
/// browser). It runs on its own thread, so it may block.
pub type OpenUrl = Arc<dyn Fn(String) + Send + Sync>;

/// How the authorization URL reaches the user.
#[derive(Clone, Default)]
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
    /// Call this function with the URL on a new thread.
    Custom(OpenUrl),
}

impl fmt::Debug for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Browser::System => f.write_str("System"),
            Browser::Command(argv) => f.debug_tuple("Command").field(argv).finish(),
            Browser::PrintOnly => f.write_str("PrintOnly"),
            Browser::Custom(_) => f.write_str("Custom(..)"),
        }
    }
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
            Browser::Custom(open) => {
                let (open, url) = (Arc::clone(open), url.to_owned());
                std::thread::spawn(move || open(url));
                return Ok(None);
            }
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
