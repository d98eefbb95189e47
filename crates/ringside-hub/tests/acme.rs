//! `[tls] acme` against Pebble, a real ACME server: the hub obtains its first certificate
//! (Pebble checks the name with TLS-ALPN-01 on the hub's own port), serves webhooks with
//! it, renews it when two thirds of its validity have passed (and `/metrics` reports the
//! renewed certificate's end), keeps it in its data directory for its owner only, after a
//! restart serves the stored certificate with the ACME server gone, and registers again
//! when the server no longer knows its account.
//!
//! Pebble issues certificates valid for [`VALIDITY`] from its own clock, the computer's, so
//! the hub runs on the computer's clock too and the renewal is waited for.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::authority::{presented, reported_expiry};
use common::pebble::{free_port, Pebble};
use ringside_clock::{ManualClock, SystemClock};
use ringside_hub::config::{Config, Settings};
use ringside_hub::tls::acme::FIRST_RETRY;
use ringside_hub::RunningHub;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;

/// The hub's name; Pebble's DNS server says it is 127.0.0.1.
const DOMAIN: &str = "hub.ringside.test";

/// How long Pebble's certificates are valid: renewed after ten seconds.
const VALIDITY: Duration = Duration::from_secs(15);

/// How long the first certificate, or a renewal, may take to be in force.
const WITHIN: Duration = Duration::from_secs(60);

/// The configuration of a hub on `port` asking `directory` for a certificate for `domain`,
/// trusting `ca_file` for the ACME server's HTTPS.
fn acme_settings(
    data: &Path,
    port: u16,
    domain: &str,
    directory: &str,
    ca_file: &Path,
) -> Settings {
    let extra = format!(
        "listen = \"127.0.0.1:{port}\"\n[tls]\nacme = {{ domains = [\"{domain}\"], email = \
         \"admin@ringside.test\", directory = \"{directory}\", ca_file = {ca_file:?} }}\n{}\
         [metrics]\ntoken = \"{}\"\n",
        common::GENERIC_ON,
        common::METRICS_TOKEN
    );
    let text = common::sqlite_config_text(data, &extra);
    Config::from_toml(&text, Path::new("test.toml"), std::iter::empty()).unwrap()
}

async fn start(data: &Path, port: u16, domain: &str, pebble: &Pebble) -> RunningHub {
    let settings = acme_settings(data, port, domain, &pebble.directory, &pebble.ca_file);
    ringside_hub::start_with_clock(settings, Arc::new(SystemClock))
        .await
        .expect("the hub starts, asking for its certificate")
}

/// The certificate the hub presents for [`DOMAIN`] to a client that trusts `root`; `None`
/// while the handshake fails.
async fn served(addr: SocketAddr, root: &str) -> Option<CertificateDer<'static>> {
    let roots = CertificateDer::pem_slice_iter(root.as_bytes()).map(Result::unwrap);
    presented(addr, roots, DOMAIN).await
}

/// Waits until the hub serves a certificate `root` trusts other than `not`.
async fn served_other_than(
    addr: SocketAddr,
    root: &str,
    not: Option<&CertificateDer<'static>>,
) -> CertificateDer<'static> {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        match served(addr, root).await {
            Some(cert) if Some(&cert) != not => return cert,
            _ => {}
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no new certificate from the ACME server is served within {WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The leaf certificate in the hub's stored `certificate.pem`.
fn stored(data: &Path) -> CertificateDer<'static> {
    let pem = std::fs::read(data.join("acme/certificate.pem")).expect("the certificate is kept");
    CertificateDer::pem_slice_iter(&pem)
        .next()
        .expect("a certificate first")
        .unwrap()
}

