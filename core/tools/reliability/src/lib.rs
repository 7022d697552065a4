//! The reliability drills of strait: the pod-to-pod guide on the embedded
//! clusters, under load, while things break. Each drill returns rows of
//! what was tried, what happened and what was lost; `strait-reliability`
//! runs them and prints the table.

pub mod accounting;
pub mod faults;
pub mod fuzz;
pub mod mesh;
pub mod outage;
pub mod plugins;
mod poll;
pub mod report;
pub mod resources;
pub mod security;
pub mod soak;

pub use accounting::{Denied, Ledger, Traffic, Window};
pub use mesh::{DrillMesh, Load};
pub use report::{Outcome, Report, Row};
