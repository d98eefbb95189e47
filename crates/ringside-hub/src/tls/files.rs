//! `[tls] cert_file`, `key_file`: a certificate another program renews (certbot).
//!
//! The certificate in force is swapped whole when the files change: on SIGHUP
//! ([`CertificateFiles::reload`]) and when a check finds them replaced (a renewal;
//! [`CertificateFiles::reload_if_changed`]). Files that do not load (half written, a key
//! that does not match its certificate) leave the certificate in force.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ringside_clock::Clock;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use super::certificates::Certificates;
use crate::config::TlsFiles;

/// How often the files are checked for a renewal: a renewed certificate is put in force
/// within a minute, at the cost of two `stat` calls.
pub const RENEWAL_CHECK: Duration = Duration::from_secs(60);

/// Puts renewed files in force, checking every [`RENEWAL_CHECK`] on `clock`; runs until
/// aborted.
pub async fn watch_renewals(files: Arc<CertificateFiles>, clock: Arc<dyn Clock>) {
    loop {
        clock.sleep(RENEWAL_CHECK).await;
        let cert = files.files.cert_file.display();
        match files.reload_if_changed() {
            Ok(true) => tracing::info!("TLS certificate renewed: {cert} is in force"),
            Ok(false) => {}
            Err(e) => tracing::error!("{e}; the TLS certificate in force stays"),
        }
    }
}

/// Why the certificate files could not be put in force.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("reading {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        cause: std::io::Error,
    },
    /// The certificate file holds no certificate in PEM form.
    #[error("{0} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate(PathBuf),
    /// The key file holds no private key in PEM form.
    #[error("{path} holds no PEM private key (PKCS#8, PKCS#1 or SEC1): {cause}")]
    NoKey {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        cause: rustls::pki_types::pem::Error,
    },
    /// The key is of a kind TLS cannot sign with, or does not match the certificate.
    #[error("the key in {key} cannot serve the certificate in {cert}: {cause}")]
    Unusable {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        cause: rustls::Error,
    },
}

/// When each file last changed, and its length: a replaced file changes one or the other.
type Stamp = [Option<(SystemTime, u64)>; 2];

/// The files, and the certificate in force from them.
#[derive(Debug)]
pub struct CertificateFiles {
    files: TlsFiles,
    certificates: Arc<Certificates>,
    /// The files as last read, loaded or not: a change is tried once.
    read: Mutex<Stamp>,
}

impl CertificateFiles {
    /// Loads the files: the hub does not start with files that do not serve.
    pub fn load(files: TlsFiles) -> Result<Arc<Self>, TlsError> {
        let stamp = stamp(&files);
        let certificates = Certificates::new(None, false);
        certificates.put_in_force(certified_key(&files, certificates.provider())?);
        Ok(Arc::new(CertificateFiles {
            files,
            certificates,
            read: Mutex::new(stamp),
        }))
    }

    /// The certificate in force.
    pub fn certificates(&self) -> &Arc<Certificates> {
        &self.certificates
    }

    /// Reads the files again and puts them in force; when they do not load, the certificate
    /// in force stays and the error says why.
    pub fn reload(&self) -> Result<(), TlsError> {
        *self.read.lock().expect("stamp lock") = stamp(&self.files);
        let key = certified_key(&self.files, self.certificates.provider())?;
        self.certificates.put_in_force(key);
        Ok(())
    }

    /// [`CertificateFiles::reload`] when a file changed since it was last read; whether one
    /// did. Files that changed and do not load are tried again only once they change again.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        if stamp(&self.files) == *self.read.lock().expect("stamp lock") {
            return Ok(false);
        }
        self.reload().map(|()| true)
    }

    /// [`CertificateFiles::reload`], logged, and what is in force, in words.
    pub fn reload_in_words(&self) -> String {
        let cert = self.files.cert_file.display();
        match self.reload() {
            Ok(()) => format!("the TLS certificate of {cert}"),
            Err(e) => {
                tracing::error!("{e}; the TLS certificate in force stays");
                format!("the TLS certificate in force (not {cert}, which does not load)")
            }
        }
    }
}

/// The files' modification times and lengths, `None` for a file that cannot be read.
fn stamp(files: &TlsFiles) -> Stamp {
    [&files.cert_file, &files.key_file].map(|path| {
        let metadata = std::fs::metadata(path).ok()?;
        Some((metadata.modified().ok()?, metadata.len()))
    })
}

/// The chain and key of `files`, the key checked against the certificate.
fn certified_key(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let chain = read(&files.cert_file)?;
    let certs = CertificateDer::pem_slice_iter(&chain)
        .filter_map(Result::ok)
        .collect::<Vec<_>>();
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(files.cert_file.clone()));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key_file)?).map_err(|cause| {
        TlsError::NoKey {
            path: files.key_file.clone(),
            cause,
        }
    })?;
    CertifiedKey::from_der(certs, key, provider).map_err(|cause| TlsError::Unusable {
        cert: files.cert_file.clone(),
        key: files.key_file.clone(),
        cause,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|cause| TlsError::Read {
        path: path.to_owned(),
        cause,
    })
}
