//! What the hub keeps of ACME in `DATA_DIR/acme/`, readable by its owner only: the account
//! (`account.json`: its key, and the directory it is registered with) and the certificate
//! in force (`certificate.pem`: the chain, then its key), so that a restart serves the
//! certificate it has instead of asking again. Each file is written beside and renamed
//! over, so a crash leaves the old file or the new one.

use std::io;
use std::path::{Path, PathBuf};

use instant_acme::AccountCredentials;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;

use crate::owner_only;

/// The largest stored file read (a chain is a few kB).
const MAX_FILE: u64 = 1024 * 1024;

/// `DATA_DIR/acme/`.
#[derive(Debug, Clone)]
pub struct AcmeDir(PathBuf);

/// The account as stored: a directory's account is of no use with another.
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    directory: String,
    credentials: AccountCredentials,
}

/// Why a stored or issued certificate cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// No certificate in PEM.
    #[error("no PEM certificate")]
    NoCertificate,
    /// No key in PEM.
    #[error("no PEM private key")]
    NoKey,
    /// The certificate is not X.509 as its issuer should have written it.
    #[error("the certificate does not parse: {0}")]
    Unparsable(String),
    /// The key does not sign for the certificate.
    #[error("the key does not serve the certificate: {0}")]
    Unusable(rustls::Error),
}

/// A certificate with its key, what it is for and how long.
#[derive(Debug)]
pub struct Issued {
    /// The chain and key, as the handshake serves them.
    pub key: CertifiedKey,
    /// The DNS names it holds.
    pub names: Vec<String>,
    /// When its validity began.
    pub not_before: OffsetDateTime,
    /// When it ends.
    pub not_after: OffsetDateTime,
    /// The chain, then the key, in PEM: what is stored.
    pem: String,
}

impl Issued {
    /// Reads `pem` (the chain, then the key).
    pub fn from_pem(pem: String, provider: &CryptoProvider) -> Result<Issued, CertificateError> {
        let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
            .filter_map(Result::ok)
            .collect::<Vec<_>>();
        let leaf = chain.first().ok_or(CertificateError::NoCertificate)?;
        let (_, parsed) = x509_parser::parse_x509_certificate(leaf)
            .map_err(|e| CertificateError::Unparsable(e.to_string()))?;
        let time = |at: x509_parser::time::ASN1Time| {
            OffsetDateTime::from_unix_timestamp(at.timestamp())
                .map_err(|e| CertificateError::Unparsable(e.to_string()))
        };
        let not_before = time(parsed.validity().not_before)?;
        let not_after = time(parsed.validity().not_after)?;
        let names = match parsed.subject_alternative_name() {
            Ok(Some(names)) => names
                .value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(name) => Some(name.to_ascii_lowercase()),
                    _ => None,
                })
                .collect(),
            Ok(None) => Vec::new(),
            Err(e) => return Err(CertificateError::Unparsable(e.to_string())),
        };
        let key =
            PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| CertificateError::NoKey)?;
        let key =
            CertifiedKey::from_der(chain, key, provider).map_err(CertificateError::Unusable)?;
        Ok(Issued {
            key,
            names,
            not_before,
            not_after,
            pem,
        })
    }

    /// Whether it names every one of `domains`.
    pub fn covers(&self, domains: &[String]) -> bool {
        domains.iter().all(|domain| self.names.contains(domain))
    }
}

impl AcmeDir {
    /// The `acme` directory of `data_dir` (not created until something is stored).
    pub fn in_data_dir(data_dir: &Path) -> AcmeDir {
        AcmeDir(data_dir.join("acme"))
    }

    /// Where the certificate is kept, for messages.
    pub fn certificate_path(&self) -> PathBuf {
        self.0.join("certificate.pem")
    }

    /// Where the account is kept, for messages.
    pub fn account_path(&self) -> PathBuf {
        self.0.join("account.json")
    }

    /// The account registered with `directory`, if one is stored.
    pub fn account(&self, directory: &str) -> io::Result<Option<AccountCredentials>> {
        let Some(text) = self.read("account.json")? else {
            return Ok(None);
        };
        let stored: StoredAccount = serde_json::from_str(&text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok((stored.directory == directory).then_some(stored.credentials))
    }

    /// Keeps the account registered with `directory`.
    pub fn save_account(&self, directory: &str, credentials: AccountCredentials) -> io::Result<()> {
        let stored = StoredAccount {
            directory: directory.to_owned(),
            credentials,
        };
        let text = serde_json::to_vec_pretty(&stored).map_err(io::Error::other)?;
        self.write("account.json", &text)
    }

    /// Removes the stored account, if any.
    pub fn forget_account(&self) -> io::Result<()> {
        match std::fs::remove_file(self.account_path()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The stored certificate's PEM, if any.
    pub fn certificate(&self) -> io::Result<Option<String>> {
        self.read("certificate.pem")
    }

    /// Keeps `issued` as the certificate in force.
    pub fn save_certificate(&self, issued: &Issued) -> io::Result<()> {
        self.write("certificate.pem", issued.pem.as_bytes())
    }

    fn read(&self, name: &str) -> io::Result<Option<String>> {
        use io::Read;
        let path = self.0.join(name);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut text = String::new();
        file.take(MAX_FILE).read_to_string(&mut text)?;
        Ok(Some(text))
    }

    fn write(&self, name: &str, contents: &[u8]) -> io::Result<()> {
        owner_only::create_dir(&self.0)?;
        let path = self.0.join(name);
        let new = self.0.join(format!("{name}.new"));
        owner_only::write(&new, contents)?;
        std::fs::rename(&new, &path)
    }
}
