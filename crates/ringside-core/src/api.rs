//! The bodies and queries of the hub's agent and admin API (`/api/v1/...`) that are not
//! domain types, defined once: the hub reads and answers with them, the client sends and
//! reads them, ts-rs turns those the desktop UI sees into TypeScript, and a test of the hub
//! checks every one against its OpenAPI description (`openapi.json`).

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use crate::agent::{Identities, Presence};
use crate::call::Provider;
use crate::caller::{CallerMatch, ContactCard};
use crate::listing::JournalFilter;

/// The hub's answer to a request it refused or could not carry out. The fields are in the
/// order the hub has always sent them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable reason, one of [`ErrorCode`] (kept a string, so that a client
    /// reads the message of a code newer than itself).
    pub code: String,
    /// What went wrong, written for the agent or admin.
    pub error: String,
}

/// Every stable code the hub's API answers with in [`ErrorBody::code`], listed once: the
/// hub can send no other, and its OpenAPI description lists exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is malformed or a value is out of range (400, 413, 415 or 422).
    BadRequest,
    /// No valid token (401).
    Unauthorized,
    /// The token's agent may not do this (403).
    Forbidden,
    /// No such agent, call or entry (404).
    NotFound,
    /// The change contradicts what the hub holds (409).
    Conflict,
    /// The caller holds as much of the hub as it may (429).
    TooMany,
    /// The hub's queue or connections are full; retry in a moment (503).
    Busy,
    /// The hub failed; its log says why (500).
    Internal,
    /// A telephony provider refused a call or could not be reached (502).
    ProviderError,
    /// A telephony provider did not answer in time (504).
    ProviderTimeout,
    /// The hub is not connected to Zammad as the request needs (409).
    ZammadNotConfigured,
    /// The caller is no Zammad customer the hub knows (409).
    UnknownCaller,
    /// A contact has the caller's number already (409).
    CallerKnown,
    /// The caller's number is hidden (422).
    NoNumber,
    /// Zammad could not be reached (502).
    ZammadUnreachable,
    /// Zammad refused the request (502).
    ZammadRefused,
    /// Zammad did not answer in time (504).
    ZammadSlow,
    /// The hub cannot take calls now: it is stopping, or its store or its writer does not
    /// answer (503, from `GET /readyz`).
    NotReady,
}

impl ErrorCode {
    /// All codes, in the order the OpenAPI description lists them.
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::TooMany,
        ErrorCode::Busy,
        ErrorCode::Internal,
        ErrorCode::ProviderError,
        ErrorCode::ProviderTimeout,
        ErrorCode::ZammadNotConfigured,
        ErrorCode::UnknownCaller,
        ErrorCode::CallerKnown,
        ErrorCode::NoNumber,
        ErrorCode::ZammadUnreachable,
        ErrorCode::ZammadRefused,
        ErrorCode::ZammadSlow,
        ErrorCode::NotReady,
    ];

    /// The code as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooMany => "too_many",
            ErrorCode::Busy => "busy",
            ErrorCode::Internal => "internal",
            ErrorCode::ProviderError => "provider_error",
            ErrorCode::ProviderTimeout => "provider_timeout",
            ErrorCode::ZammadNotConfigured => "zammad_not_configured",
            ErrorCode::UnknownCaller => "unknown_caller",
            ErrorCode::CallerKnown => "caller_known",
            ErrorCode::NoNumber => "no_number",
            ErrorCode::ZammadUnreachable => "zammad_unreachable",
            ErrorCode::ZammadRefused => "zammad_refused",
            ErrorCode::ZammadSlow => "zammad_slow",
            ErrorCode::NotReady => "not_ready",
        }
    }
}

impl ErrorBody {
    /// The body of a refusal with `code`.
    pub fn new(code: ErrorCode, error: impl Into<String>) -> Self {
        ErrorBody {
            code: code.as_str().to_owned(),
            error: error.into(),
        }
    }
}

/// Answer of `GET /api/v1/me`: the agent's presence and what the app needs to know of
/// the hub's help desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The agent's own presence, as the team sees it.
    #[serde(flatten)]
    pub presence: Presence,
    /// The base URL of the help desk the hub syncs callers from (`[zammad] url`), when it
    /// does: the app opens links to it and offers to create customers there.
    #[serde(default)]
    pub helpdesk_url: Option<String>,
    /// The hub's version (the workspace's, `ringside-hub --version`); `None` from a hub
    /// older than 0.1.0's versioning, which did not say.
    #[serde(default)]
    pub hub_version: Option<String>,
}

