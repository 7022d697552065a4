use super::*;

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
