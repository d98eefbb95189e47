//! Ringside's wire formats, kept pure so that each can be unit-tested against the
//! documented examples: a provider's request becomes a [`ringside_core::call::CallEvent`],
//! and a [`ringside_core::routing::PbxAnswer`] becomes the provider's response body.
//!
//! - [`generic`]: Zammad's generic CTI push API, form-encoded or JSON in, JSON out.

pub mod generic;
mod params;

pub use params::{Params, WireError};
