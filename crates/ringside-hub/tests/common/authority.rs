//! A certificate authority made for a test, and the server certificates it signs: what a
//! hub's TLS, or a TLS server the hub talks to, is tested with.

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

/// A test authority and the certificates it signs for `localhost`.
pub struct Authority {
    issuer: Issuer<'static, KeyPair>,
    /// Its certificate, for a client's roots.
    pub der: CertificateDer<'static>,
    /// The same in PEM, for a file or reqwest.
    pub pem: String,
}

impl Authority {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Ringside test authority");
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Authority {
            der: cert.der().clone(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A new certificate for `localhost` and its key, in PEM; the certificate's DER.
    pub fn leaf(&self) -> (String, String, CertificateDer<'static>) {
        self.signed(CertificateParams::new(vec!["localhost".to_owned()]).unwrap())
    }

    /// [`Authority::leaf`], valid until midnight UTC at the start of `year`-`month`-`day`.
    pub fn leaf_until(&self, year: i32, month: u8, day: u8) -> (String, String) {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.not_after = rcgen::date_time_ymd(year, month, day);
        let (cert, key, _) = self.signed(params);
        (cert, key)
    }

    fn signed(&self, params: CertificateParams) -> (String, String, CertificateDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem(), cert.der().clone())
    }
}

/// The certificate the server at `addr` presents for `name` to a client that trusts
/// `roots`; `None` when the connection or the handshake fails.
pub async fn presented(
    addr: SocketAddr,
    roots: impl IntoIterator<Item = CertificateDer<'static>>,
    name: &str,
) -> Option<CertificateDer<'static>> {
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(store)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.ok()?;
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let stream = connector.connect(name, tcp).await.ok()?;
    Some(stream.get_ref().1.peer_certificates()?[0].clone())
}

/// The expiry of the hub's certificate as the metrics at `url` report it (a Unix time),
/// read with the [`super::METRICS_TOKEN`] over `client`.
pub async fn reported_expiry(client: &reqwest::Client, url: &str) -> i64 {
    let text = client
        .get(url)
        .bearer_auth(super::METRICS_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|line| line.starts_with("ringside_tls_certificate_expiry_timestamp_seconds "))
        .unwrap_or_else(|| panic!("no certificate expiry in:\n{text}"));
    line.rsplit_once(' ').unwrap().1.parse().unwrap()
}
