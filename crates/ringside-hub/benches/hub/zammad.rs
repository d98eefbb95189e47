//! Scenarios 5 and 6: Zammad beside the hub. Scenario 5, Zammad's customers synced into the
//! caller directory: a fake Zammad (the
//! tests' real HTTP server built from Zammad's documented API, with Elasticsearch) holds
//! `--zammad-users` customers, each with a phone number; the hub's directory already holds as
//! many imported contacts. Measured: the full pass a hub makes at start (time, the hub's CPU,
//! the process's peak memory above where it started), an incremental pass after
//! `--zammad-changes` customers changed and one after none, and caller lookups in the synced
//! directory beside the same lookups in a directory of the imported contacts alone, in the
//! same run, interleaved. Scenario 6 ([`popup`]): a call from a synced customer while
//! Zammad answers the ticket fetch in 50 ms and in 2 s, beside a hub without Zammad.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use rand::{Rng, SeedableRng};
use ringside_clock::ManualClock;
use ringside_hub::store::Store;
use serde_json::json;

use super::fake_zammad::{FakeZammad, Recorded};
use super::{
    client_runtime, contact, histogram, mib, nanos, number_of, thousands, Args, BenchHub, CpuTime,
    Report, Short, Spread,
};

/// When the customers last changed in Zammad, long before the bench: an incremental pass
/// finds only the ones the bench changes.
const LONG_AGO: &str = "2026-01-01T00:00:00Z";

/// Seconds between incremental passes (the hub's default).
const INCREMENTAL_SECS: u64 = 60;

/// Rounds the lookups are split into, alternating between the two directories so that
/// neither gets the quieter moments of the machine.
const ROUNDS: usize = 10;

