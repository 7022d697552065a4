use super::*;

/// A variable no test sets: the lookup falls through to PATH.
const UNSET: &str = "STRAIT_TEST_SUPPORT_NO_SUCH_VARIABLE";

#[test]
fn a_program_is_found_on_path() {
    let sh = find_program(UNSET, "sh").expect("sh is on PATH");
    assert!(sh.ends_with("sh") && sh.is_file(), "{}", sh.display());
}

#[test]
fn a_missing_program_is_none() {
    assert_eq!(find_program(UNSET, "no-such-program-anywhere"), None);
}

#[test]
fn printed_bytes_read_as_text_even_when_not_utf8() {
    assert_eq!(text(b"ok\xff"), "ok\u{fffd}");
}

#[test]
fn a_missing_tool_fails_where_tools_are_required() {
    assert_eq!(super::missing("no kubectl on PATH", false), Ok(()));
    let failure = super::missing("no kubectl on PATH", true).expect_err("required");
    assert!(failure.starts_with("no kubectl on PATH"), "{failure}");
    assert!(failure.contains("STRAIT_REQUIRE_TOOLS is set"), "{failure}");
}
