//! Why a Twilio request was not acted on, with the status code it gets, so that every
//! endpoint refuses the same way and the admin reads the reason in the webhook log.

use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use ringside_core::journal::JournalError;
use ringside_providers::signature::SignatureError;
use ringside_providers::twilio::RequestError;
use ringside_providers::WireError;
use thiserror::Error;

use crate::recorder::RecordError;
use crate::store::StoreError;
use crate::webhook::gate::Refusal;

/// A refused or failed Twilio request; see the module documentation.
#[derive(Debug, Error)]
pub enum Failure {
    /// The endpoint is off, or the path's token is wrong (Zammad's texts).
    #[error("{}", .0.message)]
    Gate(Refusal),
    /// The body could not be read (too large, cut off).
    #[error("{}", .0.body_text())]
    Body(BytesRejection),
    /// `X-Twilio-Signature` is missing or wrong: the request may not come from Twilio.
    #[error("{0}")]
    Signature(#[from] SignatureError),
    /// The body is not form data or JSON.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The parameters are not a Twilio request about a call.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The event breaks the journal's rules; nothing was stored.
    #[error(transparent)]
    Journal(JournalError),
    /// The store failed, or is busy; nothing was stored.
    #[error("{}", crate::intake::store_answer(.0).1)]
    Store(StoreError),
}

impl From<RecordError> for Failure {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Journal(e) => Failure::Journal(e),
            RecordError::Store(e) => Failure::Store(e),
        }
    }
}

impl Failure {
    /// The status code the request is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::Gate(refusal) => refusal.status,
            Failure::Body(e) => e.status(),
            Failure::Signature(_) => StatusCode::UNAUTHORIZED,
            Failure::Wire(_) => StatusCode::BAD_REQUEST,
            Failure::Request(_) | Failure::Journal(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Failure::Store(StoreError::Busy(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}
