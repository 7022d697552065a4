use super::*;

#[test]
fn strings_yaml_1_1_reads_otherwise_are_double_quoted() {
    let value: Value = serde_norway::from_str(
        "\"on\": \"yes\"\nlist: [\"off\", \"12:30\", \"0777\", \"1e3\", \"0x1F\", \".inf\", \"2001-12-14\", \"-1\", \"~\", \"Y\"]\n",
    )
    .expect("input");
    let text = to_yaml(&value).expect("yaml");
    assert_eq!(
        text,
        "\"on\": \"yes\"\nlist:\n- \"off\"\n- \"12:30\"\n- \"0777\"\n- \"1e3\"\n- \"0x1F\"\n- \".inf\"\n- \"2001-12-14\"\n- \"-1\"\n- \"~\"\n- \"Y\"\n"
    );
    let back: Value = serde_norway::from_str(&text).expect("reads back");
    assert_eq!(back, value);
}

#[test]
fn ordinary_strings_and_real_scalars_are_left_plain() {
    let value: Value = serde_norway::from_str(
        "name: bb\nargs: [\"--h1-server-port=8080\", terminus, \"-c\", \"-\", \"v1.2-beta\"]\nreplicas: 1\nready: true\n",
    )
    .expect("input");
    assert_eq!(
        to_yaml(&value).expect("yaml"),
        "name: bb\nargs:\n- --h1-server-port=8080\n- terminus\n- -c\n- '-'\n- v1.2-beta\nreplicas: 1\nready: true\n"
    );
}

#[test]
fn a_token_lookalike_in_the_input_does_not_collide() {
    let value: Value = serde_norway::from_str("a: strait-quoted-0x\nb: \"on\"\n").expect("input");
    let text = to_yaml(&value).expect("yaml");
    let back: Value = serde_norway::from_str(&text).expect("reads back");
    assert_eq!(back, value, "{text}");
    assert!(text.contains("a: strait-quoted-0x\n"), "{text}");
}
