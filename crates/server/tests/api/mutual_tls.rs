//! Mutual TLS toward receivers: a certificate authority made in the test, a local HTTPS
//! receiver that demands a client certificate it issued, and Quittance trusting that
//! authority through `webhook_root_certificates`.

use crate::helpers::{spawn_app_with, test_config};
use quittance_domain::events::EventType;
use quittance_services::webhooks::{delivery, sample};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig, crypto};

/// A certificate and its key, PEM.
struct Issued {
    der: CertificateDer<'static>,
    pem: String,
    key: KeyPair,
}

fn issue(
    ca: &CertifiedIssuer<'_, KeyPair>,
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> Issued {
    let key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("params");
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, ca).expect("sign");
    Issued {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
    }
}

/// What the receiver saw: the path of each request that completed a handshake, with the
/// client certificate it presented, and how many handshakes it refused.
#[derive(Default)]
struct Seen {
    requests: Vec<(String, Option<CertificateDer<'static>>)>,
    refused_handshakes: usize,
}

/// An HTTPS receiver on 127.0.0.1 that accepts only clients with a certificate from `ca`.
async fn start_receiver(ca: &CertifiedIssuer<'_, KeyPair>) -> (String, Arc<Mutex<Seen>>) {
    let server = issue(ca, &["127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).expect("ca root");
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .expect("verifier");
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![server.der.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.key.serialize_der())),
        )
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("https://{}", listener.local_addr().expect("addr"));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    log.lock().expect("lock").refused_handshakes += 1;
                    return;
                };
                let client = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first().cloned());
                let Some(path) = read_request(&mut tls).await else {
                    return;
                };
                log.lock().expect("lock").requests.push((path, client));
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, seen)
}

/// Reads one HTTP/1.1 request (head and `content-length` body); answers its path.
async fn read_request<S: AsyncReadExt + Unpin>(stream: &mut S) -> Option<String> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    head.split_whitespace().nth(1).map(str::to_owned)
}

#[tokio::test]
async fn receivers_demanding_a_client_certificate_get_the_access_setups_one() {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key")).expect("ca");
    let client = issue(
        &ca,
        &["quittance.test"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let dir = tempfile::tempdir().expect("dir");
    let roots = dir.path().join("receiver-ca.pem");
    std::fs::write(&roots, ca.pem()).expect("write roots");
    let app = spawn_app_with(quittance_services::config::Config {
        webhook_root_certificates: Some(roots),
        ..test_config()
    })
    .await;
    let org = app.org("acme").await;
    let (url, seen) = start_receiver(&ca).await;

    let private_key = client.key.serialize_pem();
    let (status, setup) = app
        .post(
            "/v1/webhook_access_setups",
            &org,
            json!({"type": "mutual_tls", "authentication_key_name": "Ops", "api_name": "Ledger API",
                "client_certificate": {"certificate_pem": client.pem, "private_key_pem": private_key}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{setup}");
    assert!(!setup.to_string().contains("PRIVATE KEY"), "{setup}");
    for (path, access) in [
        ("with-certificate", setup["id"].clone()),
        ("without", json!(null)),
    ] {
        let (status, created) = app
            .post(
                "/v1/webhooks",
                &org,
                json!({"url": format!("{url}/{path}"), "event_types": ["payment.approved"],
                    "access_setup_id": access}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }

    sample::trigger(
        &app.state,
        &org.creds.organization_id,
        EventType::PaymentApproved,
    )
    .await
    .expect("event");
    let round = delivery::deliver_due(&app.state, "", &mut |_| {})
        .await
        .expect("round");
    // The endpoint with the certificate got its event; the one without failed its handshake
    // and waits for a retry.
    assert_eq!((round.delivered, round.retrying), (1, 1));
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.requests.len(), 1);
    assert_eq!(seen.requests[0].0, "/with-certificate");
    assert_eq!(seen.requests[0].1.as_ref(), Some(&client.der));
    assert_eq!(seen.refused_handshakes, 1);
}
