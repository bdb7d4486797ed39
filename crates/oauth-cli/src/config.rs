//! Where profiles and tokens live, and what a profile holds.
//!
//! `$OAUTH_CONFIG_DIR`, else the platform's configuration directory (`$XDG_CONFIG_HOME`
//! or `~/.config` on Linux, `~/Library/Application Support` on macOS, `%APPDATA%` on
//! Windows) followed by `oauth`. Inside: `profiles/<name>.json` (the client: endpoints,
//! client id, how to get the secret) and `tokens/<name>.json` (the token set, written by
//! `oauth_ureq::FileStore`: atomically, mode 0600). Every file is created with mode 0600.

use crate::exit::CliError;
use oauth_core::{ClientAuth, ClientRegistration, ClientSecret};
use oauth_ureq::FileStore;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

static DIR_OVERRIDE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Uses `dir` instead of the configured directory for the rest of the process (the
/// demo's throw-away directory).
pub(crate) fn set_dir_override(dir: PathBuf) {
    let _ = DIR_OVERRIDE.set(dir);
}

/// The configuration directory.
pub(crate) fn config_dir() -> Result<PathBuf, CliError> {
    if let Some(dir) = DIR_OVERRIDE.get() {
        return Ok(dir.clone());
    }
    if let Some(dir) = std::env::var_os("OAUTH_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    let base = if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        home().map(|h| h.join("Library/Application Support"))
    } else {
        std::env::var_os("XDG_CONFIG_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| home().map(|h| h.join(".config")))
    };
    base.map(|b| b.join("oauth"))
        .ok_or_else(|| CliError::local("no configuration directory: set OAUTH_CONFIG_DIR"))
}

/// Which grant a profile logs in with.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum GrantKind {
    AuthorizationCode,
    Device,
    ClientCredentials,
    /// Set up by `oauth curl URL` from the resource's 401 (RFC 9728 → RFC 8414 →
    /// RFC 7591): authorized again through the resource when its grant is gone.
    Resource,
}

/// A saved client configuration. It never holds a secret unless the secret was typed
/// at a prompt or issued by dynamic registration (the file is then readable by its
/// owner only).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Profile {
    pub(crate) version: u32,
    pub(crate) grant: GrantKind,
    pub(crate) client_id: String,
    #[serde(default)]
    pub(crate) client_secret_env: Option<String>,
    #[serde(default)]
    pub(crate) client_secret: Option<String>,
    pub(crate) auth_method: String,
    #[serde(default)]
    pub(crate) provider: Option<String>,
    #[serde(default)]
    pub(crate) issuer: Option<String>,
    #[serde(default)]
    pub(crate) require_iss: bool,
    #[serde(default)]
    pub(crate) authorization_endpoint: Option<String>,
    pub(crate) token_endpoint: String,
    #[serde(default)]
    pub(crate) revocation_endpoint: Option<String>,
    #[serde(default)]
    pub(crate) introspection_endpoint: Option<String>,
    #[serde(default)]
    pub(crate) device_authorization_endpoint: Option<String>,
    #[serde(default)]
    pub(crate) par_endpoint: Option<String>,
    #[serde(default)]
    pub(crate) require_par: bool,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    #[serde(default)]
    pub(crate) resources: Vec<String>,
}

/// A profile name: letters, digits, `-` and `_`.
pub(crate) fn check_name(name: &str) -> Result<(), CliError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "invalid profile name {name:?}: use letters, digits, '-' and '_'"
        )))
    }
}

pub(crate) struct Paths {
    pub(crate) profile: PathBuf,
    pub(crate) tokens: PathBuf,
}

pub(crate) fn paths(name: &str) -> Result<Paths, CliError> {
    check_name(name)?;
    let dir = config_dir()?;
    Ok(Paths {
        profile: dir.join("profiles").join(format!("{name}.json")),
        tokens: dir.join("tokens").join(format!("{name}.json")),
    })
}

