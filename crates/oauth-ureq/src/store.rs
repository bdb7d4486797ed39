//! Where token sets live between runs.
//!
//! [`FileStore`] writes crash-safely: the new content goes to a temporary file in the
//! same directory (created with mode `0600` on Unix), which is flushed to disk
//! (`fsync`), renamed over the target (atomic on POSIX file systems), and the directory
//! is flushed too, so that a process killed at any instant leaves either the old or the
//! new token set, never a torn one. The format is versioned JSON; a file that is not
//! ours, or not readable, is reported as such on load and never overwritten on save.

use oauth_core::TokenSet;
use oauth_core::parse::RegisteredClientInfo;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A place to keep one token set, and the client a zero-configuration run registered
/// (RFC 7591) so that the next run reuses it.
pub trait TokenStore: Send + Sync {
    /// The stored token set; `None` when nothing is stored yet.
    fn load(&self) -> Result<Option<TokenSet>, StoreError>;
    /// Replaces the stored token set; when this returns `Ok`, the new set survives a
    /// crash.
    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError>;
    /// Forgets the stored token set (a kept registration stays).
    fn clear(&self) -> Result<(), StoreError>;
    /// The kept registration. The default keeps none: a store that does not override
    /// this and [`save_client`](Self::save_client) makes every run register anew.
    fn load_client(&self) -> Result<Option<RegisteredClientInfo>, StoreError> {
        Ok(None)
    }
    /// Keeps a registration (it holds secrets: the client secret, if any, and the
    /// registration access token).
    fn save_client(&self, client: &RegisteredClientInfo) -> Result<(), StoreError> {
        let _ = client;
        Ok(())
    }
    /// Forgets the kept registration (the server no longer knows it).
    fn forget_client(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Why a store failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The file exists but is not valid JSON, or not a valid token set.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong (no secret values).
        detail: String,
    },
    /// The file is valid JSON written by something else; it is left alone.
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by a newer format version.
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Its version.
        version: u64,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            StoreError::Corrupt { path, detail } => write!(
                f,
                "{}: not a readable token file ({detail}); it was left as it is — move it away to start over",
                path.display()
            ),
            StoreError::Foreign { path } => write!(
                f,
                "{}: this file was not written by this program; it was left as it is",
                path.display()
            ),
            StoreError::UnsupportedVersion { path, version } => write!(
                f,
                "{}: token file format version {version} is newer than this program understands",
                path.display()
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Keeps the token set (and a registration) in memory only.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tokens: Mutex<Option<TokenSet>>,
    client: Mutex<Option<RegisteredClientInfo>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        Ok(self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone())
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        *self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(tokens.clone());
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        *self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        Ok(())
    }

    fn load_client(&self) -> Result<Option<RegisteredClientInfo>, StoreError> {
        Ok(self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone())
    }

    fn save_client(&self, client: &RegisteredClientInfo) -> Result<(), StoreError> {
        *self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(client.clone());
        Ok(())
    }

    fn forget_client(&self) -> Result<(), StoreError> {
        *self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        Ok(())
    }
}

/// The format marker of our files.
pub const FILE_FORMAT: &str = "oauth-sansio/token-set";
/// The current format version.
pub const FILE_VERSION: u64 = 1;

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    format: &'static str,
    version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<&'a TokenSet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<&'a RegisteredClientInfo>,
}

#[derive(Deserialize)]
struct EnvelopeIn {
    format: Option<String>,
    version: Option<u64>,
    tokens: Option<serde_json::Value>,
    client: Option<serde_json::Value>,
}

/// What a file holds.
#[derive(Default)]
struct Stored {
    tokens: Option<TokenSet>,
    client: Option<RegisteredClientInfo>,
}

