//! Measures the desktop app as an agent meets it (release build, real window, embedded
//! hub): the time from start to a live stream, the time from a webhook to the popup
//! painted on screen (the popup window kept warm, and made for the call), and the memory of
//! the app's whole process tree while idle and connected, beside an empty Tauri app built in
//! the same run. Run in a desktop session: `make bench-desktop`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

const STARTS: usize = 5;
/// Calls timed with the popup window kept from the previous call, and with none.
const WARM_CALLS: usize = 40;
const COLD_CALLS: usize = 40;
/// Between warm calls: the caller gives up, the popup hides, the next call rings.
const WARM_PAUSE: Duration = Duration::from_millis(300);
/// How long each app idles before its memory is read.
const SETTLE: Duration = Duration::from_secs(15);
/// The popup's keep-warm time in the cold runs (the app's preference): the hidden window is
/// closed at once, so that every call makes it again and no window is left when idle.
const NO_KEEP_WARM: &str = r#"{"popup_keep_warm_secs":0}"#;

fn main() -> anyhow::Result<()> {
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release");
    let binary = release.join("ringside");
    let empty = release.join("ringside-empty-app");
    for (path, package) in [(&binary, "ringside"), (&empty, "ringside-empty-app")] {
        if !path.exists() {
            bail!(
                "{} is missing: cargo build --release -p {package}",
                path.display()
            );
        }
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
        let mut app = App::launch(&binary, dir.path(), &[])?;
        app.wait_for("connected to the hub stream", Duration::from_secs(30))?;
        starts.push(started.elapsed());
        last = Some((app, dir));
    }
    let (mut app, dir) = last.expect("at least one start");

    // Warm: the app's first popup makes the window, the next ones find it kept.
    let hub = Hub::of(&dir)?;
    hub.ring(&runtime, &mut app, 0)?;
    let mut warm = vec![];
    for n in 1..=WARM_CALLS {
        std::thread::sleep(WARM_PAUSE);
        warm.push(hub.ring(&runtime, &mut app, n)?);
    }
    app.stop();
    drop(dir);

    // Idle with the main window open; then cold popups: no keep-warm, each call makes the
    // window and waits until it is gone again; then idle again.
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("preferences.json"), NO_KEEP_WARM)?;
    let mut app = App::launch(&binary, dir.path(), &[])?;
    app.wait_for("connected to the hub stream", Duration::from_secs(30))?;
    std::thread::sleep(SETTLE);
    let window_open = tree_memory(app.child.id());
    let hub = Hub::of(&dir)?;
    let mut cold = vec![];
    for n in 0..COLD_CALLS {
        cold.push(hub.ring(&runtime, &mut app, n)?);
        app.wait_for("popup window closed", Duration::from_secs(10))?;
    }
    std::thread::sleep(SETTLE);
    let after_popups = tree_memory(app.child.id());
    app.stop();
    drop(dir);

    // Started at login: in the tray, no main window.
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("preferences.json"), NO_KEEP_WARM)?;
    let mut app = App::launch(&binary, dir.path(), &["--minimized"])?;
    app.wait_for("connected to the hub stream", Duration::from_secs(30))?;
    std::thread::sleep(SETTLE);
    let in_tray = tree_memory(app.child.id());
    app.stop();

    // The floor: an empty Tauri window of the main window's size, started as often as the
    // app, then once more for its memory.
    let mut empty_starts = vec![];
    for _ in 0..STARTS {
        let dir = tempfile::tempdir()?;
        let started = Instant::now();
        let mut app = App::launch(&empty, dir.path(), &[])?;
        app.wait_for("empty page loaded", Duration::from_secs(30))?;
        empty_starts.push(started.elapsed());
        app.stop();
    }
    let dir = tempfile::tempdir()?;
    let mut app = App::launch(&empty, dir.path(), &[])?;
    app.wait_for("empty page loaded", Duration::from_secs(30))?;
    std::thread::sleep(SETTLE);
    let floor = tree_memory(app.child.id());
    app.stop();

    starts.sort();
    empty_starts.sort();
    warm.sort();
    cold.sort();
    let median = |times: &[Duration]| times[times.len() / 2];
    println!("| measure | result |");
    println!("| --- | --- |");
    println!(
        "| empty Tauri app: start to page loaded ({STARTS} starts; the baseline) | median {} ms, max {} ms |",
        millis(median(&empty_starts)),
        millis(*empty_starts.last().expect("starts"))
    );
    println!(
        "| start to connected ({STARTS} starts, fresh data dir) | median {} ms, max {} ms; median {:.2}× the baseline |",
        millis(median(&starts)),
        millis(*starts.last().expect("starts")),
        median(&starts).as_secs_f64() / median(&empty_starts).as_secs_f64()
    );
    for (kind, times) in [
        ("warm: popup window kept from the previous call", &warm),
        ("cold: popup window made for the call (keep-warm 0)", &cold),
    ] {
        let p95 = percentile(times, 95);
        println!(
            "| webhook to popup on screen, {kind} ({} calls) | p50 {} ms, p95 {} ms, max {} ms; p95 under 300 ms: {} |",
            times.len(),
            millis(percentile(times, 50)),
            millis(p95),
            millis(*times.last().expect("calls")),
            if p95 < Duration::from_millis(300) { "yes" } else { "**no**" }
        );
    }
    let ratio = |memory: &TreeMemory| memory.pss_kib as f64 / floor.pss_kib.max(1) as f64;
    let rows: [(&str, &TreeMemory); 4] = [
        ("empty Tauri app, one empty window (the floor)", &floor),
        ("Ringside idle and connected, window open", &window_open),
        (
            &format!("Ringside, window open, after {COLD_CALLS} cold popups"),
            &after_popups,
        ),
        ("Ringside idle and connected, in the tray", &in_tray),
    ];
    for (state, memory) in rows {
        println!(
            "| memory, {state}: {} processes ({}) | PSS {} MB, RSS {} MB; PSS {:.2}× the floor |",
            memory.processes.len(),
            memory.processes.join(", "),
            memory.pss_kib / 1024,
            memory.rss_kib / 1024,
            ratio(memory)
        );
    }
    let open = ratio(&window_open);
    println!(
        "| main window open against the empty app (goal ≤ 1.3×) | {open:.2}×: {} |",
        if open <= 1.3 { "met" } else { "**not met**" }
    );
    Ok(())
}

