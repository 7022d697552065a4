//! Reading a client's TLS hello without consuming it, to decide whether
//! the connection is the mesh's to terminate or the application's own TLS
//! to pass through untouched.

use std::time::Duration;

use rustls::server::Acceptor;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::MESH_ALPN;

/// The largest hello read: hellos with post-quantum key shares take a few
/// KiB; anything past this is not a client worth waiting for.
const MAX_HELLO: usize = 64 * 1024;
/// How long to wait before peeking again when the hello has only partly
/// arrived (it usually comes in one segment).
const PEEK_AGAIN: Duration = Duration::from_millis(5);

/// What the hello asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Hello {
    /// The mesh: it names this proxy's identity and offers no ALPN or
    /// Linkerd's transport protocol.
    Mesh,
    /// Another server (SNI for another name, or none) or another protocol:
    /// the application's TLS, not the mesh's.
    Foreign {
        /// The server name asked for, if any.
        named: Option<String>,
        /// The application protocols offered.
        alpn: Vec<String>,
    },
}

/// Why the hello could not be read.
#[derive(Debug)]
pub(crate) enum HelloError {
    /// The socket failed.
    Io(std::io::Error),
    /// The bytes are not a TLS hello.
    Malformed(rustls::Error),
    /// The hello did not arrive whole in time, or is larger than
    /// [`MAX_HELLO`].
    Incomplete,
}

/// Peeks at the hello on `stream` (nothing is consumed) until it has
/// arrived whole or `deadline` passes, and says whether it is for the
/// proxy `identity`.
pub(crate) async fn peek_hello(
    stream: &TcpStream,
    identity: &str,
    deadline: Instant,
) -> Result<Hello, HelloError> {
    let mut buffer = vec![0u8; 4096];
    loop {
        let read = tokio::time::timeout_at(deadline, stream.peek(&mut buffer))
            .await
            .map_err(|_| HelloError::Incomplete)?
            .map_err(HelloError::Io)?;
        if let Some(hello) = parse(&buffer[..read], identity)? {
            return Ok(hello);
        }
        if read == buffer.len() {
            if buffer.len() >= MAX_HELLO {
                return Err(HelloError::Incomplete);
            }
            buffer.resize((buffer.len() * 2).min(MAX_HELLO), 0);
        } else if read == 0 || Instant::now() >= deadline {
            return Err(HelloError::Incomplete);
        } else {
            tokio::time::sleep(PEEK_AGAIN).await;
        }
    }
}

/// The hello in `bytes`, or `None` while it is incomplete.
fn parse(bytes: &[u8], identity: &str) -> Result<Option<Hello>, HelloError> {
    let mut acceptor = Acceptor::default();
    let mut reader = bytes;
    while !reader.is_empty() {
        match acceptor.read_tls(&mut reader) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => return Err(HelloError::Io(error)),
        }
    }
    let accepted = match acceptor.accept() {
        Ok(Some(accepted)) => accepted,
        Ok(None) => return Ok(None),
        Err((error, _alert)) => return Err(HelloError::Malformed(error)),
    };
    let hello = accepted.client_hello();
    let named = hello.server_name().map(str::to_string);
    let alpn: Vec<Vec<u8>> = hello
        .alpn()
        .map(|offered| offered.map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    let mesh_alpn = alpn.is_empty() || alpn.iter().any(|p| p.as_slice() == MESH_ALPN);
    if named.as_deref() == Some(identity) && mesh_alpn {
        return Ok(Some(Hello::Mesh));
    }
    Ok(Some(Hello::Foreign {
        named,
        alpn: alpn
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect(),
    }))
}
