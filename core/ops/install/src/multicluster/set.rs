//! `--set` values, Helm's syntax for the keys Linkerd's multicluster chart
//! has that strait renders: `gateway.enabled` and
//! `controllers[N].link.ref.name`.

/// Why a `--set` value was refused. Each variant names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// Not `key=value`.
    #[error("--set {0:?}: expected key=value")]
    Syntax(String),
    /// A key strait does not know.
    #[error(
        "--set {0}: unknown key; the keys are gateway.enabled and \
         controllers[N].link.ref.name"
    )]
    UnknownKey(String),
    /// `gateway.enabled` with a value other than `true` or `false`.
    #[error("--set {key}={value}: expected true or false")]
    NotBool {
        /// The key.
        key: String,
        /// The value given.
        value: String,
    },
    /// A Link name that cannot be part of the objects' names.
    #[error("--set {key}={value}: {source}")]
    LinkName {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What a Link name must be.
        #[source]
        source: InvalidLinkName,
    },
    /// The same Link under two indexes.
    #[error("--set: link {0:?} is named by two controllers")]
    DuplicateLink(String),
}

/// One understood assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Setting {
    /// `gateway.enabled`.
    Gateway(bool),
    /// `controllers[index].link.ref.name`.
    Link { index: usize, name: String },
}

/// The assignments of one `--set` argument: Helm separates them by commas.
pub(crate) fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// One `key=value`.
pub(crate) fn parse(assignment: &str) -> Result<Setting, SetError> {
    let Some((key, value)) = assignment.split_once('=') else {
        return Err(SetError::Syntax(assignment.to_string()));
    };
    let (key, value) = (key.trim(), value.trim());
    if key == "gateway.enabled" {
        return match value {
            "true" => Ok(Setting::Gateway(true)),
            "false" => Ok(Setting::Gateway(false)),
            _ => Err(SetError::NotBool {
                key: key.to_string(),
                value: value.to_string(),
            }),
        };
    }
    let index = key
        .strip_prefix("controllers[")
        .and_then(|rest| rest.strip_suffix("].link.ref.name"))
        .ok_or_else(|| SetError::UnknownKey(key.to_string()))?;
    let index: usize = index
        .parse()
        .map_err(|_| SetError::UnknownKey(key.to_string()))?;
    link_name(value).map_err(|source| SetError::LinkName {
        key: key.to_string(),
        value: value.to_string(),
        source,
    })?;
    Ok(Setting::Link {
        index,
        name: value.to_string(),
    })
}

/// A Link name that is not a DNS label short enough for every object name
/// it becomes part of.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a link name must be a DNS label: 1 to 63 lowercase letters, digits and '-', \
     starting and ending with a letter or digit"
)]
pub struct InvalidLinkName;

/// Checks a Link name: it becomes part of object names
/// (`controller-NAME`, `service-mirror-write-NAME`), so it must be a DNS
/// label short enough for all of them.
pub(crate) fn link_name(name: &str) -> Result<(), InvalidLinkName> {
    // `linkerd-service-mirror-access-local-resources-` is the longest prefix.
    const MAX: usize = 253 - 46;
    let ok = !name.is_empty()
        && name.len() <= MAX.min(63)
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok { Ok(()) } else { Err(InvalidLinkName) }
}
