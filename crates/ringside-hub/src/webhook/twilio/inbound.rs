//! Reading a request to a Twilio endpoint, in the order that keeps forged requests out:
//! the path's token (Zammad's checks), then `X-Twilio-Signature` on what Twilio signed (the
//! public URL configured at Twilio with the form parameters, or the URL carrying the JSON
//! body's `bodySHA256`), and only then the parameters.

use std::convert::Infallible;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::{header, HeaderMap, Method, Uri};
use ringside_providers::{twilio, Params};

use crate::state::Hub;
use crate::webhook::failure::Failure;
use crate::webhook::gate;

/// A request as it arrived, before anything in it is trusted.
#[derive(Debug)]
pub struct Inbound {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
}

impl<S: Send + Sync> FromRequest<S> for Inbound {
    type Rejection = Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let method = req.method().clone();
        // The path as the client sent it, whatever routing made of it.
        let uri = req
            .extensions()
            .get::<OriginalUri>()
            .map_or_else(|| req.uri().clone(), |original| original.0.clone());
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await;
        Ok(Inbound {
            method,
            uri,
            headers,
            body,
        })
    }
}

impl Inbound {
    /// The request's headers, for the webhook log.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// What the webhook log keeps of the request: the body, or the query of a GET.
    pub fn log_text(&self) -> String {
        if self.method == Method::GET {
            self.uri.query().unwrap_or_default().to_owned()
        } else {
            crate::webhook_log::request_text(&self.body)
        }
    }

    /// A parameter of the URL's query (which the signature covers), whatever the method.
    pub fn query_value(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.uri.query()?.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// Admits the request, checks its signature and reads its parameters (a GET's from its
    /// query).
    pub fn params(self, hub: &Hub, path_token: &str) -> Result<Params, Failure> {
        let config = &hub.settings.config.twilio;
        gate::admit(config.enabled, &config.token, path_token).map_err(Failure::Gate)?;
        let url = self.signed_url(&hub.settings.config.public_url);
        let signature = self
            .headers
            .get(twilio::SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let checked = self.checked(&config.auth_token, &url, signature.as_deref());
        if let Err(Failure::Signature(e)) = &checked {
            let url = crate::redact::tokens(&url);
            tracing::warn!("Twilio request to {url} refused: {e}");
        }
        checked
    }

    fn checked(
        self,
        auth_token: &str,
        url: &str,
        signature: Option<&str>,
    ) -> Result<Params, Failure> {
        if self.method == Method::GET {
            twilio::verify_form(auth_token, url, &Params::default(), signature)?;
            let query = self.uri.query().unwrap_or_default();
            return Ok(Params::from_form(query.as_bytes())?);
        }
        let body = self.body.map_err(Failure::Body)?;
        let json = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("json"));
        if json {
            twilio::verify_json(auth_token, url, &body, signature)?;
            Ok(Params::from_json(&body)?)
        } else {
            let params = Params::from_form(&body)?;
            twilio::verify_form(auth_token, url, &params, signature)?;
            Ok(params)
        }
    }

    /// The URL Twilio signed: the hub's public URL with the request's path and query.
    fn signed_url(&self, public_url: &str) -> String {
        let path = self
            .uri
            .path_and_query()
            .map_or_else(|| self.uri.path(), |pq| pq.as_str());
        format!("{}{path}", public_url.trim_end_matches('/'))
    }
}
