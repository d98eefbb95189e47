//! One pass of the sync from Zammad into the caller directory. A full pass pages through
//! all organizations and users (each page written in a transaction of its own, so that
//! webhooks never wait long for the database) and then removes those Zammad no longer has
//! (deleted, or merged into another user); an incremental pass searches the users changed
//! since the last pass, which needs Elasticsearch. With `maybe_numbers_from_tickets`, both
//! then read the first articles of recent tickets for `maybe` numbers ([`maybe`]).

mod maybe;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringside_core::number::DefaultCountry;
use ringside_providers::zammad::{self, links, records, User};
use thiserror::Error;
use time::OffsetDateTime;

use super::check::{self, SyncMode};
use super::client::{PageSeen, Pager, ZammadClient, ZammadError, USER_READ};
use crate::store::lease::Lease;
use crate::store::zammad::{self as stored, Pass, UserLinks};
use crate::store::{Db, DbConnection, StoreError};

/// The set behind a lock, also when a thread panicked while holding it.
fn lock(set: &Mutex<BTreeSet<u64>>) -> std::sync::MutexGuard<'_, BTreeSet<u64>> {
    set.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records asked for per page; Zammad may send fewer (its caps cannot be raised).
const PER_PAGE: u32 = 100;

/// How far before the last pass an incremental pass searches, for the difference between
/// Zammad's clock and the hub's and for changes indexed late.
const OVERLAP: Duration = Duration::from_secs(60);

/// Logs how far the `maybe` numbers got, when there was anything to read.
fn log_maybe(pass: &maybe::MaybePass) {
    if pass.read > 0 || pass.left > 0 {
        tracing::info!(
            "zammad sync: first articles of {} ticket(s) read for maybe numbers, {} left for \
             the next passes",
            pass.read,
            pass.left
        );
    }
}

/// Why a pass failed. The directory keeps what earlier passes wrote.
#[derive(Debug, Error)]
pub enum SyncError {
    /// Zammad failed or refused.
    #[error("{0}")]
    Zammad(#[from] ZammadError),
    /// The directory could not be written.
    #[error("the directory: {0}")]
    Store(#[from] StoreError),
    /// Zammad answers, but users cannot be read with this token.
    #[error("callers cannot be synced from Zammad: {0}")]
    CannotSync(String),
}

/// What a full pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullPass {
    /// The mode that follows (Elasticsearch or not).
    pub mode: SyncMode,
    /// Users written.
    pub users: u64,
    /// Organizations written.
    pub organizations: u64,
    /// Contacts removed because Zammad no longer has them.
    pub removed: u64,
}

/// The sync's side of Zammad and of the directory.
#[derive(Debug, Clone)]
pub struct Syncer {
    client: ZammadClient,
    country: DefaultCountry,
    db: Arc<Mutex<DbConnection>>,
    /// Users written beside the passes (customers created from a popup) since the current
    /// full pass began: its paging may have gone past them, and it must not remove them.
    written_beside: Arc<Mutex<BTreeSet<u64>>>,
    maybe_days: Option<u64>,
    /// Whether this node syncs for the hub (one node of a hub on PostgreSQL does).
    lease: Lease,
}

impl Syncer {
    /// A syncer writing through `db`, a writer connection of its own.
    pub fn new(client: ZammadClient, country: DefaultCountry, db: impl Into<DbConnection>) -> Self {
        Syncer {
            client,
            country,
            db: Arc::new(Mutex::new(db.into())),
            written_beside: Arc::default(),
            maybe_days: None,
            lease: Lease::sole(),
        }
    }

    /// Syncs on the periodic task only while `lease` is held.
    pub fn with_lease(mut self, lease: Lease) -> Self {
        self.lease = lease;
        self
    }

    /// The right to run the periodic passes on this node.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Also reads `maybe` numbers from the first customer-written article of tickets
    /// created within the last `days` days (`None`: not at all).
    pub fn with_maybe_numbers(mut self, days: Option<u64>) -> Self {
        self.maybe_days = days;
        self
    }

