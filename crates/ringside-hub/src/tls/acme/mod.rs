//! `[tls] acme`: a certificate the hub obtains from an ACME authority (Let's Encrypt) and
//! renews itself, as Caddy does, with no other program and no restart.
//!
//! The authority checks each name with TLS-ALPN-01 (RFC 8737): it connects to the name on
//! port 443 asking for the protocol `acme-tls/1`, and the hub's own listener answers with
//! a certificate that carries the proof ([`super::Certificates`]), so no second port (80)
//! is needed. The certificate and the account are kept in `DATA_DIR/acme/` ([`stored`]); a
//! restart serves the stored certificate. It is renewed when two thirds of its validity
//! have passed on the hub's clock; a failed attempt is tried again after a minute, then
//! after twice as long each time, up to an hour. Until the first certificate is in force,
//! handshakes fail (except the authority's).

pub mod client;
pub mod stored;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, Order,
    OrderStatus, RetryPolicy,
};
use rcgen::{CertificateParams, CustomExtension, KeyPair};
use ringside_clock::Clock;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::certificates::Certificates;
use crate::config::AcmeSettings;
use crate::root_cause::root_cause;
use client::{AcmeHttp, ClientError};
use stored::{AcmeDir, CertificateError, Issued};

/// The longest one attempt (account, order, checks, issuance) may take.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(300);

/// The longest the authority may take to check the names, or to issue.
const ORDER_LIMIT: Duration = Duration::from_secs(120);

/// The problem type of a request signed by an account the authority does not know.
const ACCOUNT_UNKNOWN: &str = "urn:ietf:params:acme:error:accountDoesNotExist";

/// The wait after the first failed attempt; it doubles with each further one.
pub const FIRST_RETRY: Duration = Duration::from_secs(60);

/// The longest wait between attempts, and between looks at the clock while a renewal is
/// not due (a computer that slept past the renewal time renews within this).
const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// Why no certificate could be obtained, or kept.
#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    /// The client for the ACME server cannot be built.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The data directory cannot hold the account or the certificate.
    #[error("keeping the ACME account and certificate in {path}: {cause}")]
    Store {
        /// The file or directory.
        path: String,
        /// The system's reason.
        cause: std::io::Error,
    },
    /// The ACME server cannot be reached, or refused a request.
    #[error("the ACME server {directory}: {message}")]
    Authority {
        /// Its directory URL.
        directory: String,
        /// What failed.
        message: String,
    },
    /// The ACME server offers no check the hub can answer.
    #[error(
        "the ACME server offers no TLS-ALPN-01 check for {0}, the only one the hub answers; \
         use certificate files from another ACME client instead"
    )]
    NoTlsAlpn(String),
    /// The ACME server did not accept the proof for a name.
    #[error(
        "the ACME server did not validate {name}: {why}; {name} must reach this hub on port 443"
    )]
    NotValidated {
        /// The name.
        name: String,
        /// The server's reason.
        why: String,
    },
    /// The answer to the check of a name cannot be made.
    #[error("the TLS-ALPN-01 answer for {name} cannot be made: {why}")]
    Proof {
        /// The name.
        name: String,
        /// Why.
        why: String,
    },
    /// What the ACME server issued cannot be served.
    #[error("the certificate the ACME server issued cannot be served: {0}")]
    Issued(CertificateError),
    /// The attempt took longer than [`ATTEMPT_LIMIT`].
    #[error("no certificate within {} seconds", ATTEMPT_LIMIT.as_secs())]
    TimedOut,
}

impl AcmeError {
    /// What turns the system's error on `path` (in the ACME directory) into a [`Store`]
    /// error.
    ///
    /// [`Store`]: AcmeError::Store
    fn store(path: &Path) -> impl FnOnce(std::io::Error) -> AcmeError {
        let path = path.display().to_string();
        move |cause| AcmeError::Store { path, cause }
    }
}