/// The names and validity (seconds) of `cert`.
fn names_and_validity(cert: &CertificateDer<'_>) -> (Vec<String>, i64) {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert).unwrap();
    let names = parsed
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .iter()
        .map(|name| match name {
            GeneralName::DNSName(name) => name.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    let validity = parsed.validity();
    (
        names,
        validity.not_after.timestamp() - validity.not_before.timestamp(),
    )
}

#[tokio::test]
async fn the_hub_obtains_renews_and_after_a_restart_reuses_its_acme_certificate() {
    // The hub's log, shown when the test fails: it says why no certificate came.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut pebble = Pebble::start(dir.path(), port, VALIDITY, &[]).await;
    let root = pebble.root().await;
    let hub = start(&data, port, DOMAIN, &pebble).await;
    let addr = hub.addr;

    // The first certificate: for the name, from Pebble (a client trusting its root accepts
    // it), and webhooks are served with it.
    let first = served_other_than(addr, &root, None).await;
    let (names, validity) = names_and_validity(&first);
    assert_eq!(names, vec![DOMAIN.to_owned()]);
    assert!(
        (VALIDITY.as_secs() as i64 - 1..=VALIDITY.as_secs() as i64).contains(&validity),
        "Pebble's validity {validity} s"
    );
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(root.as_bytes()).unwrap())
        .resolve(DOMAIN, addr)
        .build()
        .unwrap();
    let answer = client
        .post(format!(
            "https://{DOMAIN}:{port}/api/v1/cti/{}",
            common::TOKEN
        ))
        .form(&[
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", "acme-1"),
            ("from", "4930609854180"),
            ("to", "4930600000000"),
        ])
        .send()
        .await
        .expect("a webhook over https with the ACME certificate");
    assert_eq!(answer.status(), 200);
    assert_eq!(
        stored(&data),
        first,
        "the certificate in force is the one kept"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data.join("acme")), 0o700);
        assert_eq!(mode(&data.join("acme/certificate.pem")), 0o600);
        assert_eq!(mode(&data.join("acme/account.json")), 0o600);
    }

    // Renewed when two thirds of the validity have passed, without a restart.
    let renewed = served_other_than(addr, &root, Some(&first)).await;
    assert_eq!(names_and_validity(&renewed).0, names_and_validity(&first).0);
    // `/metrics` says until when the certificate in force is valid: the renewed one's end.
    let metrics = format!("https://{DOMAIN}:{port}/metrics");
    let (_, parsed) = x509_parser::parse_x509_certificate(&renewed).unwrap();
    assert_eq!(
        reported_expiry(&client, &metrics).await,
        parsed.validity().not_after.timestamp()
    );
    hub.stop().await.unwrap();
    let kept = stored(&data);
    assert_ne!(kept, first, "the renewal is kept");

    // A restart serves the kept certificate: the ACME server is not even there.
    pebble.stop();
    let hub = start(&data, port, DOMAIN, &pebble).await;
    assert_eq!(served(hub.addr, &root).await, Some(kept.clone()));
    hub.stop().await.unwrap();

    // Configured for another name, the hub does not serve the kept one, which does not
    // name it.
    let hub = start(&data, port, "calls.ringside.test", &pebble).await;
    assert_eq!(served(hub.addr, &root).await, None);
    hub.stop().await.unwrap();
    assert_eq!(stored(&data), kept, "nothing replaced the kept certificate");
}

#[tokio::test]
async fn an_account_the_acme_server_no_longer_knows_is_registered_again() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut pebble = Pebble::start(dir.path(), port, Duration::from_secs(3600), &[]).await;
    let root = pebble.root().await;
    let hub = start(&data, port, DOMAIN, &pebble).await;
    served_other_than(hub.addr, &root, None).await;
    hub.stop().await.unwrap();
    let account = data.join("acme/account.json");
    let first_account = std::fs::read(&account).unwrap();

    // Pebble forgets its accounts when it restarts, as a reset staging server does; the
    // hub, without its certificate, has to ask again with the account it kept.
    pebble.restart().await;
    let root = pebble.root().await;
    std::fs::remove_file(data.join("acme/certificate.pem")).unwrap();
    let hub = start(&data, port, DOMAIN, &pebble).await;

    // It registers a new account at once (not after its retry's minute) and is served.
    let cert = served_other_than(hub.addr, &root, None).await;
    assert_eq!(names_and_validity(&cert).0, vec![DOMAIN.to_owned()]);
    hub.stop().await.unwrap();
    assert_ne!(
        std::fs::read(&account).unwrap(),
        first_account,
        "the new account is kept in place of the unknown one"
    );
    assert_eq!(stored(&data), cert);
}

#[tokio::test]
async fn a_refused_order_is_asked_again_after_a_minute_then_two_and_nothing_is_served() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let pebble = Pebble::start(dir.path(), port, VALIDITY, &[DOMAIN]).await;
    let root = pebble.root().await;
    let clock = ManualClock::starting_at(time::OffsetDateTime::now_utc());
    let settings = acme_settings(&data, port, DOMAIN, &pebble.directory, &pebble.ca_file);
    let hub = ringside_hub::start_with_clock(settings, Arc::new(clock.clone()))
        .await
        .unwrap();

    for wait in [FIRST_RETRY, FIRST_RETRY * 2] {
        let deadline = tokio::time::Instant::now() + WITHIN;
        while !clock.sleeping().contains(&wait) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no retry after {wait:?} is waited for; the clock's sleeps: {:?}",
                clock.sleeping()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            served(hub.addr, &root).await,
            None,
            "no certificate is served"
        );
        assert!(!data.join("acme/certificate.pem").exists());
        clock.advance(wait);
    }
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn an_acme_ca_file_that_cannot_be_read_stops_the_start_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("missing-ca.pem");
    let refusal = || async {
        let settings = acme_settings(
            &dir.path().join("data"),
            free_port(),
            DOMAIN,
            "https://localhost:14000/dir",
            &ca_file,
        );
        ringside_hub::start_with_clock(settings, Arc::new(SystemClock))
            .await
            .expect_err("a hub that cannot trust its ACME server does not start")
            .to_string()
    };
    let missing = refusal().await;
    assert!(
        missing.contains("tls.acme.ca_file") && missing.contains("missing-ca.pem"),
        "{missing}"
    );
    std::fs::write(&ca_file, "not a certificate").unwrap();
    let empty = refusal().await;
    assert!(empty.contains("no PEM certificate"), "{empty}");
}