/// Runs the scenario.
pub fn sync(args: &Args, data_dir: &std::path::Path, report: &mut Report) -> anyhow::Result<()> {
    let users = args.zammad_users;
    ensure!(users > 0, "--zammad-users must be at least 1");
    let scenario = format!("5. Zammad sync, {} customers", thousands(users as u64));
    let fake_runtime = client_runtime()?;
    let fake = fake_runtime.block_on(FakeZammad::start(true));
    // Customer n has the number after the imported contacts' numbers, written as people
    // type it into Zammad.
    fake.add_users(
        (0..users).map(|n| {
            let e164 = number_of(users + n);
            let national = &e164.as_str()[3..];
            (
                n as u64 + 1,
                json!({"firstname": "Customer", "lastname": format!("{n}"),
                       "phone": format!("+49 (0){national}")}),
            )
        }),
        LONG_AGO,
    );

    eprintln!("importing {users} contacts into three directories");
    let hub_dir = tempfile::tempdir_in(data_dir)?;
    let plain_dir = tempfile::tempdir_in(data_dir)?;
    let import_dir = tempfile::tempdir_in(data_dir)?;
    for dir in [&hub_dir, &plain_dir, &import_dir] {
        let (_, writer) = Store::open(&dir.path().join("data"))?;
        let records = (0..users).map(|n| Ok::<_, std::convert::Infallible>(contact(n)));
        ringside_hub::store::directory::import_contacts(
            &mut ringside_hub::store::Db::Sqlite(&writer),
            records,
        )?;
    }
    // The baseline: as many more contacts, with other numbers, imported from a file in one
    // transaction into the third directory (the CLI's import), on this thread.
    let (_, writer) = Store::open(&import_dir.path().join("data"))?;
    let records = (users..2 * users).map(|n| Ok::<_, std::convert::Infallible>(contact(n)));
    let start = Instant::now();
    ringside_hub::store::directory::import_contacts(
        &mut ringside_hub::store::Db::Sqlite(&writer),
        records,
    )?;
    let import = start.elapsed();
    drop((writer, import_dir));
    report.row(
        &scenario,
        &format!("baseline: import of {users} more contacts from a file (one transaction)"),
        format!("{:.1} s", import.as_secs_f64()),
        "",
        None,
    );

    let clock = Arc::new(ManualClock::starting_at(time::OffsetDateTime::now_utc()));
    let config = format!(
        "{}incremental_sync_secs = {INCREMENTAL_SECS}\n",
        fake.config()
    );
    let peak_before = reset_peak_resident();
    let cpu_before = CpuTime::now();
    eprintln!("starting a hub that syncs {users} customers");
    let start = Instant::now();
    let hub = BenchHub::start_in(hub_dir, 0, &config, clock.clone())?;
    let sync = hub.running.hub.zammad.clone().context("the sync runs")?;
    hub.block_on(sync.passes(1));
    let full = start.elapsed();
    let cpu = CpuTime::now().since(&cpu_before);
    let peak = peak_before.and_then(|before| Some(peak_resident_kib()?.saturating_sub(before)));
    let requests = fake.requests().len();
    let state = hub.block_on(
        hub.running
            .hub
            .store
            .read(ringside_hub::store::zammad::state),
    )?;
    ensure!(
        state.users == users as u64 && state.last_error.is_none(),
        "the full pass ended with {state:?}"
    );
    report.row(
        &scenario,
        "full pass (as at start)",
        format!(
            "{:.1} s ({:.0} customers/s), {requests} requests · {:.2}× the baseline",
            full.as_secs_f64(),
            users as f64 / full.as_secs_f64(),
            full.as_secs_f64() / import.as_secs_f64()
        ),
        "",
        None,
    );
    report.row(
        &scenario,
        "full pass: hub CPU",
        cpu.hub
            .map_or("n/a".into(), |cpu| format!("{:.1} s", cpu.as_secs_f64())),
        "",
        None,
    );
    report.row(
        &scenario,
        "full pass: peak memory above the start",
        peak.map_or("n/a".into(), |kib| format!("{} MiB", mib(kib))),
        "",
        None,
    );

    for (changes, measure) in [
        (args.zammad_changes, "incremental pass after changes"),
        (0, "incremental pass, nothing changed"),
    ] {
        for n in 0..changes {
            let e164 = number_of(users + n);
            fake.put_user(
                n as u64 + 1,
                json!({"firstname": "Changed", "lastname": format!("{n}"),
                       "phone": e164.as_str()}),
            );
        }
        let passes = sync.progress().passes;
        hub.block_on(wait_for_incremental_sleep(&clock));
        let requests = fake.requests().len();
        let cpu_before = CpuTime::now();
        let start = Instant::now();
        clock.advance(Duration::from_secs(INCREMENTAL_SECS));
        hub.block_on(sync.passes(passes + 1));
        let took = start.elapsed();
        let cpu = CpuTime::now().since(&cpu_before);
        let asked = fake.requests()[requests..].to_vec();
        let fetched = fake_runtime.block_on(fetch_again(&fake.url, &asked))?;
        report.row(
            &scenario,
            &format!(
                "baseline: the pass's {} requests again, by a bare HTTP client",
                asked.len()
            ),
            format!("{} wall", Short(fetched)),
            "",
            None,
        );
        report.row(
            &scenario,
            &format!("{measure} ({changes} customers)"),
            format!(
                "{} wall, {} hub CPU, {} requests · {:.2}× the baseline",
                Short(took),
                cpu.hub.map_or("n/a".into(), |cpu| Short(cpu).to_string()),
                asked.len(),
                took.as_secs_f64() / fetched.as_secs_f64()
            ),
            "",
            None,
        );
    }
    let changed = hub.running.hub.store.lookup(number_of(users).as_str())?;
    ensure!(
        changed.is_some_and(|c| c.contacts[0].name == "Changed 0"),
        "the incremental pass did not bring the change"
    );

    let (plain, _writer) = Store::open(&plain_dir.path().join("data"))?;
    lookups(args, users, &hub, &plain, &scenario, report)?;
    drop(fake_runtime);
    hub.stop()
}

/// The baseline of an incremental pass: the requests it made, made again one after the
/// other with the same credentials by a plain HTTP client that reads each answer as JSON
/// and keeps nothing. Returns how long they took together.
async fn fetch_again(base: &str, requests: &[Recorded]) -> anyhow::Result<Duration> {
    let http = reqwest::Client::new();
    let start = Instant::now();
    for request in requests {
        let mut get = http.get(format!("{base}{}", request.uri));
        if let Some(authorization) = &request.authorization {
            get = get.header(reqwest::header::AUTHORIZATION, authorization);
        }
        let answer = get.send().await?.error_for_status()?;
        let _: serde_json::Value = answer.json().await?;
    }
    Ok(start.elapsed())
}

