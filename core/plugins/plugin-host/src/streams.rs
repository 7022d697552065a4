//! `wasi:io/streams` and `wasi:io/poll` for plugins, answered on the
//! calling thread without a tokio runtime.
//!
//! wasmtime-wasi's synchronous bindings run their blocking operations
//! (`blocking-write-and-flush`, which Rust's `println!` and a panic message
//! use) through `Handle::block_on`, which panics when the caller is itself
//! on a tokio runtime thread: exactly where the proxy and the controllers
//! call plugins. A plugin's only streams are the host's captured stdout and
//! stderr (always ready, written without waiting) and a closed stdin, so
//! every operation here completes on its first poll; one that would not is
//! refused with a trap rather than blocking a proxy's thread.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use wasmtime::component::{HasData, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::sync::io::{poll, streams};
use wasmtime_wasi::p2::{DynPollable, StreamError, StreamResult};
use wasmtime_wasi_io::bindings::wasi::io::poll::{
    Host as AsyncPollHost, HostPollable as AsyncHostPollable,
};
use wasmtime_wasi_io::bindings::wasi::io::streams::{
    HostInputStream as AsyncHostInputStream, HostOutputStream as AsyncHostOutputStream,
};

/// The linker's view of a store for these interfaces.
pub(crate) struct PluginIo;

impl HasData for PluginIo {
    type Data<'a> = PluginStreams<'a>;
}

/// A store's resource table, served by the implementations below.
pub(crate) struct PluginStreams<'a>(pub(crate) &'a mut ResourceTable);

/// The output of `future` if it is ready on its first poll.
fn at_once<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Why an operation that would wait is refused.
const WOULD_BLOCK: &str = "a plugin's stream operation would block; plugins may not wait";

fn stream_at_once<T>(future: impl Future<Output = StreamResult<T>>) -> StreamResult<T> {
    at_once(future).unwrap_or_else(|| Err(StreamError::trap(WOULD_BLOCK)))
}

fn at_once_or_trap<T>(future: impl Future<Output = wasmtime::Result<T>>) -> wasmtime::Result<T> {
    at_once(future).unwrap_or_else(|| Err(wasmtime::format_err!("{WOULD_BLOCK}")))
}

impl streams::Host for PluginStreams<'_> {
    fn convert_stream_error(&mut self, err: StreamError) -> wasmtime::Result<streams::StreamError> {
        streams::Host::convert_stream_error(self.0, err)
    }
}

impl streams::HostOutputStream for PluginStreams<'_> {
    fn drop(&mut self, stream: Resource<streams::OutputStream>) -> wasmtime::Result<()> {
        at_once_or_trap(AsyncHostOutputStream::drop(self.0, stream))
    }

    fn check_write(&mut self, stream: Resource<streams::OutputStream>) -> StreamResult<u64> {
        streams::HostOutputStream::check_write(self.0, stream)
    }

    fn write(
        &mut self,
        stream: Resource<streams::OutputStream>,
        bytes: Vec<u8>,
    ) -> StreamResult<()> {
        streams::HostOutputStream::write(self.0, stream, bytes)
    }

    fn blocking_write_and_flush(
        &mut self,
        stream: Resource<streams::OutputStream>,
        bytes: Vec<u8>,
    ) -> StreamResult<()> {
        stream_at_once(AsyncHostOutputStream::blocking_write_and_flush(
            self.0, stream, bytes,
        ))
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        stream: Resource<streams::OutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        stream_at_once(AsyncHostOutputStream::blocking_write_zeroes_and_flush(
            self.0, stream, len,
        ))
    }

    fn subscribe(
        &mut self,
        stream: Resource<streams::OutputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostOutputStream::subscribe(self.0, stream)
    }

    fn write_zeroes(
        &mut self,
        stream: Resource<streams::OutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        streams::HostOutputStream::write_zeroes(self.0, stream, len)
    }

    fn flush(&mut self, stream: Resource<streams::OutputStream>) -> StreamResult<()> {
        streams::HostOutputStream::flush(self.0, stream)
    }

    fn blocking_flush(&mut self, stream: Resource<streams::OutputStream>) -> StreamResult<()> {
        stream_at_once(AsyncHostOutputStream::blocking_flush(
            self.0,
            Resource::new_borrow(stream.rep()),
        ))
    }

    fn splice(
        &mut self,
        dst: Resource<streams::OutputStream>,
        src: Resource<streams::InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        streams::HostOutputStream::splice(self.0, dst, src, len)
    }

    fn blocking_splice(
        &mut self,
        dst: Resource<streams::OutputStream>,
        src: Resource<streams::InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        stream_at_once(AsyncHostOutputStream::blocking_splice(
            self.0, dst, src, len,
        ))
    }
}

impl streams::HostInputStream for PluginStreams<'_> {
    fn drop(&mut self, stream: Resource<streams::InputStream>) -> wasmtime::Result<()> {
        at_once_or_trap(AsyncHostInputStream::drop(self.0, stream))
    }

    fn read(&mut self, stream: Resource<streams::InputStream>, len: u64) -> StreamResult<Vec<u8>> {
        streams::HostInputStream::read(self.0, stream, len)
    }

    fn blocking_read(
        &mut self,
        stream: Resource<streams::InputStream>,
        len: u64,
    ) -> StreamResult<Vec<u8>> {
        stream_at_once(AsyncHostInputStream::blocking_read(self.0, stream, len))
    }

    fn skip(&mut self, stream: Resource<streams::InputStream>, len: u64) -> StreamResult<u64> {
        streams::HostInputStream::skip(self.0, stream, len)
    }

    fn blocking_skip(
        &mut self,
        stream: Resource<streams::InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        stream_at_once(AsyncHostInputStream::blocking_skip(self.0, stream, len))
    }

    fn subscribe(
        &mut self,
        stream: Resource<streams::InputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostInputStream::subscribe(self.0, stream)
    }
}

impl poll::Host for PluginStreams<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        at_once_or_trap(AsyncPollHost::poll(self.0, pollables))
    }
}

impl poll::HostPollable for PluginStreams<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        at_once_or_trap(AsyncHostPollable::ready(self.0, pollable))
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        at_once_or_trap(AsyncHostPollable::block(self.0, pollable))
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        poll::HostPollable::drop(self.0, pollable)
    }
}
