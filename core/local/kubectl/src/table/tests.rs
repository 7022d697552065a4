use super::*;

#[test]
fn ages_match_kubectl() {
    assert_eq!(human_duration(0), "0s");
    assert_eq!(human_duration(114), "114s");
    assert_eq!(human_duration(119), "119s");
    assert_eq!(human_duration(120), "2m");
    assert_eq!(human_duration(312), "5m12s");
    assert_eq!(human_duration(600), "10m");
    assert_eq!(human_duration(179 * 60), "179m");
    assert_eq!(human_duration(3 * 3600), "3h");
    assert_eq!(human_duration(3 * 3600 + 25 * 60), "3h25m");
    assert_eq!(human_duration(20 * 3600), "20h");
    assert_eq!(human_duration(2 * 86_400), "2d");
    assert_eq!(human_duration(2 * 86_400 + 5 * 3600), "2d5h");
    assert_eq!(human_duration(30 * 86_400), "30d");
    assert_eq!(human_duration(3 * 365 * 86_400), "3y");
}

#[test]
fn ages_are_read_from_creation_timestamps() {
    assert_eq!(age(Some("1970-01-01T00:00:00Z"), 114), "114s");
    assert_eq!(age(None, 114), "<unknown>");
}

#[test]
fn columns_are_three_spaces_apart_and_left_aligned() {
    let rows = vec![vec![
        "bb-target".to_string(),
        "ClusterIP".into(),
        "10.43.56.245".into(),
        "<none>".into(),
        "8080/TCP".into(),
        "114s".into(),
    ]];
    let table = render(
        &[
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
        ],
        &rows,
    );
    assert_eq!(
        table,
        "NAME        TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)    AGE\n\
         bb-target   ClusterIP   10.43.56.245   <none>        8080/TCP   114s\n"
    );
}