/// When the certificate in force began and ends.
#[derive(Debug, Clone, Copy)]
struct Validity {
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Validity {
    /// When two thirds of it have passed: the time to renew, leaving a third (30 days of
    /// Let's Encrypt's 90) for failed attempts.
    fn renewal(&self) -> OffsetDateTime {
        self.not_before + (self.not_after - self.not_before) * 2 / 3
    }
}

/// The ACME settings, the stored account and certificate, and the certificate in force.
pub struct Acme {
    settings: AcmeSettings,
    dir: AcmeDir,
    http: AcmeHttp,
    certificates: Arc<Certificates>,
    in_force: Mutex<Option<Validity>>,
    /// The account, once registered or read back.
    account: tokio::sync::Mutex<Option<Account>>,
}

impl std::fmt::Debug for Acme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acme")
            .field("settings", &self.settings)
            .field("dir", &self.dir)
            .field("in_force", &self.in_force)
            .finish_non_exhaustive()
    }
}

impl Acme {
    /// Puts the certificate stored in `data_dir` in force when it is for the configured
    /// names and still valid at `now`; otherwise the hub will ask for one.
    pub fn load(
        settings: &AcmeSettings,
        data_dir: &Path,
        now: OffsetDateTime,
    ) -> Result<Arc<Acme>, AcmeError> {
        let dir = AcmeDir::in_data_dir(data_dir);
        let acme = Acme {
            settings: settings.clone(),
            http: AcmeHttp::new(settings.ca_file.as_deref())?,
            certificates: Certificates::new(None, true),
            in_force: Mutex::default(),
            account: tokio::sync::Mutex::default(),
            dir,
        };
        let path = acme.dir.certificate_path();
        let stored = acme.dir.certificate().map_err(AcmeError::store(&path))?;
        let Some(pem) = stored else {
            return Ok(Arc::new(acme));
        };
        let path = path.display();
        let domains = settings.domains.join(", ");
        match Issued::from_pem(pem, acme.certificates.provider()) {
            Err(e) => tracing::warn!("{path}: {e}; asking for a new certificate"),
            Ok(issued) if !issued.covers(&settings.domains) => tracing::info!(
                "the certificate in {path} is for {}, not {domains}: asking for one",
                issued.names.join(", ")
            ),
            Ok(issued) if issued.not_after <= now => tracing::info!(
                "the certificate in {path} expired at {}: asking for a new one",
                shown(issued.not_after)
            ),
            Ok(issued) => {
                tracing::info!(
                    "TLS certificate for {domains} from {path}, valid until {}",
                    shown(issued.not_after)
                );
                acme.put_in_force(issued);
            }
        }
        Ok(Arc::new(acme))
    }

    /// The certificate in force.
    pub fn certificates(&self) -> &Arc<Certificates> {
        &self.certificates
    }

    /// What is in force, in words.
    pub fn in_words(&self) -> String {
        let domains = self.settings.domains.join(", ");
        match *self.in_force.lock().expect("validity lock") {
            Some(validity) => format!(
                "the ACME certificate for {domains} (until {}, renewed from {})",
                shown(validity.not_after),
                shown(validity.renewal())
            ),
            None => format!("no TLS certificate yet (asking the ACME server for {domains})"),
        }
    }

    /// When the certificate in force is to be renewed; `None` when there is none.
    fn renewal(&self) -> Option<OffsetDateTime> {
        self.in_force
            .lock()
            .expect("validity lock")
            .map(|validity| validity.renewal())
    }

    /// Serves `issued` from now on; its validity.
    fn put_in_force(&self, issued: Issued) -> Validity {
        let validity = Validity {
            not_before: issued.not_before,
            not_after: issued.not_after,
        };
        *self.in_force.lock().expect("validity lock") = Some(validity);
        self.certificates.put_in_force(issued.key);
        validity
    }

