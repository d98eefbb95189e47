//! The hub's own TLS (`[tls]`): it serves HTTPS with the configured certificate (webhooks
//! and the API), refuses to start with files that do not serve, puts a renewed certificate
//! in force without a restart (found by its periodic check, or on reload), and keeps the
//! certificate in force when the new files do not load; `/metrics` says until when the
//! certificate in force is valid.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::authority::{presented, reported_expiry, Authority};
use common::METRICS_TOKEN;
use ringside_clock::{Clock, ManualClock, SystemClock};
use ringside_hub::config::Config;
use ringside_hub::tls::RENEWAL_CHECK;
use ringside_hub::RunningHub;
use rustls::pki_types::CertificateDer;

/// Where the hub's certificate files are.
struct Files {
    cert: PathBuf,
    key: PathBuf,
}

impl Files {
    fn in_dir(dir: &Path) -> Self {
        Files {
            cert: dir.join("fullchain.pem"),
            key: dir.join("privkey.pem"),
        }
    }

    /// Writes a new certificate of `authority`, and its key, as a renewal does; its DER.
    fn renew(&self, authority: &Authority) -> CertificateDer<'static> {
        let (cert, key, der) = authority.leaf();
        self.replace(&cert, &key);
        der
    }

    /// Replaces both files as a renewal does: each written beside and renamed over.
    fn replace(&self, cert: &str, key: &str) {
        for (path, text) in [(&self.cert, cert), (&self.key, key)] {
            let new = path.with_extension("new");
            std::fs::write(&new, text).unwrap();
            std::fs::rename(&new, path).unwrap();
        }
    }

    fn config(&self) -> String {
        format!(
            "[tls]\ncert_file = {:?}\nkey_file = {:?}\n{}",
            self.cert,
            self.key,
            common::GENERIC_ON
        )
    }
}

async fn start(dir: &Path, files: &Files, clock: Arc<dyn Clock>) -> RunningHub {
    let text = common::config_text(&dir.join("data"), &files.config());
    let settings = Config::from_toml(&text, Path::new("test.toml"), std::iter::empty()).unwrap();
    ringside_hub::start_with_clock(settings, clock)
        .await
        .expect("the hub starts with its certificate")
}

/// The certificate the hub presents to a client that trusts `authority`, for `localhost`.
async fn served_certificate(hub: &RunningHub, authority: &Authority) -> CertificateDer<'static> {
    presented(hub.addr, [authority.der.clone()], "localhost")
        .await
        .expect("the handshake succeeds for a client that trusts the authority")
}

