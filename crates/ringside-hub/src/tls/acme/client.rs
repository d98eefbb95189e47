//! How the ACME client reaches the authority: the hub's HTTP client (reqwest with rustls and
//! ring, the public authorities or the configured one), with a time limit per request and a
//! size limit per answer.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};

/// The longest an ACME request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest answer read (a directory, an order, a chain: a few kB).
const MAX_ANSWER: usize = 1024 * 1024;

/// Why the client for the ACME server cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// `ca_file` cannot be read.
    #[error("reading tls.acme.ca_file {path}: {cause}")]
    Read {
        /// The file.
        path: String,
        /// The system's reason.
        cause: std::io::Error,
    },
    /// `ca_file` holds no certificate, or the client refuses one.
    #[error("tls.acme.ca_file {path}: {why}")]
    Authority {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// The HTTP client cannot be set up.
    #[error("the HTTP client for the ACME server: {0}")]
    Client(reqwest::Error),
}

/// Requests to the ACME server.
#[derive(Debug, Clone)]
pub struct AcmeHttp(reqwest::Client);

impl AcmeHttp {
    /// A client trusting the public authorities, or only those in `ca_file`.
    pub fn new(ca_file: Option<&Path>) -> Result<AcmeHttp, ClientError> {
        let mut builder = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = ca_file {
            let shown = path.display().to_string();
            let pem = std::fs::read(path).map_err(|cause| ClientError::Read {
                path: shown.clone(),
                cause,
            })?;
            let roots = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| e.to_string())
                .and_then(|roots| {
                    if roots.is_empty() {
                        Err("no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned())
                    } else {
                        Ok(roots)
                    }
                })
                .map_err(|why| ClientError::Authority { path: shown, why })?;
            builder = builder.tls_built_in_root_certs(false);
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        builder.build().map(AcmeHttp).map_err(ClientError::Client)
    }
}

impl HttpClient for AcmeHttp {
    fn request(
        &self,
        request: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let client = self.0.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(never) => match never {},
            };
            let request = reqwest::Request::try_from(http::Request::from_parts(parts, body))
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
            let response = client
                .execute(request)
                .await
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
            let response =
                http::Response::from(response).map(|body| Limited::new(body, MAX_ANSWER));
            Ok(BytesResponse::from(response))
        })
    }
}
