//! Scenario 10: a hub on several nodes. One SQLite hub, one PostgreSQL node and two
//! PostgreSQL nodes on one database, in one run on this machine: webhook throughput and
//! webhook-to-stream latency (on two nodes, the webhook goes to the other node than the
//! client's), and the failover time of a stream client whose node stops: from the stop
//! until the client, resumed on the other node, has the event of a webhook posted there at
//! the stop.
//!
//! Needs a PostgreSQL server: `RINGSIDE_BENCH_DATABASE_URL` is a connection string to its
//! `postgres` database as a superuser (`scripts/postgres.sh start DIR` prints one); each
//! setup gets a new database. The nodes run in this process, each on its own runtime; a
//! node "stops" as `ringside-hub serve` does on SIGTERM (its streams close), which is what
//! the client sees of a node that dies, less the TCP timeout.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::StreamExt;
use ringside_clock::SystemClock;
use ringside_core::stream::StreamFrame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::{
    client_runtime, connect_stream, histogram, nanos, post_for_from, Args, BenchHub, Report,
    Socket, Spread, CTI_TOKEN,
};

/// The environment variable with the PostgreSQL server.
const DATABASE_VAR: &str = "RINGSIDE_BENCH_DATABASE_URL";

/// Failovers measured.
const FAILOVERS: usize = 20;

/// The engine and nodes of one setup.
#[derive(Clone, Copy)]
enum Setup {
    Sqlite,
    OnePostgres,
    TwoPostgres,
}

impl Setup {
    fn name(self) -> &'static str {
        match self {
            Setup::Sqlite => "1 SQLite hub",
            Setup::OnePostgres => "1 PostgreSQL node",
            Setup::TwoPostgres => "2 PostgreSQL nodes",
        }
    }
}

/// Runs the scenario.
pub fn nodes(args: &Args, data_dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let server = std::env::var(DATABASE_VAR)
        .with_context(|| format!("{DATABASE_VAR}: the nodes scenario needs a PostgreSQL server"))?;
    let scenario = format!("10. several nodes, {} posters", args.posters);
    let mut rates = Vec::new();
    for setup in [Setup::Sqlite, Setup::OnePostgres, Setup::TwoPostgres] {
        let (rate, answers, latency) = measure(args, data_dir, &server, setup)?;
        report.row(
            &scenario,
            &format!("{}: webhooks/s", setup.name()),
            match rates.first() {
                Some(sqlite) => format!("{rate:.0} · {:.2}× the SQLite hub", rate / sqlite),
                None => format!("{rate:.0}"),
            },
            "",
            None,
        );
        rates.push(rate);
        report.row(
            &scenario,
            &format!("{}: webhook answer under load", setup.name()),
            answers.to_string(),
            "",
            None,
        );
        let path = match setup {
            Setup::TwoPostgres => "webhook to one node, event on the other's stream",
            _ => "webhook to stream event",
        };
        report.row(
            &scenario,
            &format!("{}: {path}, one at a time", setup.name()),
            latency.to_string(),
            "",
            None,
        );
    }
    let failover = failovers(data_dir, &server)?;
    report.row(
        &scenario,
        &format!("failover, {FAILOVERS} times: node stopped → its client streaming on the other"),
        failover.to_string(),
        "",
        None,
    );
    Ok(())
}

/// A new, empty database on the server; its connection string.
fn fresh_database(server: &str, name: &str) -> anyhow::Result<String> {
    let (base, _) = server
        .rsplit_once('/')
        .context("RINGSIDE_BENCH_DATABASE_URL is a postgresql:// URL")?;
    let server = server.to_owned();
    let name_owned = name.to_owned();
    // The blocking client must not run on an async thread.
    std::thread::spawn(move || -> anyhow::Result<()> {
        let mut client = postgres::Client::connect(&server, postgres::NoTls)?;
        // One statement each: neither may run inside a transaction block.
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name_owned}"))?;
        client.batch_execute(&format!("CREATE DATABASE {name_owned}"))?;
        Ok(())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("creating the database panicked"))??;
    Ok(format!("{base}/{name}"))
}

fn start(data_dir: &Path, posters: usize, store: &str) -> anyhow::Result<BenchHub> {
    let dir = tempfile::tempdir_in(data_dir)?;
    BenchHub::start_configured(dir, posters, store, "", Arc::new(SystemClock))
}

fn postgres_keys(url: &str) -> String {
    format!("store = \"postgres\"\ndatabase_url = {url:?}\n")
}

/// Throughput, answer times and one-at-a-time latency of `setup`.
fn measure(
    args: &Args,
    data_dir: &Path,
    server: &str,
    setup: Setup,
) -> anyhow::Result<(f64, Spread, Spread)> {
    let duration = Duration::from_secs(args.seconds);
    let nodes = match setup {
        Setup::Sqlite => vec![start(data_dir, args.posters, "")?],
        Setup::OnePostgres => {
            let url = fresh_database(server, "ringside_bench_one")?;
            vec![start(data_dir, args.posters, &postgres_keys(&url))?]
        }
        Setup::TwoPostgres => {
            let url = fresh_database(server, "ringside_bench_two")?;
            let keys = postgres_keys(&url);
            vec![
                start(data_dir, args.posters, &keys)?,
                start(data_dir, args.posters, &keys)?,
            ]
        }
    };
    let token = nodes.last().context("a node")?.token.clone();
    eprintln!(
        "{}: {} posters for {} s",
        setup.name(),
        args.posters,
        duration.as_secs()
    );
    let share = args.posters / nodes.len();
    let posted = std::thread::scope(|scope| {
        let running: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let addr = node.running.addr;
                scope.spawn(move || post_for_from(addr, share, i * share, duration))
            })
            .collect();
        running
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .map_err(|_| anyhow::anyhow!("a poster panicked"))?
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let webhooks: u64 = posted.iter().map(|p| p.webhooks).sum();
    let elapsed = posted.iter().map(|p| p.elapsed).max().unwrap_or(duration);
    let mut answers = histogram();
    for p in &posted {
        answers.add(&p.answers)?;
    }
    // One at a time: the client on the first node, the webhooks to the last.
    let (client_node, webhook_node) = (&nodes[0], &nodes[nodes.len() - 1]);
    let latency = client_runtime()?.block_on(one_at_a_time(
        client_node.running.addr,
        webhook_node.running.addr,
        &token,
        args.webhooks,
    ))?;
    for node in nodes {
        node.stop()?;
    }
    Ok((
        webhooks as f64 / elapsed.as_secs_f64(),
        Spread::of(&answers),
        latency,
    ))
}

