//! The one driver loop: it runs any `oauth_core::Flow` to its outcome.
//!
//! It sends what the core emits with a [`Transport`], feeds back what came back (or
//! the transport failure), shows the authorization URL and waits for the callback
//! through a [`CallbackSource`], sleeps when the core says wait, and reads the clock
//! for every input. It makes no protocol decision of its own.

use crate::browser::Browser;
use crate::loopback::LoopbackListener;
use crate::transport::Transport;
use oauth_core::parse::UserCode;
use oauth_core::{AuthorizationUrl, Flow, Input, Output, UnixTime};
use std::fmt;
use std::io;
use std::process::Child;
use std::time::{Duration, Instant, SystemTime};
use url::Url;

/// The current wall-clock time, as the core wants it.
pub fn now() -> UnixTime {
    UnixTime::from_system_time(SystemTime::now())
}

/// Sleeps until the whole second `t` is over. The core counts whole seconds: a wait it
/// asks for was computed from a time truncated to the second, so waking at the start of
/// second `t` could come up to a second early (a device poll 4.1 s after the last one
/// with `interval` 5, RFC 8628 §3.5); waking at its end never does.
fn sleep_past(t: UnixTime) {
    let target = t.saturating_add(1).to_system_time();
    if let Ok(d) = target.duration_since(SystemTime::now()) {
        std::thread::sleep(d);
    }
}

/// Why [`run`] did not produce the flow's outcome.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The flow ended with this error (server errors, violations, transport failures
    /// the core judged fatal, expiry, …).
    Flow(oauth_core::Error),
    /// The callback listener failed.
    Listener(io::Error),
    /// The flow needs a user at a browser, but no callback source was given.
    NoCallbackSource,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Flow(e) => write!(f, "{e}"),
            Error::Listener(e) => write!(f, "the redirect listener failed: {e}"),
            Error::NoCallbackSource => {
                f.write_str("this flow needs a browser and a redirect listener")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Flow(e) => Some(e),
            Error::Listener(e) => Some(e),
            Error::NoCallbackSource => None,
        }
    }
}

impl From<oauth_core::Error> for Error {
    fn from(e: oauth_core::Error) -> Self {
        Error::Flow(e)
    }
}

/// Where the user is sent and where their redirect comes back.
pub trait CallbackSource {
    /// Directs the user to `url`.
    fn visit(&mut self, url: &AuthorizationUrl) -> io::Result<()>;

    /// Waits until a callback that `accepts` takes arrives (`Some`), or `deadline`
    /// passes (`None`).
    fn wait(
        &mut self,
        deadline: UnixTime,
        accepts: &mut dyn FnMut(&Url) -> bool,
    ) -> io::Result<Option<Url>>;

    /// Shows a device-flow user code (RFC 8628 §3.3). The default prints it to stderr.
    fn show_user_code(&mut self, code: &UserCode) -> io::Result<()> {
        print_user_code(code);
        Ok(())
    }
}

/// Prints the user code and the verification URI to stderr, the host named on its own
/// line (device-code phishing sends users to look-alike hosts; RFC 8628 §5.4).
pub fn print_user_code(code: &UserCode) {
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "To sign in, visit {} and enter the code {}",
            code.verification_uri, code.user_code
        );
        if let Some(host) = code.verification_uri.host_str() {
            eprintln!("(the page must be on {host})");
        }
        if let Some(complete) = &code.verification_uri_complete {
            eprintln!("or open {complete}");
        }
    }
}

/// The usual source: the system browser and a [`LoopbackListener`].
#[derive(Debug)]
pub struct LoopbackCallback {
    listener: Option<LoopbackListener>,
    browser: Browser,
    child: Option<Child>,
}

impl LoopbackCallback {
    /// Uses `listener` for the redirect and `browser` to show the URL.
    pub fn new(listener: LoopbackListener, browser: Browser) -> Self {
        LoopbackCallback {
            listener: Some(listener),
            browser,
            child: None,
        }
    }
}

impl CallbackSource for LoopbackCallback {
    fn visit(&mut self, url: &AuthorizationUrl) -> io::Result<()> {
        // A browser that cannot be started is not fatal: the URL was printed.
        self.child = self.browser.open(url.as_str()).unwrap_or(None);
        Ok(())
    }

    fn wait(
        &mut self,
        deadline: UnixTime,
        accepts: &mut dyn FnMut(&Url) -> bool,
    ) -> io::Result<Option<Url>> {
        let Some(listener) = self.listener.take() else {
            // The port is already closed (RFC 8252 §8.3: only while the request runs).
            return Ok(None);
        };
        let secs = now().secs_until(deadline);
        let result = listener.wait(Instant::now() + Duration::from_secs(secs), accepts);
        if let Some(mut child) = self.child.take() {
            // Reap the helper if it is done; a real browser keeps running, which is fine.
            let _ = child.try_wait();
        }
        result
    }
}

/// Runs `flow` to its outcome. `callbacks` is needed only by flows that send the user
/// to the authorization server.
pub fn run<F: Flow>(
    flow: &mut F,
    transport: &Transport,
    mut callbacks: Option<&mut dyn CallbackSource>,
) -> Result<F::Outcome, Error> {
    loop {
        match flow.poll() {
            Output::Send(request) => {
                let input = match transport.send(request) {
                    Ok(response) => Input::Response(response),
                    Err(failure) => Input::TransportFailed(failure),
                };
                flow.handle(input, now());
            }
            Output::Visit(url) => {
                let source = callbacks.as_deref_mut().ok_or(Error::NoCallbackSource)?;
                source.visit(&url).map_err(Error::Listener)?;
            }
            Output::AwaitCallback { deadline } => {
                let source = callbacks.as_deref_mut().ok_or(Error::NoCallbackSource)?;
                let mut accepts = |u: &Url| flow.accepts(&Input::Callback(u.clone()));
                let callback = source
                    .wait(deadline, &mut accepts)
                    .map_err(Error::Listener)?;
                match callback {
                    Some(url) => flow.handle(Input::Callback(url), now()),
                    None => {
                        // Time is up (or the listener is closed): let the clock pass the
                        // deadline, then tell the flow, which ends with FlowExpired.
                        let secs = now().secs_until(deadline.saturating_add(1));
                        std::thread::sleep(Duration::from_secs(secs));
                        flow.handle(Input::Tick, now());
                    }
                }
            }
            Output::AwaitResponse => {
                // This loop answers every Send before polling again; the core says a
                // response is outstanding only if that contract was broken.
                flow.handle(
                    Input::TransportFailed(oauth_core::TransportFailure::new(
                        oauth_core::TransportErrorKind::Other,
                        "the driver lost an outstanding request",
                    )),
                    now(),
                );
            }
            Output::ShowUserCode(code) => match callbacks.as_deref_mut() {
                Some(source) => source.show_user_code(&code).map_err(Error::Listener)?,
                None => print_user_code(&code),
            },
            Output::WaitUntil(t) => {
                sleep_past(t);
                flow.handle(Input::Tick, now());
            }
            Output::Done(result) => return result.map_err(Error::Flow),
        }
    }
}
