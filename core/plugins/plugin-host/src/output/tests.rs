use super::*;

#[test]
fn drains_what_was_written_once() {
    let out = CapturedOutput::default();
    assert_eq!(out.drain(), None);
    out.push(b"hello\n");
    out.push(b"world\n");
    assert_eq!(out.drain().as_deref(), Some("hello\nworld"));
    assert_eq!(out.drain(), None);
}

#[test]
fn keeps_only_the_newest_bytes_and_never_fails_a_write() {
    let mut out = CapturedOutput::default();
    for _ in 0..3 {
        OutputStream::write(&mut out, Bytes::from(vec![b'a'; CAPACITY])).unwrap();
    }
    OutputStream::write(&mut out, Bytes::from_static(b"tail")).unwrap();
    assert_eq!(out.check_write().unwrap(), CAPACITY);
    let text = out.drain().unwrap();
    assert_eq!(text.len(), CAPACITY);
    assert!(text.ends_with("tail"));
}
