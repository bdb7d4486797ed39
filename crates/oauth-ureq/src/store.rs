//! Where token sets live between runs.
//!
//! [`FileStore`] writes crash-safely: the new content goes to a temporary file in the
//! same directory (created with mode `0600` on Unix), which is flushed to disk
//! (`fsync`), renamed over the target (atomic on POSIX file systems), and the directory
//! is flushed too, so that a process killed at any instant leaves either the old or the
//! new token set, never a torn one. The format is versioned JSON; a file that is not
//! ours, or not readable, is reported as such on load and never overwritten on save.

use oauth_core::TokenSet;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A place to keep one token set.
pub trait TokenStore: Send + Sync {
    /// The stored token set; `None` when nothing is stored yet.
    fn load(&self) -> Result<Option<TokenSet>, StoreError>;
    /// Replaces the stored token set; when this returns `Ok`, the new set survives a
    /// crash.
    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError>;
    /// Forgets the stored token set.
    fn clear(&self) -> Result<(), StoreError>;
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

/// Keeps the token set in memory only.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tokens: Mutex<Option<TokenSet>>,
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
}

/// The format marker of our files.
pub const FILE_FORMAT: &str = "oauth-sansio/token-set";
/// The current format version.
pub const FILE_VERSION: u64 = 1;

#[derive(Serialize)]
struct EnvelopeOut<'a> {
    format: &'static str,
    version: u64,
    tokens: &'a TokenSet,
}

#[derive(Deserialize)]
struct EnvelopeIn {
    format: Option<String>,
    version: Option<u64>,
    tokens: Option<serde_json::Value>,
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

    /// Reads and checks the file: `Ok(None)` when it does not exist.
    fn read(&self) -> Result<Option<TokenSet>, StoreError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
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
        let tokens = envelope
            .tokens
            .ok_or_else(|| corrupt("no token set".into()))?;
        serde_json::from_value::<TokenSet>(tokens)
            .map(Some)
            .map_err(|e| corrupt(format!("invalid token set: {}", classify(&e))))
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
        self.read()
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        // Never overwrite what we cannot read: a corrupt or foreign file stays.
        self.read()?;
        let json = serde_json::to_vec_pretty(&EnvelopeOut {
            format: FILE_FORMAT,
            version: FILE_VERSION,
            tokens,
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

    fn clear(&self) -> Result<(), StoreError> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io(e)),
        }
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
