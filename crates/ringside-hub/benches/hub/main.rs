//! Measures a real hub on this machine: stream fan-out latency, durable webhook throughput,
//! caller lookup and contact search in a large directory and the memory an idle stream
//! connection costs.
//!
//! ```text
//! cargo bench -p ringside-hub --bench hub
//! cargo bench -p ringside-hub --bench hub -- latency lookup --clients 500 --contacts 100000
//! ```
//!
//! Every scenario starts its own hub (or store) in a fresh temporary directory under
//! `--data-dir` (default: Cargo's temporary directory for benchmarks, on the same disk as
//! `target/`), so that commits really reach the disk. The hub serves on its own multi-thread
//! Tokio runtime, as `ringside-hub serve` does; the clients run on a second runtime in the same
//! process, except in the memory scenario, where they run in a child process so that the
//! hub's resident memory is measured alone. The scenarios report numbers and whether the
//! targets are met; nothing is asserted about timings.

mod bare_broadcast;
mod bare_commit;
mod bare_import;
mod bare_lookup;
mod bare_server;
mod curves;
#[path = "../../tests/common/fake_zammad.rs"]
mod fake_zammad;
mod nodes;
mod plot;
mod zammad;

use std::convert::Infallible;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::{Parser, ValueEnum};
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use ringside_clock::{Clock, SystemClock};
use ringside_core::directory::ContactRecord;
use ringside_core::number::E164;
use ringside_core::stream::StreamFrame;
use ringside_hub::config::Config;
use ringside_hub::store::Store;
use ringside_hub::RunningHub;
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The generic CTI token of the benchmark hubs.
const CTI_TOKEN: &str = "bench-generic-token-0123456789";

/// The agent every stream client signs in as; one agent may hold many streams.
const DESK: &str = "desk";

/// Webhooks sent before the latency scenario starts counting.
const LATENCY_WARMUP: usize = 20;

/// How long the latency scenario waits for every client to receive one webhook's event.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Stream connections opened at the same time while the clients connect.
const CONNECT_CONCURRENCY: usize = 32;

/// Connections the hub takes besides the clients of a scenario (its webhooks, the warm-up).
const SPARE_CONNECTIONS: usize = 64;

/// File descriptors the process needs besides its sockets.
const SPARE_FILES: u64 = 256;

/// The environment variable that hands the agent token to the memory scenario's child.
const TOKEN_VAR: &str = "RINGSIDE_BENCH_TOKEN";

/// The command line.
#[derive(Debug, Parser)]
#[command(about = "Benchmarks the Ringside hub")]
struct Args {
    /// Scenarios to run, in the order given; all of them when none is named.
    #[arg(value_enum)]
    scenarios: Vec<Scenario>,
    /// Stream clients in the latency and memory scenarios.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Webhooks measured in the latency scenario (sent one at a time).
    #[arg(long, default_value_t = 300)]
    webhooks: usize,
    /// Concurrent HTTP clients in the throughput scenario.
    #[arg(long, default_value_t = 32)]
    posters: usize,
    /// Duration of the throughput scenario, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Contacts imported in the lookup scenario.
    #[arg(long, default_value_t = 1_000_000)]
    contacts: usize,
    /// Lookups measured in the lookup scenario, for hits and for misses each (and in the
    /// Zammad scenario, in each directory).
    #[arg(long, default_value_t = 20_000)]
    lookups: usize,
    /// Customers the fake Zammad holds in the Zammad sync scenario.
    #[arg(long, default_value_t = 100_000)]
    zammad_users: usize,
    /// Customers changed before the measured incremental pass.
    #[arg(long, default_value_t = 100)]
    zammad_changes: usize,
    /// Webhooks measured for each of Zammad's answer times in the Zammad popup scenario.
    #[arg(long, default_value_t = 100)]
    popup_webhooks: usize,
    /// Stream clients at each point of the fan-out curve.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000,5000")]
    curve_clients: Vec<usize>,
    /// Directory sizes at the points of the lookup curve.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10000,100000,1000000,5000000"
    )]
    curve_contacts: Vec<usize>,
    /// Open missed calls at the points of the snapshot curve (beside none).
    #[arg(long, value_delimiter = ',', default_value = "10,100,500")]
    curve_missed: Vec<usize>,
    /// Directory the curves' SVG charts are written to.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/plots"))]
    plots: PathBuf,
    /// Directory under which each scenario creates its temporary data directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
    /// Runs as the memory scenario's client process, connecting to this hub address.
    #[arg(long, hide = true)]
    idle_clients_of: Option<SocketAddr>,
    /// Runs as the memory scenario's baseline server.
    #[arg(long, hide = true)]
    bare_broadcast_server: bool,
    /// Runs as the fan-out curve's client process, connecting to this server address.
    #[arg(long, hide = true)]
    fan_out_clients_of: Option<SocketAddr>,
}

