//! Leader election over a Lease, so replicas of one Link's service mirror do
//! not fight over the mirrors they write.
//!
//! This is client-go's leader election (which Linkerd's service mirror uses
//! with Lease `service-mirror-write-<link>`) over the store interface, so it
//! runs the same against the embedded store and Kubernetes:
//! - a candidate takes the Lease when it has no holder, or when its record
//!   has not changed for the lease duration as this candidate observed it
//!   (its own clock only: clocks of different machines are not compared);
//! - the leader renews every retry period, and steps down as soon as it sees
//!   another holder or has not renewed for the renew deadline (shorter than
//!   the lease duration, so it has stopped before anyone else may start);
//! - on shutdown the leader clears `holderIdentity`, so a successor takes
//!   over at once instead of after the lease duration;
//! - every write carries the `resourceVersion` it was computed from, a
//!   precondition on both stores: of two candidates writing at once, one
//!   gets a `Conflict` and does not lead.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use strait_store::{ClusterStore, StoreError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The field manager of the election's writes of the Lease.
pub const LEASE_FIELD_MANAGER: &str = "strait-leader-election";

/// The field manager that only makes sure the Lease exists: it owns no
/// field, so its write never changes a Lease another candidate holds.
const LEASE_CREATE_MANAGER: &str = "strait-leader-election-create";

/// The Lease a Link's service mirror is elected by, named as Linkerd's.
pub fn service_mirror_lease_name(link: &str) -> String {
    format!("service-mirror-write-{link}")
}

/// Which Lease to hold, as whom, and the election's timing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseConfig {
    /// The Lease's namespace.
    pub namespace: String,
    /// The Lease's name.
    pub name: String,
    /// This candidate, as `holderIdentity` names it (on Kubernetes, the pod's name).
    pub identity: String,
    /// How long others wait, after they last saw the Lease change, before
    /// taking it from a holder that stopped renewing.
    pub lease_duration: Duration,
    /// How long the leader keeps leading while its renewals fail.
    pub renew_deadline: Duration,
    /// How often the leader renews and candidates try to acquire.
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// The Lease of Link `link`'s service mirror in `namespace` (the Link's),
    /// with Linkerd's timing: 30 s lease, 10 s renew deadline, 2 s retry.
    pub fn for_link(namespace: &str, link: &str, identity: &str) -> Self {
        LeaseConfig {
            namespace: namespace.to_string(),
            name: service_mirror_lease_name(link),
            identity: identity.to_string(),
            lease_duration: Duration::from_secs(30),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// Checks what makes the election safe: a named Lease and candidate, a
    /// whole number of seconds of lease (the Lease records seconds), a
    /// leader that gives up before its lease can expire for others, and
    /// renewals that fit in the renew deadline.
    pub fn validate(&self) -> Result<(), LeaseConfigError> {
        if self.namespace.is_empty() || self.name.is_empty() {
            return Err(LeaseConfigError::Unnamed);
        }
        let lease = format!("{}/{}", self.namespace, self.name);
        if self.identity.is_empty() {
            return Err(LeaseConfigError::NoIdentity { lease });
        }
        let seconds = self.lease_duration.as_secs();
        if seconds == 0 || self.lease_duration.subsec_nanos() != 0 || seconds > i32::MAX as u64 {
            return Err(LeaseConfigError::LeaseDuration {
                lease,
                lease_duration: self.lease_duration,
            });
        }
        if self.renew_deadline >= self.lease_duration {
            return Err(LeaseConfigError::RenewDeadline {
                lease,
                renew_deadline: self.renew_deadline,
                lease_duration: self.lease_duration,
            });
        }
        if self.retry_period.is_zero() || self.retry_period >= self.renew_deadline {
            return Err(LeaseConfigError::RetryPeriod {
                lease,
                retry_period: self.retry_period,
                renew_deadline: self.renew_deadline,
            });
        }
        Ok(())
    }

    fn lease_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }
}

