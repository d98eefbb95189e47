//! The real `ringside-hub` binary as a child process, for the tests that kill it, restart it
//! or put files back under it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_ringside-hub");

/// `ringside-hub --config CONFIG`, to add a subcommand to.
pub fn hub_command(config: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.arg("--config").arg(config);
    command
}

/// A port free on loopback now, for a config that must name its port before the hub starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `ringside-hub serve` and waits (up to 10 s) until it answers at `base`
/// (`http://127.0.0.1:PORT`).
pub async fn serve(config: &Path, base: &str) -> Child {
    serve_logging_to(config, base, Stdio::null()).await
}

/// [`serve`], with the hub's log (standard error) written to `log`.
pub async fn serve_logging_to(config: &Path, base: &str, log: impl Into<Stdio>) -> Child {
    let mut child = hub_command(config)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the hub starts");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/api/v1/openapi.json"))
            .send()
            .await
            .is_ok()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the hub did not come up at {base}");
}

/// `GET url` with an agent's bearer `token`: the JSON the hub answered.
pub async fn get_json(url: &str, token: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}