/// One measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Memory per idle stream connection (runs first by default: see `main`).
    Memory,
    /// Webhook-to-stream latency with many connected clients.
    Latency,
    /// Sustained webhook throughput with durable commits.
    Throughput,
    /// Caller lookup and contact search in a large directory.
    Lookup,
    /// Zammad's customers synced into the directory, and lookups beside them.
    ZammadSync,
    /// Webhook to popup with Zammad answering in 50 ms and in 2 s, beside no Zammad.
    ZammadPopup,
    /// Snapshot build time and size by open missed calls.
    SnapshotCurve,
    /// Webhook-to-stream latency and hub CPU by stream clients, clients in another process.
    FanOutCurve,
    /// Lookup p99 by directory size.
    LookupCurve,
    /// One SQLite hub beside one and two PostgreSQL nodes, and failover between nodes
    /// (needs `RINGSIDE_BENCH_DATABASE_URL`; not run by default).
    Nodes,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(hub) = args.idle_clients_of {
        return idle_client_process(hub, args.clients);
    }
    if args.bare_broadcast_server {
        return bare_server_process();
    }
    if let Some(server) = args.fan_out_clients_of {
        return curves::fan_out_clients_process(server, args.clients, args.webhooks);
    }
    // Up to the hard limit: the fan-out scenarios hold thousands of sockets.
    let open_files =
        rlimit::increase_nofile_limit(u64::MAX).context("raising the open file limit")?;
    let mut scenarios = args.scenarios.clone();
    if scenarios.is_empty() {
        // Memory first: later scenarios leave freed memory in the allocator that new
        // connections would reuse without the resident size growing.
        scenarios = vec![
            Scenario::Memory,
            Scenario::Latency,
            Scenario::Throughput,
            Scenario::Lookup,
            Scenario::ZammadSync,
            Scenario::ZammadPopup,
            Scenario::SnapshotCurve,
            Scenario::FanOutCurve,
            Scenario::LookupCurve,
        ];
    }
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    eprintln!(
        "ringside-hub bench: {} cores, data in a {} file system, {open_files} open files allowed",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        file_system_of(&data_dir).unwrap_or_else(|| "unknown".into()),
    );
    let mut report = Report::default();
    for scenario in scenarios {
        let started = Instant::now();
        eprintln!("\n== {scenario:?} ==");
        match scenario {
            Scenario::Memory => memory(&args, &data_dir, &mut report)?,
            Scenario::Latency => latency(&args, &data_dir, &mut report)?,
            Scenario::Throughput => throughput(&args, &data_dir, &mut report)?,
            Scenario::Lookup => lookup(&args, &data_dir, &mut report)?,
            Scenario::ZammadSync => zammad::sync(&args, &data_dir, &mut report)?,
            Scenario::ZammadPopup => zammad::popup(&args, &data_dir, &mut report)?,
            Scenario::SnapshotCurve => curves::snapshot_curve(&args, &data_dir, &mut report)?,
            Scenario::FanOutCurve => curves::fan_out_curve(&args, &data_dir, &mut report)?,
            Scenario::LookupCurve => curves::lookup_curve(&args, &data_dir, &mut report)?,
            Scenario::Nodes => nodes::nodes(&args, &data_dir, &mut report)?,
        }
        eprintln!("{scenario:?} took {:.1} s", started.elapsed().as_secs_f64());
    }
    println!("\n{report}");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Scenario 1: webhook-to-stream latency.
// ---------------------------------------------------------------------------------------

/// How many clients have received the event of the webhook in flight.
#[derive(Debug)]
struct Round {
    received: AtomicUsize,
    everyone: Notify,
    clients: usize,
    /// The size of the last event frame seen, in bytes.
    frame_len: AtomicUsize,
}

/// What one fan-out run measured.
struct FanOut {
    per_delivery: Histogram<u64>,
    to_last: Histogram<u64>,
    posts: Histogram<u64>,
    cpu: CpuTime,
    /// The size of the last event frame, in bytes.
    frame_len: usize,
}

/// Sends newCall webhooks one at a time to a hub with `--clients` connected streams and times
/// each delivery from just before the POST; then the same to the bare broadcast server
/// (`bare_broadcast.rs`) with frames of the hub's event size, as the baseline.
fn latency(args: &Args, data_dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let clients = args.clients;
    ensure_open_files(2 * clients as u64)?;
    let total = LATENCY_WARMUP + args.webhooks;
    let hub = BenchHub::start(data_dir, clients)?;
    eprintln!("the hub:");
    let measured = fan_out(
        hub.running.addr,
        &hub.token,
        clients,
        total,
        true,
        &mut |_| Ok(()),
    )?;
    hub.stop()?;
    eprintln!("the bare broadcast ({} byte frames):", measured.frame_len);
    let bare = bare_broadcast::start(hub_runtime()?, measured.frame_len)?;
    let baseline = fan_out(bare.addr, "", clients, total, false, &mut |_| Ok(()))?;
    bare.stop();

    let scenario = format!("1. webhook → stream, {clients} clients");
    let deliveries = Spread::of(&measured.per_delivery);
    let bare_deliveries = Spread::of(&baseline.per_delivery);
    let ratio = |hub: Duration, bare: Duration| hub.as_secs_f64() / bare.as_secs_f64();
    report.row(
        &scenario,
        &format!(
            "baseline: bare broadcast, per delivery ({} bytes a frame)",
            measured.frame_len
        ),
        bare_deliveries.to_string(),
        "",
        None,
    );
    let p99_ratio = ratio(deliveries.p99, bare_deliveries.p99);
    report.row(
        &scenario,
        &format!("per delivery ({} deliveries)", measured.per_delivery.len()),
        format!(
            "{deliveries} · p50 {:.2}×, p99 {p99_ratio:.2}× the baseline",
            ratio(deliveries.p50, bare_deliveries.p50)
        ),
        "p99 ≤ 1.2× baseline",
        Some(p99_ratio <= 1.2),
    );
    report.row(
        &scenario,
        "POST to last client",
        Spread::of(&measured.to_last).to_string(),
        "",
        None,
    );
    report.row(
        &scenario,
        "webhook answer (POST round trip)",
        Spread::of(&measured.posts).to_string(),
        "",
        None,
    );
    let per_webhook =
        |cpu: Option<Duration>| cpu.map(|cpu| cpu / u32::try_from(total).unwrap_or(u32::MAX));
    let (hub_cpu, bare_cpu) = (per_webhook(measured.cpu.hub), per_webhook(baseline.cpu.hub));
    cpu_rows(report, &scenario, "bare broadcast", hub_cpu, bare_cpu, 1.2);
    report.row(
        &scenario,
        "CPU per webhook: client threads",
        per_webhook(measured.cpu.clients).map_or("n/a".into(), |cpu| Short(cpu).to_string()),
        "",
        None,
    );
    Ok(())
}

/// The moments of a fan-out run that another process may want to measure between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pace {
    /// Every client is connected; the first webhook is about to be sent.
    Connected,
    /// Every client has the last webhook's event; the clients have not closed yet.
    Sent,
}

