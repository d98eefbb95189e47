//! Pebble, Let's Encrypt's ACME test server, from Debian's `pebble` package, with
//! `pebble-challtestsrv` from the same package as its DNS server (every name is 127.0.0.1).
//! It checks names for real: its TLS-ALPN-01 check connects to the hub's port. The package
//! ships no certificate for Pebble's own HTTPS: a test authority makes one.

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::authority::Authority;

/// A running Pebble and its DNS server, killed when dropped.
pub struct Pebble {
    children: Vec<Child>,
    /// The authority of Pebble's own HTTPS certificate (for `localhost`).
    pub authority: Authority,
    /// That authority's certificate, written for the hub's `ca_file`.
    pub ca_file: PathBuf,
    /// The ACME directory URL.
    pub directory: String,
    management: u16,
    /// Pebble's configuration file.
    config_file: PathBuf,
    /// The DNS server's port.
    dns: u16,
}

/// A port nothing listens on now, for a server that must be told its port before it starts.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where a program of Debian's `pebble` package is, or a failure that says how to get it.
fn installed(program: &str) -> PathBuf {
    let path = Path::new("/usr/bin").join(program);
    assert!(
        path.exists(),
        "{} is missing: install Debian's pebble package (scripts/deps.sh does, as make test runs it)",
        path.display()
    );
    path
}

impl Pebble {
    /// Starts Pebble in `dir`, checking names on `tls_port` (where the hub listens),
    /// issuing certificates valid for `validity`, and refusing orders for the names in
    /// `blocked` (and their subdomains).
    pub async fn start(dir: &Path, tls_port: u16, validity: Duration, blocked: &[&str]) -> Pebble {
        installed("pebble");
        installed("pebble-challtestsrv");
        let authority = Authority::new();
        let (cert, key, _) = authority.leaf();
        let ca_file = dir.join("pebble-ca.pem");
        std::fs::write(&ca_file, &authority.pem).unwrap();
        std::fs::write(dir.join("pebble-cert.pem"), cert).unwrap();
        std::fs::write(dir.join("pebble-key.pem"), key).unwrap();

        let dns = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (listen, management) = (free_port(), free_port());
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{listen}"),
                "managementListenAddress": format!("127.0.0.1:{management}"),
                "certificate": dir.join("pebble-cert.pem"),
                "privateKey": dir.join("pebble-key.pem"),
                "httpPort": free_port(),
                "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false,
                "certificateValidityPeriod": validity.as_secs(),
                "domainBlocklist": blocked,
            }
        });
        let config_file = dir.join("pebble-config.json");
        std::fs::write(&config_file, config.to_string()).unwrap();
        let mut pebble = Pebble {
            children: Vec::new(),
            authority,
            ca_file,
            directory: format!("https://localhost:{listen}/dir"),
            management,
            config_file,
            dns,
        };
        pebble.launch().await;
        pebble
    }

    /// Starts Pebble and its DNS server as configured, and waits until Pebble serves.
    async fn launch(&mut self) {
        self.children.push(
            Command::new(installed("pebble-challtestsrv"))
                .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
                .args(["-dns01", &format!("127.0.0.1:{}", self.dns)])
                .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
                .args(["-management", &format!("127.0.0.1:{}", free_port())])
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        self.children.push(
            Command::new(installed("pebble"))
                .arg("-config")
                .arg(&self.config_file)
                .args(["-dnsserver", &format!("127.0.0.1:{}", self.dns)])
                // Answer at once, and never refuse a nonce: the test is about the hub.
                .env("PEBBLE_VA_NOSLEEP", "1")
                .env("PEBBLE_WFE_NONCEREJECT", "0")
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        self.wait_until_serving().await;
    }

    /// Stops Pebble and starts it again at the same addresses: it has forgotten every
    /// account, order and certificate, and made a new root.
    pub async fn restart(&mut self) {
        self.stop();
        self.launch().await;
    }

    /// A client that trusts Pebble's HTTPS certificate.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.authority.pem.as_bytes()).unwrap(),
            )
            .build()
            .unwrap()
    }

    async fn wait_until_serving(&self) {
        let client = self.client();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(answer) = client.get(&self.directory).send().await {
                if answer.status() == 200 {
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "Pebble does not serve its directory {}",
                self.directory
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The root Pebble made at its start, which signs (through an intermediate) what it
    /// issues, in PEM.
    pub async fn root(&self) -> String {
        let url = format!("https://localhost:{}/roots/0", self.management);
        let answer = self.client().get(url).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        answer.text().await.unwrap()
    }

    /// Stops Pebble and its DNS server.
    pub fn stop(&mut self) {
        for mut child in self.children.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        self.stop();
    }
}
