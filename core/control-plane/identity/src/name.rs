//! Workload identity names, in Linkerd's format.

use std::fmt;

/// Why an identity domain could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    /// A part of the name is not a valid DNS name; identities are DNS SANs,
    /// so anything else would produce certificates no proxy can check.
    #[error("{what} {value:?} is not a valid DNS name: {reason}")]
    InvalidDns {
        /// Which part (control-plane namespace, trust domain).
        what: &'static str,
        /// The offending value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// The suffix every workload identity in a mesh shares:
/// `serviceaccount.identity.<control-plane-ns>.<trust-domain>`.
///
/// Proxies compare peer identities as exact strings, so every cluster of a
/// multicluster mesh must build names with the same domain for pod-to-pod
/// mTLS across clusters to verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityDomain {
    control_plane_ns: String,
    trust_domain: String,
}

impl Default for IdentityDomain {
    /// Linkerd's defaults (`linkerd`, `cluster.local`), so identities match
    /// what Linkerd's own proxies and policies expect out of the box.
    fn default() -> Self {
        IdentityDomain {
            control_plane_ns: "linkerd".to_string(),
            trust_domain: "cluster.local".to_string(),
        }
    }
}

impl IdentityDomain {
    /// A domain with a custom control-plane namespace and trust domain, both
    /// checked to be DNS names so that every identity built from them is one.
    pub fn new(control_plane_ns: &str, trust_domain: &str) -> Result<Self, NameError> {
        check_dns("control-plane namespace", control_plane_ns, DnsShape::Label)?;
        check_dns("trust domain", trust_domain, DnsShape::Name)?;
        Ok(IdentityDomain {
            control_plane_ns: control_plane_ns.to_string(),
            trust_domain: trust_domain.to_string(),
        })
    }

    /// The namespace the control plane runs in (the `<control-plane-ns>` part).
    pub fn control_plane_ns(&self) -> &str {
        &self.control_plane_ns
    }

    /// The trust domain (the last part of every identity).
    pub fn trust_domain(&self) -> &str {
        &self.trust_domain
    }

    /// The identity of service account `sa` in namespace `ns`:
    /// `<sa>.<ns>.serviceaccount.identity.<control-plane-ns>.<trust-domain>`.
    /// This is the name the proxy asks for and the DNS SAN its leaf carries.
    pub fn identity(&self, ns: &str, sa: &str) -> String {
        format!("{sa}.{ns}.{}", self.suffix())
    }

    /// Splits an identity of this domain back into `(namespace, serviceaccount)`,
    /// for callers that hold an identity and need the workload it names.
    /// `None` when the name belongs to another domain or is malformed.
    pub fn parse<'a>(&self, identity: &'a str) -> Option<(&'a str, &'a str)> {
        let suffix = self.suffix();
        let head = identity.strip_suffix(suffix.as_str())?.strip_suffix('.')?;
        let (sa, ns) = head.split_once('.')?;
        if sa.is_empty() || ns.is_empty() || ns.contains('.') {
            return None;
        }
        Some((ns, sa))
    }

    fn suffix(&self) -> String {
        format!(
            "serviceaccount.identity.{}.{}",
            self.control_plane_ns, self.trust_domain
        )
    }
}

impl fmt::Display for IdentityDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.suffix())
    }
}

#[derive(Clone, Copy)]
enum DnsShape {
    Label,
    Name,
}

fn check_dns(what: &'static str, value: &str, shape: DnsShape) -> Result<(), NameError> {
    let fail = |reason| {
        Err(NameError::InvalidDns {
            what,
            value: value.to_string(),
            reason,
        })
    };
    if value.is_empty() {
        return fail("it is empty");
    }
    if value.len() > 253 {
        return fail("it is longer than 253 characters");
    }
    if matches!(shape, DnsShape::Label) && value.contains('.') {
        return fail("it must be a single label, without dots");
    }
    for label in value.split('.') {
        if label.is_empty() {
            return fail("it has an empty label");
        }
        if label.len() > 63 {
            return fail("a label is longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return fail("only lowercase letters, digits, '-' and '.' are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return fail("a label starts or ends with '-'");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
