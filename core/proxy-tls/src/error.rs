//! The crate's one error type.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why identity or TLS work failed. Every variant names what it was working
/// on (a file, an identity, a peer address) so a log line alone says where
/// to look.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file (trust roots, token) could not be read.
    #[error("{path}: cannot read: {error}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The trust roots are unusable (no certificate, bad PEM, not a CA ...).
    #[error("trust roots {source_name}: {problem}")]
    InvalidRoots {
        /// Where the roots came from.
        source_name: String,
        /// What is wrong.
        problem: String,
    },
    /// An identity is not a DNS name, so no certificate could carry it.
    #[error("identity {name:?} is not a valid DNS name: {reason}")]
    InvalidIdentity {
        /// The offending name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The key pair or the signing request could not be generated.
    #[error("cannot generate a key and CSR for {identity}: {reason}")]
    KeyGeneration {
        /// The identity the key was for.
        identity: String,
        /// The underlying failure.
        reason: String,
    },
    /// The service account token could not be obtained.
    #[error("token {source_name}: {problem}")]
    Token {
        /// Where the token is read from.
        source_name: String,
        /// What is wrong.
        problem: String,
    },
    /// The identity service refused or failed a `Certify` request.
    #[error("certifying {identity}: the identity service answered {code:?}: {message}")]
    Certify {
        /// The identity asked for.
        identity: String,
        /// The gRPC status code.
        code: tonic::Code,
        /// The gRPC status message.
        message: String,
    },
    /// An issued certificate did not pass the proxy's own checks; it is
    /// never used.
    #[error("certificate issued for {identity} is not usable: {problem}")]
    InvalidCertificate {
        /// The identity it was issued for.
        identity: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A rustls configuration could not be built from the credentials.
    #[error("cannot build the TLS {what} configuration for {identity}: {error}")]
    Config {
        /// Which configuration (server, client).
        what: &'static str,
        /// The local identity.
        identity: String,
        /// The rustls error.
        error: String,
    },
    /// Reading the first bytes of an accepted connection failed.
    #[error("detecting TLS from {peer}: {error}")]
    Detect {
        /// The remote address.
        peer: SocketAddr,
        /// The I/O error.
        error: std::io::Error,
    },
    /// A TLS handshake failed (as server: with a connecting client; as
    /// client: with the server expected to be `expected`).
    #[error("TLS handshake with {peer}{}: {error}", expected_suffix(.expected))]
    Handshake {
        /// The remote address, if known.
        peer: String,
        /// For outbound handshakes, the identity the server had to prove.
        expected: Option<String>,
        /// The I/O error carrying the TLS alert or verification failure.
        error: std::io::Error,
    },
}

fn expected_suffix(expected: &Option<String>) -> String {
    match expected {
        Some(id) => format!(" (expecting server identity {id})"),
        None => String::new(),
    }
}
