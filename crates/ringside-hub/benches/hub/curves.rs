//! The scale curves: how the hub's costs grow with the work, each point beside its baseline
//! measured in the same run, printed as rows and drawn as SVG charts (`plot.rs`).
//!
//! - fan-out: webhook-to-stream latency and hub CPU per webhook for `--curve-clients`
//!   stream clients, the clients in a child process (this binary re-executed), beside the
//!   bare broadcast with the same clients;
//! - lookup: a hit's p99 in directories of `--curve-contacts` contacts (one store, grown
//!   from one size to the next), beside the same reads on a held connection;
//! - snapshot: the time to build a stream's snapshot and its size with `--curve-missed`
//!   open missed calls, beside the snapshot with none.

use std::convert::Infallible;
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use rand::{Rng, SeedableRng};
use ringside_hub::store::{Store, DATABASE_FILE};

use crate::plot::{self, Line, Panel};
use crate::{
    bare_broadcast, bare_lookup, client_process, connect_stream, contact, ensure_open_files,
    fan_out, histogram, hub_runtime, nanos, number_of, thousands, thread_cpu, time_lookups, Args,
    BenchHub, Pace, Report, Short, Spread, CTI_TOKEN, HUB_THREADS, LATENCY_WARMUP, TOKEN_VAR,
};

/// What the fan-out child reports of one run, and the server's CPU the parent read.
struct RemoteFanOut {
    p50: Duration,
    p99: Duration,
    frame_len: usize,
    /// The server's threads' CPU per webhook, warm-up included (as in the latency scenario).
    cpu_per_webhook: Option<Duration>,
}

/// The fan-out curve: for each `--curve-clients`, the hub and then the bare broadcast, the
/// clients and the webhooks' sender in a child process.
pub fn fan_out_curve(args: &Args, data_dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let scenario = "7. scale: webhook → stream (clients in another process)";
    let mut lines = [(); 4].map(|_| Vec::new());
    for &clients in &args.curve_clients {
        ensure!(clients > 0, "--curve-clients must be at least 1");
        ensure_open_files(clients as u64)?;
        eprintln!("{clients} clients: the hub");
        let hub = BenchHub::start(data_dir, clients)?;
        let measured = remote_fan_out(hub.running.addr, &hub.token, clients, args.webhooks)?;
        hub.stop()?;
        eprintln!("{clients} clients: the bare broadcast");
        let bare = bare_broadcast::start(hub_runtime()?, measured.frame_len)?;
        let baseline = remote_fan_out(bare.addr, "", clients, args.webhooks)?;
        bare.stop();

        let ratio = |hub: Duration, bare: Duration| hub.as_secs_f64() / bare.as_secs_f64();
        let cpu = match (measured.cpu_per_webhook, baseline.cpu_per_webhook) {
            (Some(hub), Some(bare)) => {
                lines[2].push((clients as f64, millis(hub)));
                lines[3].push((clients as f64, millis(bare)));
                format!(
                    "CPU per webhook {} (bare {}, {:.2}×)",
                    Short(hub),
                    Short(bare),
                    ratio(hub, bare)
                )
            }
            _ => "CPU n/a".into(),
        };
        lines[0].push((clients as f64, millis(measured.p99)));
        lines[1].push((clients as f64, millis(baseline.p99)));
        report.row(
            scenario,
            &format!("{} clients", thousands(clients as u64)),
            format!(
                "per delivery p50 {} · p99 {} (bare p50 {} · p99 {}, p99 {:.2}×) · {cpu}",
                Short(measured.p50),
                Short(measured.p99),
                Short(baseline.p50),
                Short(baseline.p99),
                ratio(measured.p99, baseline.p99),
            ),
            "",
            None,
        );
    }
    let [hub_p99, bare_p99, hub_cpu, bare_cpu] = lines;
    write_plot(
        args,
        "fan-out.svg",
        vec![
            panel(
                "Webhook → stream, per delivery",
                "p99, ms",
                hub_p99,
                bare_p99,
            ),
            panel("CPU per webhook", "server threads, ms", hub_cpu, bare_cpu),
        ],
        "stream clients",
    )
}

