//! Measures the desktop app as an agent meets it (release build, real window, embedded
//! hub): the time from start to a live stream, the time from a webhook to the popup
//! painted on screen, and the memory of the app's whole process tree while idle and
//! connected. Run in a desktop session: `make bench-desktop`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

const STARTS: usize = 5;
const CALLS: usize = 40;
const COLD_CALLS: usize = 5;
/// Longer than the app keeps a hidden popup window (30 s): what follows is a cold start of
/// the popup, and idle memory is measured without it.
const IDLE: Duration = Duration::from_secs(35);

fn main() -> anyhow::Result<()> {
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/ringside");
    if !binary.exists() {
        bail!(
            "{} is missing: cargo build --release -p ringside",
            binary.display()
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;

    let mut starts = vec![];
    let mut last: Option<(App, tempfile::TempDir)> = None;
    for _ in 0..STARTS {
        // One instance at a time: a second one hands over to the first and exits.
        if let Some((mut previous, _)) = last.take() {
            previous.stop();
        }
        let dir = tempfile::tempdir()?;
        let started = Instant::now();
        let mut app = App::launch(&binary, dir.path())?;
        app.wait_for("connected to the hub stream", Duration::from_secs(30))?;
        starts.push(started.elapsed());
        last = Some((app, dir));
    }
    let (mut app, dir) = last.expect("at least one start");

    let (url, token) = hub_of(&dir.path().join("hub/ringside.toml"))?;
    let client = reqwest::Client::new();
    let post = |fields: Vec<(&'static str, String)>| {
        let request = client
            .post(format!("{url}/api/v1/cti/{token}"))
            .form(&fields)
            .send();
        runtime.block_on(async { request.await?.error_for_status() })
    };
    // One call: rings until its popup is on screen, then the caller gives up.
    let mut ring = |n: usize| -> anyhow::Result<Duration> {
        let call_id = format!("bench-{n}");
        let call = |event: &'static str| {
            vec![
                ("event", event.to_owned()),
                ("direction", "in".to_owned()),
                ("callId", call_id.clone()),
                ("from", format!("030{:07}", 1_000_000 + n)),
                ("to", "4930600000000".to_owned()),
            ]
        };
        let sent = Instant::now();
        post(call("newCall"))?;
        app.wait_for("popup on screen", Duration::from_secs(10))?;
        let took = sent.elapsed();
        let mut hangup = call("hangup");
        hangup.push(("cause", "cancel".to_owned()));
        post(hangup)?;
        Ok(took)
    };
    // The app's first popup makes the window; the next ones find it warm.
    let mut cold = vec![ring(0)?];
    let mut warm = vec![];
    for n in 1..CALLS {
        std::thread::sleep(Duration::from_millis(300));
        warm.push(ring(n)?);
    }
    // After a quiet spell the window is gone again.
    for n in 0..COLD_CALLS {
        std::thread::sleep(IDLE);
        cold.push(ring(CALLS + n)?);
    }

    std::thread::sleep(IDLE);
    let window_open = tree_memory(app.child.id());
    app.stop();
    drop(dir);

    // Started at login: in the tray, no main window.
    let dir = tempfile::tempdir()?;
    let mut app = App::launch_with(&binary, dir.path(), &["--minimized"])?;
    app.wait_for("connected to the hub stream", Duration::from_secs(30))?;
    std::thread::sleep(IDLE);
    let in_tray = tree_memory(app.child.id());
    app.stop();

    starts.sort();
    warm.sort();
    cold.sort();
    println!("| measure | result |");
    println!("| --- | --- |");
    println!(
        "| start to connected ({STARTS} starts, fresh data dir) | median {} ms, max {} ms |",
        millis(starts[starts.len() / 2]),
        millis(*starts.last().expect("starts"))
    );
    for (kind, times) in [
        ("popup window kept from the previous call", &warm),
        ("popup window made for the call", &cold),
    ] {
        println!(
            "| webhook to popup on screen, {kind} ({} calls) | p50 {} ms, p95 {} ms, max {} ms |",
            times.len(),
            millis(percentile(times, 50)),
            millis(percentile(times, 95)),
            millis(*times.last().expect("calls"))
        );
    }
    for (state, memory) in [("window open", window_open), ("in the tray", in_tray)] {
        println!(
            "| memory, idle and connected, {state}: {} processes ({}) | PSS {} MB, RSS {} MB |",
            memory.processes.len(),
            memory.processes.join(", "),
            memory.pss_kib / 1024,
            memory.rss_kib / 1024
        );
    }
    Ok(())
}

/// The memory of a process tree.
struct TreeMemory {
    /// Each process's name and PSS.
    processes: Vec<String>,
    pss_kib: u64,
    rss_kib: u64,
}

fn tree_memory(root: u32) -> TreeMemory {
    let tree = process_tree(root);
    let (rss_kib, pss_kib) = tree
        .iter()
        .map(|pid| memory_of(*pid))
        .fold((0, 0), |(r, p), (rss, pss)| (r + rss, p + pss));
    let processes = tree
        .iter()
        .map(|pid| format!("{} {} MB", process_name(*pid), memory_of(*pid).1 / 1024))
        .collect();
    TreeMemory {
        processes,
        pss_kib,
        rss_kib,
    }
}

fn millis(duration: Duration) -> u128 {
    duration.as_millis()
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let index = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

/// The app, its output read line by line on a thread.
struct App {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl App {
    fn launch(binary: &Path, dir: &Path) -> anyhow::Result<App> {
        Self::launch_with(binary, dir, &[])
    }

    fn launch_with(binary: &Path, dir: &Path, args: &[&str]) -> anyhow::Result<App> {
        let mut child = Command::new(binary)
            .args(args)
            .env("RINGSIDE_APP_DIR", dir)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout: ChildStdout = child.stdout.take().context("stdout")?;
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(App { child, lines })
    }

    /// Waits for a log line containing `text`.
    fn wait_for(&mut self, text: &str, patience: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .with_context(|| format!("waiting for {text:?}"))?;
            if line.contains(text) {
                return Ok(());
            }
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hub_of(config: &Path) -> anyhow::Result<(String, String)> {
    let text = std::fs::read_to_string(config)?;
    let value = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{key} = \"")))
            .map(|rest| rest.trim_end_matches('"').to_owned())
            .with_context(|| format!("{key} in {}", config.display()))
    };
    Ok((format!("http://{}", value("listen")?), value("token")?))
}

/// `pid` and all its descendants.
fn process_tree(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
            // The fields after the name, which is in parentheses and may contain spaces.
            let after = stat.rsplit_once(')')?.1;
            let parent = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((child, parent))
        })
        .collect();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree
}

/// RSS and PSS of one process in KiB.
fn memory_of(pid: u32) -> (u64, u64) {
    let path = PathBuf::from(format!("/proc/{pid}/smaps_rollup"));
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("Rss:"), field("Pss:"))
}

fn process_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}
