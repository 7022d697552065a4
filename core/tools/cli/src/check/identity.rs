//! `linkerd-identity`: the trust anchors and the issuer are valid, chain,
//! and are not about to expire.

use std::time::SystemTime;

use k8s_openapi::api::core::v1::Secret;
use strait_identity::{Issuer, SigningCa, TrustAnchor, Validity};
use strait_mesh::names::{CONTROL_PLANE_NAMESPACE, ISSUER_CERT_KEY, ISSUER_KEY_KEY, ISSUER_SECRET};
use strait_multicluster::report::Reporter;
use strait_multicluster::{Cluster, Facts, Flavor};

use super::{EXPIRY_WARNING, anchors_of};

pub async fn check<C: Cluster>(
    cluster: &C,
    facts: &Facts,
    now: SystemTime,
    report: &mut Reporter<'_>,
) {
    let anchors = match anchors_of(facts) {
        Ok(anchors) => {
            report.pass("trust anchors are valid certificates");
            anchors
        }
        Err(why) => return report.fail("trust anchors are valid certificates", &why),
    };
    validity(report, "trust anchors", &anchors.validity(), now);
    if cluster.flavor() == Flavor::Local {
        // A local cluster's issuer lives in `strait local up`, made for the
        // run under these anchors; there is no Secret to read.
        return;
    }
    issuer(cluster, anchors, now, report).await;
}

/// Within the validity period, and not expiring within
/// [`EXPIRY_WARNING`]: the two lines `linkerd check` prints for `what`.
fn validity(report: &mut Reporter<'_>, what: &str, certs: &[Validity], now: SystemTime) {
    let period = format!("{what} are within their validity period");
    let outside: Vec<String> = certs
        .iter()
        .filter(|c| now < c.not_before || now > c.not_after)
        .map(|c| {
            format!(
                "{} is valid from {} to {}",
                c.subject,
                date(c.not_before),
                date(c.not_after)
            )
        })
        .collect();
    if !outside.is_empty() {
        return report.fail(&period, &outside.join("\n"));
    }
    report.pass(&period);
    let soon: Vec<String> = certs
        .iter()
        .filter(|c| c.not_after < now + EXPIRY_WARNING)
        .map(|c| format!("{} expires on {}", c.subject, date(c.not_after)))
        .collect();
    let lasting = format!("{what} are valid for at least 60 days");
    if soon.is_empty() {
        report.pass(&lasting);
    } else {
        report.warn(&lasting, &soon.join("\n    "));
    }
}

/// The issuer of a Kubernetes cluster, from its Secret: a CA the anchors
/// signed, within its validity, not expiring soon.
async fn issuer<C: Cluster>(
    cluster: &C,
    anchors: TrustAnchor,
    now: SystemTime,
    report: &mut Reporter<'_>,
) {
    let what = "issuer cert is issued by the trust anchor";
    let secret = match cluster
        .get::<Secret>(CONTROL_PLANE_NAMESPACE, ISSUER_SECRET)
        .await
    {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            return report.fail(
                what,
                &format!("no Secret {ISSUER_SECRET} in {CONTROL_PLANE_NAMESPACE}"),
            );
        }
        Err(err) => return report.fail(what, &err.to_string()),
    };
    let data = secret.data.unwrap_or_default();
    let field = |key: &str| data.get(key).map(|b| b.0.clone()).unwrap_or_default();
    let source = format!("Secret {CONTROL_PLANE_NAMESPACE}/{ISSUER_SECRET}");
    let cert_name = format!("{source} key {ISSUER_CERT_KEY}");
    let key_name = format!("{source} key {ISSUER_KEY_KEY}");
    let ca = SigningCa::from_pem(
        &cert_name,
        &field(ISSUER_CERT_KEY),
        &key_name,
        &field(ISSUER_KEY_KEY),
    );
    let not_after = match ca.and_then(|ca| Issuer::new(anchors, ca)) {
        Ok(issuer) => issuer.ca().not_after(),
        Err(err) => return report.fail(what, &err.to_string()),
    };
    report.pass(what);
    let lasting = "issuer cert is valid for at least 60 days";
    if not_after < now + EXPIRY_WARNING {
        report.warn(lasting, &format!("it expires on {}", date(not_after)));
    } else {
        report.pass(lasting);
    }
}

/// A time as the Kubernetes API writes it (RFC 3339, UTC).
fn date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    strait_duration::timestamp::format(secs)
}
