//! The crate's error type, and the problems its variants carry.

use std::net::SocketAddr;
use std::path::PathBuf;

use rustls_pki_types::InvalidDnsNameError;
use x509_parser::error::X509Error;

/// A certificate that x509-parser could not read.
pub type X509ParseError = x509_parser::nom::Err<X509Error>;

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
        #[source]
        error: std::io::Error,
    },
    /// The trust roots are unusable (no certificate, bad PEM, not a CA ...).
    #[error("trust roots {source_name}: {problem}")]
    InvalidRoots {
        /// Where the roots came from.
        source_name: String,
        /// What is wrong.
        #[source]
        problem: RootsProblem,
    },
    /// An identity is not a DNS name, so no certificate could carry it.
    #[error("identity {name:?} is not a valid DNS name: {reason}")]
    InvalidIdentity {
        /// The offending name.
        name: String,
        /// What is wrong with it.
        #[source]
        reason: IdentityNameProblem,
    },
    /// The key pair or the signing request could not be generated.
    #[error("cannot generate a key and CSR for {identity}: {step}: {source}")]
    KeyGeneration {
        /// The identity the key was for.
        identity: String,
        /// What failed: `key generation failed` or `cannot sign the CSR`.
        step: &'static str,
        /// The underlying failure.
        #[source]
        source: rcgen::Error,
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
        #[source]
        problem: CertificateProblem,
    },
    /// A rustls configuration could not be built from the credentials.
    #[error("cannot build the TLS {what} configuration for {identity}: {error}")]
    Config {
        /// Which configuration (server, client).
        what: &'static str,
        /// The local identity.
        identity: String,
        /// The rustls error.
        #[source]
        error: ConfigProblem,
    },
    /// Reading the first bytes of an accepted connection failed.
    #[error("detecting TLS from {peer}: {error}")]
    Detect {
        /// The remote address.
        peer: SocketAddr,
        /// The I/O error.
        #[source]
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
        #[source]
        error: std::io::Error,
    },
}

/// What is wrong with a trust roots bundle; certificates are numbered from
/// 1 in bundle order.
#[derive(Debug, thiserror::Error)]
pub enum RootsProblem {
    /// The text is not PEM.
    #[error("bad PEM: {0}")]
    Pem(#[source] rustls_pki_types::pem::Error),
    /// PEM without a certificate.
    #[error("no CERTIFICATE block found")]
    Empty,
    /// A certificate that is not X.509.
    #[error("certificate #{number} does not parse: {source}")]
    Parse {
        /// Its position in the bundle.
        number: usize,
        /// What the parser said.
        #[source]
        source: X509ParseError,
    },
    /// A certificate that may not sign others.
    #[error("certificate #{number} ({subject}) is not a CA certificate")]
    NotCa {
        /// Its position in the bundle.
        number: usize,
        /// Its subject.
        subject: String,
    },
    /// A CA certificate rustls cannot use as an anchor.
    #[error("certificate #{number} ({subject}) is not a usable trust anchor: {source}")]
    Unusable {
        /// Its position in the bundle.
        number: usize,
        /// Its subject.
        subject: String,
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },
}

/// Why a name cannot be an identity.
#[derive(Debug, thiserror::Error)]
pub enum IdentityNameProblem {
    /// An IP address: identities are DNS names.
    #[error("it is an IP address")]
    IpAddress,
    /// Not a DNS name at all.
    #[error("it is not a DNS name")]
    NotDnsName(#[source] InvalidDnsNameError),
    /// A DNS name that a certificate request cannot carry.
    #[error("{0}")]
    Unusable(#[source] rcgen::Error),
}

/// Why an issued certificate is not accepted as the proxy's own.
#[derive(Debug, thiserror::Error)]
pub enum CertificateProblem {
    /// The leaf is not X.509.
    #[error("the leaf does not parse: {0}")]
    Parse(#[source] X509ParseError),
    /// The leaf's first DNS SAN is another identity.
    #[error("the leaf names {0:?}")]
    OtherName(String),
    /// The leaf names no identity.
    #[error("the leaf has no DNS SAN")]
    NoDnsSan,
    /// The leaf is for another key: it was not issued for our request.
    #[error("the leaf certifies another public key than ours")]
    OtherKey,
    /// An expiry before the epoch (seconds given).
    #[error("the leaf expires before 1970 ({0})")]
    BeforeEpoch(i64),
    /// webpki refuses the leaf as an end-entity certificate.
    #[error("the leaf is not a usable end-entity certificate: {0}")]
    EndEntity(#[source] webpki::Error),
    /// The leaf does not chain to the trust roots for one of its uses.
    #[error(
        "it does not verify as a {usage} certificate against the trust roots {roots}: {source}"
    )]
    Chain {
        /// `server` or `client`.
        usage: &'static str,
        /// Where the trust roots came from.
        roots: String,
        /// What webpki said.
        #[source]
        source: webpki::Error,
    },
    /// The identity is not a DNS name, so no leaf can be valid for it.
    #[error("{identity:?} is not a DNS name: {source}")]
    IdentityName {
        /// The identity.
        identity: String,
        /// Why it is no DNS name.
        #[source]
        source: InvalidDnsNameError,
    },
    /// The leaf is not valid for the identity.
    #[error("it is not valid for {identity}: {source}")]
    Subject {
        /// The identity.
        identity: String,
        /// What webpki said.
        #[source]
        source: webpki::Error,
    },
}

/// Why rustls refused to build a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigProblem {
    /// The client certificate verifier.
    #[error("{0}")]
    Verifier(#[source] rustls::server::VerifierBuilderError),
    /// The configuration itself.
    #[error("{0}")]
    Rustls(#[source] rustls::Error),
}

fn expected_suffix(expected: &Option<String>) -> String {
    match expected {
        Some(id) => format!(" (expecting server identity {id})"),
        None => String::new(),
    }
}
