//! The `maybe` numbers of a pass (`maybe_numbers_from_tickets`): the tickets created within
//! the window (`maybe_ticket_days`; an incremental pass only those created since the last
//! pass) are listed by a ticket search, which needs Elasticsearch; the first article of each
//! ticket not read yet is read (at most [`ARTICLES_PER_PASS`], the rest at the next passes),
//! and its numbers, when the customer wrote it, become `maybe` numbers of that customer.
//! A ticket whose articles cannot be read is tried again at the next pass and does not stop
//! this one; what went wrong is said in words in the sync state.

use std::collections::{HashMap, HashSet};

use ringside_providers::zammad::{self, articles, tickets};
use time::OffsetDateTime;

use super::{Syncer, PER_PAGE};
use crate::store::zammad_maybe::{self as stored, Scan};
use crate::zammad::check::TICKET_READ;
use crate::zammad::client::{PageSeen, Pager, ZammadError};

/// The most article lists one pass reads: a first pass over a busy Zammad's window reads
/// it over several passes instead of holding the sync for long.
pub const ARTICLES_PER_PASS: usize = 500;

/// The most tickets of the window one pass lists (ids only).
const MAX_LISTED: usize = 100_000;

/// Which tickets a pass lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Window {
    /// All of the window's tickets: tickets not listed any more are forgotten.
    Full,
    /// Those created within the last `secs` seconds, after a pass that wrote users or not
    /// (new contacts may be the authors of tickets read before).
    Since {
        /// How far back.
        secs: u64,
        /// Whether the pass wrote users.
        users_written: bool,
    },
}

/// What the `maybe` part of a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct MaybePass {
    /// Tickets whose first article was read.
    pub read: u64,
    /// Tickets left for the next passes.
    pub left: u64,
    /// What went wrong, in words; the rest of the pass went on.
    pub problem: Option<String>,
}

impl Syncer {
    /// Reads the first articles of the window's new tickets and derives the `maybe` rows.
    pub(super) async fn maybe_numbers(
        &self,
        days: u64,
        window: Window,
        now: OffsetDateTime,
    ) -> MaybePass {
        let secs = match window {
            Window::Full => days * 86_400,
            Window::Since { secs, .. } => secs.min(days * 86_400),
        };
        let (listed, complete) = match self.recent_tickets(secs).await {
            Ok(found) => found,
            Err(e) => {
                return MaybePass {
                    problem: Some(format!("maybe numbers from tickets: {e}")),
                    ..MaybePass::default()
                }
            }
        };
        let ids: Vec<u64> = listed.iter().map(|(id, _)| *id).collect();
        let created: HashMap<u64, Option<OffsetDateTime>> = listed.into_iter().collect();
        let unscanned = {
            let ids = ids.clone();
            match self.write(move |tx| stored::unscanned(tx, &ids)).await {
                Ok(found) => found,
                Err(e) => {
                    return MaybePass {
                        problem: Some(format!("maybe numbers from tickets: the directory: {e}")),
                        ..MaybePass::default()
                    }
                }
            }
        };
        let mut scans = Vec::new();
        let mut failed = 0u64;
        let mut first_failure: Option<String> = None;
        for &ticket in unscanned.iter().take(ARTICLES_PER_PASS) {
            let created_at = created.get(&ticket).copied().flatten().unwrap_or(now);
            match self.first_article(ticket).await {
                Ok(article) => scans.push(Scan {
                    ticket_id: ticket,
                    created_at,
                    author_id: article.as_ref().map(|a| a.author_id),
                    numbers: article.map(|a| a.numbers).unwrap_or_default(),
                }),
                // Zammad as a whole unreachable or refusing the token: the next pass
                // tries again, with the others.
                Err(
                    e @ (ZammadError::Unreachable { .. }
                    | ZammadError::Timeout { .. }
                    | ZammadError::TokenRefused { .. }),
                ) => {
                    failed += 1;
                    first_failure.get_or_insert(e.to_string());
                    break;
                }
                Err(e) => {
                    failed += 1;
                    first_failure.get_or_insert(format!("ticket {ticket}: {e}"));
                }
            }
        }
        let read = scans.len() as u64;
        let left = (unscanned.len() as u64).saturating_sub(read);
        let cutoff = now - time::Duration::days(days as i64);
        let forget = (window == Window::Full && complete).then_some(ids);
        // The rows are derived again only when what they come from may have changed: an
        // incremental pass every minute that found nothing new writes nothing.
        let derive = match window {
            Window::Full => true,
            Window::Since { users_written, .. } => users_written || !scans.is_empty(),
        };
        let written = self
            .write(move |tx| {
                for scan in &scans {
                    stored::put_scan(tx, scan)?;
                }
                let removed = stored::remove_stale(tx, cutoff, forget.as_deref())?;
                if derive || removed > 0 {
                    stored::derive_rows(tx)?;
                }
                Ok(())
            })
            .await;
        let problem = match (written, first_failure) {
            (Err(e), _) => Some(format!("maybe numbers from tickets: the directory: {e}")),
            (Ok(()), Some(first)) => Some(format!(
                "maybe numbers from tickets: the articles of {failed} ticket(s) could not be \
                 read and are tried again at the next pass; first: {first}"
            )),
            (Ok(()), None) => None,
        };
        MaybePass {
            read,
            left,
            problem,
        }
    }

    /// The tickets created within the last `secs` seconds, newest first, with when each
    /// was created; and whether that is all of them.
    async fn recent_tickets(
        &self,
        secs: u64,
    ) -> Result<(Vec<(u64, Option<OffsetDateTime>)>, bool), ZammadError> {
        let query = [
            ("query", zammad::created_within_query(secs)),
            ("sort_by", "created_at".to_owned()),
            ("order_by", "desc".to_owned()),
            ("expand", "true".to_owned()),
        ];
        let mut listed = Vec::new();
        let mut seen = HashSet::new();
        let mut pager = Pager::new(
            &self.client,
            "tickets/search",
            &query,
            PER_PAGE,
            TICKET_READ,
        );
        while let Some(body) = pager.next().await? {
            let page = tickets::search(&body).map_err(|cause| ZammadError::Wire {
                what: "GET /api/v1/tickets/search".into(),
                cause,
            })?;
            pager.seen(PageSeen {
                records: page.len(),
                first_id: page.first().map(|t| t.id),
            })?;
            for ticket in page {
                if listed.len() == MAX_LISTED {
                    return Ok((listed, false));
                }
                if seen.insert(ticket.id) {
                    listed.push((ticket.id, ticket.created_at));
                }
            }
        }
        Ok((listed, true))
    }

    /// The first article of a ticket when its customer wrote it.
    async fn first_article(
        &self,
        ticket: u64,
    ) -> Result<Option<articles::CustomerArticle>, ZammadError> {
        let path = format!("ticket_articles/by_ticket/{ticket}");
        let body = self
            .client
            .get(&path, &[("expand", "true".to_owned())], TICKET_READ)
            .await?;
        articles::first_by_customer(&body, &self.country).map_err(|cause| ZammadError::Wire {
            what: format!("GET /api/v1/{path}"),
            cause,
        })
    }
}