/// Why a [`LeaseConfig`] would make an unsafe election; names the Lease and
/// the setting at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LeaseConfigError {
    /// The Lease has no namespace or no name.
    #[error("the Lease needs a namespace and a name")]
    Unnamed,
    /// The candidate has no name to write as holder.
    #[error("lease {lease}: the holder identity is empty")]
    NoIdentity {
        /// `namespace/name` of the Lease.
        lease: String,
    },
    /// The Lease records whole seconds, at least one.
    #[error(
        "lease {lease}: the lease duration ({lease_duration:?}) must be a whole number of \
         seconds, at least 1"
    )]
    LeaseDuration {
        /// `namespace/name` of the Lease.
        lease: String,
        /// The duration asked for.
        lease_duration: Duration,
    },
    /// A leader must stop before others may take over.
    #[error(
        "lease {lease}: the renew deadline ({renew_deadline:?}) must be shorter than the \
         lease duration ({lease_duration:?})"
    )]
    RenewDeadline {
        /// `namespace/name` of the Lease.
        lease: String,
        /// The renew deadline asked for.
        renew_deadline: Duration,
        /// The lease duration asked for.
        lease_duration: Duration,
    },
    /// Renewals must be attempted, and more than once per renew deadline.
    #[error(
        "lease {lease}: the retry period ({retry_period:?}) must be positive and shorter than \
         the renew deadline ({renew_deadline:?})"
    )]
    RetryPeriod {
        /// `namespace/name` of the Lease.
        lease: String,
        /// The retry period asked for.
        retry_period: Duration,
        /// The renew deadline asked for.
        renew_deadline: Duration,
    },
}

/// What one attempt found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// This candidate holds the Lease (acquired or renewed).
    Leading,
    /// Another candidate holds it, and its lease has not expired.
    HeldBy(String),
}

/// The Lease record as last seen, and when this candidate saw it change.
struct Observed {
    resource_version: String,
    at: Instant,
}

/// One candidate's view of the Lease, and the single steps of the election.
/// [`Elector::spawn`] runs them on the election's schedule.
pub struct Elector<S> {
    store: S,
    config: LeaseConfig,
    observed: Option<Observed>,
    leading: bool,
}

impl<S: ClusterStore> Elector<S> {
    /// A candidate for `config`'s Lease in `store`; fails when the
    /// configuration is unsafe (see [`LeaseConfig::validate`]).
    pub fn new(store: S, config: LeaseConfig) -> Result<Self, LeaseConfigError> {
        config.validate()?;
        Ok(Elector {
            store,
            config,
            observed: None,
            leading: false,
        })
    }

    /// Whether the last attempt left this candidate holding the Lease.
    pub fn is_leader(&self) -> bool {
        self.leading
    }

    /// One attempt to acquire the Lease, or to renew it when held: reads
    /// it (creating it without a holder when absent), and writes this
    /// candidate as holder when it is free, expired or already ours, with
    /// the read version as precondition. A write that loses to another
    /// candidate's is an error (`Conflict`), and this candidate does not
    /// lead.
    pub async fn try_acquire_or_renew(&mut self) -> Result<Attempt, StoreError> {
        let result = self.attempt().await;
        self.leading = matches!(result, Ok(Attempt::Leading));
        result
    }