/// Writes `bytes` to `path` atomically with mode 0600, creating the directory (0700).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let dir = path.parent().ok_or_else(|| CliError::local("bad path"))?;
    create_private_dir(dir)?;
    let temp = dir.join(format!(
        ".{}.tmp.{}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let io = |e: std::io::Error| CliError::local(format!("{}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&temp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&temp, path).map_err(io)
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::local(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

impl Profile {
    /// Whether profile `name` exists.
    pub(crate) fn exists(name: &str) -> Result<bool, CliError> {
        Ok(paths(name)?.profile.exists())
    }

    /// The profile of a client the zero-configuration chain set up.
    pub(crate) fn from_client(client: &ClientRegistration, scopes: Vec<String>) -> Profile {
        let (auth_method, secret) = match client.auth() {
            ClientAuth::ClientSecretBasic(s) => ("client_secret_basic", Some(s.secret())),
            ClientAuth::ClientSecretPost(s) => ("client_secret_post", Some(s.secret())),
            _ => ("none", None),
        };
        let url = |u: Option<&url::Url>| u.map(|u| u.as_str().to_owned());
        Profile {
            version: 1,
            grant: GrantKind::Resource,
            client_id: client.client_id().to_owned(),
            client_secret_env: None,
            client_secret: secret.map(str::to_owned),
            auth_method: auth_method.into(),
            provider: None,
            issuer: client.issuer().map(str::to_owned),
            require_iss: client.requires_issuer_parameter(),
            authorization_endpoint: url(client.authorization_endpoint()),
            token_endpoint: client.token_endpoint().as_str().to_owned(),
            revocation_endpoint: url(client.revocation_endpoint()),
            introspection_endpoint: url(client.introspection_endpoint()),
            device_authorization_endpoint: url(client.device_authorization_endpoint()),
            par_endpoint: url(client.par_endpoint()),
            require_par: client.requires_par(),
            scopes,
            resources: client.resources().to_vec(),
        }
    }

    pub(crate) fn load(name: &str) -> Result<Profile, CliError> {
        let p = paths(name)?;
        let bytes = match std::fs::read(&p.profile) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CliError::auth(format!(
                    "no profile {name:?}: run `oauth login --profile {name} …` first"
                )));
            }
            Err(e) => return Err(CliError::local(format!("{}: {e}", p.profile.display()))),
        };
        let profile: Profile = serde_json::from_slice(&bytes).map_err(|e| {
            CliError::local(format!(
                "{}: not a readable profile (line {} column {}); it was left as it is",
                p.profile.display(),
                e.line(),
                e.column()
            ))
        })?;
        if profile.version != 1 {
            return Err(CliError::local(format!(
                "{}: profile format version {} is not supported",
                p.profile.display(),
                profile.version
            )));
        }
        Ok(profile)
    }

    pub(crate) fn save(&self, name: &str) -> Result<(), CliError> {
        let p = paths(name)?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| CliError::local(e.to_string()))?;
        write_private(&p.profile, &json)
    }

    /// The client secret: from the named environment variable, else the one typed at
    /// login. `None` for a public client.
    pub(crate) fn secret(&self) -> Result<Option<String>, CliError> {
        if let Some(var) = &self.client_secret_env {
            if let Ok(v) = std::env::var(var) {
                return Ok(Some(v));
            }
            if let Some(s) = &self.client_secret {
                return Ok(Some(s.clone()));
            }
            return Err(CliError::usage(format!(
                "the client secret is read from ${var}, which is not set"
            )));
        }
        Ok(self.client_secret.clone())
    }

    /// The registration to refresh, revoke and introspect with.
    pub(crate) fn registration(
        &self,
        redirect_uri: Option<&str>,
    ) -> Result<ClientRegistration, CliError> {
        let auth = match (self.auth_method.as_str(), self.secret()?) {
            ("none", _) | (_, None) => ClientAuth::None,
            ("client_secret_post", Some(s)) => ClientAuth::ClientSecretPost(ClientSecret::new(s)),
            (_, Some(s)) => ClientAuth::ClientSecretBasic(ClientSecret::new(s)),
        };
        let mut b = ClientRegistration::builder(self.client_id.clone())
            .auth(auth)
            .token_endpoint(self.token_endpoint.clone())
            .require_par(self.require_par);
        if let Some(q) = self
            .provider
            .as_deref()
            .and_then(oauth_core::providers::by_name)
        {
            b = b.quirks(q.quirks);
        }
        if let Some(i) = &self.issuer {
            b = b
                .issuer(i.clone())
                .require_issuer_parameter(self.require_iss);
        }
        if let Some(v) = &self.authorization_endpoint {
            b = b.authorization_endpoint(v.clone());
        }
        if let Some(v) = &self.revocation_endpoint {
            b = b.revocation_endpoint(v.clone());
        }
        if let Some(v) = &self.introspection_endpoint {
            b = b.introspection_endpoint(v.clone());
        }
        if let Some(v) = &self.device_authorization_endpoint {
            b = b.device_authorization_endpoint(v.clone());
        }
        if let Some(v) = &self.par_endpoint {
            b = b.par_endpoint(v.clone());
        }
        // A resource profile's tokens are for its resource (RFC 8707), on every request;
        // client-credentials profiles name theirs per grant instead.
        if self.grant == GrantKind::Resource {
            for r in &self.resources {
                b = b.resource(r.clone());
            }
        }
        if let Some(r) = redirect_uri {
            b = b.redirect_uri(r);
        }
        b.build()
            .map_err(|e| CliError::usage(format!("invalid client configuration: {e}")))
    }

    pub(crate) fn store(name: &str) -> Result<FileStore, CliError> {
        let p = paths(name)?;
        if let Some(dir) = p.tokens.parent() {
            create_private_dir(dir)?;
        }
        Ok(FileStore::new(p.tokens))
    }
}

/// Every saved profile name, sorted.
pub(crate) fn profile_names() -> Result<Vec<String>, CliError> {
    let dir = config_dir()?.join("profiles");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CliError::local(format!("{}: {e}", dir.display()))),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".json")
                .filter(|s| check_name(s).is_ok())
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    Ok(names)
}