/// Waits until the hub's renewal check sleeps on `clock`: it has begun, or it has done the
/// check the clock's last advance woke it for.
async fn renewal_check_waiting(clock: &ManualClock) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !clock.sleeping().contains(&RENEWAL_CHECK) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the renewal check does not wait on the clock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn https_client(authority: &Authority) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(authority.pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_hub_serves_webhooks_over_https_with_its_certificate_and_not_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new();
    let files = Files::in_dir(dir.path());
    let der = files.renew(&authority);
    let hub = start(dir.path(), &files, Arc::new(SystemClock)).await;
    assert!(hub.url().starts_with("https://"), "{}", hub.url());
    assert_eq!(served_certificate(&hub, &authority).await, der);

    let base = format!("https://localhost:{}", hub.addr.port());
    let client = https_client(&authority);
    let answer = client
        .post(format!("{base}/api/v1/cti/{}", common::TOKEN))
        .form(&[
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", "tls-1"),
            ("from", "4930609854180"),
            ("to", "4930600000000"),
        ])
        .send()
        .await
        .expect("a webhook over https");
    assert_eq!(answer.status(), 200);

    // A client that does not trust the authority is refused in the handshake.
    let untrusting = reqwest::Client::new();
    assert!(untrusting
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_err());
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/healthz", hub.addr.port()))
        .send()
        .await;
    assert!(plain.is_err(), "plain http answered: {plain:?}");
    // The hub serves on after both.
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_renewed_certificate_is_in_force_at_the_next_check_and_broken_files_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new();
    let files = Files::in_dir(dir.path());
    let first = files.renew(&authority);
    let clock = ManualClock::starting_at(time::OffsetDateTime::now_utc());
    let hub = start(dir.path(), &files, Arc::new(clock.clone())).await;
    assert_eq!(served_certificate(&hub, &authority).await, first);

    let renewed = files.renew(&authority);
    // Not before the check.
    assert_eq!(served_certificate(&hub, &authority).await, first);
    renewal_check_waiting(&clock).await;
    clock.advance(RENEWAL_CHECK);
    renewal_check_waiting(&clock).await;
    assert_eq!(served_certificate(&hub, &authority).await, renewed);

    // A renewal caught half way (the new certificate, the old key) does not serve: the
    // renewed certificate stays in force.
    let (cert, _, _) = authority.leaf();
    std::fs::write(&files.cert, cert).unwrap();
    clock.advance(RENEWAL_CHECK);
    renewal_check_waiting(&clock).await;
    assert_eq!(served_certificate(&hub, &authority).await, renewed);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn reload_puts_new_files_in_force_and_keeps_the_certificate_when_they_do_not_load() {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new();
    let files = Files::in_dir(dir.path());
    files.renew(&authority);
    let hub = start(dir.path(), &files, Arc::new(SystemClock)).await;
    let text = common::config_text(&dir.path().join("data"), &files.config());
    let settings = Config::from_toml(&text, Path::new("test.toml"), std::iter::empty()).unwrap();

    let renewed = files.renew(&authority);
    let said = hub.reload(&settings);
    assert!(said.contains("fullchain.pem"), "{said}");
    assert_eq!(served_certificate(&hub, &authority).await, renewed);

    files.replace("not a certificate", "not a key");
    let said = hub.reload(&settings);
    assert!(said.contains("does not load"), "{said}");
    assert_eq!(served_certificate(&hub, &authority).await, renewed);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_metrics_say_when_the_certificate_in_force_expires() {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new();
    let files = Files::in_dir(dir.path());
    let (cert, key) = authority.leaf_until(2031, 1, 1);
    files.replace(&cert, &key);
    let settings = || {
        let extra = format!("{}[metrics]\ntoken = \"{METRICS_TOKEN}\"\n", files.config());
        let text = common::config_text(&dir.path().join("data"), &extra);
        Config::from_toml(&text, Path::new("test.toml"), std::iter::empty()).unwrap()
    };
    let hub = ringside_hub::start(settings()).await.unwrap();
    let client = https_client(&authority);
    let metrics = format!("https://localhost:{}/metrics", hub.addr.port());
    // 2031-01-01T00:00:00Z as a Unix time.
    assert_eq!(reported_expiry(&client, &metrics).await, 1_924_992_000);

    let (cert, key) = authority.leaf_until(2032, 1, 1);
    files.replace(&cert, &key);
    hub.reload(&settings());
    // 2032-01-01T00:00:00Z.
    assert_eq!(reported_expiry(&client, &metrics).await, 1_956_528_000);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_hub_does_not_start_with_files_that_do_not_serve() {
    let dir = tempfile::tempdir().unwrap();
    let authority = Authority::new();
    let files = Files::in_dir(dir.path());
    let refusal = |dir: &Path| {
        let text = common::config_text(&dir.join("data"), &files.config());
        let settings =
            Config::from_toml(&text, Path::new("test.toml"), std::iter::empty()).unwrap();
        async move {
            match ringside_hub::start(settings).await {
                Ok(_) => panic!("the hub started"),
                Err(e) => e.to_string(),
            }
        }
    };

    let missing = refusal(dir.path()).await;
    assert!(
        missing.contains("fullchain.pem") && missing.contains("reading"),
        "{missing}"
    );

    let (cert, _, _) = authority.leaf();
    let (_, other_key, _) = authority.leaf();
    files.replace(&cert, &other_key);
    let mismatch = refusal(dir.path()).await;
    assert!(
        mismatch.contains("privkey.pem") && mismatch.contains("cannot serve"),
        "{mismatch}"
    );

    files.replace(&cert, "no key here");
    let no_key = refusal(dir.path()).await;
    assert!(
        no_key.contains("privkey.pem") && no_key.contains("no PEM private key"),
        "{no_key}"
    );
}
