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

/// The first field of `kubeconfig` that makes the client run a command or
/// read a file, as `users[<name>].user.exec`; `None` when every credential
/// is inline.
pub(crate) fn external_credential(kubeconfig: &Kubeconfig) -> Option<String> {
    for named in &kubeconfig.auth_infos {
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
            return Some(format!("users[{}].user.{field}", named.name));
        }
    }
    for named in &kubeconfig.clusters {
        if named
            .cluster
            .as_ref()
            .is_some_and(|c| c.certificate_authority.is_some())
        {
            return Some(format!(
                "clusters[{}].cluster.certificate-authority",
                named.name
            ));
        }
    }
    None
}
