use std::io::{self, IoSlice};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::CountedIo;
use crate::test_io::Broken;

/// A counter a test can read, and the callback that adds to it.
fn counter() -> (Arc<AtomicU64>, impl Fn(u64) + Unpin) {
    let count = Arc::new(AtomicU64::new(0));
    let add = {
        let count = count.clone();
        move |n| {
            count.fetch_add(n, Ordering::Relaxed);
        }
    };
    (count, add)
}

#[tokio::test]
async fn reads_and_writes_are_counted_apart() {
    let (mut peer, io) = tokio::io::duplex(1024);
    let (read, on_read) = counter();
    let (written, on_write) = counter();
    let mut io = CountedIo::new(io, on_read, on_write);

    peer.write_all(b"12345").await.unwrap();
    let mut buf = [0u8; 5];
    io.read_exact(&mut buf).await.unwrap();
    io.write_all(b"abc").await.unwrap();
    io.write_all(b"de").await.unwrap();

    assert_eq!(read.load(Ordering::Relaxed), 5);
    assert_eq!(written.load(Ordering::Relaxed), 5);
    let mut echoed = [0u8; 5];
    peer.read_exact(&mut echoed).await.unwrap();
    assert_eq!(&echoed, b"abcde");
}

#[tokio::test]
async fn a_short_write_counts_what_was_accepted() {
    let (_peer, io) = tokio::io::duplex(4);
    let (_, on_read) = counter();
    let (written, on_write) = counter();
    let mut io = CountedIo::new(io, on_read, on_write);
    let n = io.write(b"0123456789").await.unwrap();
    assert_eq!(n, 4, "the pipe holds four bytes");
    assert_eq!(written.load(Ordering::Relaxed), 4);
}

#[tokio::test]
async fn vectored_writes_are_counted_and_passed_through() {
    let (_, on_read) = counter();
    let (written, on_write) = counter();
    let mut io = CountedIo::new(Vec::<u8>::new(), on_read, on_write);
    assert!(io.is_write_vectored());
    let n = io
        .write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cde")])
        .await
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(written.load(Ordering::Relaxed), 5);
    assert_eq!(io.io, b"abcde");
}

#[tokio::test]
async fn a_failed_write_counts_nothing() {
    let (_, on_read) = counter();
    let (written, on_write) = counter();
    let mut io = CountedIo::new(Broken, on_read, on_write);
    let error = io.write(b"lost").await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    assert_eq!(written.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn the_end_of_the_stream_counts_nothing_and_shutdown_passes_through() {
    let (mut peer, io) = tokio::io::duplex(64);
    let (read, on_read) = counter();
    let (_, on_write) = counter();
    let mut io = CountedIo::new(io, on_read, on_write);
    peer.shutdown().await.unwrap();
    let mut rest = Vec::new();
    assert_eq!(io.read_to_end(&mut rest).await.unwrap(), 0);
    assert_eq!(read.load(Ordering::Relaxed), 0);

    io.shutdown().await.unwrap();
    let mut from_io = Vec::new();
    assert_eq!(
        peer.read_to_end(&mut from_io).await.unwrap(),
        0,
        "the peer sees the shutdown"
    );
}
