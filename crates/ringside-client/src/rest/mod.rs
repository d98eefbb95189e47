//! Typed calls to the hub's agent REST API (`/api/v1/...`), one method per endpoint, with
//! a request timeout and every failure mapped to a [`ClientError`].

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use ringside_core::agent::Presence;
use ringside_core::call::{Call, CallTicket};
use ringside_core::caller::ContactCard;
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::endpoint::HubEndpoint;
use crate::error::{with_causes, ClientError, CustomerRefusal};
pub use ringside_core::api::{CallerLookup, DialResult, HelpdeskStatus, JournalQuery, Me};
use ringside_core::api::{
    ContactQuery, DialRequest, DndChange, DoneChange, DoneIds, NewCustomer, Updated,
};
pub use ringside_core::caller::ContactHit;
pub use ringside_core::listing::{JournalFilter, JournalPage};

/// A request timeout short enough for a UI action, long enough for a slow help-desk lookup
/// behind the hub.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long creating a call's ticket may take: the hub waits up to 45 s for the help desk.
pub const TICKET_REQUEST_TIMEOUT: Duration = Duration::from_secs(50);

/// The agent API of one hub, as one agent. Cheap to clone: clones share the connection pool.
#[derive(Debug, Clone)]
pub struct HubClient {
    http: reqwest::Client,
    endpoint: HubEndpoint,
    timeout: Duration,
}

impl HubClient {
    /// A client whose every request (connect included) gives up after `timeout`.
    pub fn new(endpoint: HubEndpoint, timeout: Duration) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("ringside-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::InvalidConfig {
                detail: with_causes(&e),
            })?;
        Ok(HubClient {
            http,
            endpoint,
            timeout,
        })
    }

    /// This agent's own presence and the hub's help desk (`GET /api/v1/me`); also the
    /// cheapest check of a token.
    pub async fn me(&self) -> Result<Me, ClientError> {
        self.fetch(self.request(Method::GET, &["me"])).await
    }

    /// Turns do-not-disturb on or off (`PUT /api/v1/me/dnd`).
    pub async fn set_dnd(&self, dnd: bool) -> Result<Presence, ClientError> {
        self.fetch_with(Method::PUT, &["me", "dnd"], &DndChange { dnd })
            .await
    }

    /// Everyone's presence, for the team view (`GET /api/v1/agents`).
    pub async fn agents(&self) -> Result<Vec<Presence>, ClientError> {
        self.fetch(self.request(Method::GET, &["agents"])).await
    }

    /// One page of the journal, newest first (`GET /api/v1/journal`).
    pub async fn journal(&self, query: &JournalQuery) -> Result<JournalPage, ClientError> {
        self.fetch(self.request(Method::GET, &["journal"]).query(query))
            .await
    }

    /// Marks one journal entry done or not done (`POST /api/v1/journal/{id}/done`).
    pub async fn set_done(&self, id: i64, done: bool) -> Result<Call, ClientError> {
        let id = id.to_string();
        self.fetch_with(
            Method::POST,
            &["journal", &id, "done"],
            &DoneChange { done },
        )
        .await
    }

    /// Marks several entries done at once (`POST /api/v1/journal/done`); returns how many
    /// the hub changed.
    pub async fn mark_done(&self, ids: &[i64]) -> Result<u64, ClientError> {
        let updated: Updated = self
            .fetch_with(
                Method::POST,
                &["journal", "done"],
                &DoneIds { ids: ids.to_vec() },
            )
            .await?;
        Ok(updated.updated)
    }

    /// Logs journal entry `id` as a help-desk ticket now, or gets the ticket it has
    /// (`POST /api/v1/calls/{id}/ticket`), so that the app can open it.
    pub async fn create_ticket(&self, id: i64) -> Result<CallTicket, ClientError> {
        let id = id.to_string();
        self.fetch(
            self.request(Method::POST, &["calls", &id, "ticket"])
                .timeout(TICKET_REQUEST_TIMEOUT),
        )
        .await
    }

    /// Who is behind a number, for a popup or the dial field (`GET /api/v1/callers/{number}`).
    pub async fn lookup_caller(&self, number: &str) -> Result<CallerLookup, ClientError> {
        self.fetch(self.request(Method::GET, &["callers", number]))
            .await
    }

    /// Contacts with a word of their name or organization starting with each word of `query`,
    /// for the dial field's suggestions (`GET /api/v1/contacts`).
    pub async fn search_contacts(&self, query: &str) -> Result<Vec<ContactHit>, ClientError> {
        let query = ContactQuery {
            q: query.to_owned(),
            limit: None,
        };
        self.fetch(self.request(Method::GET, &["contacts"]).query(&query))
            .await
    }

    /// The help desk's connection, last sync and relay backlog, for Settings
    /// (`GET /api/v1/helpdesk`).
    pub async fn helpdesk(&self) -> Result<HelpdeskStatus, ClientError> {
        self.fetch(self.request(Method::GET, &["helpdesk"])).await
    }

    /// Places a call from this agent's phone to `number` (`POST /api/v1/dial`): through
    /// the provider's API, or as a `tel:` link for the agent's softphone.
    pub async fn dial(&self, number: &str) -> Result<DialResult, ClientError> {
        self.fetch_with(
            Method::POST,
            &["dial"],
            &DialRequest {
                number: number.to_owned(),
            },
        )
        .await
    }

    /// Creates the customer of call `call_id`'s caller in the hub's help desk, named `name`
    /// if given (`POST /api/v1/calls/{id}/customer`): their new card, with the link to
    /// their profile. The hub's refusals keep its code ([`ClientError::CustomerNotCreated`]).
    pub async fn create_customer(
        &self,
        call_id: i64,
        name: Option<&str>,
    ) -> Result<ContactCard, ClientError> {
        let id = call_id.to_string();
        let body = NewCustomer {
            name: name.map(str::to_owned),
        };
        let response = self
            .request(Method::POST, &["calls", &id, "customer"])
            .json(&body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            return Err(match CustomerRefusal::from_body(&body) {
                Some((reason, message)) => ClientError::CustomerNotCreated { reason, message },
                None => ClientError::from_status(status.as_u16(), &body),
            });
        }
        response.json().await.map_err(|e| self.transport(e))
    }

    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        self.request_url(method, self.endpoint.api_url(segments))
    }

    fn request_url(&self, method: Method, url: Url) -> RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(self.endpoint.token())
    }

    async fn fetch_with<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        self.fetch(self.request(method, segments).json(body)).await
    }

    async fn fetch<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.bytes().await.unwrap_or_default();
            return Err(ClientError::from_status(status.as_u16(), &body));
        }
        response.json().await.map_err(|e| self.transport(e))
    }

    fn transport(&self, error: reqwest::Error) -> ClientError {
        if error.is_timeout() {
            ClientError::Timeout(self.timeout)
        } else if error.is_decode() {
            ClientError::InvalidResponse {
                detail: with_causes(&error),
            }
        } else {
            ClientError::Unreachable {
                detail: with_causes(&error),
            }
        }
    }
}
