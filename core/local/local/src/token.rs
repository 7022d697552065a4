//! The secret of one cluster's API in one run of `strait local up`: the
//! bearer token every request must carry, written only to the kubeconfig
//! in STRAIT_HOME (readable by its owner alone) and to the credentials of
//! Links that name the cluster.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};

/// Random bytes in a token: 256 bits, beyond guessing.
const TOKEN_BYTES: usize = 32;

/// A run's API token. Its `Debug` hides the secret, so logs never show it.
#[derive(Clone)]
pub struct ApiToken {
    hex: String,
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(..)")
    }
}

/// The system's random number generator failed.
#[derive(Debug, thiserror::Error)]
#[error("the system's random number generator failed, so no API token could be made")]
pub struct NoRandomness;

impl ApiToken {
    /// A fresh token from the system's CSPRNG, as lowercase hex.
    pub fn generate() -> Result<Self, NoRandomness> {
        let mut bytes = [0u8; TOKEN_BYTES];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| NoRandomness)?;
        Ok(ApiToken {
            hex: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// The secret itself, for the API server and the kubeconfig. Never log
    /// it.
    pub fn secret(&self) -> &str {
        &self.hex
    }
}

#[cfg(test)]
mod tests;