/// A JSON file holding one token set, written crash-safely. See the
/// [module documentation](self).
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl FileStore {
    /// A store at `path` (the file need not exist yet; its directory must).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads and checks the file: empty when it does not exist.
    fn read(&self) -> Result<Stored, StoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Stored::default()),
            Err(e) => return Err(self.io(e)),
        };
        let corrupt = |detail: String| StoreError::Corrupt {
            path: self.path.clone(),
            detail,
        };
        // serde_json's messages name positions and types, never values.
        let envelope: EnvelopeIn = match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(m)) => {
                serde_json::from_value(serde_json::Value::Object(m)).map_err(|_| {
                    StoreError::Foreign {
                        path: self.path.clone(),
                    }
                })?
            }
            Ok(_) => {
                return Err(StoreError::Foreign {
                    path: self.path.clone(),
                });
            }
            Err(e) => {
                return Err(corrupt(format!(
                    "invalid JSON at line {} column {}",
                    e.line(),
                    e.column()
                )));
            }
        };
        if envelope.format.as_deref() != Some(FILE_FORMAT) {
            return Err(StoreError::Foreign {
                path: self.path.clone(),
            });
        }
        match envelope.version {
            Some(FILE_VERSION) => {}
            Some(v) if v > FILE_VERSION => {
                return Err(StoreError::UnsupportedVersion {
                    path: self.path.clone(),
                    version: v,
                });
            }
            _ => return Err(corrupt("missing or invalid version".into())),
        }
        if envelope.tokens.is_none() && envelope.client.is_none() {
            return Err(corrupt("no token set".into()));
        }
        let tokens = match envelope.tokens {
            None | Some(serde_json::Value::Null) => None,
            Some(t) => Some(
                serde_json::from_value::<TokenSet>(t)
                    .map_err(|e| corrupt(format!("invalid token set: {}", classify(&e))))?,
            ),
        };
        let client = match envelope.client {
            None | Some(serde_json::Value::Null) => None,
            Some(c) => Some(
                serde_json::from_value::<RegisteredClientInfo>(c)
                    .map_err(|e| corrupt(format!("invalid client: {}", classify(&e))))?,
            ),
        };
        Ok(Stored { tokens, client })
    }

    /// Replaces the file's content crash-safely; with nothing to hold, removes it.
    fn write(&self, stored: &Stored) -> Result<(), StoreError> {
        if stored.tokens.is_none() && stored.client.is_none() {
            return match fs::remove_file(&self.path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(self.io(e)),
            };
        }
        let json = serde_json::to_vec_pretty(&EnvelopeOut {
            format: FILE_FORMAT,
            version: FILE_VERSION,
            tokens: stored.tokens.as_ref(),
            client: stored.client.as_ref(),
        })
        .map_err(|e| self.io(io::Error::other(e)))?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tokens".into());
        let temp = dir.join(format!(
            ".{name}.tmp.{}.{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| {
            let mut file = create_private(&temp)?;
            file.write_all(&json)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&temp, &self.path)?;
            sync_dir(&dir)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map_err(|e| self.io(e))
    }
}

fn classify(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Data => "a member is missing or has the wrong type",
        _ => "malformed",
    }
}

impl TokenStore for FileStore {
    fn load(&self) -> Result<Option<TokenSet>, StoreError> {
        Ok(self.read()?.tokens)
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        // Never overwrite what we cannot read: a corrupt or foreign file stays.
        let mut stored = self.read()?;
        stored.tokens = Some(tokens.clone());
        self.write(&stored)
    }

    fn clear(&self) -> Result<(), StoreError> {
        // A file we cannot read is removed as before (clearing is asked for); a kept
        // registration survives.
        let client = self.read().ok().and_then(|s| s.client);
        self.write(&Stored {
            tokens: None,
            client,
        })
    }

    fn load_client(&self) -> Result<Option<RegisteredClientInfo>, StoreError> {
        Ok(self.read()?.client)
    }

    fn save_client(&self, client: &RegisteredClientInfo) -> Result<(), StoreError> {
        let mut stored = self.read()?;
        stored.client = Some(client.clone());
        self.write(&stored)
    }

    fn forget_client(&self) -> Result<(), StoreError> {
        let mut stored = self.read()?;
        stored.client = None;
        self.write(&stored)
    }
}

/// Creates a new file readable and writable by the owner only.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Flushes a directory entry change (the rename) to disk.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
