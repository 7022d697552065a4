use super::*;

#[test]
fn documents_split_at_separator_lines_and_keep_their_text() {
    let input = "---\n# lead\nkind: A\n---   # a comment\n\nkind: B\nx: |\n  ---not a separator\n...\n--- kind: C\n---\n# only a comment\n---\n";
    let docs = documents(input);
    assert_eq!(
        docs,
        vec![
            Document {
                number: 1,
                line: 2,
                text: "# lead\nkind: A\n".into()
            },
            Document {
                number: 2,
                line: 6,
                text: "kind: B\nx: |\n  ---not a separator\n".into()
            },
            Document {
                number: 3,
                line: 10,
                text: "kind: C\n".into()
            },
        ]
    );
}

#[test]
fn a_single_document_without_separators_is_one_document() {
    let docs = documents("{\"kind\": \"Pod\"}");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].text, "{\"kind\": \"Pod\"}\n");
    assert_eq!(docs[0].line, 1);
    assert!(documents("").is_empty());
    assert!(documents("\n# nothing\n---\n").is_empty());
}

#[test]
fn dashes_inside_a_word_do_not_separate() {
    let docs = documents("kind: A\n---x: 1\n");
    assert_eq!(docs.len(), 1);
}