/// Times lookups of imported numbers in the directory without Zammad's customers, and of
/// imported and synced numbers in the synced one, in alternating rounds.
fn lookups(
    args: &Args,
    users: usize,
    hub: &BenchHub,
    plain: &Store,
    scenario: &str,
    report: &mut Report,
) -> anyhow::Result<()> {
    let synced = &hub.running.hub.store;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let lookups = args.lookups.max(ROUNDS);
    // In the synced directory half the hits are imported contacts, half Zammad's customers.
    let numbers: Vec<(String, String)> = (0..lookups)
        .map(|i| {
            let imported = rng.random_range(0..users);
            let either = if i % 2 == 0 {
                imported
            } else {
                users + rng.random_range(0..users)
            };
            (
                number_of(imported).as_str().to_owned(),
                number_of(either).as_str().to_owned(),
            )
        })
        .collect();
    let mut without = histogram();
    let mut with = histogram();
    hub.block_on(async {
        for (plain_number, synced_number) in numbers.iter().take(1000) {
            plain.lookup(plain_number)?;
            synced.lookup(synced_number)?;
        }
        eprintln!("{lookups} lookups in each directory, {ROUNDS} rounds");
        for round in numbers.chunks(lookups / ROUNDS) {
            for (number, _) in round {
                let start = Instant::now();
                let caller = plain.lookup(number)?;
                without.record(nanos(start.elapsed()))?;
                ensure!(caller.is_some(), "{number} was not found");
            }
            for (_, number) in round {
                let start = Instant::now();
                let caller = synced.lookup(number)?;
                with.record(nanos(start.elapsed()))?;
                ensure!(caller.is_some(), "{number} was not found");
            }
        }
        anyhow::Ok(())
    })?;
    let without = Spread::of(&without);
    let with = Spread::of(&with);
    report.row(
        scenario,
        "lookup without the synced directory (baseline)",
        without.to_string(),
        "",
        None,
    );
    let ratio = with.p99.as_secs_f64() / without.p99.as_secs_f64();
    report.row(
        scenario,
        "lookup in the synced directory",
        format!("{with} · p99 {ratio:.2}× the baseline"),
        "p99 ≤ 1.2× baseline",
        Some(ratio <= 1.2),
    );
    Ok(())
}

/// Waits until the sync task sleeps until its next incremental pass, so that advancing the
/// clock starts exactly one pass.
async fn wait_for_incremental_sleep(clock: &ManualClock) {
    while !clock
        .sleeping()
        .contains(&Duration::from_secs(INCREMENTAL_SECS))
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Resets the kernel's record of this process's peak resident memory; the resident memory
/// now, from which the peak is measured, or `None` where the kernel does not allow it.
fn reset_peak_resident() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    peak_resident_kib()
}

