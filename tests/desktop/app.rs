//! The real desktop app under test: the built `ringside` binary started by tauri-driver
//! (WebKitWebDriver) in a real window, with its embedded hub's files in a directory of the
//! test's, and helpers to play the PBX and to read and click the UI.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use ringside_hub::embedded::{self, LocalAgent};
use serde_json::json;
use tokio::sync::{Mutex, MutexGuard};

/// WebKitWebDriver runs one session at a time on fixed ports: tests take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

const DRIVER_PORT: u16 = 4444;
const NATIVE_PORT: u16 = 4445;

/// How long the UI may take to show something.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The popup window's title, which finds it among the X server's windows.
const POPUP_TITLE: &str = "Ringside: incoming call";

/// Fails the test with the reason when something the desktop tests need is missing: they
/// must never pass without having run. (Without `E2E=1` they are compiled as ignored.)
fn preflight() {
    let mut missing = vec![];
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        missing.push("a display (DISPLAY)".to_owned());
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        missing.push("a D-Bus session (DBUS_SESSION_BUS_ADDRESS)".to_owned());
    }
    for tool in [
        "tauri-driver",
        "WebKitWebDriver",
        "dunstctl",
        "xwininfo",
        "import",
    ] {
        if !on_path(tool) {
            missing.push(format!("{tool} on PATH"));
        }
    }
    if !app_binary().exists() {
        missing.push(format!(
            "{} (build it with `cargo build -p ringside`)",
            app_binary().display()
        ));
    }
    assert!(
        missing.is_empty(),
        "the desktop tests cannot run: missing {}. Run them under scripts/headless-session.sh \
         (make test does)",
        missing.join(", ")
    );
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

