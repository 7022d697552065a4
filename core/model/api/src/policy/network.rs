//! Client networks, shared by NetworkAuthentication and ServerAuthorization.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An IP network clients may connect from, less some exceptions.
///
/// Addresses stay text as written: parsing them is the authorizer's job, and
/// one malformed entry must not make the whole resource unreadable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
pub struct Network {
    /// The network, in CIDR notation (e.g. `10.0.0.0/8`) or a single address.
    pub cidr: String,
    /// Networks or addresses within `cidr` that are not included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub except: Option<Vec<String>>,
}