    /// Asks the authority for a certificate for the configured names, keeps it, and puts it
    /// in force.
    async fn obtain(&self) -> Result<Validity, AcmeError> {
        let identifiers = self
            .settings
            .domains
            .iter()
            .map(|domain| Identifier::Dns(domain.clone()))
            .collect::<Vec<_>>();
        let new_order = NewOrder::new(&identifiers);
        let mut order = match self.account().await?.new_order(&new_order).await {
            Err(instant_acme::Error::Api(problem))
                if problem.r#type.as_deref() == Some(ACCOUNT_UNKNOWN) =>
            {
                tracing::warn!(
                    "the ACME server {} no longer knows this hub's account: registering a new one",
                    self.settings.directory
                );
                self.forget_account().await?;
                self.account().await?.new_order(&new_order).await
            }
            ordered => ordered,
        }
        .map_err(|e| self.authority(&e))?;
        let answering = Answering(&self.certificates);
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization = authorization.map_err(|e| self.authority(&e))?;
            let name = authorization.identifier().to_string();
            match authorization.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                status => {
                    return Err(AcmeError::NotValidated {
                        name,
                        why: format!("its authorization is {status:?}"),
                    })
                }
            }
            let mut challenge = authorization
                .challenge(ChallengeType::TlsAlpn01)
                .ok_or_else(|| AcmeError::NoTlsAlpn(name.clone()))?;
            let digest = challenge.key_authorization().digest();
            let proof = proof(&name, digest.as_ref(), self.certificates.provider())?;
            self.certificates.answer_challenge(name, proof);
            challenge
                .set_ready()
                .await
                .map_err(|e| self.authority(&e))?;
        }
        let waiting = RetryPolicy::new().timeout(ORDER_LIMIT);
        let status = order
            .poll_ready(&waiting)
            .await
            .map_err(|e| self.authority(&e))?;
        drop(answering);
        if status != OrderStatus::Ready {
            return Err(self.refusal(&mut order).await);
        }
        let key = order.finalize().await.map_err(|e| self.authority(&e))?;
        let chain = order
            .poll_certificate(&waiting)
            .await
            .map_err(|e| self.authority(&e))?;
        let issued = Issued::from_pem(format!("{chain}\n{key}"), self.certificates.provider())
            .map_err(AcmeError::Issued)?;
        self.dir
            .save_certificate(&issued)
            .map_err(AcmeError::store(&self.dir.certificate_path()))?;
        Ok(self.put_in_force(issued))
    }

    /// The account: read back from the data directory, or registered (agreeing to the
    /// authority's terms, as setting `acme` does) and kept there.
    async fn account(&self) -> Result<Account, AcmeError> {
        let mut account = self.account.lock().await;
        if let Some(account) = &*account {
            return Ok(account.clone());
        }
        let directory = &self.settings.directory;
        let stored = self
            .dir
            .account(directory)
            .map_err(AcmeError::store(&self.dir.account_path()))?;
        let builder = Account::builder_with_http(Box::new(self.http.clone()));
        let registered = match stored {
            Some(credentials) => builder
                .from_credentials(credentials)
                .await
                .map_err(|e| self.authority(&e))?,
            None => {
                let contact = self
                    .settings
                    .email
                    .iter()
                    .map(|email| format!("mailto:{email}"))
                    .collect::<Vec<_>>();
                let contact = contact.iter().map(String::as_str).collect::<Vec<_>>();
                let new = NewAccount {
                    contact: &contact,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                };
                let (registered, credentials) = builder
                    .create(&new, directory.clone(), None)
                    .await
                    .map_err(|e| self.authority(&e))?;
                self.dir
                    .save_account(directory, credentials)
                    .map_err(AcmeError::store(&self.dir.account_path()))?;
                tracing::info!("ACME account registered with {directory}");
                registered
            }
        };
        *account = Some(registered.clone());
        Ok(registered)
    }

    /// Forgets the account the authority no longer knows (deactivated, or the authority's
    /// accounts were reset, as a staging server's are), so that the next one is registered.
    async fn forget_account(&self) -> Result<(), AcmeError> {
        let mut account = self.account.lock().await;
        self.dir
            .forget_account()
            .map_err(AcmeError::store(&self.dir.account_path()))?;
        *account = None;
        Ok(())
    }

    /// Why the authority found the order invalid: the first name it did not validate.
    async fn refusal(&self, order: &mut Order) -> AcmeError {
        let mut authorizations = order.authorizations();
        while let Some(Ok(mut authorization)) = authorizations.next().await {
            let name = authorization.identifier().to_string();
            let Ok(state) = authorization.refresh().await else {
                continue;
            };
            let problem = state.challenges.iter().find_map(|c| c.error.as_ref());
            if state.status == AuthorizationStatus::Invalid {
                let why = problem.map_or_else(|| "no reason given".to_owned(), |p| p.to_string());
                return AcmeError::NotValidated { name, why };
            }
        }
        let why = order
            .state()
            .error
            .as_ref()
            .map_or_else(|| "the order is invalid".to_owned(), |p| p.to_string());
        AcmeError::NotValidated {
            name: self.settings.domains.join(", "),
            why,
        }
    }

    fn authority(&self, e: &instant_acme::Error) -> AcmeError {
        let outer = e.to_string();
        let root = root_cause(e);
        AcmeError::Authority {
            directory: self.settings.directory.clone(),
            message: if root == outer {
                outer
            } else {
                format!("{outer} ({root})")
            },
        }
    }
}