/// Connects `clients` streams to `addr` (waiting for the hub's snapshot when `snapshot`),
/// then sends `total` newCall webhooks one at a time, each once every client has the
/// previous one's event. `pace` is called at each [`Pace`] and may block.
fn fan_out(
    addr: SocketAddr,
    token: &str,
    clients: usize,
    total: usize,
    snapshot: bool,
    pace: &mut dyn FnMut(Pace) -> anyhow::Result<()>,
) -> anyhow::Result<FanOut> {
    let runtime = client_runtime()?;
    let (sent_at, delivered, posts, cpu, frame_len) = runtime.block_on(async {
        eprintln!("connecting {clients} stream clients");
        let sockets = connect_many(addr, token, clients, snapshot).await?;
        let round = Arc::new(Round {
            received: AtomicUsize::new(0),
            everyone: Notify::new(),
            clients,
            frame_len: AtomicUsize::new(0),
        });
        let (stop, stopped) = watch::channel(false);
        let mut listeners = JoinSet::new();
        for socket in sockets {
            listeners.spawn(listen(socket, round.clone(), stopped.clone(), total));
        }
        eprintln!("sending {total} webhooks ({LATENCY_WARMUP} warm-up)");
        let http = reqwest::Client::new();
        let url = format!("http://{addr}/api/v1/cti/{CTI_TOKEN}");
        let mut sent_at = Vec::with_capacity(total);
        let mut posts = histogram();
        pace(Pace::Connected)?;
        let cpu_before = CpuTime::now();
        for n in 0..total {
            round.received.store(0, Ordering::SeqCst);
            let call_id = format!("lat-{n:06}");
            let from = format!("+4989{:08}", n);
            let fields = [
                ("event", "newCall"),
                ("direction", "in"),
                ("callId", call_id.as_str()),
                ("from", from.as_str()),
                ("to", "+4930600000000"),
            ];
            let request = http.post(&url).form(&fields);
            let start = Instant::now();
            let status = request.send().await?.status();
            let answered = start.elapsed();
            ensure!(status.is_success(), "webhook {n} answered {status}");
            sent_at.push(start);
            if n >= LATENCY_WARMUP {
                posts.record(nanos(answered))?;
            }
            if tokio::time::timeout(DELIVERY_TIMEOUT, round.everyone.notified())
                .await
                .is_err()
            {
                bail!(
                    "webhook {n}: only {} of {clients} clients got its event",
                    round.received.load(Ordering::SeqCst)
                );
            }
        }
        let cpu = CpuTime::now().since(&cpu_before);
        pace(Pace::Sent)?;
        stop.send(true)?;
        let mut delivered = Vec::with_capacity(clients);
        while let Some(seen) = listeners.join_next().await {
            delivered.push(seen?);
        }
        let frame_len = round.frame_len.load(Ordering::SeqCst);
        anyhow::Ok((sent_at, delivered, posts, cpu, frame_len))
    })?;
    drop(runtime);

    let mut per_delivery = histogram();
    let mut to_last = histogram();
    let mut last = vec![Duration::ZERO; total];
    for seen in &delivered {
        for &(n, at) in seen {
            let latency = at.saturating_duration_since(sent_at[n]);
            last[n] = last[n].max(latency);
            if n >= LATENCY_WARMUP {
                per_delivery.record(nanos(latency))?;
            }
        }
    }
    for latency in &last[LATENCY_WARMUP..] {
        to_last.record(nanos(*latency))?;
    }
    Ok(FanOut {
        per_delivery,
        to_last,
        posts,
        cpu,
        frame_len,
    })
}