/// `VmHWM`: the peak resident memory since the last reset, in KiB.
fn peak_resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Customers (and calls' numbers) of the popup scenario, each with a few tickets in Zammad.
const POPUP_CUSTOMERS: usize = 1_000;

/// Tickets each customer has in Zammad: more than a popup shows.
const TICKETS_EACH: usize = 6;

/// Webhooks sent to each hub before the popup scenario starts counting.
const POPUP_WARMUP: usize = 10;

/// Time between two calls to each hub in the popup scenario: ten calls a second, a busy
/// support line, so that a call's ticket fetch overlaps the next calls as it would there.
const RING_INTERVAL: Duration = Duration::from_millis(100);

/// How long the popup scenario waits for a call's ringing event.
const RINGING_TIMEOUT: Duration = Duration::from_secs(10);

/// Scenario 6: webhook to the ringing event on the stream (what the app pops up from) for a
/// synced Zammad customer, with Zammad answering the ticket fetch in 50 ms and in 2 s, beside
/// a hub without Zammad whose directory holds the same customers imported. Webhooks go to the
/// two hubs in turn, one at a time, every [`RING_INTERVAL`] (each hub first every other
/// round), so that both see the same moments of the machine. Also
/// measured: when the fresh tickets follow as an update of the call.
pub fn popup(args: &Args, data_dir: &std::path::Path, report: &mut Report) -> anyhow::Result<()> {
    let webhooks = args.popup_webhooks;
    ensure!(webhooks > 0, "--popup-webhooks must be at least 1");
    let fake_runtime = client_runtime()?;
    let fake = fake_runtime.block_on(FakeZammad::start(true));
    fake.add_users(
        (0..POPUP_CUSTOMERS).map(|n| {
            (
                n as u64 + 1,
                json!({"firstname": "Customer", "lastname": format!("{n}"),
                       "phone": number_of(n).as_str()}),
            )
        }),
        LONG_AGO,
    );
    for n in 0..POPUP_CUSTOMERS {
        for t in 0..TICKETS_EACH {
            let id = (n * TICKETS_EACH + t) as u64 + 1;
            fake.put_ticket(id, n as u64 + 1, &format!("Ticket {t} of customer {n}"), 2);
        }
    }
    let plain_dir = tempfile::tempdir_in(data_dir)?;
    {
        let (_, writer) = Store::open(&plain_dir.path().join("data"))?;
        let records = (0..POPUP_CUSTOMERS).map(|n| Ok::<_, std::convert::Infallible>(contact(n)));
        ringside_hub::store::directory::import_contacts(
            &mut ringside_hub::store::Db::Sqlite(&writer),
            records,
        )?;
    }
    let plain = BenchHub::start_in(plain_dir, 0, "", Arc::new(ringside_clock::SystemClock))?;
    let zammad = BenchHub::start_in(
        tempfile::tempdir_in(data_dir)?,
        0,
        &fake.config(),
        Arc::new(ringside_clock::SystemClock),
    )?;
    let sync = zammad.running.hub.zammad.clone().context("the sync runs")?;
    zammad.block_on(sync.passes(1));

    let runtime = client_runtime()?;
    runtime.block_on(async {
        let mut plain_calls = CallWatch::connect(&plain).await?;
        let mut zammad_calls = CallWatch::connect(&zammad).await?;
        let http = reqwest::Client::new();
        let mut sent = 0usize;
        for delay in [Duration::from_millis(50), Duration::from_secs(2)] {
            fake.set_delay(delay);
            let scenario = format!("6. webhook to popup, Zammad answering in {}", Short(delay));
            let mut without = histogram();
            let mut with = histogram();
            let mut posted: Vec<(String, Instant)> = Vec::new();
            let mut pace = tokio::time::interval(RING_INTERVAL);
            for n in 0..POPUP_WARMUP + webhooks {
                pace.tick().await;
                sent += 1;
                let from = number_of(sent % POPUP_CUSTOMERS);
                let call_id = format!("popup-{sent:06}");
                // The first webhook of a round meets a machine idle since the last round:
                // the hubs take turns at it, so that neither gains from going second.
                let (to_plain, to_zammad, at) = if n % 2 == 0 {
                    let to_plain = plain_calls.ring(&http, &call_id, from.as_str()).await?;
                    let to_zammad = zammad_calls.ring(&http, &call_id, from.as_str()).await?;
                    (to_plain, to_zammad, Instant::now())
                } else {
                    let to_zammad = zammad_calls.ring(&http, &call_id, from.as_str()).await?;
                    let at = Instant::now();
                    let to_plain = plain_calls.ring(&http, &call_id, from.as_str()).await?;
                    (to_plain, to_zammad, at)
                };
                if n >= POPUP_WARMUP {
                    without.record(nanos(to_plain))?;
                    with.record(nanos(to_zammad))?;
                    posted.push((call_id, at - to_zammad));
                }
            }
            // The fresh tickets of the last calls may still be on their way.
            tokio::time::sleep(delay + Duration::from_millis(500)).await;
            zammad_calls.drain();
            let mut fresh = histogram();
            let mut updated = 0u64;
            for (call_id, at) in &posted {
                if let Some(update) = zammad_calls.updated.get(call_id) {
                    fresh.record(nanos(update.duration_since(*at)))?;
                    updated += 1;
                }
            }
            let without = Spread95::of(&without);
            let with = Spread95::of(&with);
            let ratio = with.p95.as_secs_f64() / without.p95.as_secs_f64();
            report.row(
                &scenario,
                "ringing event, hub without Zammad (baseline)",
                without.to_string(),
                "",
                None,
            );
            report.row(
                &scenario,
                "ringing event, hub with Zammad",
                format!("{with} · p95 {ratio:.2}× the baseline"),
                "p95 ≤ 1.1× baseline",
                Some(ratio <= 1.1),
            );
            report.row(
                &scenario,
                "fresh tickets follow on the stream",
                if updated == 0 {
                    format!("none of {} calls (Zammad slow)", posted.len())
                } else {
                    format!(
                        "{updated} of {} calls · {}",
                        posted.len(),
                        Spread95::of(&fresh)
                    )
                },
                "",
                None,
            );
        }
        anyhow::Ok(())
    })?;
    drop(fake_runtime);
    zammad.stop()?;
    plain.stop()
}

/// One stream client of a hub that tells when a call first arrives and when it changes.
struct CallWatch {
    hub: std::net::SocketAddr,
    events: tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>,
    first: std::collections::HashSet<String>,
    /// When each call's first change after its ringing event arrived.
    updated: std::collections::HashMap<String, Instant>,
    _reader: tokio::task::JoinHandle<()>,
}

impl CallWatch {
    async fn connect(hub: &BenchHub) -> anyhow::Result<CallWatch> {
        let mut socket = super::connect_stream(hub.running.addr, &hub.token, true).await?;
        let (tx, events) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            use futures_util::StreamExt;
            while let Some(Ok(frame)) = socket.next().await {
                let at = Instant::now();
                let tokio_tungstenite::tungstenite::Message::Text(text) = frame else {
                    continue;
                };
                let Ok(ringside_core::stream::StreamFrame::Event(event)) =
                    serde_json::from_str(&text)
                else {
                    continue;
                };
                if let ringside_core::stream::EventBody::Call { call } = event.body {
                    if tx.send((call.call_id, at)).is_err() {
                        return;
                    }
                }
            }
        });
        Ok(CallWatch {
            hub: hub.running.addr,
            events,
            first: Default::default(),
            updated: Default::default(),
            _reader: reader,
        })
    }

    /// Posts a generic CTI newCall and waits for the call on the stream; the time it took.
    async fn ring(
        &mut self,
        http: &reqwest::Client,
        call_id: &str,
        from: &str,
    ) -> anyhow::Result<Duration> {
        let url = format!("http://{}/api/v1/cti/{}", self.hub, super::CTI_TOKEN);
        let fields = [
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", call_id),
            ("from", from),
            ("to", "+4930600000000"),
        ];
        let start = Instant::now();
        let status = http.post(&url).form(&fields).send().await?.status();
        ensure!(status.is_success(), "webhook {call_id} answered {status}");
        let deadline = tokio::time::Instant::now() + RINGING_TIMEOUT;
        loop {
            let (id, at) = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .with_context(|| format!("no ringing event for {call_id}"))?
                .context("the stream ended")?;
            let arrived = self.note(id, at);
            if arrived.as_deref() == Some(call_id) {
                return Ok(at.duration_since(start));
            }
        }
    }

    /// Records an event; the call id when it is the call's first.
    fn note(&mut self, call_id: String, at: Instant) -> Option<String> {
        if self.first.insert(call_id.clone()) {
            return Some(call_id);
        }
        self.updated.entry(call_id).or_insert(at);
        None
    }

    /// Records the events that have arrived.
    fn drain(&mut self) {
        while let Ok((id, at)) = self.events.try_recv() {
            self.note(id, at);
        }
    }
}

/// The median, the 95th percentile and the maximum: what the popup goals speak of.
struct Spread95 {
    p50: Duration,
    p95: Duration,
    max: Duration,
}

impl Spread95 {
    fn of(histogram: &hdrhistogram::Histogram<u64>) -> Spread95 {
        Spread95 {
            p50: Duration::from_nanos(histogram.value_at_quantile(0.5)),
            p95: Duration::from_nanos(histogram.value_at_quantile(0.95)),
            max: Duration::from_nanos(histogram.max()),
        }
    }
}

impl std::fmt::Display for Spread95 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {} · p95 {} · max {}",
            Short(self.p50),
            Short(self.p95),
            Short(self.max)
        )
    }
}