/// Runs `dunstctl` with `args`; its output.
fn dunstctl(args: &[&str]) -> String {
    let output = Command::new("dunstctl")
        .args(args)
        .output()
        .expect("dunstctl (the notification daemon's control)");
    assert!(
        output.status.success(),
        "dunstctl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// How many notifications the notification daemon displays now.
pub fn notifications_displayed() -> u32 {
    dunstctl(&["count", "displayed"])
        .trim()
        .parse()
        .expect("dunstctl count displayed gives a number")
}

/// The notifications the daemon displayed and took down since the test began (JSON).
pub fn notification_history() -> String {
    dunstctl(&["history"])
}

/// How soon a call's notification must be gone once its popup closed: far less than the
/// time a notification would stay on screen by itself, so that only a withdrawal passes.
pub const WITHDRAWN_WITHIN: Duration = Duration::from_secs(3);

/// Waits until the daemon displays `count` notifications, at most `within`.
pub async fn wait_for_notifications(count: u32, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let now = notifications_displayed();
        if now == count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the notification daemon displays {now} notifications, not {count}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the popup window is on screen: `None` when there is no popup window at all,
/// else whether the X server shows it (mapped) or not (hidden).
pub fn popup_window_viewable() -> Option<bool> {
    let output = Command::new("xwininfo")
        .args(["-name", POPUP_TITLE])
        .output()
        .expect("xwininfo (x11-utils)");
    if !output.status.success() {
        return None;
    }
    let info = String::from_utf8_lossy(&output.stdout);
    Some(info.contains("Map State: IsViewable"))
}

/// Waits until the popup window is shown (`true`) or hidden or gone (`false`).
pub async fn wait_for_popup_window(shown: bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let now = popup_window_viewable();
        if now.unwrap_or(false) == shown {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the popup window never became {}: {now:?}",
            if shown { "shown" } else { "hidden" }
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn app_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    let binary = target.join("debug").join("ringside");
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build -p ringside`",
        binary.display()
    );
    binary
}

/// What the embedded hub's configuration says, read back for the test's PBX.
#[derive(Debug, Clone)]
pub struct HubFacts {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The generic CTI token.
    pub generic_token: String,
}

/// A running app with a WebDriver session on it.
pub struct DesktopApp {
    pub client: Client,
    pub hub: HubFacts,
    /// The app's directory (preferences, embedded hub), removed at the end.
    dir: tempfile::TempDir,
    driver: Child,
    _turn: MutexGuard<'static, ()>,
}

/// The embedded hub's data, prepared before the app starts: its configuration and
/// database exist, the local agent too.
pub struct Seed<'a> {
    /// The hub's directory (its `data_dir`).
    pub hub_dir: &'a Path,
    /// The local agent's login, as the app will use it.
    pub login: String,
}

impl DesktopApp {
    /// Prepares the embedded hub with `seed`, then starts the app with `env` and opens a
    /// WebDriver session on its main window.
    pub async fn launch<F>(env: &[(&str, String)], seed: F) -> DesktopApp
    where
        F: AsyncFnOnce(Seed<'_>),
    {
        let turn = ONE_AT_A_TIME.lock().await;
        preflight();
        // Each test counts its own notifications.
        dunstctl(&["close-all"]);
        let dir = tempfile::tempdir().unwrap();
        let hub_dir = dir.path().join("hub");
        let agent = LocalAgent::from_environment();
        let hub = embedded::start(&hub_dir, &agent).await.unwrap();
        hub.stop().await.unwrap();
        seed(Seed {
            hub_dir: &hub_dir,
            login: agent.login.clone(),
        })
        .await;
        let facts = hub_facts(&hub_dir.join("ringside.toml"));

        let mut driver = Command::new("tauri-driver");
        driver
            .args(["--port", &DRIVER_PORT.to_string()])
            .args(["--native-port", &NATIVE_PORT.to_string()])
            .env("RINGSIDE_APP_DIR", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (name, value) in env {
            driver.env(name, value);
        }
        // Its own process group, so that WebKitWebDriver and the app end with it.
        driver.process_group(0);
        let driver = driver
            .spawn()
            .expect("tauri-driver (cargo install tauri-driver)");
        let client = connect().await;
        let app = DesktopApp {
            client,
            hub: facts,
            dir,
            driver,
            _turn: turn,
        };
        app.switch_to("index.html").await;
        app.wait_for_attr("[data-testid=connection]", "data-state", "connected")
            .await;
        app
    }

    /// The app's directory: its preferences and its embedded hub.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Posts one generic CTI event to the embedded hub, as the PBX would.
    pub async fn pbx(&self, fields: &[(&str, &str)]) {
        let response = reqwest::Client::new()
            .post(format!(
                "{}/api/v1/cti/{}",
                self.hub.url, self.hub.generic_token
            ))
            .form(fields)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{response:?}");
    }

    /// Hands `link` to the running app as the desktop does: the app started a second time
    /// with the link as its argument (single instance: it passes the link on and exits).
    pub async fn open_link(&self, link: &str) {
        let mut second = Command::new(app_binary())
            .arg(link)
            .env("RINGSIDE_APP_DIR", self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = second.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = second.kill();
                let _ = second.wait();
                panic!("the second start did not hand the link over and exit");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(status.success(), "the second start failed: {status}");
    }

    /// Presses `key` (a WebDriver key) in the element `css`.
    pub async fn press(&self, css: &str, key: fantoccini::key::Key) {
        self.find(css)
            .await
            .send_keys(&String::from(char::from(key)))
            .await
            .unwrap();
    }

    /// Switches the session to the window showing `page` (`index.html`, `popup.html`).
    pub async fn switch_to(&self, page: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let mut seen = vec![];
            for handle in self.client.windows().await.unwrap() {
                self.client.switch_to_window(handle).await.unwrap();
                let path = self.client.current_url().await.unwrap().path().to_owned();
                if path.ends_with(page)
                    || (page == "index.html" && matches!(path.as_str(), "" | "/"))
                {
                    return;
                }
                seen.push(path);
            }
            assert!(
                Instant::now() < deadline,
                "no window shows {page}, only {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The element, once it exists.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    /// All elements matching now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// The text of the first element matching `css` (its `textContent`: what the DOM
    /// holds, whatever the window manager has painted yet), or `None`.
    pub async fn text_of(&self, css: &str) -> Option<String> {
        let value = self
            .client
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                vec![json!(css)],
            )
            .await
            .unwrap();
        value
            .as_str()
            .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// Waits until the text of `css` satisfies `check`; returns it.
    pub async fn wait_for_text(&self, css: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        let mut last = None;
        loop {
            if let Some(text) = self.text_of(css).await {
                if check(&text) {
                    return text;
                }
                last = Some(text);
            }
            assert!(
                Instant::now() < deadline,
                "{css} never showed the expected text; last: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until attribute `name` of `css` is `value`.
    pub async fn wait_for_attr(&self, css: &str, name: &str, value: &str) {
        let deadline = Instant::now() + PATIENCE;
        let mut last = None;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                last = element.attr(name).await.ok().flatten();
                if last.as_deref() == Some(value) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{css}[{name}] never became {value:?}; last: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until nothing matches `css`.
    pub async fn wait_for_absence(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.find_all(css).await.is_empty() {
            assert!(Instant::now() < deadline, "{css} is still there");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks `css`.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Saves a screenshot of the whole screen (the main window with the popup over it) as
    /// `target/e2e-screenshots/<name>.png`, as the X server shows it.
    pub async fn screenshot(&self, name: &str) {
        // Let the windows paint what the DOM now holds.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let dir = workspace().join("target").join("e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("{name}.png"));
        let status = Command::new("import")
            .args(["-window", "root"])
            .arg(&file)
            .status()
            .expect("import (ImageMagick) takes the screenshots");
        assert!(status.success(), "screenshot {name} failed");
    }

    /// Ends the session and the app.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for DesktopApp {
    fn drop(&mut self) {
        // tauri-driver, WebKitWebDriver and the app: a failed test must not leave them
        // holding the ports for the next one.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.driver.wait();
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    }
}

async fn connect() -> Client {
    let capabilities: Capabilities = serde_json::from_value(json!({
        "browserName": "wry",
        "tauri:options": { "application": app_binary() }
    }))
    .unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let attempt = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{DRIVER_PORT}"))
            .await;
        match attempt {
            Ok(client) => return client,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no WebDriver session: {e}"),
        }
    }
}

fn hub_facts(config: &Path) -> HubFacts {
    let text = std::fs::read_to_string(config).unwrap();
    let value = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{key} = \"")))
            .map(|rest| rest.trim_end_matches('"').to_owned())
            .unwrap_or_else(|| panic!("{key} not in {}", config.display()))
    };
    HubFacts {
        url: format!("http://{}", value("listen")),
        generic_token: value("token"),
    }
}
