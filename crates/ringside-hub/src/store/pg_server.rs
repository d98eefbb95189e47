//! How a node reaches its PostgreSQL server: the connection settings of `database_url` with
//! the hub's own session options, and TLS when the URL asks for it (`sslmode=require`) or
//! `database_ca_file` names the authority that signed the server's certificate.
//!
//! With TLS the server's certificate is always verified, with its name (what libpq calls
//! `verify-full`), against the public roots and the certificates of `database_ca_file`: a
//! session that merely encrypts would hand the journal to whoever answers first. Without
//! TLS the hub speaks plainly, as on a Unix socket or a private network; `sslmode=prefer`,
//! the client's default, does not try TLS (libpq's `prefer` would not verify either).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use postgres::config::SslMode;
use postgres::{Client, Config, NoTls};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StoreError;

/// How long a connection attempt may take before the hub gives up on the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most certificates `database_ca_file` may hold: an authority's chain is a few.
const MAX_CA_CERTIFICATES: usize = 100;

/// The PostgreSQL server of a hub on `store = "postgres"`: everything a node needs to open
/// another session (the writer's, a reader's, the listener's, a lease's).
#[derive(Clone)]
pub struct PgServer {
    config: Config,
    tls: Option<MakeRustlsConnect>,
}

impl std::fmt::Debug for PgServer {
    /// Neither the settings, which hold the password, nor the certificates.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgServer")
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// Why `database_ca_file` cannot serve as the authority of the server's certificate.
#[derive(Debug, thiserror::Error)]
#[error("database_ca_file {}: {reason}", path.display())]
pub struct CaFileError {
    /// The file as configured.
    pub path: PathBuf,
    /// What is wrong with it, in words.
    pub reason: String,
}

impl PgServer {
    /// Reads a connection string (`postgresql://user:password@host/db` or `host=… dbname=…`)
    /// and, with TLS, the certificates of `ca_file`.
    pub fn new(url: &str, ca_file: Option<&Path>) -> Result<Self, StoreError> {
        let mut config: Config = url.parse()?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("ringside-hub");
        }
        // A node that dies in the middle of a transaction must not hold the write lock for
        // long, nor a dead host's session its leases (the server's TCP keepalive would wait
        // hours): the server ends such a session after seconds.
        let options = format!(
            "{} -c idle_in_transaction_session_timeout=10s -c tcp_keepalives_idle=10 \
             -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3",
            config.get_options().unwrap_or_default()
        );
        config.options(options.trim_start());
        let tls = if config.get_ssl_mode() == SslMode::Require || ca_file.is_some() {
            config.ssl_mode(SslMode::Require);
            Some(MakeRustlsConnect::new(verifying(ca_file)?))
        } else {
            config.ssl_mode(SslMode::Disable);
            None
        };
        Ok(PgServer { config, tls })
    }

    /// Opens a session.
    pub fn connect(&self) -> Result<Client, postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
    }

    /// Whether sessions are encrypted, and the server verified.
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }
}

/// A TLS client that trusts the public roots and the authorities of `ca_file`.
fn verifying(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, CaFileError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let refused = |reason: String| CaFileError {
            path: path.to_owned(),
            reason,
        };
        let mut found = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| refused(e.to_string()))? {
            let cert = cert.map_err(|e| refused(e.to_string()))?;
            found += 1;
            if found > MAX_CA_CERTIFICATES {
                return Err(refused(format!(
                    "holds more than {MAX_CA_CERTIFICATES} certificates"
                )));
            }
            roots
                .add(cert)
                .map_err(|e| refused(format!("certificate {found}: {e}")))?;
        }
        if found == 0 {
            return Err(refused(
                "holds no certificate (PEM, -----BEGIN CERTIFICATE-----)".to_owned(),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring offers the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_only_when_the_url_requires_it_or_an_authority_is_named() {
        let plain = PgServer::new("postgresql://ringside@db.example/ringside", None).unwrap();
        assert!(!plain.uses_tls());
        assert_eq!(plain.config.get_ssl_mode(), SslMode::Disable);
        let prefer =
            PgServer::new("postgresql://db.example/ringside?sslmode=prefer", None).unwrap();
        assert!(!prefer.uses_tls(), "prefer would not verify: no TLS");
        let require =
            PgServer::new("postgresql://db.example/ringside?sslmode=require", None).unwrap();
        assert!(require.uses_tls());
        assert_eq!(require.config.get_ssl_mode(), SslMode::Require);
    }

    #[test]
    fn an_authority_file_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = PgServer::new("host=db.example", Some(&missing)).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("database_ca_file {}", missing.display())),
            "{err}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = PgServer::new("host=db.example", Some(&empty)).unwrap_err();
        assert!(err.to_string().contains("holds no certificate"), "{err}");
        let broken = dir.path().join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = PgServer::new("host=db.example", Some(&broken)).unwrap_err();
        assert!(err.to_string().contains("certificate 1"), "{err}");
    }

    #[test]
    fn its_debug_hides_the_settings() {
        let server = PgServer::new("postgresql://u:secret@db.example/x", None).unwrap();
        assert!(!format!("{server:?}").contains("secret"));
    }
}