/// Runs the fan-out child against `addr` (the hub when `token` is not empty, else the bare
/// broadcast) and reads the server's CPU between the child's `connected` and `sent`.
fn remote_fan_out(
    addr: SocketAddr,
    token: &str,
    clients: usize,
    webhooks: usize,
) -> anyhow::Result<RemoteFanOut> {
    let (mut child, mut to_child, mut from_child) = client_process(
        &[
            "--fan-out-clients-of",
            &addr.to_string(),
            "--clients",
            &clients.to_string(),
            "--webhooks",
            &webhooks.to_string(),
        ],
        token,
    )?;
    let mut line = String::new();
    let mut expect = |word: &str| -> anyhow::Result<Vec<String>> {
        line.clear();
        from_child.read_line(&mut line)?;
        let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        ensure!(
            words.first().map(String::as_str) == Some(word),
            "the client process said {line:?} instead of {word:?}"
        );
        Ok(words)
    };
    expect("connected")?;
    let before = thread_cpu(HUB_THREADS);
    writeln!(to_child, "go")?;
    expect("sent")?;
    let after = thread_cpu(HUB_THREADS);
    let words = expect("result")?;
    drop(to_child);
    ensure!(child.wait()?.success(), "the client process failed");
    let [_, p50, p99, frame_len] = &words[..] else {
        bail!("the client process said {words:?}");
    };
    let total = u32::try_from(LATENCY_WARMUP + webhooks)?;
    Ok(RemoteFanOut {
        p50: Duration::from_nanos(p50.parse()?),
        p99: Duration::from_nanos(p99.parse()?),
        frame_len: frame_len.parse()?,
        cpu_per_webhook: before
            .zip(after)
            .map(|(before, after)| after.saturating_sub(before) / total),
    })
}

/// The fan-out child: connects `clients` streams (waiting for the snapshot when the token
/// names an agent), says `connected`, waits for `go`, sends the webhooks, says `sent`, and
/// ends with `result <p50 ns> <p99 ns> <frame bytes>` of the per-delivery latency.
pub fn fan_out_clients_process(
    hub: SocketAddr,
    clients: usize,
    webhooks: usize,
) -> anyhow::Result<()> {
    let token = std::env::var(TOKEN_VAR).context("the agent token")?;
    let mut stdout = std::io::stdout();
    let mut pace = |moment: Pace| -> anyhow::Result<()> {
        match moment {
            Pace::Connected => {
                writeln!(stdout, "connected")?;
                let mut go = String::new();
                std::io::stdin().read_line(&mut go)?;
                ensure!(go.trim() == "go", "the bench said {go:?}");
            }
            Pace::Sent => writeln!(stdout, "sent")?,
        }
        Ok(())
    };
    let total = LATENCY_WARMUP + webhooks;
    let measured = fan_out(hub, &token, clients, total, !token.is_empty(), &mut pace)?;
    let spread = Spread::of(&measured.per_delivery);
    writeln!(
        stdout,
        "result {} {} {}",
        nanos(spread.p50),
        nanos(spread.p99),
        measured.frame_len
    )?;
    Ok(())
}