/// Body of `POST /api/v1/calls/{id}/customer` (optional): the new customer's name, as the
/// agent typed it. Without one, the caller's number alone identifies the customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// The full name, at most [`NewCustomer::MAX_NAME_CHARS`] characters; first name(s)
    /// and last name are split at the last space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl NewCustomer {
    /// The longest name, in characters.
    pub const MAX_NAME_CHARS: usize = 200;
}

/// Answer of `POST /api/v1/calls/{id}/customer` when the caller is known already (409
/// `caller_known`): the error, with the contact that has the number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerKnown {
    /// `caller_known`.
    pub code: String,
    /// What happened, for the agent.
    pub error: String,
    /// The contact the number belongs to.
    pub contact: ContactCard,
}

/// Body of `PUT /api/v1/me/dnd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DndChange {
    /// Do-not-disturb on or off.
    pub dnd: bool,
}

/// Query of `GET /api/v1/journal`: one page, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalQuery {
    /// How many entries at most (1 to 500); `None` lets the hub choose (50). Wider than
    /// the range so that the hub can name the range when a value is outside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Only entries older than this id: the previous page's `next_before`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// Which entries.
    #[serde(default)]
    pub filter: JournalFilter,
}

/// Body of `POST /api/v1/journal/{id}/done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneChange {
    /// Done or not done.
    pub done: bool,
}

/// Body of `POST /api/v1/journal/done`: entries to mark done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneIds {
    /// The journal entries' ids.
    #[serde(deserialize_with = "integers")]
    pub ids: Vec<i64>,
}

/// Answer of `GET /healthz` (the hub's process answers) and of `GET /readyz` (the hub can
/// take calls now): a load balancer or a service manager looks at the status code, people
/// at the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// What the probe found.
    pub status: ProbeStatus,
}

/// What a probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    /// The process answers HTTP (`/healthz`).
    Live,
    /// The hub is not stopping, its store answers a read and its writer commits
    /// (`/readyz`).
    Ready,
}

/// Answer of `POST /api/v1/journal/done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Updated {
    /// How many entries changed.
    pub updated: u64,
}

/// JSON integers, including those written with a zero fraction (`7.0`), which JSON Schema
/// and so the API description count as integers. A number beyond `i64` is refused, also
/// when it reads as a float at the edge of the range (-2^63 - 1 rounds to -2^63).
fn integers<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i64>, D::Error> {
    let numbers = Vec::<serde_json::Number>::deserialize(deserializer)?;
    numbers
        .iter()
        .map(|number| {
            number
                .as_i64()
                .or_else(|| {
                    number
                        .as_f64()
                        .filter(|f| {
                            f.fract() == 0.0 && *f > i64::MIN as f64 && *f < i64::MAX as f64
                        })
                        .map(|f| f as i64)
                })
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("{number} is not a journal entry id"))
                })
        })
        .collect()
}

/// Answer of `GET /api/v1/callers/{number}`: who has a number. The fields are in the order
/// the hub has always sent them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerLookup {
    /// Who it is; `None` when the directory does not know the number.
    #[serde(rename = "match")]
    pub caller_match: Option<CallerMatch>,
    /// The number as the hub understood it, in E.164.
    pub number: String,
}

/// Query of `GET /api/v1/contacts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    /// Starts of words of a name or organization (2 to 100 characters).
    pub q: String,
    /// How many hits at most (1 to 50); `None`: 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Body of `POST /api/v1/dial`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialRequest {
    /// The number as typed or clicked, national or international.
    pub number: String,
}

/// Answer of `POST /api/v1/dial`: how the call was placed, told by `via` (`placetel`,
/// `sipgate`, `twilio`, or `tel` for the agent's own softphone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "via", rename_all = "lowercase")]
pub enum DialResult {
    /// Placetel is ringing the agent's SIP user.
    Placetel(PlacedCall),
    /// sipgate is ringing the agent's device.
    Sipgate(PlacedCall),
    /// Twilio is calling the agent's phone or client.
    Twilio(PlacedCall),
    /// No provider dials for this agent: the desktop opens `link` in the agent's softphone.
    Tel {
        /// The number in E.164.
        number: String,
        /// `tel:` and the number.
        link: String,
    },
}

impl DialResult {
    /// The number dialed, in E.164.
    pub fn number(&self) -> &str {
        match self {
            DialResult::Placetel(placed)
            | DialResult::Sipgate(placed)
            | DialResult::Twilio(placed) => &placed.number,
            DialResult::Tel { number, .. } => number,
        }
    }

    /// The provider that placed the call; `None` for a `tel:` link.
    pub fn provider(&self) -> Option<Provider> {
        match self {
            DialResult::Placetel(_) => Some(Provider::Placetel),
            DialResult::Sipgate(_) => Some(Provider::Sipgate),
            DialResult::Twilio(_) => Some(Provider::Twilio),
            DialResult::Tel { .. } => None,
        }
    }
}

