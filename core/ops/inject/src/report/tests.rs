use super::*;

fn report(kind: &str, name: &str, outcome: Outcome) -> Report {
    Report {
        kind: kind.into(),
        name: name.into(),
        outcome,
    }
}

#[test]
fn the_guide_stream_prints_linkerd_lines() {
    let text = render(&[
        report("namespace", "mc-demo", Outcome::Annotated),
        report("deployment", "bb", Outcome::Injected),
        report("service", "bb", Outcome::Skipped(None)),
    ]);
    assert_eq!(
        text,
        "\nnamespace \"mc-demo\" annotated\ndeployment \"bb\" injected\nservice \"bb\" skipped\n\n"
    );
}

#[test]
fn skipped_workloads_are_warned_about_with_their_reason() {
    let text = render(&[
        report(
            "deployment",
            "a",
            Outcome::Skipped(Some(SkipReason::AlreadyInjected)),
        ),
        report(
            "statefulset",
            "b",
            Outcome::Skipped(Some(SkipReason::InjectDisabled)),
        ),
        report(
            "deployment",
            "c",
            Outcome::Skipped(Some(SkipReason::InjectDisabled)),
        ),
        report("", "", Outcome::Skipped(None)),
    ]);
    assert_eq!(
        text,
        "\n\u{203c} \"linkerd-proxy\" container already present in deployment/a\n\
         \u{203c} \"linkerd.io/inject: disabled\" annotation set on statefulset/b, deployment/c\n\
         \u{203c} no supported objects found\n\n\
         deployment \"a\" skipped\nstatefulset \"b\" skipped\ndeployment \"c\" skipped\n\
         document missing \"kind\" field, skipped\n\n"
    );
}
