//! Label sets, built per request or connection.

use strait_decisions::authz::{ClientTls, ResourceRef};

/// The longest `authority` label value: a DNS name (253 bytes), a colon
/// and a port. A client may send a `Host` of many kilobytes; cut to this,
/// every series it makes costs what a real authority's does.
pub const MAX_AUTHORITY_LABEL: usize = 253 + 1 + 5;

/// The label set of one series: `(name, value)` pairs in the order they
/// were added. Series with the same pairs in the same order are the same
/// series, so builders add labels in a fixed order.
pub type LabelSet = Vec<(String, String)>;

/// The TLS state of a connection, as Linkerd labels it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    /// Inbound mTLS: `tls="true"`, `client_id=<identity>`.
    Client(String),
    /// Outbound mTLS: `tls="true"`, `server_id=<identity>`.
    Server(String),
    /// TLS without a peer identity: `tls="true"`.
    Anonymous,
    /// Plaintext: `tls="no_identity"`, `no_tls_reason=<reason>`; Linkerd's
    /// reasons are `no_tls_from_remote` (inbound) and `not_provided_by_service_discovery` (outbound).
    Plaintext(String),
}

impl From<&ClientTls> for Tls {
    fn from(tls: &ClientTls) -> Self {
        match tls {
            ClientTls::Mtls(id) => Tls::Client(id.clone()),
            ClientTls::TlsAnonymous => Tls::Anonymous,
            ClientTls::Plaintext(reason) => Tls::Plaintext(reason.clone()),
        }
    }
}

/// Builds a [`LabelSet`] in Linkerd's label names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels(LabelSet);

impl Labels {
    /// No labels yet.
    pub fn new() -> Self {
        Labels::default()
    }

    /// `direction="inbound"`.
    pub fn inbound() -> Self {
        Labels::new().with("direction", "inbound")
    }

    /// `direction="outbound"`.
    pub fn outbound() -> Self {
        Labels::new().with("direction", "outbound")
    }

    /// Adds one label.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.push((name.into(), value.into()));
        self
    }

    /// Adds `authority`, cut to [`MAX_AUTHORITY_LABEL`] bytes (on a
    /// character boundary): a real authority is never longer.
    pub fn with_authority(self, authority: &str) -> Self {
        let mut end = authority.len().min(MAX_AUTHORITY_LABEL);
        while !authority.is_char_boundary(end) {
            end -= 1;
        }
        self.with("authority", authority.get(..end).unwrap_or_default())
    }

    /// Adds the TLS labels (`tls` and `client_id`, `server_id` or
    /// `no_tls_reason`).
    pub fn with_tls(self, tls: &Tls) -> Self {
        match tls {
            Tls::Client(id) => self.with("tls", "true").with("client_id", id.as_str()),
            Tls::Server(id) => self.with("tls", "true").with("server_id", id.as_str()),
            Tls::Anonymous => self.with("tls", "true"),
            Tls::Plaintext(reason) => self
                .with("tls", "no_identity")
                .with("no_tls_reason", reason.as_str()),
        }
    }

    /// Adds `<prefix>_group`, `<prefix>_kind` and `<prefix>_name` for a
    /// resource: `srv` for the server, `route` for the route, `authz` for
    /// the authorization.
    pub fn with_resource(self, prefix: &str, resource: &ResourceRef) -> Self {
        self.with(format!("{prefix}_group"), &*resource.group)
            .with(format!("{prefix}_kind"), &*resource.kind)
            .with(format!("{prefix}_name"), &*resource.name)
    }

    /// Adds each `(name, value)` with `prefix` before the name: the
    /// destination's endpoint labels become `dst_pod`, `dst_namespace`, ...
    pub fn with_prefixed<'a>(
        mut self,
        prefix: &str,
        labels: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Self {
        for (name, value) in labels {
            self.0.push((format!("{prefix}{name}"), value.clone()));
        }
        self
    }

    /// The labels as a series key.
    pub fn build(self) -> LabelSet {
        self.0
    }
}
