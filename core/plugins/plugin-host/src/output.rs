//! Standard output and error of plugins: kept in a small bounded buffer, never
//! failing a write (a chatty plugin must not trap because of its output), and
//! drained into the host's log after each call or into a trap's message.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// How much of a plugin's output is kept between drains; older bytes are dropped.
const CAPACITY: usize = 4096;

/// A bounded capture of one stream of one plugin instance.
#[derive(Clone, Default)]
pub(crate) struct CapturedOutput {
    buffer: Arc<Mutex<Vec<u8>>>,
    /// Set on write, so draining after every call costs one load when the
    /// plugin printed nothing (the usual case).
    written: Arc<AtomicBool>,
}

impl CapturedOutput {
    /// Takes what was written since the last drain, as text.
    pub(crate) fn drain(&self) -> Option<String> {
        if !self.written.swap(false, Ordering::Acquire) {
            return None;
        }
        let mut buffer = self.buffer.lock();
        if buffer.is_empty() {
            return None;
        }
        let text = String::from_utf8_lossy(&buffer).trim_end().to_string();
        buffer.clear();
        Some(text)
    }

    fn push(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock();
        let keep = bytes.len().min(CAPACITY);
        let overflow = (buffer.len() + keep).saturating_sub(CAPACITY);
        let drop_front = overflow.min(buffer.len());
        buffer.drain(..drop_front);
        buffer.extend_from_slice(&bytes[bytes.len() - keep..]);
        self.written.store(true, Ordering::Release);
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(AsyncCapture(self.clone()))
    }
}

#[cfg(test)]
mod tests;

#[async_trait::async_trait]
impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(CAPACITY)
    }
}

#[async_trait::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

/// The same capture for WASI's asynchronous stream interface.
struct AsyncCapture(CapturedOutput);

impl tokio::io::AsyncWrite for AsyncCapture {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.push(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