/// Reads one stream until told to stop; returns which webhook's event arrived when.
async fn listen(
    mut socket: Socket,
    round: Arc<Round>,
    mut stop: watch::Receiver<bool>,
    expected: usize,
) -> Vec<(usize, Instant)> {
    let mut seen = Vec::with_capacity(expected);
    loop {
        tokio::select! {
            frame = socket.next() => {
                let at = Instant::now();
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(n) = webhook_number(&text) {
                            seen.push((n, at));
                            round.frame_len.store(text.len(), Ordering::Relaxed);
                            if round.received.fetch_add(1, Ordering::SeqCst) + 1 == round.clients {
                                round.everyone.notify_one();
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                }
            }
            _ = stop.changed() => {
                let _ = socket.close(None).await;
                break;
            }
        }
    }
    seen
}

/// The number of the latency webhook whose call a stream event carries.
fn webhook_number(text: &str) -> Option<usize> {
    const MARK: &str = r#""call_id":"lat-"#;
    let start = text.find(MARK)? + MARK.len();
    text.get(start..start + 6)?.parse().ok()
}

// ---------------------------------------------------------------------------------------
// Scenario 2: sustained webhook throughput.
// ---------------------------------------------------------------------------------------

/// Has `--posters` HTTP clients post newCall/answer/hangup for distinct calls for
/// `--seconds`; every webhook is committed (WAL, `synchronous = FULL`) before it is answered.
/// Then the same against the bare commit server (`bare_commit.rs`), as the baseline.
fn throughput(args: &Args, data_dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let hub = BenchHub::start(data_dir, args.posters)?;
    let addr = hub.running.addr;
    let seq_before = hub.block_on(hub.running.hub.recorder.snapshot())?.seq;
    let duration = Duration::from_secs(args.seconds);
    eprintln!(
        "the hub: {} posters for {} s",
        args.posters,
        duration.as_secs_f64()
    );
    let measured = post_for(addr, args.posters, duration)?;
    let seq_after = hub.block_on(hub.running.hub.recorder.snapshot())?.seq;
    let event_len: f64 = hub
        .block_on(hub.running.hub.store.read(|db| {
            Ok(db
                .sqlite()?
                .query_row("SELECT avg(length(body)) FROM events", [], |row| {
                    row.get::<_, Option<f64>>(0)
                })?)
        }))?
        .unwrap_or(0.0);
    hub.stop()?;
    let bare_dir = tempfile::tempdir_in(data_dir)?;
    let bare = bare_commit::BareCommit::start(hub_runtime()?, bare_dir.path(), event_len as usize)?;
    eprintln!("the bare commit server ({event_len:.0} byte rows)");
    let baseline = post_for(bare.server.addr, args.posters, duration)?;
    bare.stop()?;

    let scenario = format!("2. webhook throughput, {} posters", args.posters);
    let bare_rate = baseline.per_second();
    report.row(
        &scenario,
        &format!(
            "baseline: bare commit, webhooks/s ({} in {:.1} s)",
            baseline.webhooks,
            baseline.elapsed.as_secs_f64()
        ),
        format!("{bare_rate:.0}"),
        "",
        None,
    );
    let per_second = measured.per_second();
    report.row(
        &scenario,
        &format!(
            "webhooks/s ({} in {:.1} s)",
            measured.webhooks,
            measured.elapsed.as_secs_f64()
        ),
        format!(
            "{per_second:.0} · {:.2}× the baseline",
            per_second / bare_rate
        ),
        "> 5,000/s",
        Some(per_second > 5000.0),
    );
    report.row(
        &scenario,
        "stream events/s (call + presence)",
        format!(
            "{:.0}",
            (seq_after - seq_before) as f64 / measured.elapsed.as_secs_f64()
        ),
        "",
        None,
    );
    report.row(
        &scenario,
        "baseline: bare commit, webhook answer under load",
        Spread::of(&baseline.answers).to_string(),
        "",
        None,
    );
    report.row(
        &scenario,
        "webhook answer under load",
        Spread::of(&measured.answers).to_string(),
        "",
        None,
    );
    let (hub_cpu, bare_cpu) = (measured.hub_cpu_each(), baseline.hub_cpu_each());
    cpu_rows(report, &scenario, "bare commit", hub_cpu, bare_cpu, 2.0);
    if let (Some(hub), Some(bare)) = (measured.split_cpu_each(), baseline.split_cpu_each()) {
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        report.row(
            &scenario,
            "baseline: bare commit, CPU per webhook: runtime threads · writer thread",
            format!("{} · {}", Short(bare.0), Short(bare.1)),
            "",
            None,
        );
        report.row(
            &scenario,
            "CPU per webhook: runtime threads · writer thread",
            format!(
                "{} ({:.2}×) · {} ({:.2}×)",
                Short(hub.0),
                ratio(hub.0, bare.0),
                Short(hub.1),
                ratio(hub.1, bare.1)
            ),
            "",
            None,
        );
    }
    Ok(())
}

/// The baseline's CPU per webhook and the hub's as a ratio to it, against `goal` (the most
/// the ratio may be).
fn cpu_rows(
    report: &mut Report,
    scenario: &str,
    baseline: &str,
    hub: Option<Duration>,
    bare: Option<Duration>,
    goal: f64,
) {
    let (Some(hub), Some(bare)) = (hub, bare) else {
        report.row(
            scenario,
            "CPU per webhook: hub threads",
            "n/a".into(),
            "",
            None,
        );
        return;
    };
    report.row(
        scenario,
        &format!("baseline: {baseline}, CPU per webhook (server threads)"),
        Short(bare).to_string(),
        "",
        None,
    );
    let ratio = hub.as_secs_f64() / bare.as_secs_f64();
    report.row(
        scenario,
        "CPU per webhook: hub threads",
        format!("{} · {ratio:.2}× the baseline", Short(hub)),
        &format!("≤ {goal}× baseline"),
        Some(ratio <= goal),
    );
}

/// What one throughput run measured.
struct Posted {
    webhooks: u64,
    answers: Histogram<u64>,
    elapsed: Duration,
    cpu: CpuTime,
}

impl Posted {
    fn per_second(&self) -> f64 {
        self.webhooks as f64 / self.elapsed.as_secs_f64()
    }

    /// The server threads' CPU time per webhook.
    fn hub_cpu_each(&self) -> Option<Duration> {
        let webhooks = u32::try_from(self.webhooks).ok().filter(|n| *n > 0)?;
        Some(self.cpu.hub? / webhooks)
    }

    /// The server's CPU time per webhook on its runtime's threads (HTTP, parsing, reads)
    /// and on its writer thread (the commit).
    fn split_cpu_each(&self) -> Option<(Duration, Duration)> {
        let webhooks = u32::try_from(self.webhooks).ok().filter(|n| *n > 0)?;
        let (all, writer) = (self.cpu.hub?, self.cpu.writer?);
        Some((all.saturating_sub(writer) / webhooks, writer / webhooks))
    }
}

/// Has `posters` HTTP clients post whole calls to `addr` for `duration`.
fn post_for(addr: SocketAddr, posters: usize, duration: Duration) -> anyhow::Result<Posted> {
    post_for_from(addr, posters, 0, duration)
}

/// [`post_for`] with the posters numbered from `first` (their calls' ids are theirs, so
/// that posters of several nodes post different calls).
fn post_for_from(
    addr: SocketAddr,
    posters: usize,
    first: usize,
    duration: Duration,
) -> anyhow::Result<Posted> {
    let runtime = client_runtime()?;
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let url = format!("http://{addr}/api/v1/cti/{CTI_TOKEN}");
        let cpu_before = CpuTime::now();
        let start = Instant::now();
        let deadline = start + duration;
        let mut running = JoinSet::new();
        for poster in first..first + posters {
            running.spawn(post_calls(http.clone(), url.clone(), poster, deadline));
        }
        let mut webhooks = 0u64;
        let mut answers = histogram();
        while let Some(done) = running.join_next().await {
            let (count, times) = done??;
            webhooks += count;
            answers.add(times)?;
        }
        let elapsed = start.elapsed();
        anyhow::Ok(Posted {
            webhooks,
            answers,
            elapsed,
            cpu: CpuTime::now().since(&cpu_before),
        })
    })
}

/// One poster: whole calls, one webhook at a time, until `deadline`; returns how many
/// webhooks it sent and how long each took to be answered.
async fn post_calls(
    http: reqwest::Client,
    url: String,
    poster: usize,
    deadline: Instant,
) -> anyhow::Result<(u64, Histogram<u64>)> {
    let mut times = histogram();
    let mut sent = 0u64;
    let mut call = 0usize;
    while Instant::now() < deadline {
        let call_id = format!("tp-{poster}-{call}");
        let from = format!("+4940{poster:03}{call:06}");
        let steps: [&[(&str, &str)]; 3] = [
            &[("event", "newCall"), ("to", "+4930600000000")],
            &[("event", "answer"), ("user", DESK)],
            &[("event", "hangup"), ("cause", "normalClearing")],
        ];
        for step in steps {
            let mut fields = vec![
                ("direction", "in"),
                ("callId", call_id.as_str()),
                ("from", from.as_str()),
            ];
            fields.extend_from_slice(step);
            let start = Instant::now();
            let status = http.post(&url).form(&fields).send().await?.status();
            times.record(nanos(start.elapsed()))?;
            ensure!(
                status.is_success(),
                "call {call_id}: webhook answered {status}"
            );
            sent += 1;
        }
        call += 1;
    }
    Ok((sent, times))
}

// ---------------------------------------------------------------------------------------
// Scenario 3: caller lookup in a large directory.
// ---------------------------------------------------------------------------------------

