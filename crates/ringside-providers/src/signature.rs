//! Why a provider's request signature was refused, shared by every provider that signs its
//! webhooks (Placetel, sipgate, Twilio), so the hub answers all of them the same way.

use thiserror::Error;

/// A signed webhook that failed verification. Each message names the header, so the admin
/// setting up the PBX knows where to look.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    /// The request carries no signature header although a secret or key is configured.
    #[error("the {header} header is missing; is webhook signing enabled on the PBX?")]
    Missing {
        /// The header's name as the provider documents it.
        header: &'static str,
    },
    /// The header is present but cannot be decoded.
    #[error("the {header} header is malformed: {detail}")]
    Malformed {
        /// The header's name as the provider documents it.
        header: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// The signature does not match the body.
    #[error("the {header} header does not match the request; check the shared secret or key")]
    Mismatch {
        /// The header's name as the provider documents it.
        header: &'static str,
    },
}