    async fn attempt(&mut self) -> Result<Attempt, StoreError> {
        let (namespace, name) = (&self.config.namespace, &self.config.name);
        let lease = match self.store.get::<Lease>(namespace, name).await? {
            Some(lease) => lease,
            None => {
                self.store
                    .apply(&bare_lease(namespace, name), LEASE_CREATE_MANAGER)
                    .await?;
                self.store
                    .get::<Lease>(namespace, name)
                    .await?
                    .ok_or_else(|| StoreError::NotFound {
                        what: format!("leases {name:?} in {namespace} (deleted while acquiring)"),
                    })?
            }
        };
        let version = lease.metadata.resource_version.clone().unwrap_or_default();
        if version.is_empty() {
            // Without a version the write would be unconditional, and two
            // candidates could both win.
            return Err(StoreError::Invalid {
                what: format!("leases {name:?} in {namespace}"),
                reason: "the stored Lease has no metadata.resourceVersion to write against".into(),
            });
        }
        let now = Instant::now();
        if self
            .observed
            .as_ref()
            .is_none_or(|seen| seen.resource_version != version)
        {
            self.observed = Some(Observed {
                resource_version: version.clone(),
                at: now,
            });
        }
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let ours = holder == self.config.identity;
        if !holder.is_empty() && !ours {
            let duration = spec
                .lease_duration_seconds
                .and_then(|s| u64::try_from(s).ok())
                .map_or(self.config.lease_duration, Duration::from_secs);
            let seen = self.observed.as_ref().map_or(now, |o| o.at);
            if now < seen + duration {
                return Ok(Attempt::HeldBy(holder));
            }
        }
        let wall = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let (acquire_time, transitions) = if ours {
            (
                spec.acquire_time.clone().unwrap_or_else(|| wall.clone()),
                spec.lease_transitions.unwrap_or(0),
            )
        } else if holder.is_empty() && spec.lease_transitions.is_none() {
            (wall.clone(), 0)
        } else {
            (
                wall.clone(),
                spec.lease_transitions.unwrap_or(0).saturating_add(1),
            )
        };
        let desired = Lease {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                resource_version: Some(version),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.config.identity.clone()),
                lease_duration_seconds: Some(self.config.lease_seconds()),
                acquire_time: Some(acquire_time),
                renew_time: Some(wall),
                lease_transitions: Some(transitions),
                ..LeaseSpec::default()
            }),
        };
        let stored = self.store.apply(&desired, LEASE_FIELD_MANAGER).await?;
        self.observed = Some(Observed {
            resource_version: stored.metadata.resource_version.unwrap_or_default(),
            at: Instant::now(),
        });
        Ok(Attempt::Leading)
    }

    /// Gives the Lease up if this candidate holds it: clears
    /// `holderIdentity` (with a one-second lease, as client-go does), so the
    /// next candidate takes it at its next attempt. Does nothing when
    /// another candidate holds it.
    pub async fn release(&mut self) -> Result<(), StoreError> {
        self.leading = false;
        let (namespace, name) = (&self.config.namespace, &self.config.name);
        let Some(lease) = self.store.get::<Lease>(namespace, name).await? else {
            return Ok(());
        };
        let spec = lease.spec.unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return Ok(());
        }
        let released = Lease {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                resource_version: lease.metadata.resource_version,
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(String::new()),
                lease_duration_seconds: Some(1),
                acquire_time: spec.acquire_time,
                renew_time: Some(MicroTime(k8s_openapi::jiff::Timestamp::now())),
                lease_transitions: spec.lease_transitions,
                ..LeaseSpec::default()
            }),
        };
        self.store.apply(&released, LEASE_FIELD_MANAGER).await?;
        Ok(())
    }

    /// Runs the election in the background until the returned handle is
    /// released (or dropped, which stops it without releasing, as a crash).
    pub fn spawn(self) -> Leadership {
        let (leading_tx, leading) = watch::channel(false);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(self.run(leading_tx, shutdown_rx));
        Leadership {
            leading,
            shutdown,
            task: Some(task),
        }
    }

    async fn run(mut self, leading: watch::Sender<bool>, mut shutdown: watch::Receiver<bool>) {
        let jitter = RandomState::new();
        let mut attempts: u64 = 0;
        let lease = format!("{}/{}", self.config.namespace, self.config.name);
        loop {
            // Candidate: try every retry period (with jitter, so candidates
            // that start together do not keep colliding) until acquired.
            loop {
                let attempt =
                    tokio::time::timeout(self.config.renew_deadline, self.try_acquire_or_renew())
                        .await;
                match attempt {
                    Ok(Ok(Attempt::Leading)) => break,
                    Ok(Ok(Attempt::HeldBy(holder))) => {
                        tracing::debug!(%lease, %holder, "the lease is held by another candidate");
                    }
                    Ok(Err(error)) => tracing::debug!(%lease, %error, "cannot acquire the lease"),
                    Err(_) => tracing::debug!(%lease, "acquiring the lease timed out"),
                }
                attempts += 1;
                let fraction = (jitter.hash_one(attempts) % 1000) as f64 / 1000.0;
                let pause = self.config.retry_period.mul_f64(1.0 + 1.2 * fraction);
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => return,
                }
            }
            tracing::info!(%lease, identity = %self.config.identity, "leading");
            leading.send_replace(true);
            let mut renewed = Instant::now();
            // Leader: renew every retry period; step down when another
            // holder is seen or nothing was renewed for the renew deadline.
            let reason = loop {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.retry_period) => {}
                    _ = shutdown.changed() => {
                        leading.send_replace(false);
                        if let Err(error) = self.release().await {
                            tracing::warn!(%lease, %error, "cannot release the lease; it expires instead");
                        }
                        return;
                    }
                }
                let deadline = renewed + self.config.renew_deadline;
                match tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await {
                    Ok(Ok(Attempt::Leading)) => renewed = Instant::now(),
                    Ok(Ok(Attempt::HeldBy(holder))) => {
                        break format!("{holder} holds the lease");
                    }
                    Ok(Err(error)) if Instant::now() >= deadline => {
                        break format!("no renewal within the renew deadline: {error}");
                    }
                    Ok(Err(error)) => {
                        tracing::warn!(%lease, %error, "renewing the lease failed; retrying");
                    }
                    Err(_) => break "no renewal within the renew deadline".to_string(),
                }
            };
            self.leading = false;
            leading.send_replace(false);
            tracing::warn!(%lease, %reason, "stepped down");
        }
    }
}

