use std::io::IoSlice;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::PrefixedIo;
use crate::test_io::Broken;

#[tokio::test]
async fn the_prefix_is_read_before_the_connection() {
    let (mut client, server) = tokio::io::duplex(64);
    client.write_all(b" world").await.unwrap();
    drop(client);
    let mut io = PrefixedIo::new(Bytes::from_static(b"hello"), server);
    let mut read = String::new();
    io.read_to_string(&mut read).await.unwrap();
    assert_eq!(read, "hello world");
}

#[tokio::test]
async fn a_prefix_longer_than_the_reader_buffer_comes_in_pieces() {
    let (mut client, server) = tokio::io::duplex(64);
    client.write_all(b"!").await.unwrap();
    let mut io = PrefixedIo::new(Bytes::from_static(b"abcdefg"), server);
    let mut pieces = Vec::new();
    for _ in 0..4 {
        let mut buf = [0u8; 3];
        let n = io.read(&mut buf).await.unwrap();
        pieces.push(buf[..n].to_vec());
    }
    assert_eq!(
        pieces,
        [
            b"abc".to_vec(),
            b"def".to_vec(),
            b"g".to_vec(),
            b"!".to_vec()
        ],
        "the prefix is used up before the connection is read"
    );
}

#[tokio::test]
async fn an_empty_prefix_passes_reads_through() {
    let (mut client, server) = tokio::io::duplex(64);
    client.write_all(b"direct").await.unwrap();
    drop(client);
    let mut io = PrefixedIo::new(Bytes::new(), server);
    let mut read = Vec::new();
    io.read_to_end(&mut read).await.unwrap();
    assert_eq!(read, b"direct");
}

#[tokio::test]
async fn writes_flush_and_shutdown_reach_the_connection() {
    let (mut client, server) = tokio::io::duplex(64);
    let mut io = PrefixedIo::new(Bytes::from_static(b"unread"), server);
    io.write_all(b"reply").await.unwrap();
    io.flush().await.unwrap();
    io.shutdown().await.unwrap();
    let mut read = Vec::new();
    client.read_to_end(&mut read).await.unwrap();
    assert_eq!(read, b"reply", "the prefix is never written back");
}

#[tokio::test]
async fn vectored_writes_pass_through() {
    let mut io = PrefixedIo::new(Bytes::new(), Vec::<u8>::new());
    assert!(io.is_write_vectored(), "a Vec takes vectored writes");
    let n = io
        .write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
        .await
        .unwrap();
    assert_eq!(n, 4);
    assert_eq!(io.io, b"abcd");

    let io = PrefixedIo::new(Bytes::new(), Broken);
    assert!(
        !io.is_write_vectored(),
        "the wrapper claims no more than the connection"
    );
}
