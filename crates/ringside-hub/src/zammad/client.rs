//! Zammad's REST API over HTTPS (reqwest with rustls): token authentication, bounded waits
//! and answers, paging, and retries with backoff when Zammad fails or is slow (reads only:
//! a write is tried once). Every
//! failure says in words what is wrong and what to do.

use std::time::Duration;

use reqwest::StatusCode;
use thiserror::Error;
use url::Url;

use crate::config::ZammadSettings;
use crate::root_cause::root_cause;

/// How long connecting to Zammad may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take: a page of 100 users takes Zammad well under a second.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most bytes read from one answer: a page of records is tens of KiB.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;
/// The most characters of Zammad's own error text quoted in an error.
const MESSAGE_LIMIT: usize = 300;

/// What a request needs of the token, named in the error when Zammad answers 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission(pub &'static str);

/// Listing and searching users and organizations (`app/models/user/search.rb`).
pub const USER_READ: Permission = Permission("ticket.agent or admin.user");

/// Creating tickets and articles and reading a customer's tickets.
pub const TICKET_WRITE: Permission = Permission("ticket.agent");

/// Creating a user (`app/policies/controllers/users_controller_policy.rb`).
pub const USER_CREATE: Permission = Permission("ticket.agent or admin.user");

/// How often a request is tried and how long to wait between tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries in all, at least 1.
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub first_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            first_wait: Duration::from_millis(500),
        }
    }
}

/// Why a request to Zammad failed.
#[derive(Debug, Error)]
pub enum ZammadError {
    /// The configured URL cannot carry a path.
    #[error("zammad.url {0:?} is not a base URL")]
    BadUrl(String),
    /// No answer: DNS, connection or TLS failed.
    #[error("Zammad at {url} could not be reached: {cause}")]
    Unreachable {
        /// The base URL.
        url: String,
        /// The lowest-level cause.
        cause: String,
    },
    /// Zammad did not answer in time, every try.
    #[error("Zammad at {url} did not answer within {secs} s, {attempts} times")]
    Timeout {
        /// The base URL.
        url: String,
        /// The wait of each try.
        secs: u64,
        /// Tries made.
        attempts: u32,
    },
    /// 401: the token was refused.
    #[error(
        "Zammad refused the API token (401: {message}): the token is wrong or was deleted, \
         or API Token Access is off (an admin turns it on under Settings → System → API)"
    )]
    TokenRefused {
        /// Zammad's text.
        message: String,
    },
    /// 403: the token lacks a permission.
    #[error(
        "Zammad refused {what} (403: {message}): the token lacks the permission {}; make a \
         token with it under Profile → Token Access",
        needs.0
    )]
    Forbidden {
        /// The request, in words.
        what: String,
        /// What the request needs.
        needs: Permission,
        /// Zammad's text.
        message: String,
    },
    /// Another error status, after the retries a 5xx gets.
    #[error("Zammad answered {what} with HTTP {status}: {message}")]
    Status {
        /// The request, in words.
        what: String,
        /// The status code.
        status: u16,
        /// Zammad's text.
        message: String,
    },
    /// The answer is larger than [`BODY_LIMIT`].
    #[error("Zammad's answer to {what} is larger than {} MiB; check zammad.url", BODY_LIMIT >> 20)]
    TooLarge {
        /// The request, in words.
        what: String,
    },
    /// The answer could not be read.
    #[error("Zammad's answer to {what}: {cause}")]
    Wire {
        /// The request, in words.
        what: String,
        /// What is wrong with it.
        cause: ringside_providers::zammad::ZammadWireError,
    },
    /// Paging went past every page Zammad can have: it ignores `page`.
    #[error("Zammad returned the same records for page {page} as before; it ignores paging")]
    PagingIgnored {
        /// The page that repeated.
        page: u32,
    },
}

/// A client of one Zammad instance.
#[derive(Debug, Clone)]
pub struct ZammadClient {
    base: Url,
    token: String,
    http: reqwest::Client,
    retry: Retry,
}

