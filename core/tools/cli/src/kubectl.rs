//! kubectl's everyday commands (`apply`, `get`, `label`, `delete`, `create
//! ns`) against the cluster of any kubeconfig context (a cluster of a
//! running `strait local up` or a Kubernetes cluster), with kubectl's
//! arguments and output, so the guide's `kubectl --context east ...` lines
//! work with `strait` in place of `kubectl`. What they send and print is
//! worked out by `strait-kubectl`; here are the flags, the printing and the
//! exit codes.

pub mod apply;
pub mod create;
pub mod delete;
pub mod get;
pub mod label;