/// A call a provider accepted from `POST /api/v1/dial`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlacedCall {
    /// The customer's number in E.164.
    pub number: String,
    /// The caller ID sent to the provider; `None`: the provider's default for the agent.
    pub caller_id: Option<String>,
    /// The provider's id of the call, as its webhooks will name it, when it returns one.
    pub call_id: Option<String>,
}

/// Body of `POST /api/v1/admin/agents`: a new agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// Login, unique.
    pub login: String,
    /// Display name.
    pub name: String,
    /// Whether the agent may use the admin API.
    #[serde(default)]
    pub admin: bool,
    /// The agent's own phone numbers, as written.
    #[serde(default)]
    pub numbers: Vec<String>,
    /// The agent's ids at the providers.
    #[serde(default)]
    pub identities: Identities,
}

/// Answer of `POST /api/v1/admin/agents`: the agent and its token, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCreated {
    /// The new agent.
    pub agent: Presence,
    /// The agent's API token.
    pub token: String,
}

/// Body of `PATCH /api/v1/admin/agents/{login}`: only the fields given change; `None`
/// (absent or `null`) leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentUpdate {
    /// New display name.
    pub name: Option<String>,
    /// Admin or not.
    pub admin: Option<bool>,
    /// Replaces the agent's numbers.
    pub numbers: Option<Vec<String>>,
    /// Replaces the agent's provider ids.
    pub identities: Option<Identities>,
    /// Out of office or back.
    pub out_of_office: Option<bool>,
}

/// Answer of `POST /api/v1/admin/agents/{login}/token`: the agent's new token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentToken {
    /// The agent.
    pub login: String,
    /// The new API token; the old one no longer works.
    pub token: String,
}

/// One webhook URL a PBX is given, as the embedded hub lists them for Settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WebhookUrl {
    /// Which provider posts to it.
    pub provider: Provider,
    /// Where it goes in the PBX's settings.
    pub label: String,
    /// The URL with its token.
    pub url: String,
}

/// How the hub keeps its copy of Zammad's users current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZammadSyncMode {
    /// Zammad has Elasticsearch: users changed since the last pass are searched often, and
    /// full passes notice deletions and merges.
    Incremental,
    /// No Elasticsearch (Zammad's user list takes no filter): every pass pages through all
    /// users and organizations.
    FullPasses,
}

/// The state of the sync from Zammad (`GET /api/v1/admin/zammad`), for the admin and
/// Settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZammadSyncState {
    /// Whether the sync is on: `[zammad] url` and `token` are set.
    pub enabled: bool,
    /// The mode of the last full pass; `None` before the first one.
    pub mode: Option<ZammadSyncMode>,
    /// Whether a pass is running now.
    pub syncing: bool,
    /// When the last full pass ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_full_sync: Option<OffsetDateTime>,
    /// When the last incremental pass ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_incremental_sync: Option<OffsetDateTime>,
    /// Zammad users in the directory.
    pub users: u64,
    /// Zammad organizations in the directory.
    pub organizations: u64,
    /// Caller numbers of those users and organizations.
    pub numbers: u64,
    /// Why the last pass failed, if it did and none succeeded since.
    pub last_error: Option<String>,
    /// When it failed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_error_at: Option<OffsetDateTime>,
    /// Whether Zammad answers now, as the ticket fetches and sync passes found.
    #[serde(default)]
    pub connection: HelpdeskConnection,
}

/// How the help desk answers, as the hub last found it: fed by every ticket fetch at ring
/// time and every sync pass, so that an outage shows as one state rather than an error per
/// call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum HelpdeskState {
    /// Not asked yet since the hub started.
    #[default]
    Unknown,
    /// It answered the last request in time.
    Up,
    /// The last ticket fetch took longer than `[zammad] ticket_timeout_ms`: popups show
    /// the tickets the hub kept from earlier calls.
    Slow,
    /// It could not be reached, failed (HTTP 5xx) or refused the token.
    Down,
}

/// The help desk's connection state with since when, and the last error in words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HelpdeskConnection {
    /// Up, slow, down, or unknown before the first request.
    pub state: HelpdeskState,
    /// When it entered this state; `null` before the first request.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// What went wrong last (kept after it came back, until the next failure), in words.
    pub last_error: Option<String>,
}

/// Which help desk the hub works with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum HelpdeskKind {
    /// None is configured.
    None,
    /// Zammad (`[zammad] url`).
    Zammad,
}

