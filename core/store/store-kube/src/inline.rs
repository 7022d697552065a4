//! A Link's kubeconfig may carry its credentials only inline.
//!
//! Whoever can write a Link's credentials Secret chooses its kubeconfig,
//! which the service mirror and destination load. kube's `Config` honours
//! `exec` and `auth-provider` (commands run in the controller's pod) and
//! file paths (`tokenFile`, `client-key`, ...: the pod's own files, such as
//! its ServiceAccount token, read and sent to the server the kubeconfig
//! names). So a Link's kubeconfig is refused unless every credential is
//! written in it: a token, client certificate and key data, CA data.

use kube::config::Kubeconfig;

/// A kubeconfig field that would make the client run a command or read a
/// file, by its path in the document (`users[0].user.exec`: entries by
/// position, so the path never carries the document's own names).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{field} is not allowed: a Link's kubeconfig must carry its credentials inline \
     (token, client-certificate-data, client-key-data, certificate-authority-data), \
     never a command to run or a file to read"
)]
pub struct ExternalCredential {
    /// The field at fault, e.g. `users[0].user.exec`.
    pub field: String,
}

/// The first field of `kubeconfig` that makes the client run a command or
/// read a file; `Ok` when every credential is inline.
pub(crate) fn check_inline(kubeconfig: &Kubeconfig) -> Result<(), ExternalCredential> {
    for (index, named) in kubeconfig.auth_infos.iter().enumerate() {
        let Some(user) = &named.auth_info else {
            continue;
        };
        let fields = [
            ("exec", user.exec.is_some()),
            ("auth-provider", user.auth_provider.is_some()),
            ("tokenFile", user.token_file.is_some()),
            ("client-certificate", user.client_certificate.is_some()),
            ("client-key", user.client_key.is_some()),
        ];
        if let Some((field, _)) = fields.iter().find(|(_, set)| *set) {
            return Err(ExternalCredential {
                field: format!("users[{index}].user.{field}"),
            });
        }
    }
    for (index, named) in kubeconfig.clusters.iter().enumerate() {
        if named
            .cluster
            .as_ref()
            .is_some_and(|c| c.certificate_authority.is_some())
        {
            return Err(ExternalCredential {
                field: format!("clusters[{index}].cluster.certificate-authority"),
            });
        }
    }
    Ok(())
}