/// Posts `count` ringing calls to `webhooks`, each after the last one's event reached a
/// stream on `client`; the time from each post to its event.
async fn one_at_a_time(
    client: std::net::SocketAddr,
    webhooks: std::net::SocketAddr,
    token: &str,
    count: usize,
) -> anyhow::Result<Spread> {
    let mut socket = connect_stream(client, token, true).await?;
    let http = reqwest::Client::new();
    let mut times = histogram();
    for n in 0..count {
        let call_id = format!("one-{n}");
        let started = Instant::now();
        post_ring(&http, webhooks, &call_id).await?;
        wait_for_call(&mut socket, &call_id).await?;
        times.record(nanos(started.elapsed()))?;
    }
    Ok(Spread::of(&times))
}

async fn post_ring(
    http: &reqwest::Client,
    hub: std::net::SocketAddr,
    call_id: &str,
) -> anyhow::Result<()> {
    let status = http
        .post(format!("http://{hub}/api/v1/cti/{CTI_TOKEN}"))
        .form(&[
            ("event", "newCall"),
            ("direction", "in"),
            ("callId", call_id),
            ("from", "+4940555000111"),
            ("to", "+4930600000000"),
        ])
        .send()
        .await?
        .status();
    if !status.is_success() {
        bail!("call {call_id}: webhook answered {status}");
    }
    Ok(())
}

/// Reads the stream until the event of `call_id`; fails when the stream ends first.
async fn wait_for_call(socket: &mut Socket, call_id: &str) -> anyhow::Result<()> {
    let needle = format!("\"call_id\":\"{call_id}\"");
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Err(_) => bail!("no event of {call_id} within 10 s"),
            Ok(Some(Ok(Message::Text(text)))) if text.contains(&needle) => return Ok(()),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(e.into()),
            Ok(None) => bail!("the stream ended before the event of {call_id}"),
        }
    }
}

/// The position of an event frame: its epoch and seq.
fn position_of(text: &str) -> Option<(String, u64)> {
    match serde_json::from_str(text).ok()? {
        StreamFrame::Event(event) => Some((event.epoch, event.seq)),
        _ => None,
    }
}

/// [`FAILOVERS`] times: a client on node A, A stops while a webhook goes to node B; the
/// time until the client, resumed on B, has that webhook's event.
fn failovers(data_dir: &Path, server: &str) -> anyhow::Result<Spread> {
    let url = fresh_database(server, "ringside_bench_failover")?;
    let keys = postgres_keys(&url);
    let b = start(data_dir, 0, &keys)?;
    let mut times = histogram();
    for n in 0..FAILOVERS {
        let a = start(data_dir, 0, &keys)?;
        let token = a.token.clone();
        let (a_addr, b_addr) = (a.running.addr, b.running.addr);
        let runtime = client_runtime()?;
        // Connected to A, and up to date: the event of a first call.
        let (mut socket, position) = runtime.block_on(async {
            let mut socket = connect_stream(a_addr, &token, true).await?;
            let http = reqwest::Client::new();
            let call_id = format!("before-{n}");
            post_ring(&http, a_addr, &call_id).await?;
            let needle = format!("\"call_id\":\"{call_id}\"");
            loop {
                match socket.next().await {
                    Some(Ok(Message::Text(text))) if text.contains(&needle) => {
                        let position = position_of(&text).context("the event's epoch and seq")?;
                        return anyhow::Ok((socket, position));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => bail!("node A closed the stream"),
                }
            }
        })?;
        let started = Instant::now();
        let call_id = format!("during-{n}");
        let stopping = std::thread::spawn(move || a.stop());
        runtime.block_on(async {
            let http = reqwest::Client::new();
            post_ring(&http, b_addr, &call_id).await?;
            // The client notices its node is gone, then resumes on the other.
            while let Some(Ok(_)) = socket.next().await {}
            let (epoch, seq) = &position;
            let mut request = format!("ws://{b_addr}/api/v1/stream?epoch={epoch}&seq={seq}")
                .into_client_request()?;
            request
                .headers_mut()
                .insert("Authorization", format!("Bearer {token}").parse()?);
            let (mut resumed, _) = tokio_tungstenite::connect_async(request).await?;
            wait_for_call(&mut resumed, &call_id).await
        })?;
        times.record(nanos(started.elapsed()))?;
        stopping
            .join()
            .map_err(|_| anyhow::anyhow!("stopping node A panicked"))??;
    }
    b.stop()?;
    Ok(Spread::of(&times))
}
