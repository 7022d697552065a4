use super::wire::{Announced, Answer, Forged, parse_answer};
use super::*;

fn target() -> Target {
    Target {
        addr: "127.1.0.3:8080".parse().unwrap(),
        identity: "default.mc-demo.serviceaccount.identity.linkerd.cluster.local".to_string(),
        roots: TrustRoots::from_pem(
            "test",
            strait_identity::SigningCa::generate_root("root", Duration::from_secs(60))
                .unwrap()
                .certificate_pem()
                .as_bytes(),
        )
        .unwrap(),
        control_plane_namespace: "linkerd".to_string(),
        trust_domain: "cluster.local".to_string(),
    }
}

#[test]
fn a_403_is_forbidden_and_not_served() {
    let answer = parse_answer(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
    assert!(answer.forbidden());
    assert!(!answer.served());
    assert_eq!(answer.quote(), "`HTTP/1.1 403 Forbidden`");
}

#[test]
fn bbs_answer_is_served_with_its_body() {
    let answer = parse_answer(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nhello\n");
    assert!(answer.served());
    assert_eq!(
        answer,
        Answer::Http {
            status: 200,
            line: "HTTP/1.1 200 OK".to_string(),
            body: "hello\n".to_string(),
        }
    );
}

#[test]
fn a_chunked_body_is_read_past_its_size_line() {
    let answer = parse_answer(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nhello\n\r\n0\r\n\r\n",
    );
    assert!(matches!(answer, Answer::Http { ref body, .. } if body == "hello\n"));
}

#[test]
fn bytes_that_are_no_http_answer_are_a_failure() {
    let answer = parse_answer(b"\x15\x03\x03\x00\x02\x02\x30");
    assert!(matches!(answer, Answer::Failed(ref e) if e.starts_with("not an HTTP answer")));
    assert!(!answer.served() && !answer.forbidden());
}

#[test]
fn the_admitted_identity_is_slow_cookers() {
    assert_eq!(
        admitted_identity(&target()),
        "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local"
    );
}

#[test]
fn an_identity_announced_for_the_unmeshed_pod_fails_the_row() {
    let target = target();
    let pod: IpAddr = "127.1.0.9".parse().unwrap();
    let meshed = [Announced {
        addr: target.addr,
        identity: Some(target.identity.clone()),
    }];
    let honest = [Announced {
        addr: SocketAddr::new(pod, SERVER_PORT),
        identity: None,
    }];
    assert!(judge_announced("m", pod, &honest, "b", &meshed, &target).as_required);
    let lying = [Announced {
        addr: SocketAddr::new(pod, SERVER_PORT),
        identity: Some(admitted_identity(&target)),
    }];
    assert!(!judge_announced("m", pod, &lying, "b", &meshed, &target).as_required);
    // A meshed endpoint announced without its identity fails it too.
    let stripped = [Announced {
        addr: target.addr,
        identity: None,
    }];
    assert!(!judge_announced("m", pod, &honest, "b", &stripped, &target).as_required);
}

#[test]
fn a_refused_attack_fails_when_the_guide_lost_requests() {
    use strait_local_workloads::LoadTotals;
    let refused = || Attempt {
        happened: "403".to_string(),
        as_required: true,
    };
    let window = |allowed: LoadTotals, denied: LoadTotals| Window {
        traffic: crate::Traffic { allowed, denied },
        took: Duration::from_secs(1),
        allowed_rate: 100,
        denied_rate: 10,
    };
    let served = LoadTotals {
        sent: 100,
        ok: 100,
        ..LoadTotals::default()
    };
    let refusing = LoadTotals {
        sent: 10,
        forbidden: 10,
        ..LoadTotals::default()
    };
    let row = verdict("t".into(), refused(), &window(served, refusing));
    assert_eq!(row.outcome, crate::Outcome::Pass);
    assert!(
        row.requests.contains("slow-cooker 100 sent"),
        "{}",
        row.requests
    );
    let lost = LoadTotals {
        ok: 99,
        timeouts: 1,
        ..served
    };
    let row = verdict("t".into(), refused(), &window(lost, refusing));
    assert_eq!(row.outcome, crate::Outcome::Fail);
    let bad_gateway = LoadTotals {
        forbidden: 9,
        other_status: 1,
        ..refusing
    };
    let row = verdict("t".into(), refused(), &window(served, bad_gateway));
    assert_eq!(row.outcome, crate::Outcome::Fail);
    let idle = window(LoadTotals::default(), LoadTotals::default());
    let row = verdict("t".into(), refused(), &idle);
    assert_eq!(row.outcome, crate::Outcome::Fail);
}

#[test]
fn the_unmeshed_export_needs_its_plaintext_series_shown() {
    let pod: SocketAddr = "127.1.0.4:8080".parse().unwrap();
    let plain = "request_total{direction=\"outbound\",target_addr=\"127.1.0.4:8080\",\
                 tls=\"no_identity\",no_tls_reason=\"not_provided_by_service_discovery\"} 1\n";
    assert!(plaintext_series(plain, pod).0);
    // What passed before: no series at all, or no metrics.
    let (ok, said) = plaintext_series("# no series\n", pod);
    assert!(!ok);
    assert!(said.contains("no request_total series"), "{said}");
    let other = "request_total{target_addr=\"127.1.0.9:8080\",tls=\"no_identity\"} 1\n";
    assert!(!plaintext_series(other, pod).0);
    // A series claiming a verified peer for the unmeshed pod fails it.
    let claimed = "request_total{target_addr=\"127.1.0.4:8080\",tls=\"true\",\
                   server_id=\"x\"} 1\n";
    assert!(!plaintext_series(claimed, pod).0);
}

/// The forged chain fails the client verifier bb's proxy uses (rustls's
/// WebPki verifier over the mesh's anchors): its root claims the real
/// anchor's name, so the check ends at the real anchor's key, which did
/// not sign it. rustls answers that with the `DecryptError` alert.
#[test]
fn the_forged_chain_fails_verification_against_the_real_anchor() {
    use rustls::pki_types::UnixTime;
    use rustls::server::WebPkiClientVerifier;

    let real = strait_identity::SigningCa::generate_root(
        "root.linkerd.cluster.local",
        Duration::from_secs(600),
    )
    .unwrap();
    let roots = TrustRoots::from_pem("real", real.certificate_pem().as_bytes()).unwrap();
    let forged = Forged::new(
        "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local",
        "linkerd",
        "cluster.local",
    )
    .unwrap();
    assert_eq!(forged.chain.len(), 3, "leaf, forged issuer, forged root");
    let verifier = WebPkiClientVerifier::builder_with_provider(
        roots.root_store(),
        strait_tls::crypto_provider(),
    )
    .allow_unauthenticated()
    .build()
    .unwrap();
    let refused = verifier
        .verify_client_cert(&forged.chain[0], &forged.chain[1..], UnixTime::now())
        .unwrap_err();
    assert_eq!(
        refused,
        rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature)
    );

    // Under its own anchor the same chain is valid: only the anchor is wrong.
    let mut own = rustls::RootCertStore::empty();
    own.add(forged.chain[2].clone()).unwrap();
    let own_verifier = WebPkiClientVerifier::builder_with_provider(
        std::sync::Arc::new(own),
        strait_tls::crypto_provider(),
    )
    .build()
    .unwrap();
    assert!(
        own_verifier
            .verify_client_cert(&forged.chain[0], &forged.chain[1..2], UnixTime::now())
            .is_ok()
    );
}