/// Imports `--contacts` synthetic contacts into a fresh store and times `Store::lookup` for
/// random numbers that are in the directory and for numbers that are not.
fn lookup(args: &Args, data_dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let contacts = args.contacts;
    ensure!(contacts > 0, "--contacts must be at least 1");
    let dir = tempfile::tempdir_in(data_dir)?;
    let runtime = hub_runtime()?;
    let scenario = format!("3. caller lookup, {} contacts", thousands(contacts as u64));
    runtime.block_on(async {
        eprintln!("writing {contacts} contacts with bare statements");
        let bare_dir = tempfile::tempdir_in(data_dir)?;
        let start = Instant::now();
        let written = bare_import::import(bare_dir.path(), (0..contacts).map(contact))?;
        let bare_import = start.elapsed();
        ensure!(written == contacts as u64, "bare import wrote {written}");
        drop(bare_dir);
        let rate = |took: Duration| contacts as f64 / took.as_secs_f64();
        report.row(
            &scenario,
            "baseline: the same contacts by bare INSERTs on a held connection (one transaction)",
            format!(
                "{:.1} s ({:.0} contacts/s)",
                bare_import.as_secs_f64(),
                rate(bare_import)
            ),
            "",
            None,
        );
        let (store, writer) = Store::open(dir.path())?;
        eprintln!("importing {contacts} contacts");
        let start = Instant::now();
        let records = (0..contacts).map(|n| Ok::<_, Infallible>(contact(n)));
        let counts = ringside_hub::store::directory::import_contacts(
            &mut ringside_hub::store::Db::Sqlite(&writer),
            records,
        )?;
        let import = start.elapsed();
        ensure!(counts.records == contacts as u64, "imported {counts:?}");
        report.row(
            &scenario,
            "import (one transaction)",
            format!(
                "{:.1} s ({:.0} contacts/s) · {:.2}× the baseline",
                import.as_secs_f64(),
                rate(import),
                import.as_secs_f64() / bare_import.as_secs_f64()
            ),
            "",
            None,
        );

        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
        let hits: Vec<String> = (0..args.lookups)
            .map(|_| number_of(rng.random_range(0..contacts)).as_str().to_owned())
            .collect();
        let misses: Vec<String> = (0..args.lookups)
            .map(|_| {
                let n = contacts + rng.random_range(0..contacts);
                number_of(n).as_str().to_owned()
            })
            .collect();
        let bare = bare_lookup::BareDirectory::open(dir.path())?;
        // Warm the read pool's connections and both sides' statement caches.
        for number in hits.iter().take(1000) {
            store.lookup(number)?;
            bare.lookup(number)?;
        }
        for (what, numbers, known) in [
            ("number in directory", &hits, true),
            ("unknown number", &misses, false),
        ] {
            eprintln!("{} lookups, {what}, each beside its baseline", args.lookups);
            let (hub, baseline) = time_lookups(&store, &bare, numbers, known)?;
            let hub = Spread::of(&hub);
            let baseline = Spread::of(&baseline);
            let ratio = hub.p99.as_secs_f64() / baseline.p99.as_secs_f64();
            report.row(
                &scenario,
                &format!("baseline: the same reads on a held connection, {what}"),
                baseline.to_string(),
                "",
                None,
            );
            report.row(
                &scenario,
                &format!("lookup, {what}"),
                format!("{hub} · p99 {ratio:.2}× the baseline"),
                if known { "p99 ≤ 1.2× baseline" } else { "" },
                known.then_some(ratio <= 1.2),
            );
        }
        search(&store, &bare, contacts, args.lookups / 10, &mut rng, report).await
    })?;
    Ok(())
}

/// Looks up each of `numbers` with `Store::lookup` and with the baseline's same reads on a
/// held connection, taking turns at going first; returns the two histograms (hub, baseline).
/// Fails when a lookup finds other than one contact for a `known` number or any for another.
fn time_lookups(
    store: &Store,
    bare: &bare_lookup::BareDirectory,
    numbers: &[String],
    known: bool,
) -> anyhow::Result<(Histogram<u64>, Histogram<u64>)> {
    let mut hub = histogram();
    let mut baseline = histogram();
    for (i, number) in numbers.iter().enumerate() {
        // Each side goes first every other time, so that neither gains from the other's
        // warming of the caches.
        for side in [i % 2, 1 - i % 2] {
            let start = Instant::now();
            let contacts = if side == 0 {
                let caller = store.lookup(number)?;
                hub.record(nanos(start.elapsed()))?;
                caller.map_or(0, |c| c.contacts.len())
            } else {
                let found = bare.lookup(number)?;
                baseline.record(nanos(start.elapsed()))?;
                found.len()
            };
            ensure!(
                (contacts == 1) == known,
                "{number}: {contacts} contacts found"
            );
        }
    }
    Ok((hub, baseline))
}

/// Times the dial field's contact search (`Store::search_contacts`, as `GET
/// /api/v1/contacts` runs it) in the directory the lookup scenario imported: by a contact's
/// name, by an organization (a few hundred contacts each), and by a word every contact has.
async fn search(
    store: &Store,
    bare: &bare_lookup::BareDirectory,
    contacts: usize,
    searches: usize,
    rng: &mut rand::rngs::StdRng,
    report: &mut Report,
) -> anyhow::Result<()> {
    let scenario = format!("4. contact search, {} contacts", thousands(contacts as u64));
    let searches = searches.max(1);
    let by_name: Vec<String> = (0..searches)
        .map(|_| format!("contact {}", rng.random_range(0..contacts)))
        .collect();
    let by_organization: Vec<String> = (0..searches)
        .map(|_| format!("customer {}", rng.random_range(0..5000)))
        .collect();
    let everyone = vec!["contact".to_owned(); 20];
    let target = Duration::from_millis(10);
    for (what, queries, goal) in [
        ("search by name (\"contact 123456\")", &by_name, true),
        (
            "search by organization (\"customer 1234\")",
            &by_organization,
            true,
        ),
        (
            "reference: a word every contact has (\"contact\")",
            &everyone,
            false,
        ),
    ] {
        eprintln!(
            "{} searches, each beside its baseline: {what}",
            queries.len()
        );
        let (hub, baseline) = time_searches(store, bare, queries).await?;
        let ratio = hub.p99.as_secs_f64() / baseline.p99.as_secs_f64();
        report.row(
            &scenario,
            &format!("baseline: the same statement on a held connection, {what}"),
            baseline.to_string(),
            "",
            None,
        );
        report.row(
            &scenario,
            what,
            format!("{hub} · p99 {ratio:.2}× the baseline"),
            if goal { "p99 < 10 ms" } else { "" },
            goal.then_some(hub.p99 < target),
        );
    }
    Ok(())
}

