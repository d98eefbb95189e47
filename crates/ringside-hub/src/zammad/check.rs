//! `ringside-hub zammad check`: whether the hub can sync from the configured Zammad, and
//! in which mode. Each finding says in words what works or what is missing: the token
//! refused (wrong, or API Token Access off), a permission the token lacks, Elasticsearch
//! absent (found by a probe search that only Elasticsearch answers), and, when asked for,
//! whether `maybe` numbers can be read from recent tickets' articles.

use std::fmt;

pub use ringside_core::api::ZammadSyncMode as SyncMode;
use ringside_core::number::DefaultCountry;
use ringside_providers::zammad::{records, tickets};

use super::client::{Permission, ZammadClient, ZammadError, USER_READ};

/// Reading ticket states and tickets, which the ticket history needs.
pub const TICKET_READ: Permission = Permission("ticket.agent");

/// Why `maybe` numbers are not read without Elasticsearch. Zammad's ticket list and its
/// search without Elasticsearch take no date filter; paging through every ticket at every
/// pass would read all of a Zammad's history to find the last days.
pub const MAYBE_NEEDS_ELASTICSEARCH: &str =
    "maybe numbers from tickets need Elasticsearch: without it Zammad's ticket search cannot \
     find the recent tickets, so none are read (Zammad calls Elasticsearch highly recommended)";

/// The sync mode in words, as the check prints it.
pub fn mode_in_words(mode: SyncMode) -> &'static str {
    match mode {
        SyncMode::Incremental => {
            "incremental: users changed since the last pass, every incremental_sync_secs, \
             and a full pass every full_sync_secs for deletions and merges"
        }
        SyncMode::FullPasses => {
            "full passes: all users and organizations every full_sync_secs (Zammad's user \
             list takes no filter without Elasticsearch)"
        }
    }
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Lines that say what works.
    pub ok: Vec<String>,
    /// Lines that say what is missing, each with what to do.
    pub missing: Vec<String>,
    /// The sync mode that follows; `None` when users cannot be read at all.
    pub mode: Option<SyncMode>,
}

impl CheckReport {
    /// Whether the hub can sync callers from this Zammad.
    pub fn can_sync(&self) -> bool {
        self.mode.is_some()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.ok {
            writeln!(f, "ok: {line}")?;
        }
        for line in &self.missing {
            writeln!(f, "missing: {line}")?;
        }
        match self.mode {
            Some(mode) => writeln!(f, "sync mode: {}", mode_in_words(mode)),
            None => writeln!(f, "sync mode: none, callers cannot be synced"),
        }
    }
}

/// Checks the connection, the token and its permissions, and probes for Elasticsearch.
/// An unreachable Zammad or a refused token is an error: nothing else can be checked.
pub async fn run(
    client: &ZammadClient,
    country: &DefaultCountry,
) -> Result<CheckReport, ZammadError> {
    let mut report = CheckReport {
        ok: Vec::new(),
        missing: Vec::new(),
        mode: None,
    };
    let first_user = match client.page("users", &[], 1, 1, USER_READ).await {
        Ok(body) => {
            let users = records::users(&body, country).map_err(|cause| ZammadError::Wire {
                what: "GET /api/v1/users".into(),
                cause,
            })?;
            report.ok.push(format!(
                "{} accepts the token and lists users",
                client.url()
            ));
            users.into_iter().next()
        }
        Err(e @ ZammadError::Forbidden { .. }) => {
            report.missing.push(e.to_string());
            None
        }
        Err(e) => return Err(e),
    };
    match client.page("organizations", &[], 1, 1, USER_READ).await {
        Ok(_) => report.ok.push("organizations can be listed".into()),
        Err(e @ ZammadError::Forbidden { .. }) => report.missing.push(e.to_string()),
        Err(e) => return Err(e),
    }
    match client.get("ticket_states", &[], TICKET_READ).await {
        Ok(_) => report.ok.push("ticket states can be read".into()),
        Err(e @ ZammadError::Forbidden { .. }) => report.missing.push(e.to_string()),
        Err(e) => return Err(e),
    }
    let Some(user) = first_user else {
        return Ok(report);
    };
    // Only Elasticsearch reads field syntax; Zammad's SQL fallback looks for the text
    // `id:N` in names, e-mail addresses and logins and finds nobody.
    let probe = [
        ("query", format!("id:{}", user.id)),
        ("limit", "1".to_owned()),
    ];
    let found = match client.get("users/search", &probe, USER_READ).await {
        Ok(body) => records::users(&body, country)
            .map_err(|cause| ZammadError::Wire {
                what: "GET /api/v1/users/search".into(),
                cause,
            })?
            .iter()
            .any(|u| u.id == user.id),
        Err(e @ ZammadError::Forbidden { .. }) => {
            report.missing.push(e.to_string());
            false
        }
        Err(e) => return Err(e),
    };
    if found {
        report
            .ok
            .push("Elasticsearch answers searches by field".into());
        report.mode = Some(SyncMode::Incremental);
    } else {
        report.missing.push(
            "Elasticsearch: a search by field found nothing, so Zammad searches without it \
             (names and e-mail only); the hub pages through all users at every pass. Zammad \
             calls Elasticsearch highly recommended"
                .into(),
        );
        report.mode = Some(SyncMode::FullPasses);
    }
    Ok(report)
}

/// Adds to `report` whether `maybe` numbers can be read from the first articles of tickets
/// created within `days` days: the ticket search must filter by date (Elasticsearch) and
/// the token must read tickets and their articles (`ticket.agent`). Only errors that stop
/// every check (Zammad unreachable, the token refused) are returned.
pub async fn maybe_numbers(
    client: &ZammadClient,
    days: u64,
    report: &mut CheckReport,
) -> Result<(), ZammadError> {
    if report.mode != Some(SyncMode::Incremental) {
        report.missing.push(MAYBE_NEEDS_ELASTICSEARCH.into());
        return Ok(());
    }
    let query = [
        (
            "query",
            ringside_providers::zammad::created_within_query(days * 86_400),
        ),
        ("limit", "1".to_owned()),
        ("expand", "true".to_owned()),
    ];
    let recent = match client.get("tickets/search", &query, TICKET_READ).await {
        Ok(body) => tickets::search(&body).map_err(|cause| ZammadError::Wire {
            what: "GET /api/v1/tickets/search".into(),
            cause,
        })?,
        Err(e @ ZammadError::Forbidden { .. }) => {
            report
                .missing
                .push(format!("maybe numbers from tickets: {e}"));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let Some(ticket) = recent.first() else {
        report.ok.push(format!(
            "recent tickets can be searched (none created in the last {days} days, so no \
             articles to try)"
        ));
        return Ok(());
    };
    let path = format!("ticket_articles/by_ticket/{}", ticket.id);
    match client
        .get(&path, &[("expand", "true".to_owned())], TICKET_READ)
        .await
    {
        Ok(_) => report.ok.push(format!(
            "maybe numbers: recent tickets and their articles can be read (last {days} days)"
        )),
        Err(e @ ZammadError::Forbidden { .. }) => report
            .missing
            .push(format!("maybe numbers from tickets: {e}")),
        Err(e) => return Err(e),
    }
    Ok(())
}