    /// Runs `write` in a transaction off the async threads.
    async fn write<T: Send + 'static>(
        &self,
        write: impl FnOnce(&mut Db<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.lock().unwrap_or_else(|e| e.into_inner());
            // The write lock up front, waiting for the hub's writer rather than failing
            // when a read would have to become a write.
            conn.db().in_write(write)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// A user's links into Zammad: their profile and a new ticket for them.
    fn links(&self, id: u64) -> UserLinks {
        UserLinks {
            profile: links::profile(self.client.url(), id),
            new_ticket: links::new_ticket(self.client.url(), id),
        }
    }

    /// Zammad, for requests beside the passes (a customer created from a popup).
    pub fn client(&self) -> &ZammadClient {
        &self.client
    }

    /// The country national numbers are read in.
    pub fn country(&self) -> &DefaultCountry {
        &self.country
    }

    /// Writes one user Zammad just answered with (a customer created from a popup) into
    /// the directory, as a pass would; returns the contact's id.
    pub async fn put_user(&self, user: User) -> Result<i64, StoreError> {
        let links = self.links(user.id);
        let written = self.written_beside.clone();
        self.write(move |tx| {
            // Noted under the connection's lock, which a full pass's removal holds too.
            lock(&written).insert(user.id);
            stored::put_user(tx, &user, &links)
        })
        .await
    }

    /// Checks the connection and the mode, then writes every organization and user and
    /// removes the ones Zammad no longer has. Records the pass at `now`.
    pub async fn full(&self, now: OffsetDateTime) -> Result<FullPass, SyncError> {
        lock(&self.written_beside).clear();
        let report = check::run(&self.client, &self.country).await?;
        let mode = report
            .mode
            .ok_or_else(|| SyncError::CannotSync(report.missing.join("; ")))?;
        let mut organizations = Vec::new();
        let mut pager = Pager::new(&self.client, "organizations", &[], PER_PAGE, USER_READ);
        while let Some(body) = pager.next().await? {
            let orgs = records::organizations(&body, &self.country).map_err(|cause| {
                ZammadError::Wire {
                    what: "GET /api/v1/organizations".into(),
                    cause,
                }
            })?;
            pager.seen(PageSeen {
                records: orgs.len(),
                first_id: orgs.first().map(|o| o.id),
            })?;
            organizations.extend(orgs.iter().map(|o| o.id));
            self.write(move |tx| {
                for org in &orgs {
                    stored::put_organization(tx, org)?;
                }
                Ok(())
            })
            .await?;
        }
        let mut users = self.write_users("users", &[]).await?;
        let (user_count, org_count) = (users.len() as u64, organizations.len() as u64);
        let written = self.written_beside.clone();
        let removed = self
            .write(move |tx| {
                users.extend(lock(&written).iter());
                stored::remove_unseen(tx, &users, &organizations)
            })
            .await?;
        let note = match (self.maybe_days, mode) {
            (None, _) => None,
            (Some(_), SyncMode::FullPasses) => Some(check::MAYBE_NEEDS_ELASTICSEARCH.to_owned()),
            (Some(days), SyncMode::Incremental) => {
                let pass = self.maybe_numbers(days, maybe::Window::Full, now).await;
                log_maybe(&pass);
                pass.problem
            }
        };
        self.write(move |tx| {
            stored::record_pass(tx, Pass::Full(mode), now)?;
            stored::recount(tx)?;
            stored::record_note(tx, note.as_deref())
        })
        .await?;
        Ok(FullPass {
            mode,
            users: user_count,
            organizations: org_count,
            removed,
        })
    }

    /// Writes the users changed since the last pass (with [`OVERLAP`]), found by
    /// `users/search`, and the `maybe` numbers of tickets created since; returns how many
    /// users and tickets were read. Records the pass at `now`.
    pub async fn incremental(&self, now: OffsetDateTime) -> Result<u64, SyncError> {
        let since = {
            let db = self.db.clone();
            tokio::task::spawn_blocking(move || {
                let mut conn = db.lock().unwrap_or_else(|e| e.into_inner());
                stored::last_pass_at(&mut conn.db())
            })
            .await
            .map_err(|_| StoreError::Closed)??
        };
        let secs = since
            .map(|since| (now - since).whole_seconds().max(0) as u64)
            .unwrap_or(0)
            + OVERLAP.as_secs();
        let query = [
            ("query", zammad::updated_within_query(secs)),
            ("sort_by", "updated_at".to_owned()),
            ("order_by", "asc".to_owned()),
        ];
        let users = self.write_users("users/search", &query).await?;
        let (read, note) = match self.maybe_days {
            Some(days) => {
                let pass = self
                    .maybe_numbers(
                        days,
                        maybe::Window::Since {
                            secs,
                            users_written: !users.is_empty(),
                        },
                        now,
                    )
                    .await;
                log_maybe(&pass);
                (pass.read, pass.problem)
            }
            None => (0, None),
        };
        let wrote_users = !users.is_empty();
        self.write(move |tx| {
            stored::record_pass(tx, Pass::Incremental, now)?;
            if wrote_users {
                stored::recount(tx)?;
            }
            stored::record_note(tx, note.as_deref())
        })
        .await?;
        Ok(users.len() as u64 + read)
    }

    /// Records why a pass failed.
    pub async fn record_error(&self, error: &SyncError, now: OffsetDateTime) {
        let text = error.to_string();
        if let Err(e) = self
            .write(move |tx| stored::record_error(tx, &text, now))
            .await
        {
            tracing::warn!("zammad sync: recording the error: {e}");
        }
    }

    /// Pages through users at `path`, writing each page as it comes; the ids written.
    async fn write_users(
        &self,
        path: &str,
        extra: &[(&str, String)],
    ) -> Result<Vec<u64>, SyncError> {
        let mut ids = Vec::new();
        let mut pager = Pager::new(&self.client, path, extra, PER_PAGE, USER_READ);
        while let Some(body) = pager.next().await? {
            let users =
                records::users(&body, &self.country).map_err(|cause| ZammadError::Wire {
                    what: format!("GET /api/v1/{path}"),
                    cause,
                })?;
            pager.seen(PageSeen {
                records: users.len(),
                first_id: users.first().map(|u| u.id),
            })?;
            ids.extend(users.iter().map(|u| u.id));
            let links: Vec<UserLinks> = users.iter().map(|u| self.links(u.id)).collect();
            self.write(move |tx| {
                for (user, links) in users.iter().zip(&links) {
                    stored::put_user(tx, user, links)?;
                }
                Ok(())
            })
            .await?;
        }
        Ok(ids)
    }
}