/// Runs each search for the dial field's usual 10 hits through the hub's store and on the
/// baseline's held connection, taking turns at going first; returns (hub, baseline).
async fn time_searches(
    store: &Store,
    bare: &bare_lookup::BareDirectory,
    queries: &[String],
) -> anyhow::Result<(Spread, Spread)> {
    let mut hub = histogram();
    let mut baseline = histogram();
    for (i, query) in queries.iter().enumerate() {
        for side in [i % 2, 1 - i % 2] {
            let start = Instant::now();
            let hits = if side == 0 {
                let hits = store.search_contacts(query, 10).await?.len();
                hub.record(nanos(start.elapsed()))?;
                hits
            } else {
                let hits = bare.search(query)?;
                baseline.record(nanos(start.elapsed()))?;
                hits
            };
            ensure!(hits > 0, "{query:?} found nothing");
        }
    }
    Ok((Spread::of(&hub), Spread::of(&baseline)))
}

/// The `n`th synthetic contact: one e-mail address and one number, like a help-desk export.
fn contact(n: usize) -> ContactRecord {
    let number = number_of(n);
    ContactRecord {
        name: format!("Contact {n}"),
        organization: Some(format!("Customer {} GmbH", n % 5000)),
        emails: vec![format!("contact{n}@example.com")],
        phones: vec![number.as_str().to_owned()],
        note: None,
        profile_url: Some(format!("https://desk.example.com/users/{n}")),
        numbers: vec![number],
        warnings: Vec::new(),
    }
}

/// A distinct Berlin number for every `n` below 10⁸, scattered so that imports do not insert
/// in index order.
fn number_of(n: usize) -> E164 {
    const SPACE: u64 = 100_000_000;
    // 48271 is coprime to 10⁸, so this is a bijection on 0..10⁸.
    let scattered = (n as u64 * 48_271 + 12_345) % SPACE;
    E164::parse(&format!("+4930{scattered:08}")).expect("a valid E.164 number")
}

// ---------------------------------------------------------------------------------------
// Scenario 4: memory per idle stream connection.
// ---------------------------------------------------------------------------------------

/// Opens `--clients` idle streams from a child process and compares the resident memory of
/// this process (the hub) and of the child (the clients) before and after; then the same
/// against the bare broadcast server running in a second child process, as the baseline.
fn memory(args: &Args, data_dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let clients = args.clients;
    ensure_open_files(clients as u64)?;
    let hub = BenchHub::start(data_dir, clients)?;
    let measured = idle_growth(hub.running.addr, &hub.token, clients, "self")?;
    hub.stop()?;

    // The baseline serves in a process of its own: in this one, the hub's freed memory
    // would be reused without the resident size growing.
    let (mut server, to_server, mut from_server) =
        client_process(&["--bare-broadcast-server"], "")?;
    let mut line = String::new();
    from_server.read_line(&mut line)?;
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening ")
        .with_context(|| format!("the bare server said {line:?}"))?
        .parse()?;
    let baseline = idle_growth(addr, "", clients, &server.id().to_string())?;
    drop(to_server);
    server.wait()?;

    let per_connection = |(before, after): (u64, u64)| {
        after.saturating_sub(before) as f64 * 1024.0 / clients as f64 / 1000.0
    };
    let hub_side = per_connection(measured.server);
    let bare_side = per_connection(baseline.server);
    let scenario = format!("4. idle stream memory, {clients} connections");
    report.row(
        &scenario,
        &format!(
            "baseline: bare broadcast server RSS per connection ({} → {} MiB)",
            mib(baseline.server.0),
            mib(baseline.server.1)
        ),
        format!("{bare_side:.1} KB"),
        "",
        None,
    );
    report.row(
        &scenario,
        &format!(
            "hub RSS per connection ({} → {} MiB)",
            mib(measured.server.0),
            mib(measured.server.1)
        ),
        format!(
            "{hub_side:.1} KB · {:.2}× the baseline",
            hub_side / bare_side
        ),
        "< 20 KB",
        Some(hub_side < 20.0),
    );
    report.row(
        &scenario,
        "client process RSS per connection (reference)",
        format!("{:.1} KB", per_connection(measured.clients)),
        "",
        None,
    );
    Ok(())
}

/// Resident memory (KiB) before and after `clients` idle streams were opened.
struct Growth {
    /// The server's: this process's or a child's.
    server: (u64, u64),
    /// The client process's.
    clients: (u64, u64),
}

/// Has a client process open one stream to `addr`, then `clients` more, and reads the
/// resident memory of `server` (`self` or a pid) before and after.
fn idle_growth(
    addr: SocketAddr,
    token: &str,
    clients: usize,
    server: &str,
) -> anyhow::Result<Growth> {
    let clients_arg = clients.to_string();
    let (mut child, mut to_child, mut from_child) = client_process(
        &[
            "--idle-clients-of",
            &addr.to_string(),
            "--clients",
            &clients_arg,
        ],
        token,
    )?;
    let mut line = String::new();
    // The child has one stream open: the server's one-time costs are behind us.
    from_child.read_line(&mut line)?;
    ensure!(line.trim() == "warm", "client process said {line:?}");
    std::thread::sleep(Duration::from_millis(300));
    let server_before = resident_kib(server)?;
    writeln!(to_child, "go")?;
    line.clear();
    from_child.read_line(&mut line)?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let [ready, client_before, client_after] = words[..] else {
        bail!("client process said {line:?}");
    };
    ensure!(ready == "ready", "client process said {line:?}");
    std::thread::sleep(Duration::from_millis(300));
    let server_after = resident_kib(server)?;
    drop(to_child);
    child.wait()?;
    Ok(Growth {
        server: (server_before, server_after),
        clients: (client_before.parse()?, client_after.parse()?),
    })
}

