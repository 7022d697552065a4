use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;

const READY: Member = Member {
    ready: true,
    current: true,
    terminating: false,
};
const STARTING: Member = Member {
    ready: false,
    current: true,
    terminating: false,
};
const OUTDATED: Member = Member {
    ready: true,
    current: false,
    terminating: false,
};
const TERMINATING: Member = Member {
    ready: false,
    current: false,
    terminating: true,
};

fn ordered(replicas: u32) -> Policy {
    Policy {
        replicas,
        parallel: false,
        on_delete: false,
        partition: 0,
    }
}

fn members(list: &[(u32, Member)]) -> BTreeMap<u32, Member> {
    list.iter().copied().collect()
}

#[test]
fn pods_are_named_by_ordinal_and_names_read_back() {
    assert_eq!(pod_name("web", 0), "web-0");
    assert_eq!(pod_name("web", 12), "web-12");
    assert_eq!(ordinal_of("web", "web-0"), Some(0));
    assert_eq!(ordinal_of("web", "web-12"), Some(12));
    assert_eq!(ordinal_of("web", "web-01"), None);
    assert_eq!(ordinal_of("web", "web-"), None);
    assert_eq!(ordinal_of("web", "web-x"), None);
    assert_eq!(ordinal_of("web", "webby-0"), None);
    assert_eq!(ordinal_of("web", "web-api-0"), None);
}

#[test]
fn ordered_creation_waits_for_each_pod_to_be_ready() {
    let policy = ordered(3);
    assert_eq!(plan(policy, &members(&[])), vec![Step::Create(0)]);
    assert_eq!(plan(policy, &members(&[(0, STARTING)])), vec![]);
    assert_eq!(plan(policy, &members(&[(0, READY)])), vec![Step::Create(1)]);
    assert_eq!(
        plan(policy, &members(&[(0, READY), (1, READY)])),
        vec![Step::Create(2)]
    );
    assert_eq!(
        plan(policy, &members(&[(0, READY), (1, READY), (2, READY)])),
        vec![]
    );
}

#[test]
fn a_missing_pod_is_made_again_under_its_name_once_the_old_one_is_gone() {
    let policy = ordered(2);
    assert_eq!(
        plan(policy, &members(&[(0, TERMINATING), (1, READY)])),
        vec![]
    );
    assert_eq!(plan(policy, &members(&[(1, READY)])), vec![Step::Create(0)]);
}

#[test]
fn parallel_management_creates_and_removes_at_once() {
    let policy = Policy {
        parallel: true,
        ..ordered(3)
    };
    assert_eq!(
        plan(policy, &members(&[])),
        vec![Step::Create(0), Step::Create(1), Step::Create(2)]
    );
    let down = Policy {
        parallel: true,
        ..ordered(1)
    };
    assert_eq!(
        plan(down, &members(&[(0, READY), (1, STARTING), (2, READY)])),
        vec![Step::Delete(2), Step::Delete(1)]
    );
}

#[test]
fn ordered_scale_down_removes_the_highest_first_one_at_a_time() {
    let policy = ordered(1);
    let three = members(&[(0, READY), (1, READY), (2, READY)]);
    assert_eq!(plan(policy, &three), vec![Step::Delete(2)]);
    let one_going = members(&[(0, READY), (1, READY), (2, TERMINATING)]);
    assert_eq!(plan(policy, &one_going), vec![]);
    let two = members(&[(0, READY), (1, READY)]);
    assert_eq!(plan(policy, &two), vec![Step::Delete(1)]);
    // Not while a wanted Pod is not ready.
    let unready = members(&[(0, STARTING), (1, READY)]);
    assert_eq!(plan(policy, &unready), vec![]);
    assert_eq!(
        plan(ordered(0), &members(&[(0, READY)])),
        vec![Step::Delete(0)]
    );
}

#[test]
fn a_rolling_update_replaces_the_highest_outdated_pod_once_all_are_ready() {
    let policy = ordered(3);
    let all_old = members(&[(0, OUTDATED), (1, OUTDATED), (2, OUTDATED)]);
    assert_eq!(plan(policy, &all_old), vec![Step::Delete(2)]);
    let rolling = members(&[(0, OUTDATED), (1, OUTDATED), (2, STARTING)]);
    assert_eq!(plan(policy, &rolling), vec![]);
    let next = members(&[(0, OUTDATED), (1, OUTDATED), (2, READY)]);
    assert_eq!(plan(policy, &next), vec![Step::Delete(1)]);
    let partitioned = Policy {
        partition: 2,
        ..policy
    };
    assert_eq!(plan(partitioned, &next), vec![]);
    let on_delete = Policy {
        on_delete: true,
        ..policy
    };
    assert_eq!(plan(on_delete, &all_old), vec![]);
}

fn pod(revision: &str, ready: bool) -> Pod {
    Pod {
        metadata: ObjectMeta {
            labels: Some(BTreeMap::from([(
                CONTROLLER_REVISION_HASH.to_string(),
                revision.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        status: Some(PodStatus {
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..PodCondition::default()
            }]),
            ..PodStatus::default()
        }),
        ..Pod::default()
    }
}

#[test]
fn the_status_counts_pods_as_kubectl_reads_them() {
    let set = StatefulSet {
        metadata: ObjectMeta {
            generation: Some(3),
            ..ObjectMeta::default()
        },
        spec: StatefulSetSpec::default(),
        status: None,
    };
    let (a, b, c) = (
        pod("web-new", true),
        pod("web-old", true),
        pod("web-old", false),
    );
    let status = set_status(&set, vec![&a, &b, &c], "web-new");
    assert_eq!(status["observedGeneration"], 3);
    assert_eq!(status["replicas"], 3);
    assert_eq!(status["readyReplicas"], 2);
    assert_eq!(status["updatedReplicas"], 1);
    assert_eq!(status["currentRevision"], "web-old");
    assert_eq!(status["currentReplicas"], 2);
    assert_eq!(status["updateRevision"], "web-new");
    let done = set_status(&set, vec![&a], "web-new");
    assert_eq!(done["currentRevision"], "web-new");
    assert_eq!(done["currentReplicas"], 1);
}
