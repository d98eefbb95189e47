//! The hub's own TLS (`[tls]`), so that cloud PBXs, which post webhooks only to `https:`
//! addresses, reach a hub with no reverse proxy in front.
//!
//! The certificate comes from files another program renews ([`files`]: certbot), or from an
//! ACME authority the hub asks itself ([`acme`]: Let's Encrypt). Either way it is put in
//! force here, in [`Certificates`], which the handshake of every new connection asks; the
//! connections already open keep the certificate they began with.

pub mod acme;
pub mod certificates;
pub mod files;

use std::path::Path;
use std::sync::Arc;

use ringside_clock::Clock;
use tokio::task::JoinHandle;

use crate::config::TlsSettings;

pub use acme::AcmeError;
pub use certificates::{Certificates, ACME_TLS_ALPN};
pub use files::{TlsError, RENEWAL_CHECK};

/// Where the hub's certificate comes from, and what keeps it current.
#[derive(Debug)]
pub enum Tls {
    /// Files another program renews.
    Files(Arc<files::CertificateFiles>),
    /// An ACME authority the hub asks itself.
    Acme(Arc<acme::Acme>),
}

/// Why `[tls]` cannot serve at start.
#[derive(Debug, thiserror::Error)]
pub enum TlsStartError {
    /// The certificate files do not serve.
    #[error(transparent)]
    Files(#[from] TlsError),
    /// The ACME certificate's directory or client cannot be set up.
    #[error(transparent)]
    Acme(#[from] AcmeError),
}

impl Tls {
    /// Loads the files, or the ACME certificate stored in `data_dir` (if any: the hub asks
    /// for one once it listens).
    pub fn load(
        settings: &TlsSettings,
        data_dir: &Path,
        clock: &dyn Clock,
    ) -> Result<Tls, TlsStartError> {
        Ok(match settings {
            TlsSettings::Files(files) => Tls::Files(files::CertificateFiles::load(files.clone())?),
            TlsSettings::Acme(acme) => Tls::Acme(acme::Acme::load(acme, data_dir, clock.now())?),
        })
    }

    /// The certificate in force.
    pub fn certificates(&self) -> &Arc<Certificates> {
        match self {
            Tls::Files(files) => files.certificates(),
            Tls::Acme(acme) => acme.certificates(),
        }
    }

    /// Starts what keeps the certificate current (renewed files put in force, the ACME
    /// certificate obtained and renewed), on `clock`; it runs until aborted.
    pub fn keep_current(&self, clock: Arc<dyn Clock>) -> JoinHandle<()> {
        match self {
            Tls::Files(files) => tokio::spawn(files::watch_renewals(files.clone(), clock)),
            Tls::Acme(acme) => tokio::spawn(acme::keep_current(acme.clone(), clock)),
        }
    }

    /// On reload: the files read again; what is in force, in words.
    pub fn reload(&self) -> String {
        match self {
            Tls::Files(files) => files.reload_in_words(),
            Tls::Acme(acme) => acme.in_words(),
        }
    }
}
