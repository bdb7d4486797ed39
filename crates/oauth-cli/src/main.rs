//! `oauth`: log in, get a token, call an API — from a shell, in one line each.
//!
//! ```text
//! oauth login --issuer https://accounts.example.com --client-id my-app --scope read
//! oauth curl https://api.example.com/v1/me
//! curl -H "Authorization: Bearer $(oauth token)" https://api.example.com/v1/me
//! oauth demo        # the whole flow against a built-in provider on loopback
//! ```
//!
//! Everything OAuth is done by `oauth-core` (the protocol) and `oauth-ureq` (the
//! driver); this crate parses arguments, keeps profiles and prints.

mod commands;
mod config;
mod exit;

use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

/// Log in with OAuth 2.0, get tokens, call APIs.
#[derive(Parser, Debug)]
#[command(name = "oauth", version, about, long_about = None)]
struct Cli {
    /// Machine-readable JSON output where it applies.
    #[arg(long, global = true)]
    json: bool,
    /// Log every HTTP exchange to stderr, secrets redacted.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

/// Which server and client.
#[derive(Args, Debug, Clone)]
pub(crate) struct ServerArgs {
    /// The profile to save to (default: `default`).
    #[arg(long, default_value = "default")]
    pub(crate) profile: String,
    /// Discover the server from its issuer identifier (RFC 8414 / OpenID Connect).
    #[arg(long, conflicts_with_all = ["provider", "auth_url"])]
    pub(crate) issuer: Option<String>,
    /// A known provider: github, google, microsoft, gitlab.
    #[arg(long, conflicts_with = "auth_url")]
    pub(crate) provider: Option<String>,
    /// The Microsoft Entra tenant (with `--provider microsoft`; default `common`).
    #[arg(long)]
    pub(crate) tenant: Option<String>,
    /// A self-hosted GitLab (with `--provider gitlab`).
    #[arg(long)]
    pub(crate) gitlab_url: Option<String>,
    /// The authorization endpoint (with `--token-url`).
    #[arg(long, requires = "token_url")]
    pub(crate) auth_url: Option<String>,
    /// The token endpoint.
    #[arg(long)]
    pub(crate) token_url: Option<String>,
    /// The device authorization endpoint (when not discovered).
    #[arg(long)]
    pub(crate) device_url: Option<String>,
    /// The revocation endpoint (when not discovered).
    #[arg(long)]
    pub(crate) revocation_url: Option<String>,
    /// The introspection endpoint (when not discovered).
    #[arg(long)]
    pub(crate) introspection_url: Option<String>,
    /// The client identifier.
    #[arg(long)]
    pub(crate) client_id: String,
    /// The environment variable holding the client secret (never the secret itself).
    /// Unset and stdin a terminal: the secret is asked for, without echo.
    #[arg(long)]
    pub(crate) client_secret_env: Option<String>,
    /// Send the secret in the form body instead of HTTP Basic.
    #[arg(long)]
    pub(crate) client_secret_post: bool,
    /// A scope to request (repeatable; space-separated lists are split).
    #[arg(long = "scope")]
    pub(crate) scopes: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Log in: authorization code with PKCE through the browser (or `--device`).
    Login {
        #[command(flatten)]
        server: ServerArgs,
        /// The loopback port for the redirect (default: any free port).
        #[arg(long)]
        redirect_port: Option<u16>,
        /// Use the device authorization grant (RFC 8628) instead of a browser redirect.
        #[arg(long)]
        device: bool,
    },
    /// Print a valid access token (refreshed first when needed) and nothing else.
    Token {
        #[arg(long, default_value = "default")]
        profile: String,
    },
    /// Send a request with the access token; the body goes to stdout.
    Curl {
        #[arg(long, default_value = "default")]
        profile: String,
        /// The method (default GET, or POST with `-d`).
        #[arg(short = 'X', long = "request")]
        method: Option<String>,
        /// A header, `Name: value` (repeatable).
        #[arg(short = 'H', long = "header")]
        headers: Vec<String>,
        /// A request body (`@file` reads a file).
        #[arg(short = 'd', long = "data")]
        data: Option<String>,
        /// The URL.
        url: String,
    },
    /// Get a token for the client itself (client credentials grant).
    ClientCredentials {
        #[command(flatten)]
        server: ServerArgs,
        /// An RFC 8707 resource indicator (repeatable).
        #[arg(long = "resource")]
        resources: Vec<String>,
    },
    /// Revoke the refresh token (or, with `--access`, the access token) at the server.
    Revoke {
        #[arg(long, default_value = "default")]
        profile: String,
        /// Revoke the access token instead.
        #[arg(long)]
        access: bool,
    },
    /// Ask the server about the access token (or, with `--refresh`, the refresh token).
    Introspect {
        #[arg(long, default_value = "default")]
        profile: String,
        /// Introspect the refresh token instead.
        #[arg(long)]
        refresh: bool,
    },
    /// Revoke the refresh token and forget the token set.
    Logout {
        #[arg(long, default_value = "default")]
        profile: String,
    },
    /// List the profiles (no secrets).
    Profiles,
    /// The whole flow against a built-in provider on loopback; needs no network.
    Demo,
    /// Follows a URL as a headless browser that approves (for tests and the demo).
    #[command(hide = true)]
    HeadlessBrowser { url: String },
}

/// Global output settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    pub(crate) json: bool,
    pub(crate) verbose: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output {
        json: cli.json,
        verbose: cli.verbose,
    };
    let result = match cli.command {
        Command::Login {
            server,
            redirect_port,
            device,
        } => commands::login(&server, redirect_port, device, out),
        Command::Token { profile } => commands::token(&profile, out),
        Command::Curl {
            profile,
            method,
            headers,
            data,
            url,
        } => commands::curl(
            &profile,
            method.as_deref(),
            &headers,
            data.as_deref(),
            &url,
            out,
        ),
        Command::ClientCredentials { server, resources } => {
            commands::client_credentials(&server, &resources, out)
        }
        Command::Revoke { profile, access } => commands::revoke(&profile, access, out),
        Command::Introspect { profile, refresh } => commands::introspect(&profile, refresh, out),
        Command::Logout { profile } => commands::logout(&profile, out),
        Command::Profiles => commands::profiles(out),
        Command::Demo => commands::demo(out),
        Command::HeadlessBrowser { url } => commands::headless_browser(&url),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("oauth: {e}");
            }
            e.code()
        }
    }
}
