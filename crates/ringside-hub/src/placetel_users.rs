//! The names of Placetel's SIP users, read from Placetel's API (`GET /v2/sip_users`) when an
//! API token is configured, so that a call answered by a SIP user no agent has claimed still
//! shows who took it. Cached as Zammad does: a day after a good answer, an hour after a
//! failure (an empty list then), so a Placetel outage never slows the webhooks down for long.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ringside_core::limits;
use serde::Deserialize;

/// How long a fetched list is used.
const FRESH: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a failed fetch is remembered.
const FAILED: Duration = Duration::from_secs(60 * 60);
/// The most bytes of the list read: thousands of SIP users take a few hundred KiB.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Why the list could not be read.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    /// The request failed or Placetel answered with an error status.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// The answer is larger than [`BODY_LIMIT`].
    #[error("the answer is larger than 4 MiB")]
    TooLarge,
    /// The answer is not the documented list.
    #[error("the answer is not a list of SIP users: {0}")]
    Json(#[from] serde_json::Error),
}

/// The cache; see the module documentation.
#[derive(Debug)]
pub struct PlacetelUsers {
    client: reqwest::Client,
    cached: Mutex<Option<Cached>>,
}

/// A fetched list and how long it may be used.
#[derive(Debug)]
struct Cached {
    at: Instant,
    keep: Duration,
    names: HashMap<String, String>,
}

/// One entry of Placetel's SIP user list, as far as the hub reads it.
#[derive(Debug, Deserialize)]
struct SipUser {
    sipuid: Option<String>,
    name: Option<String>,
}

impl Default for PlacetelUsers {
    fn default() -> Self {
        PlacetelUsers {
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(4))
                .timeout(Duration::from_secs(6))
                .build()
                .expect("an HTTP client with timeouts builds"),
            cached: Mutex::new(None),
        }
    }
}

impl PlacetelUsers {
    /// The name of the SIP user `sipuid`, if Placetel lists one.
    pub async fn name_of(&self, api_url: &str, api_token: &str, sipuid: &str) -> Option<String> {
        if api_token.is_empty() {
            return None;
        }
        if let Some(names) = self.fresh() {
            return names.get(sipuid).cloned();
        }
        let (names, keep) = match self.fetch(api_url, api_token).await {
            Ok(names) => (names, FRESH),
            Err(e) => {
                tracing::warn!("Placetel SIP users not read: {e}");
                (HashMap::new(), FAILED)
            }
        };
        let name = names.get(sipuid).cloned();
        *self.cached.lock().expect("Placetel user cache lock") = Some(Cached {
            at: Instant::now(),
            keep,
            names,
        });
        name
    }

    fn fresh(&self) -> Option<HashMap<String, String>> {
        let cached = self.cached.lock().expect("Placetel user cache lock");
        match &*cached {
            Some(cached) if cached.at.elapsed() < cached.keep => Some(cached.names.clone()),
            _ => None,
        }
    }

    async fn fetch(
        &self,
        api_url: &str,
        api_token: &str,
    ) -> Result<HashMap<String, String>, FetchError> {
        let mut response = self
            .client
            .get(format!("{}/sip_users", api_url.trim_end_matches('/')))
            .bearer_auth(api_token)
            .send()
            .await?
            .error_for_status()?;
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > BODY_LIMIT {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let users: Vec<SipUser> = serde_json::from_slice(&body)?;
        // A name is shown and stored with the call: kept within the bound of any name.
        Ok(users
            .into_iter()
            .filter_map(|user| {
                let name = user.name?;
                let (name, _) = limits::cut(&name, limits::MAX_NAME_CHARS);
                Some((user.sipuid?, name.to_owned()))
            })
            .collect())
    }
}