impl ZammadClient {
    /// A client of the configured Zammad, trying each request as `retry` says.
    pub fn new(settings: &ZammadSettings, retry: Retry) -> Result<Self, ZammadError> {
        let mut base =
            Url::parse(&settings.url).map_err(|_| ZammadError::BadUrl(settings.url.clone()))?;
        if base.cannot_be_a_base() {
            return Err(ZammadError::BadUrl(settings.url.clone()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            // A redirect would resend the token elsewhere; Zammad's API does not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with rustls and no custom roots builds");
        Ok(ZammadClient {
            base,
            token: settings.token.clone(),
            http,
            retry,
        })
    }

    /// The base URL, for messages.
    pub fn url(&self) -> &str {
        self.base.as_str()
    }

    /// `GET api/v1/{path}?{query}`: the body of a 2xx answer. Connection failures,
    /// timeouts and 5xx answers are tried again after a doubling wait; 4xx are not.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        needs: Permission,
    ) -> Result<Vec<u8>, ZammadError> {
        let what = format!("GET /api/v1/{path}");
        let mut url = self
            .base
            .join(&format!("api/v1/{path}"))
            .map_err(|_| ZammadError::BadUrl(self.base.to_string()))?;
        if !query.is_empty() {
            // Form encoding writes `+` as `%2B`, as Zammad asks.
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut wait = self.retry.first_wait;
        let attempts = self.retry.attempts.max(1);
        for attempt in 1..=attempts {
            let last = attempt == attempts;
            let request = self.http.get(url.clone());
            match self.send(request, &what, needs).await {
                Err(e) if !last && retriable(&e) => {
                    tracing::debug!("zammad: {e}; trying again in {wait:?}");
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                }
                Err(ZammadError::Timeout { url, secs, .. }) => {
                    return Err(ZammadError::Timeout {
                        url,
                        secs,
                        attempts,
                    })
                }
                result => return result,
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Fetches `page` (from 1) of a paged list with `per_page` records asked for.
    pub async fn page(
        &self,
        path: &str,
        extra: &[(&str, String)],
        page: u32,
        per_page: u32,
        needs: Permission,
    ) -> Result<Vec<u8>, ZammadError> {
        let mut query: Vec<(&str, String)> = extra.to_vec();
        query.push(("page", page.to_string()));
        query.push(("per_page", per_page.to_string()));
        self.get(path, &query, needs).await
    }

    /// `POST api/v1/{path}` with `body` as JSON, on behalf of Zammad user `from` when
    /// given (the `From:` header, which needs `admin.user`): the body of a 2xx answer.
    /// Tried once: a post is not repeated blindly (its caller finds out first whether
    /// Zammad has it).
    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
        from: Option<u64>,
        needs: Permission,
    ) -> Result<Vec<u8>, ZammadError> {
        let what = format!("POST /api/v1/{path}");
        let url = self
            .base
            .join(&format!("api/v1/{path}"))
            .map_err(|_| ZammadError::BadUrl(self.base.to_string()))?;
        let mut request = self.http.post(url).json(body);
        if let Some(user) = from {
            request = request.header("From", user.to_string());
        }
        self.send(request, &what, needs).await
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
        needs: Permission,
    ) -> Result<Vec<u8>, ZammadError> {
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                ZammadError::Timeout {
                    url: self.base.to_string(),
                    secs: REQUEST_TIMEOUT.as_secs(),
                    attempts: 1,
                }
            } else {
                ZammadError::Unreachable {
                    url: self.base.to_string(),
                    cause: root_cause(&e),
                }
            }
        };
        let mut response = request
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Token token={}", self.token),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > BODY_LIMIT {
                return Err(ZammadError::TooLarge { what: what.into() });
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok(body);
        }
        let message = message(&body, status);
        Err(match status {
            StatusCode::UNAUTHORIZED => ZammadError::TokenRefused { message },
            StatusCode::FORBIDDEN => ZammadError::Forbidden {
                what: what.into(),
                needs,
                message,
            },
            _ => ZammadError::Status {
                what: what.into(),
                status: status.as_u16(),
                message,
            },
        })
    }
}

/// Whether another try may succeed: Zammad unreachable, slow or failing on its side.
fn retriable(e: &ZammadError) -> bool {
    match e {
        ZammadError::Unreachable { .. } | ZammadError::Timeout { .. } => true,
        ZammadError::Status { status, .. } => *status >= 500,
        _ => false,
    }
}

/// Zammad's error text (`{"error": "…"}` or `{"error_human": "…"}`), else the status's name.
fn message(body: &[u8], status: StatusCode) -> String {
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    let text = json
        .as_ref()
        .and_then(|json| {
            [&json["error_human"], &json["error"]]
                .into_iter()
                .find_map(|v| v.as_str().map(str::trim).filter(|m| !m.is_empty()))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    ringside_core::limits::cut(&text, MESSAGE_LIMIT)
        .0
        .to_owned()
}

/// Pages through a list until Zammad has no more: an empty page, or one shorter than an
/// earlier one (Zammad caps `per_page` on its side, so a page shorter than asked is not
/// yet the end; a page shorter than the cap seen is). The caller reads a page with
/// [`Pager::next`], then says what it held with [`Pager::seen`], so that only one page is
/// in memory at a time.
#[derive(Debug)]
pub struct Pager<'a> {
    client: &'a ZammadClient,
    path: &'a str,
    extra: &'a [(&'a str, String)],
    per_page: u32,
    needs: Permission,
    page: u32,
    largest: usize,
    previous_first: Option<u64>,
    done: bool,
}

impl<'a> Pager<'a> {
    /// A pager over `path` with `extra` query parameters, asking `per_page` records.
    pub fn new(
        client: &'a ZammadClient,
        path: &'a str,
        extra: &'a [(&'a str, String)],
        per_page: u32,
        needs: Permission,
    ) -> Self {
        Pager {
            client,
            path,
            extra,
            per_page,
            needs,
            page: 0,
            largest: 0,
            previous_first: None,
            done: false,
        }
    }

    /// The next page's body; `None` after the last.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, ZammadError> {
        if self.done {
            return Ok(None);
        }
        self.page += 1;
        let body = self
            .client
            .page(self.path, self.extra, self.page, self.per_page, self.needs)
            .await?;
        Ok(Some(body))
    }

    /// What the page just read held; ends the paging when it was the last, and fails when
    /// Zammad ignores `page` (the same first record again).
    pub fn seen(&mut self, seen: PageSeen) -> Result<(), ZammadError> {
        if seen.records == 0 || seen.records < self.largest {
            self.done = true;
            return Ok(());
        }
        if seen.first_id.is_some() && seen.first_id == self.previous_first {
            return Err(ZammadError::PagingIgnored { page: self.page });
        }
        self.previous_first = seen.first_id;
        self.largest = seen.records;
        Ok(())
    }
}

/// What one page held, for [`Pager`] to know when the list ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSeen {
    /// Records on the page.
    pub records: usize,
    /// The id of its first record.
    pub first_id: Option<u64>,
}
