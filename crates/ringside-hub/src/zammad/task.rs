//! The sync's own task beside the hub: a full pass at start and on demand, then
//! incremental passes every `incremental_sync_secs` (with Elasticsearch) and full passes
//! every `full_sync_secs`; a full pass that failed is tried again after
//! `incremental_sync_secs`. Its waits come from the hub's clock, so that tests drive the
//! passes by moving a `ManualClock`. A webhook never waits for it: lookups read the local
//! directory. After each pass that succeeded, the journal's calls of the last 30 days get
//! the directory's current match through the writer ([`Recorder::refresh_callers`]). Each
//! pass also tells [`ZammadHealth`] whether Zammad answered.

use std::sync::Arc;
use std::time::Duration;

use ringside_core::number::DefaultCountry;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::check::SyncMode;
use super::health::{Finding, ZammadHealth};
use super::sync::{SyncError, Syncer};
use crate::config::ZammadSettings;
use crate::recorder::Recorder;
use ringside_clock::Clock;

/// What the task has done so far, for the admin API and for tests that wait on a pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Passes ended, failed ones included.
    pub passes: u64,
    /// Full passes ended, failed ones included.
    pub full_passes: u64,
    /// Whether a pass runs now.
    pub syncing: bool,
}

/// The running sync: ask it for a full pass, watch its progress.
#[derive(Debug)]
pub struct ZammadSync {
    demand: Notify,
    progress: watch::Sender<Progress>,
}

impl ZammadSync {
    /// Asks for a full pass now (or right after the one running).
    pub fn demand_full_pass(&self) {
        self.demand.notify_one();
    }

    /// What the task has done so far.
    pub fn progress(&self) -> Progress {
        *self.progress.borrow()
    }

    /// Waits until `passes` passes have ended.
    pub async fn passes(&self, passes: u64) -> Progress {
        let mut progress = self.progress.subscribe();
        let seen = progress
            .wait_for(|p| p.passes >= passes)
            .await
            .map(|p| *p)
            .unwrap_or_default();
        seen
    }
}

/// The writer that refreshes the journal's callers after a pass, and the country their
/// numbers are read in.
#[derive(Debug, Clone)]
pub struct CallerRefresh {
    /// The hub's writer.
    pub recorder: Recorder,
    /// The country national numbers are read in.
    pub country: DefaultCountry,
}

impl CallerRefresh {
    /// Brings the last 30 days' calls in step with the directory; a failure is logged, and
    /// the next pass tries again.
    async fn run(&self, now: time::OffsetDateTime) {
        match self.recorder.refresh_callers(&self.country, now).await {
            Ok(0) => {}
            Ok(changed) => tracing::info!("zammad sync: {changed} recent call(s) rematched"),
            Err(e) => tracing::warn!("zammad sync: recent calls not rematched: {e}"),
        }
    }
}

/// What a pass found about Zammad itself: answered, or the error's finding; `None` when
/// the failure was the hub's own (the directory) or says nothing about Zammad's health.
fn finding<T>(result: &Result<T, SyncError>) -> Option<Finding> {
    match result {
        Ok(_) => Some(Finding::Answered),
        Err(SyncError::Zammad(e)) => Finding::of_error(e),
        Err(SyncError::CannotSync(why)) => Some(Finding::Down(why.clone())),
        Err(SyncError::Store(_)) => None,
    }
}

/// Starts the task, reporting what each pass finds about Zammad to `health`; the handle
/// asks it for passes, the join handle ends it.
pub fn spawn(
    syncer: Syncer,
    settings: &ZammadSettings,
    clock: Arc<dyn Clock>,
    refresh: CallerRefresh,
    health: Arc<ZammadHealth>,
) -> (Arc<ZammadSync>, JoinHandle<()>) {
    let sync = Arc::new(ZammadSync {
        demand: Notify::new(),
        progress: watch::Sender::new(Progress::default()),
    });
    let full_every = Duration::from_secs(settings.full_sync_secs);
    let incremental_every = Duration::from_secs(settings.incremental_sync_secs);
    let task = tokio::spawn(run(
        sync.clone(),
        syncer,
        clock,
        refresh,
        health,
        full_every,
        incremental_every,
    ));
    (sync, task)
}

async fn run(
    sync: Arc<ZammadSync>,
    syncer: Syncer,
    clock: Arc<dyn Clock>,
    refresh: CallerRefresh,
    health: Arc<ZammadHealth>,
    full_every: Duration,
    incremental_every: Duration,
) {
    let mut mode: Option<SyncMode> = None;
    let mut next_full = clock.now();
    let mut demanded = true;
    loop {
        // One node of a hub on PostgreSQL syncs for all of them.
        if !syncer.lease().held().await {
            tokio::select! {
                _ = clock.sleep(crate::store::lease::RETRY) => {}
                _ = sync.demand.notified() => demanded = true,
            }
            continue;
        }
        let now = clock.now();
        let full = demanded || now >= next_full;
        sync.progress.send_modify(|p| p.syncing = true);
        if full {
            demanded = false;
            next_full = now + full_every;
            let result = syncer.full(now).await;
            if let Some(finding) = finding(&result) {
                health.synced(finding, clock.now());
            }
            match result {
                Ok(pass) => {
                    tracing::info!(
                        "zammad sync: {} users, {} organizations, {} removed",
                        pass.users,
                        pass.organizations,
                        pass.removed
                    );
                    mode = Some(pass.mode);
                    refresh.run(now).await;
                }
                Err(e) => {
                    tracing::warn!("zammad sync: {e}");
                    syncer.record_error(&e, now).await;
                    // Zammad down or a token being fixed: try again as often as an
                    // incremental pass would run, not only at the next full pass.
                    next_full = now + full_every.min(incremental_every);
                }
            }
        } else if mode == Some(SyncMode::Incremental) {
            let result = syncer.incremental(now).await;
            if let Some(finding) = finding(&result) {
                health.synced(finding, clock.now());
            }
            match result {
                Ok(0) => {}
                Ok(_) => refresh.run(now).await,
                Err(e) => {
                    tracing::warn!("zammad sync: {e}");
                    syncer.record_error(&e, now).await;
                }
            }
        }
        sync.progress.send_modify(|p| {
            p.syncing = false;
            p.passes += 1;
            if full {
                p.full_passes += 1;
            }
        });
        let until_full: Duration = (next_full - clock.now()).try_into().unwrap_or_default();
        let wait = match mode {
            Some(SyncMode::Incremental) => until_full.min(incremental_every),
            _ => until_full,
        };
        tokio::select! {
            _ = clock.sleep(wait) => {}
            _ = sync.demand.notified() => demanded = true,
        }
    }
}