/// The lookup curve: one store grown to each of `--curve-contacts` in turn; at each size,
/// `--lookups` hits and misses, each beside the baseline's same reads.
pub fn lookup_curve(args: &Args, data_dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let scenario = "8. scale: caller lookup";
    let mut sizes = args.curve_contacts.clone();
    sizes.sort_unstable();
    sizes.dedup();
    let dir = tempfile::tempdir_in(data_dir)?;
    let (store, writer) = Store::open(dir.path())?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let mut lines = [(); 4].map(|_| Vec::new());
    let mut imported = 0;
    for size in sizes {
        eprintln!("importing contacts {imported}..{size}");
        let records = (imported..size).map(|n| Ok::<_, Infallible>(contact(n)));
        ringside_hub::store::directory::import_contacts(
            &mut ringside_hub::store::Db::Sqlite(&writer),
            records,
        )?;
        imported = size;
        let file = std::fs::metadata(dir.path().join(DATABASE_FILE))?.len();
        let hits: Vec<String> = (0..args.lookups)
            .map(|_| number_of(rng.random_range(0..size)).as_str().to_owned())
            .collect();
        let misses: Vec<String> = (0..args.lookups)
            .map(|_| {
                number_of(size + rng.random_range(0..size))
                    .as_str()
                    .to_owned()
            })
            .collect();
        let bare = bare_lookup::BareDirectory::open(dir.path())?;
        for number in hits.iter().take(1000) {
            store.lookup(number)?;
            bare.lookup(number)?;
        }
        eprintln!("{size} contacts: {} hits and misses", args.lookups);
        let (hub_hit, bare_hit) = time_lookups(&store, &bare, &hits, true)?;
        let (hub_miss, bare_miss) = time_lookups(&store, &bare, &misses, false)?;
        let [hub_hit, bare_hit, hub_miss, bare_miss] =
            [hub_hit, bare_hit, hub_miss, bare_miss].map(|h| Spread::of(&h));
        let x = size as f64;
        for (line, spread) in lines
            .iter_mut()
            .zip([hub_hit, bare_hit, hub_miss, bare_miss])
        {
            line.push((x, spread.p99.as_secs_f64() * 1e6));
        }
        let ratio = |hub: Spread, bare: Spread| hub.p99.as_secs_f64() / bare.p99.as_secs_f64();
        report.row(
            scenario,
            &format!(
                "{} contacts ({:.0} MB database file)",
                thousands(size as u64),
                file as f64 / 1e6
            ),
            format!(
                "hit p50 {} · p99 {} (baseline p99 {}, {:.2}×); miss p99 {} (baseline {}, {:.2}×)",
                Short(hub_hit.p50),
                Short(hub_hit.p99),
                Short(bare_hit.p99),
                ratio(hub_hit, bare_hit),
                Short(hub_miss.p99),
                Short(bare_miss.p99),
                ratio(hub_miss, bare_miss),
            ),
            "",
            None,
        );
    }
    let [hub_hit, bare_hit, hub_miss, bare_miss] = lines;
    write_plot(
        args,
        "lookup.svg",
        vec![
            panel(
                "Caller lookup, number in directory",
                "p99, µs",
                hub_hit,
                bare_hit,
            ),
            panel(
                "Caller lookup, unknown number",
                "p99, µs",
                hub_miss,
                bare_miss,
            ),
        ],
        "contacts",
    )
}

/// Snapshots built for each point of the snapshot curve.
const SNAPSHOT_BUILDS: usize = 200;

/// Snapshots built before those timed at each point of the snapshot curve.
const SNAPSHOT_WARMUP: usize = 20;

/// Stream connections timed for each point of the snapshot curve.
const SNAPSHOT_CONNECTS: usize = 20;