/// A Lease with no holder, written only to make sure the Lease exists.
fn bare_lease(namespace: &str, name: &str) -> Lease {
    Lease {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            ..ObjectMeta::default()
        },
        spec: None,
    }
}

/// A running election: whether this candidate leads now, and the means to
/// give the Lease up. Dropping it stops the election without releasing the
/// Lease (others then wait out the lease duration, as after a crash).
pub struct Leadership {
    leading: watch::Receiver<bool>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Leadership {
    /// Whether this candidate leads now.
    pub fn is_leading(&self) -> bool {
        *self.leading.borrow()
    }

    /// Follows leadership: true while leading.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.leading.clone()
    }

    /// Stops the election and, when leading, releases the Lease so a
    /// successor takes over at once. Returns once released.
    pub async fn release(mut self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Runs `work` for each term this candidate leads, until `shutdown` is set.
/// Each term's `work` gets a stop signal, set when leadership is lost (or on
/// shutdown); the next term starts only after the previous `work` returned,
/// so two terms never overlap. Any change of `leading` during a term ends
/// it, so a term lost and regained at once still restarts the work.
/// Returns after the last `work` has returned.
pub async fn while_leading<F, Fut>(
    mut leading: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
    mut work: F,
) where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            led = leading.wait_for(|l| *l) => if led.is_err() { return },
            _ = shutdown.changed() => return,
        }
        let (stop, stopped) = watch::channel(false);
        let term = work(stopped);
        tokio::pin!(term);
        let ending = tokio::select! {
            _ = &mut term => None,
            lost = leading.changed() => Some(lost.is_err()),
            _ = shutdown.changed() => Some(true),
        };
        if let Some(last) = ending {
            stop.send_replace(true);
            term.await;
            if last {
                return;
            }
        } else {
            // The work ended by itself; wait for the term to end before
            // starting another.
            tokio::select! {
                lost = leading.changed() => if lost.is_err() { return },
                _ = shutdown.changed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests;
