//! Why a PBX webhook request was not acted on, with the status code it gets, so that every
//! provider's endpoint refuses the same way and the admin reads the reason in the webhook
//! log. Each provider writes the message in its own format (JSON, XML, TwiML).

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

/// The message the PBX gets when the store did not record its event and is not just busy.
const NOT_RECORDED: &str = "the hub could not record the event; retry later";

/// A refused or failed webhook request; see the module documentation.
#[derive(Debug, Error)]
pub enum Failure {
    /// The endpoint is off, the path's token is wrong (Zammad's texts), or the body could
    /// not be read.
    #[error("{}", .0.message)]
    Gate(Refusal),
    /// The body could not be read (too large, cut off).
    #[error("{}", .0.body_text())]
    Body(BytesRejection),
    /// The signature header is missing or wrong: the request may not come from the provider.
    #[error("{0}")]
    Signature(#[from] SignatureError),
    /// The body is not form data or JSON.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The parameters are not a Twilio request about a call.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The event breaks the journal's rules or misses what they need; nothing was stored.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The store failed, or is busy (503 with the reason, worth a retry in a moment);
    /// nothing was stored.
    #[error("{}", store_message(.0))]
    Store(#[from] StoreError),
}

fn store_message(e: &StoreError) -> String {
    match e {
        StoreError::Busy(_) => e.to_string(),
        _ => NOT_RECORDED.to_owned(),
    }
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

/// The status and body a webhook of `provider` answers with: `body` when the request was
/// acted on, else the failure's message written by `error` in the provider's format. A
/// failure of the store is logged (the others are the sender's to fix, and the webhook log
/// shows them).
pub fn answer(
    provider: &str,
    outcome: Result<String, Failure>,
    error: impl FnOnce(&str) -> String,
) -> (StatusCode, String) {
    match outcome {
        Ok(body) => (StatusCode::OK, body),
        Err(failure) => {
            match &failure {
                Failure::Store(e @ StoreError::Busy(_)) => {
                    tracing::warn!("{provider} event refused: {e}")
                }
                Failure::Store(e) => tracing::error!("{provider} event not recorded: {e}"),
                _ => {}
            }
            (failure.status(), error(&failure.to_string()))
        }
    }
}