/// The snapshot curve: a hub with 0 and then each of `--curve-missed` open missed calls;
/// at each, the time to read and encode the snapshot as a new stream gets it, its size, and
/// the time from connecting a stream to its snapshot's end.
pub fn snapshot_curve(args: &Args, data_dir: &Path, report: &mut Report) -> anyhow::Result<()> {
    let scenario = "9. scale: stream snapshot";
    let hub = BenchHub::start(data_dir, SNAPSHOT_CONNECTS)?;
    let addr = hub.running.addr;
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/cti/{CTI_TOKEN}");
    let mut sizes = args.curve_missed.clone();
    sizes.sort_unstable();
    sizes.dedup();
    sizes.retain(|&n| n > 0);
    let mut lines = [(); 4].map(|_| Vec::new());
    let mut missed = 0;
    let mut empty: Option<(Duration, usize)> = None;
    for target in std::iter::once(0).chain(sizes) {
        hub.block_on(async {
            for n in missed..target {
                miss_a_call(&http, &url, n).await?;
            }
            anyhow::Ok(())
        })?;
        missed = target;
        let mut builds = histogram();
        let mut bytes = 0;
        let mut frames = 0;
        // The first builds fill the read connections' caches: not measured.
        for _ in 0..SNAPSHOT_WARMUP {
            hub.block_on(hub.running.hub.recorder.snapshot())?
                .into_frames();
        }
        for _ in 0..SNAPSHOT_BUILDS {
            let start = Instant::now();
            let snapshot = hub.block_on(hub.running.hub.recorder.snapshot())?;
            let calls = snapshot.open_missed_calls.len();
            let encoded = snapshot.into_frames();
            builds.record(nanos(start.elapsed()))?;
            ensure!(
                calls == target,
                "{calls} open missed calls in the snapshot, not {target}"
            );
            ensure!(
                encoded.dropped == 0,
                "the snapshot left out {}",
                encoded.dropped
            );
            bytes = encoded.frames.iter().map(String::len).sum();
            frames = encoded.frames.len();
        }
        let mut connects = histogram();
        for _ in 0..SNAPSHOT_CONNECTS {
            let start = Instant::now();
            let socket = hub.block_on(connect_stream(addr, &hub.token, true))?;
            connects.record(nanos(start.elapsed()))?;
            drop(socket);
        }
        let builds = Spread::of(&builds);
        let connects = Spread::of(&connects);
        let x = target.max(1) as f64;
        lines[0].push((x, builds.p50.as_secs_f64() * 1e6));
        lines[1].push((x, builds.p99.as_secs_f64() * 1e6));
        lines[2].push((x, bytes as f64 / 1000.0));
        lines[3].push((x, connects.p50.as_secs_f64() * 1e6));
        let against = match empty {
            None => {
                empty = Some((builds.p50, bytes));
                "(the baseline: no open missed calls)".to_owned()
            }
            Some((p50, empty_bytes)) => format!(
                "(build p50 {:.1}× the empty snapshot's; {:.0} bytes per call)",
                builds.p50.as_secs_f64() / p50.as_secs_f64(),
                (bytes - empty_bytes) as f64 / target as f64
            ),
        };
        report.row(
            scenario,
            &format!("{target} open missed calls"),
            format!(
                "build {builds}; {bytes} bytes in {frames} frames; connect to snapshot end p50 {} {against}",
                Short(connects.p50)
            ),
            "",
            None,
        );
    }
    hub.stop()?;
    let [p50, p99, size, connect] = lines;
    write_plot(
        args,
        "snapshot.svg",
        vec![
            Panel {
                title: "Snapshot: read and encode".into(),
                x: "open missed calls (0 drawn at 1)",
                y: "µs",
                lines: vec![
                    Line {
                        name: "build p50",
                        points: p50,
                    },
                    Line {
                        name: "build p99",
                        points: p99,
                    },
                    Line {
                        name: "connect to snapshot end, p50",
                        points: connect,
                    },
                ],
            },
            Panel {
                title: "Snapshot size".into(),
                x: "open missed calls (0 drawn at 1)",
                y: "kB",
                lines: vec![Line {
                    name: "all frames",
                    points: size,
                }],
            },
        ],
        "",
    )
}

/// Posts an incoming call that rings and is given up by the caller: an open missed call.
async fn miss_a_call(http: &reqwest::Client, url: &str, n: usize) -> anyhow::Result<()> {
    let call_id = format!("missed-{n}");
    let from = format!("+4969{n:08}");
    for step in [
        [("event", "newCall"), ("to", "+4930600000000")],
        [("event", "hangup"), ("cause", "cancel")],
    ] {
        let mut fields = vec![
            ("direction", "in"),
            ("callId", call_id.as_str()),
            ("from", from.as_str()),
        ];
        fields.extend_from_slice(&step);
        let status = http.post(url).form(&fields).send().await?.status();
        ensure!(status.is_success(), "{call_id}: webhook answered {status}");
    }
    Ok(())
}

/// A panel of the hub's line beside its baseline's.
fn panel(title: &str, y: &'static str, hub: Vec<(f64, f64)>, bare: Vec<(f64, f64)>) -> Panel {
    Panel {
        title: title.to_owned(),
        x: "",
        y,
        lines: vec![
            Line {
                name: "hub",
                points: hub,
            },
            Line {
                name: "baseline",
                points: bare,
            },
        ],
    }
}

/// Writes `panels` to `name` in `--plots`, with `x` as the x axis's name where a panel has
/// none.
fn write_plot(
    args: &Args,
    name: &str,
    mut panels: Vec<Panel>,
    x: &'static str,
) -> anyhow::Result<()> {
    for panel in &mut panels {
        if panel.x.is_empty() {
            panel.x = x;
        }
    }
    std::fs::create_dir_all(&args.plots)
        .with_context(|| format!("creating {}", args.plots.display()))?;
    let path = args.plots.join(name);
    plot::write_svg(&path, &panels)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