/// The memory scenario's baseline server: the bare broadcast, serving until stdin closes;
/// says `listening <address>` first.
fn bare_server_process() -> anyhow::Result<()> {
    let bare = bare_broadcast::start(hub_runtime()?, 700)?;
    println!("listening {}", bare.addr);
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line)? > 0 {}
    bare.stop();
    Ok(())
}

/// This bench re-executed with `args` as a client process, given the agent's `token`; its
/// stdin and stdout are the parent's to talk to it by lines.
fn client_process(
    args: &[&str],
    token: &str,
) -> anyhow::Result<(
    std::process::Child,
    std::process::ChildStdin,
    BufReader<std::process::ChildStdout>,
)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(args)
        .env(TOKEN_VAR, token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the client process")?;
    let to_child = child.stdin.take().context("child stdin")?;
    let from_child = BufReader::new(child.stdout.take().context("child stdout")?);
    Ok((child, to_child, from_child))
}

/// The memory scenario's child: one stream, `warm`; after `go` on stdin, `clients` more and
/// `ready <RSS before> <RSS after>` (KiB); then idles, answering pings, until stdin closes.
fn idle_client_process(hub: SocketAddr, clients: usize) -> anyhow::Result<()> {
    let token = std::env::var(TOKEN_VAR).context("the agent token")?;
    let runtime = client_runtime()?;
    // The bare broadcast (no token) sends no snapshot.
    let snapshot = !token.is_empty();
    let warm = runtime.block_on(connect_stream(hub, &token, snapshot))?;
    let mut idle = JoinSet::new();
    idle.spawn_on(idle_stream(warm), runtime.handle());
    let mut stdout = std::io::stdout();
    writeln!(stdout, "warm")?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    std::thread::sleep(Duration::from_millis(100));
    let before = resident_kib("self")?;
    let sockets = runtime.block_on(connect_many(hub, &token, clients, snapshot))?;
    for socket in sockets {
        idle.spawn_on(idle_stream(socket), runtime.handle());
    }
    std::thread::sleep(Duration::from_millis(300));
    let after = resident_kib("self")?;
    writeln!(stdout, "ready {before} {after}")?;
    // Until the parent closes stdin.
    while std::io::stdin().read_line(&mut line)? > 0 {}
    drop(idle);
    Ok(())
}

/// Reads a stream and ignores what comes (the read answers the hub's pings).
async fn idle_stream(mut socket: Socket) {
    while let Some(Ok(_)) = socket.next().await {}
}

// ---------------------------------------------------------------------------------------
// The hub and its clients.
// ---------------------------------------------------------------------------------------

/// A hub serving on `127.0.0.1:0` from a temporary directory, on its own runtime.
struct BenchHub {
    running: RunningHub,
    /// The stream token of [`DESK`].
    token: String,
    runtime: Runtime,
    _dir: tempfile::TempDir,
}

impl BenchHub {
    /// Starts a hub with the generic CTI endpoint on and the agent [`DESK`], with room for
    /// `connections` connections at once, every one of them a stream of [`DESK`] if need be
    /// (the defaults of `[limits]` are far below what the scenarios open).
    fn start(data_dir: &Path, connections: usize) -> anyhow::Result<BenchHub> {
        let dir = tempfile::tempdir_in(data_dir)?;
        BenchHub::start_in(dir, connections, "", Arc::new(SystemClock))
    }

    /// [`BenchHub::start`] in `dir` (which may hold a store already), with `extra` appended
    /// to the configuration, on `clock`.
    fn start_in(
        dir: tempfile::TempDir,
        connections: usize,
        extra: &str,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<BenchHub> {
        BenchHub::start_configured(dir, connections, "", extra, clock)
    }

    /// [`BenchHub::start_in`] with `top` among the configuration's top-level keys (the
    /// store); on a store where [`DESK`] exists (another node's), [`DESK`] gets a new token,
    /// which every node of the store takes.
    fn start_configured(
        dir: tempfile::TempDir,
        connections: usize,
        top: &str,
        extra: &str,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<BenchHub> {
        let room = connections + SPARE_CONNECTIONS;
        let text = format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n{top}\
             [generic]\nenabled = true\ntoken = \"{CTI_TOKEN}\"\n\
             [limits]\nmax_connections = {room}\nstreams_per_agent = {room}\n{extra}",
            dir.path().join("data")
        );
        let settings = Config::from_toml(&text, Path::new("bench.toml"), std::iter::empty())?;
        let runtime = hub_runtime()?;
        let running = runtime.block_on(ringside_hub::start_with_clock(settings, clock))?;
        let token = ringside_hub::token::generate();
        let agent = ringside_hub::state::new_agent(
            DESK,
            "Help desk",
            false,
            vec![],
            Default::default(),
            &running.hub.settings.country,
        )?;
        let hash = ringside_hub::token::hash(&token);
        let added = runtime.block_on(running.hub.recorder.add_agent(
            &agent,
            &hash,
            time::OffsetDateTime::now_utc(),
        ))?;
        if added.is_none() {
            let set = runtime.block_on(running.hub.recorder.set_token(DESK, &hash))?;
            ensure!(set, "{DESK} neither added nor found");
        }
        Ok(BenchHub {
            running,
            token,
            runtime,
            _dir: dir,
        })
    }

    /// Runs a future on the hub's runtime.
    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Stops serving and removes the data.
    fn stop(self) -> anyhow::Result<()> {
        let running = self.running;
        let stopped = self
            .runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(5), running.stop()).await });
        self.runtime.shutdown_timeout(Duration::from_secs(1));
        match stopped {
            Ok(result) => Ok(result?),
            Err(_) => {
                eprintln!("the hub did not stop within 5 s; abandoned");
                Ok(())
            }
        }
    }
}

/// The hub's runtime: multi-thread with one worker per core, like `#[tokio::main]`.
fn hub_runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("hub")
        .enable_all()
        .build()
}

/// The clients' runtime: a second multi-thread runtime with one worker per core.
fn client_runtime() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("client")
        .enable_all()
        .build()
}