/// `at` to the second, as RFC 3339 writes it.
fn shown(at: OffsetDateTime) -> String {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Withdraws the answers to the authority's checks when the attempt ends, however it ends.
struct Answering<'a>(&'a Certificates);

impl Drop for Answering<'_> {
    fn drop(&mut self) {
        self.0.withdraw();
    }
}

/// The TLS-ALPN-01 certificate for `name`: self-signed, carrying `digest` (the SHA-256 of
/// the key authorization) in its critical acmeIdentifier extension. (Not checked against
/// its key as a served certificate is: the checker refuses the extension it does not know.)
fn proof(name: &str, digest: &[u8], provider: &CryptoProvider) -> Result<CertifiedKey, AcmeError> {
    let unusable = |e: &dyn std::fmt::Display| AcmeError::Proof {
        name: name.to_owned(),
        why: e.to_string(),
    };
    let mut params = CertificateParams::new(vec![name.to_owned()]).map_err(|e| unusable(&e))?;
    params.custom_extensions = vec![CustomExtension::new_acme_identifier(digest)];
    let key = KeyPair::generate().map_err(|e| unusable(&e))?;
    let cert = params.self_signed(&key).map_err(|e| unusable(&e))?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signing = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| unusable(&e))?;
    let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
    Ok(CertifiedKey::new(chain, signing))
}

/// Obtains the certificate when there is none in force, and renews it when due, on `clock`;
/// runs until aborted.
pub async fn keep_current(acme: Arc<Acme>, clock: Arc<dyn Clock>) {
    let domains = acme.settings.domains.join(", ");
    let mut failures = 0u32;
    loop {
        let now = clock.now();
        if let Some(due) = acme.renewal().filter(|due| *due > now) {
            let until = Duration::try_from(due - now).unwrap_or_default();
            clock.sleep(until.min(LONGEST_WAIT)).await;
            continue;
        }
        let attempt = tokio::time::timeout(ATTEMPT_LIMIT, acme.obtain()).await;
        match attempt.unwrap_or(Err(AcmeError::TimedOut)) {
            Ok(validity) => {
                failures = 0;
                tracing::info!(
                    "TLS certificate for {domains} obtained from {}: valid until {}, renewed \
                     from {}",
                    acme.settings.directory,
                    shown(validity.not_after),
                    shown(validity.renewal())
                );
            }
            Err(e) => {
                let wait = FIRST_RETRY
                    .saturating_mul(1 << failures.min(6))
                    .min(LONGEST_WAIT);
                failures = failures.saturating_add(1);
                tracing::error!(
                    "no TLS certificate for {domains}: {e}; asking again in {} seconds",
                    wait.as_secs()
                );
                clock.sleep(wait).await;
            }
        }
    }
}
