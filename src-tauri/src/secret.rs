//! The remote hub's agent token in the OS keyring (Secret Service on Linux, Keychain on
//! macOS, Credential Manager on Windows), never in a file. One entry per hub URL setting
//! (one URL, or the list of a hub's nodes); a new list that keeps one of the nodes takes
//! the token over.

use crate::error::UiError;

/// The keyring service name of Ringside's entries.
const SERVICE: &str = "org.ringside.desktop";

fn entry(hub_url: &str) -> Result<keyring::Entry, UiError> {
    keyring::Entry::new(SERVICE, hub_url).map_err(keyring_error)
}

fn keyring_error(error: keyring::Error) -> UiError {
    UiError::new("keyring", format!("the system keyring: {error}"))
}

/// The token stored for `hub_url`, if any. Blocks on the keyring: call it off the async
/// threads.
pub fn load(hub_url: &str) -> Result<Option<String>, UiError> {
    match entry(hub_url)?.get_password() {
        Ok(token) => Ok(Some(token)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(keyring_error(e)),
    }
}

/// Stores `token` for `hub_url`, replacing what was there. Blocks on the keyring.
pub fn store(hub_url: &str, token: &str) -> Result<(), UiError> {
    entry(hub_url)?.set_password(token).map_err(keyring_error)
}