/// A stream client's socket.
type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects to the stream and, when `snapshot`, waits for the snapshot the hub sends first.
async fn connect_stream(hub: SocketAddr, token: &str, snapshot: bool) -> anyhow::Result<Socket> {
    let mut request = format!("ws://{hub}/api/v1/stream").into_client_request()?;
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse()?);
    // The desktop app's buffer sizes: the library's eager 128 KiB read buffer would make the
    // clients, which share the machine with the hub, spend their time zeroing memory.
    let config = WebSocketConfig::default()
        .read_buffer_size(16 << 10)
        .write_buffer_size(0);
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    if !snapshot {
        return Ok(socket);
    }
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                if let StreamFrame::SnapshotEnd(_) = serde_json::from_str(&text)? {
                    return Ok(socket);
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => bail!("the hub closed a stream before its snapshot"),
        }
    }
}

/// Connects `count` streams, [`CONNECT_CONCURRENCY`] at a time (see [`connect_stream`]).
async fn connect_many(
    hub: SocketAddr,
    token: &str,
    count: usize,
    snapshot: bool,
) -> anyhow::Result<Vec<Socket>> {
    let permits = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut connecting = JoinSet::new();
    for _ in 0..count {
        let permits = permits.clone();
        let token = token.to_owned();
        connecting.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            connect_stream(hub, &token, snapshot).await
        });
    }
    let mut sockets = Vec::with_capacity(count);
    while let Some(socket) = connecting.join_next().await {
        sockets.push(socket??);
    }
    Ok(sockets)
}

// ---------------------------------------------------------------------------------------
// Measuring and reporting.
// ---------------------------------------------------------------------------------------

/// A histogram of nanoseconds from 1 ns to 100 s, three significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid histogram bounds")
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The median, the 99th percentile and the maximum of a histogram of nanoseconds.
#[derive(Debug, Clone, Copy)]
struct Spread {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Spread {
    fn of(histogram: &Histogram<u64>) -> Spread {
        Spread {
            p50: Duration::from_nanos(histogram.value_at_quantile(0.5)),
            p99: Duration::from_nanos(histogram.value_at_quantile(0.99)),
            max: Duration::from_nanos(histogram.max()),
        }
    }
}

impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {} · p99 {} · max {}",
            Short(self.p50),
            Short(self.p99),
            Short(self.max)
        )
    }
}

/// A duration in µs below a millisecond, else in ms.
struct Short(Duration);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.0.as_secs_f64() * 1e6;
        if micros < 1000.0 {
            write!(f, "{micros:.1} µs")
        } else {
            write!(f, "{:.2} ms", micros / 1000.0)
        }
    }
}

/// The results, printed as a Markdown table at the end.
#[derive(Debug, Default)]
struct Report {
    rows: Vec<[String; 5]>,
}

impl Report {
    fn row(
        &mut self,
        scenario: &str,
        measure: &str,
        result: String,
        target: &str,
        met: Option<bool>,
    ) {
        let met = match met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        eprintln!("  {measure}: {result}");
        self.rows.push([
            scenario.to_owned(),
            measure.to_owned(),
            result,
            target.to_owned(),
            met.to_owned(),
        ]);
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| Scenario | Measure | Result | Target | Met |")?;
        writeln!(f, "|---|---|---|---|---|")?;
        for row in &self.rows {
            writeln!(f, "| {} |", row.join(" | "))?;
        }
        Ok(())
    }
}

/// `1000000` as `1,000,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// `VmRSS` of a process (`self` or a pid), in KiB.
fn resident_kib(process: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS in /proc/<pid>/status")
}

/// Fails early, with the fix, when the open file limit (raised to the hard limit at start) is too
/// low for `sockets`.
fn ensure_open_files(sockets: u64) -> anyhow::Result<()> {
    let needed = sockets + SPARE_FILES;
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return Ok(()); // not Linux: let the connections fail if they must
    };
    let soft = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|soft| soft.parse::<u64>().ok());
    match soft {
        Some(soft) if soft < needed => bail!(
            "this run needs about {needed} open files but the hard limit is {soft}; \
             raise it first, e.g. `ulimit -Hn {}` as root",
            needed.next_power_of_two()
        ),
        _ => Ok(()),
    }
}

/// The hub's threads: its runtime's (workers and blocking threads) and the store's writer.
const HUB_THREADS: &[&str] = &["hub", "ringside-writer"];

/// The client runtime's threads.
const CLIENT_THREADS: &[&str] = &["client"];

/// The threads that commit, the hub's and the bare commit server's: part of the server
/// threads, counted apart to show where a webhook's CPU goes.
const WRITER_THREADS: &[&str] = &["ringside-writer", "hub-bare-writer"];

/// On-CPU time of the hub's threads (its writer's apart too) and of the clients' threads
/// in this process.
#[derive(Debug, Clone, Copy)]
struct CpuTime {
    hub: Option<Duration>,
    writer: Option<Duration>,
    clients: Option<Duration>,
}

impl CpuTime {
    fn now() -> CpuTime {
        CpuTime {
            hub: thread_cpu(HUB_THREADS),
            writer: thread_cpu(WRITER_THREADS),
            clients: thread_cpu(CLIENT_THREADS),
        }
    }

    /// The time spent since `start`.
    fn since(&self, start: &CpuTime) -> CpuTime {
        let minus = |a: Option<Duration>, b: Option<Duration>| Some(a?.saturating_sub(b?));
        CpuTime {
            hub: minus(self.hub, start.hub),
            writer: minus(self.writer, start.writer),
            clients: minus(self.clients, start.clients),
        }
    }
}

/// On-CPU time of this process's threads whose names start with one of `prefixes`, from
/// `/proc/self/task/*/schedstat`; `None` where that is not available. The main thread is
/// never counted: it bears the bench's name (`hub-…`) and sends the webhooks.
fn thread_cpu(prefixes: &[&str]) -> Option<Duration> {
    let main_thread = std::process::id().to_string();
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let task = task.ok()?;
        if task.file_name().to_str() == Some(main_thread.as_str()) {
            continue;
        }
        let path = task.path();
        let Ok(name) = std::fs::read_to_string(path.join("comm")) else {
            continue; // the thread has ended
        };
        if !prefixes.iter().any(|prefix| name.starts_with(prefix)) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(path.join("schedstat")) else {
            continue;
        };
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// The type of the file system holding `path`, from the longest matching mount point.
fn file_system_of(path: &Path) -> Option<String> {
    let path = path.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _device = fields.next()?;
            let mount_point = fields.next()?;
            let kind = fields.next()?;
            path.starts_with(mount_point)
                .then(|| (mount_point.len(), kind.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, kind)| kind)
}
