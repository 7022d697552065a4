//! The JSON bodies of the API, shared by [`crate::serve`] and
//! [`crate::LocalClient`] so that the two cannot drift apart.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What happened to one applied object, as kubectl reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplyOutcome {
    /// The object did not exist.
    Created,
    /// The object existed and changed.
    Configured,
    /// The object existed and the apply changed nothing.
    Unchanged,
}

impl fmt::Display for ApplyOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ApplyOutcome::Created => "created",
            ApplyOutcome::Configured => "configured",
            ApplyOutcome::Unchanged => "unchanged",
        })
    }
}

/// An object as the store identifies it, so the CLI can name it as kubectl
/// does (`deployment.apps/bb`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectId {
    /// API group; empty for the core group.
    pub group: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace; `None` for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// One object of an apply and what happened to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedObject {
    /// The object, as stored (with the namespace it got).
    #[serde(flatten)]
    pub object: ObjectId,
    /// Created, configured or unchanged.
    pub outcome: ApplyOutcome,
}

/// The answer to `POST /v1/clusters/{c}/apply`: every object, in the order
/// of the documents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyResponse {
    /// One entry per object applied.
    pub results: Vec<AppliedObject>,
}

/// `POST /v1/clusters/{c}/delete`: the object to delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRequest {
    /// Kind, e.g. `Service`.
    pub kind: String,
    /// API group, when the kind alone is ambiguous (e.g. `HTTPRoute`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Namespace; `default` when unset, ignored for cluster-scoped kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// The answer to a delete: the object that was deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteResponse {
    /// The deleted object.
    pub deleted: ObjectId,
}

/// `POST /v1/clusters/{c}/label`: labels to set and remove on one object,
/// with kubectl's rule that changing an existing label needs `overwrite`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelRequest {
    /// Kind, e.g. `Service`.
    pub kind: String,
    /// API group, when the kind alone is ambiguous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Namespace; `default` when unset, ignored for cluster-scoped kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Labels to set.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Label keys to remove.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Whether an existing label may be given a new value.
    #[serde(default)]
    pub overwrite: bool,
}

/// What a label request did, in kubectl's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LabelOutcome {
    /// Labels were set (and perhaps some removed).
    Labeled,
    /// Labels were only removed.
    Unlabeled,
    /// Nothing changed.
    NotLabeled,
}

impl fmt::Display for LabelOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LabelOutcome::Labeled => "labeled",
            LabelOutcome::Unlabeled => "unlabeled",
            LabelOutcome::NotLabeled => "not labeled",
        })
    }
}

/// The answer to a label request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelResponse {
    /// The labelled object.
    pub object: ObjectId,
    /// What changed.
    pub outcome: LabelOutcome,
    /// Things worth telling the user that did not fail the request, e.g.
    /// `label "x" not found.` for a removal of an absent label.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The body of every error response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for a human.
    pub error: String,
    /// For a failed apply: the objects applied before the failing document,
    /// which stay applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<AppliedObject>,
}