/// Answer of `GET /api/v1/helpdesk`: what an agent's Settings show about the help desk,
/// without secrets: its address, whether it answers, the last sync and what it brought,
/// and how far the relay to its caller log is behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HelpdeskStatus {
    /// Which help desk; `none` leaves the other fields empty.
    pub kind: HelpdeskKind,
    /// Its base URL (without any user name or password in it).
    pub url: Option<String>,
    /// Whether it answers now.
    pub connection: HelpdeskConnection,
    /// Whether customers are synced from it (an API token is set).
    pub sync: bool,
    /// When the last sync pass of either kind ended.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sync: Option<OffsetDateTime>,
    /// Why the last sync pass failed, if none succeeded since.
    pub last_sync_error: Option<String>,
    /// Its users in the directory.
    pub users: u64,
    /// Its organizations in the directory.
    pub organizations: u64,
    /// Caller numbers of those users and organizations.
    pub numbers: u64,
    /// Whether call events are forwarded to its caller log.
    pub relay: bool,
    /// Events waiting to be forwarded.
    pub relay_pending: u64,
    /// Events it refused for good.
    pub relay_failed: u64,
}

/// Answer of `GET /api/v1/admin/zammad/relay`: how far the relay to Zammad's caller log is
/// behind, and why it last failed, so the admin sees an outage or a refused token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayBacklog {
    /// Whether the relay is switched on (`[zammad] relay`, or calls can be logged as
    /// tickets: their jobs share the outbox).
    pub enabled: bool,
    /// Events waiting to be delivered (or retried).
    pub pending: u64,
    /// Events Zammad refused for good, kept for the admin until they are a week old.
    pub failed: u64,
    /// Events not queued because the outbox was full, since the database was created.
    pub dropped: u64,
    /// How long the oldest waiting event has waited, in seconds; `null` when none waits.
    pub oldest_pending_secs: Option<u64>,
    /// The last reason an event was not delivered; `null` when none failed yet.
    pub last_error: Option<String>,
    /// The newest failed events, newest first (at most 20).
    pub recent_failures: Vec<RelayFailure>,
}

/// One event the relay gave up on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayFailure {
    /// The call id Zammad knows the call by (the provider's name, `-`, its call id), or
    /// `ticket-{journal entry id}` for a call's ticket.
    pub call_id: String,
    /// `newCall`, `answer` or `hangup`, or `ticket`.
    pub event: String,
    /// Why, in Zammad's words where it gave some.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_results_are_told_apart_by_via() {
        let placed = DialResult::Sipgate(PlacedCall {
            number: "+4930609854180".into(),
            caller_id: None,
            call_id: Some("abc".into()),
        });
        assert_eq!(
            serde_json::to_value(&placed).unwrap(),
            serde_json::json!({
                "via": "sipgate",
                "number": "+4930609854180",
                "caller_id": null,
                "call_id": "abc",
            })
        );
        let tel = DialResult::Tel {
            number: "+4930609854180".into(),
            link: "tel:+4930609854180".into(),
        };
        assert_eq!(
            serde_json::to_value(&tel).unwrap(),
            serde_json::json!({
                "via": "tel",
                "number": "+4930609854180",
                "link": "tel:+4930609854180",
            })
        );
        for result in [placed, tel] {
            let back: DialResult =
                serde_json::from_value(serde_json::to_value(&result).unwrap()).unwrap();
            assert_eq!(back, result);
        }
        assert_eq!(
            DialResult::Twilio(PlacedCall {
                number: "+1".into(),
                caller_id: None,
                call_id: None
            })
            .provider(),
            Some(Provider::Twilio)
        );
    }

    #[test]
    fn ids_may_be_written_with_a_zero_fraction_but_not_beyond_i64() {
        let ids: DoneIds = serde_json::from_str(r#"{"ids": [1, 7.0, -3]}"#).unwrap();
        assert_eq!(ids.ids, [1, 7, -3]);
        assert!(serde_json::from_str::<DoneIds>(r#"{"ids": [1.5]}"#).is_err());
        assert!(serde_json::from_str::<DoneIds>(r#"{"ids": [-9223372036854775809]}"#).is_err());
        assert!(serde_json::from_str::<DoneIds>(r#"{"ids": [9223372036854775808]}"#).is_err());
    }

    #[test]
    fn a_journal_query_leaves_out_what_the_hub_chooses() {
        let query = JournalQuery {
            limit: None,
            before: Some(42),
            filter: JournalFilter::Missed,
        };
        assert_eq!(
            serde_json::to_value(&query).unwrap(),
            serde_json::json!({"before": 42, "filter": "missed"})
        );
    }
}
