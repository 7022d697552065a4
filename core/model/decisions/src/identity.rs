//! Matching mesh identities as MeshTLSAuthentication does: exact names, `*`
//! (any authenticated client) and `*.suffix`.

use std::fmt;

/// Identities admitted by an authentication, in the form the proxy API uses:
/// exact names plus DNS-like suffixes. The empty suffix matches every identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IdentityMatch {
    /// Identities admitted exactly.
    pub identities: Vec<String>,
    /// Admitted suffixes, without the leading `*.`; `""` admits everyone.
    pub suffixes: Vec<String>,
}

/// Why an identity pattern was refused; names the pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityPatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for IdentityPatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid identity {:?}: {}", self.pattern, self.reason)
    }
}

impl std::error::Error for IdentityPatternError {}

impl IdentityMatch {
    /// Builds a match from MeshTLSAuthentication `identities[]` patterns. An
    /// empty list is refused, as Linkerd refuses it: it would silently admit no one.
    pub fn from_patterns<I, S>(patterns: I) -> Result<Self, IdentityPatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = IdentityMatch::default();
        for pattern in patterns {
            let pattern = pattern.as_ref();
            let err = |reason| IdentityPatternError {
                pattern: pattern.to_string(),
                reason,
            };
            if pattern.is_empty() {
                return Err(err("empty identity"));
            }
            if pattern == "*" {
                out.suffixes.push(String::new());
            } else if let Some(suffix) = pattern.strip_prefix("*.") {
                if suffix.is_empty() || suffix.contains('*') {
                    return Err(err(
                        "a wildcard may only be `*` or a leading `*.` before a name",
                    ));
                }
                out.suffixes.push(suffix.to_string());
            } else if pattern.contains('*') {
                return Err(err(
                    "a wildcard may only be `*` or a leading `*.` before a name",
                ));
            } else {
                out.identities.push(pattern.to_string());
            }
        }
        if out.identities.is_empty() && out.suffixes.is_empty() {
            return Err(IdentityPatternError {
                pattern: String::new(),
                reason: "no identities given",
            });
        }
        Ok(out)
    }

    /// Whether a verified client identity is admitted.
    pub fn matches(&self, identity: &str) -> bool {
        self.identities.iter().any(|i| i == identity)
            || self.suffixes.iter().any(|s| suffix_matches(s, identity))
    }
}

/// Whether `identity` lies under `suffix`: the empty suffix holds everything,
/// otherwise the identity must end with `.suffix` (a label boundary, so suffix
/// `cluster.local` does not admit `evilcluster.local`).
pub fn suffix_matches(suffix: &str, identity: &str) -> bool {
    if suffix.is_empty() {
        return !identity.is_empty();
    }
    identity.len() > suffix.len()
        && identity.ends_with(suffix)
        && identity.as_bytes()[identity.len() - suffix.len() - 1] == b'.'
}

/// What keeps `name` from being a mesh identity, if anything: an
/// identity is a DNS name (the certificate's DNS SAN), so it has 1 to 253
/// characters in dot-separated labels of 1 to 63 lowercase letters,
/// digits and inner hyphens. An identity one peer states for another (a
/// gateway naming its client) is held to this before anything matches
/// it, so a malformed one is refused rather than compared.
pub fn identity_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty identity");
    }
    if name.len() > 253 {
        return Some("longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("an empty label");
        }
        if label.len() > 63 {
            return Some("a label longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Some("a character other than a-z, 0-9, '-' and '.'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a label that starts or ends with '-'");
        }
    }
    None
}

#[cfg(test)]
mod tests;