/// The embedded hub of an app's data directory, for posting generic CTI webhooks to it.
struct Hub {
    url: String,
    token: String,
    client: reqwest::Client,
}

impl Hub {
    fn of(dir: &tempfile::TempDir) -> anyhow::Result<Hub> {
        let (url, token) = hub_of(&dir.path().join("hub/ringside.toml"))?;
        Ok(Hub {
            url,
            token,
            client: reqwest::Client::new(),
        })
    }

    /// The app's call `n` (from 0, in a fresh hub): rings until its popup is on screen,
    /// then the caller gives up. Returns the time from the webhook to the popup's report
    /// that it painted the call.
    fn ring(
        &self,
        runtime: &tokio::runtime::Runtime,
        app: &mut App,
        n: usize,
    ) -> anyhow::Result<Duration> {
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
        self.post(runtime, call("newCall"))?;
        // The app logs the hub's id of the call, which a fresh hub numbers from 1.
        let logged = format!("popup on screen call={}", n + 1);
        app.wait_for_line(
            |line| line.ends_with(&logged),
            &format!("the popup of {call_id} on screen"),
            Duration::from_secs(10),
        )?;
        let took = sent.elapsed();
        let mut hangup = call("hangup");
        hangup.push(("cause", "cancel".to_owned()));
        self.post(runtime, hangup)?;
        Ok(took)
    }

    fn post(
        &self,
        runtime: &tokio::runtime::Runtime,
        fields: Vec<(&'static str, String)>,
    ) -> anyhow::Result<()> {
        let request = self
            .client
            .post(format!("{}/api/v1/cti/{}", self.url, self.token))
            .form(&fields)
            .send();
        runtime.block_on(async { request.await?.error_for_status() })?;
        Ok(())
    }
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
    fn launch(binary: &Path, dir: &Path, args: &[&str]) -> anyhow::Result<App> {
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
        self.wait_for_line(|line| line.contains(text), text, patience)
    }

    /// Waits for a log line that `matches`; `what` names it in the error.
    fn wait_for_line(
        &mut self,
        matches: impl Fn(&str) -> bool,
        what: &str,
        patience: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .with_context(|| format!("waiting for {what:?}"))?;
            if matches(&line) {
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
