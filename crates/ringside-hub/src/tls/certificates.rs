//! The certificate in force, which the handshake of every new connection asks for, and
//! the answers to an ACME authority's checks while a certificate is being obtained.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// The ALPN protocol of ACME's TLS-ALPN-01 check (RFC 8737): a handshake that asks for it
/// gets the check's certificate and nothing else; the connection serves no HTTP.
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The certificate in force, and the answers to an ACME authority's checks while it is
/// being obtained.
#[derive(Debug)]
pub struct Certificates {
    provider: Arc<CryptoProvider>,
    current: RwLock<Option<Arc<CertifiedKey>>>,
    /// The TLS-ALPN-01 certificates by name, while an order is checked.
    challenges: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    answers_challenges: bool,
}

impl Certificates {
    /// Serves `current` (none: every handshake fails until one is put in force); with
    /// `answers_challenges`, the handshake also offers [`ACME_TLS_ALPN`].
    pub(super) fn new(current: Option<CertifiedKey>, answers_challenges: bool) -> Arc<Self> {
        Arc::new(Certificates {
            provider: provider(),
            current: RwLock::new(current.map(Arc::new)),
            challenges: Mutex::default(),
            answers_challenges,
        })
    }

    /// The signing of the certificates in force.
    pub(super) fn provider(&self) -> &CryptoProvider {
        &self.provider
    }

    /// Serves `key` to the connections that begin from now on.
    pub(super) fn put_in_force(&self, key: CertifiedKey) {
        *self.current.write().expect("certificate lock") = Arc::new(key).into();
    }

    /// The certificate in force, if any: what a client connecting now is shown.
    pub fn in_force(&self) -> Option<Arc<CertifiedKey>> {
        self.current.read().expect("certificate lock").clone()
    }

    /// When the certificate in force expires, as a Unix time: what `/metrics` reports, so
    /// that an alert fires before a renewal that keeps failing lets it lapse. `None` while
    /// none is in force, or when its end cannot be read.
    pub fn in_force_until(&self) -> Option<i64> {
        let key = self.in_force()?;
        let leaf = key.end_entity_cert().ok()?;
        let (_, parsed) = x509_parser::parse_x509_certificate(leaf).ok()?;
        Some(parsed.validity().not_after.timestamp())
    }

    /// Answers the ACME check of `name` with `key` until [`Certificates::withdraw`].
    pub(super) fn answer_challenge(&self, name: String, key: CertifiedKey) {
        let mut challenges = self.challenges.lock().expect("challenge lock");
        challenges.insert(name, Arc::new(key));
    }

    /// Stops answering ACME checks.
    pub(super) fn withdraw(&self) {
        self.challenges.lock().expect("challenge lock").clear();
    }

    /// The handshake of the hub's connections: TLS 1.2 and 1.3, HTTP/1.1 (and the ACME
    /// check when answered), no client certificates, the certificate in force at each
    /// handshake.
    pub fn acceptor(self: &Arc<Self>) -> TlsAcceptor {
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default protocol versions")
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        if self.answers_challenges {
            config.alpn_protocols.push(ACME_TLS_ALPN.to_vec());
        }
        TlsAcceptor::from(Arc::new(config))
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let checks = hello
            .alpn()
            .is_some_and(|mut offered| offered.any(|protocol| protocol == ACME_TLS_ALPN));
        if checks {
            let name = hello.server_name()?;
            let challenges = self.challenges.lock().expect("challenge lock");
            return challenges.get(name).cloned();
        }
        self.in_force()
    }
}

/// The ring provider, the one the hub's TLS is built with.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
