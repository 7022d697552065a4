//! The secret of one run of `strait local up`: the bearer token every
//! request to its API must carry.
//!
//! The API changes policy, so it must answer the user who started the run
//! and no one else. Listening on loopback keeps other machines out, but not
//! other users of this machine, nor web pages in this user's browser; a
//! token that only this user can read keeps both out. Each run makes a
//! fresh one and writes it to a file only its owner can read, in
//! STRAIT_HOME beside the registry, whose entry for each context names the
//! file; the `strait` command reads the token from there.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

/// Random bytes in a token: 256 bits, beyond guessing.
const TOKEN_BYTES: usize = 32;
/// The token's length as text: two lowercase hex digits a byte.
const TOKEN_LEN: usize = TOKEN_BYTES * 2;
/// More than a token file ever holds: a longer file is not one, and is not
/// read whole.
const MAX_FILE_LEN: u64 = 1024;
/// Random bytes in the name of the file a token is first written to.
const TEMP_NAME_BYTES: usize = 8;

/// A run's API token. Its `Debug` hides the secret, and two tokens compare
/// in constant time, so neither logs nor timing give it away.
#[derive(Clone)]
pub struct ApiToken {
    hex: String,
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(..)")
    }
}

impl PartialEq for ApiToken {
    fn eq(&self, other: &Self) -> bool {
        self.verify(other.hex.as_bytes())
    }
}

impl Eq for ApiToken {}

/// A token could not be made, written or read; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The system's random number generator failed.
    #[error("the system's random number generator failed, so no local API token could be made")]
    NoRandomness,
    /// The token file (or the temporary file it is written through) could
    /// not be created, written, renamed or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file does not hold a token.
    #[error("{}: not a local API token: {reason}", path.display())]
    Malformed {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it (never its content: it may be a secret).
        reason: String,
    },
    /// The context's registry entry names no token file: a `strait local
    /// up` from before API tokens registered it.
    #[error(
        "context {context:?} names no API token file in the registry: the `strait local up` serving it predates API tokens; restart it"
    )]
    NotRecorded {
        /// The context.
        context: String,
    },
}

impl ApiToken {
    /// A fresh token from the system's CSPRNG.
    pub fn generate() -> Result<Self, TokenError> {
        Ok(ApiToken {
            hex: random_hex(TOKEN_BYTES)?,
        })
    }

    /// The secret itself, for the `Authorization` header a client sends.
    /// Never log it.
    pub fn secret(&self) -> &str {
        &self.hex
    }

    /// Whether `presented` (what a request sent after `Bearer `) is this
    /// token. The comparison takes the same time wherever the first wrong
    /// byte is, so a caller cannot find the token a byte at a time.
    pub(crate) fn verify(&self, presented: &[u8]) -> bool {
        self.hex.as_bytes().ct_eq(presented).into()
    }

    /// Writes the token to `path`, readable and writable by its owner only
    /// (0600), creating the directory (0700) if it is missing.
    ///
    /// The file is created with that mode, never widened and narrowed
    /// afterwards, so there is no moment when another user could open it.
    /// It is created under a fresh random name that must not exist yet (a
    /// file or link planted under it makes the write fail rather than be
    /// followed), then renamed over `path`, which replaces whatever was
    /// there (the file of an earlier run, a planted link) without opening
    /// or following it.
    pub fn write_file(&self, path: &Path) -> Result<(), TokenError> {
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| TokenError::Io { path, source }
        };
        let name = path.file_name().ok_or_else(|| TokenError::Io {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
        })?;
        let dir = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        private_dir(dir).map_err(io_error(dir))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.tmp", random_hex(TEMP_NAME_BYTES)?));
        let temp = dir.join(temp_name);
        let mut file = owner_only().open(&temp).map_err(io_error(&temp))?;
        let written = file
            .write_all(self.hex.as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all());
        drop(file);
        if let Err(source) = written {
            let _ = fs::remove_file(&temp);
            return Err(TokenError::Io { path: temp, source });
        }
        fs::rename(&temp, path).map_err(|source| {
            let _ = fs::remove_file(&temp);
            TokenError::Io {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// Reads the token [`ApiToken::write_file`] wrote to `path`.
    pub fn read_file(path: &Path) -> Result<Self, TokenError> {
        let malformed = |reason: &str| TokenError::Malformed {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        let io_error = |source| TokenError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = fs::File::open(path).map_err(io_error)?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        if bytes.len() as u64 > MAX_FILE_LEN {
            return Err(malformed("it is far longer than a token"));
        }
        let text = bytes.trim_ascii();
        if text.len() != TOKEN_LEN || !text.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(malformed(&format!(
                "a token is {TOKEN_LEN} lowercase hex digits"
            )));
        }
        Ok(ApiToken {
            hex: String::from_utf8_lossy(text).into_owned(),
        })
    }
}

/// `n` random bytes from the system's CSPRNG, as lowercase hex.
fn random_hex(n: usize) -> Result<String, TokenError> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| TokenError::NoRandomness)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Options that create a new file, failing if anything (a file, a link)
/// already has its name, with mode 0600 from the start.
fn owner_only() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Creates `dir` and its missing parents with mode 0700; an existing
/// directory is left as it is (the user may have chosen its mode).
fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(all(test, unix))]
mod tests;
