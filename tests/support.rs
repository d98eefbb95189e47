//! What the end-to-end tests share: a real hub on a loopback port with its SQLite file in a
//! temporary directory, and an agent with a token.

use std::path::Path;

use ringside_hub::config::Config;
use ringside_hub::RunningHub;

/// The generic CTI token the test hubs use.
pub const GENERIC_TOKEN: &str = "test-generic-token-0123456789";

/// Starts a hub on `127.0.0.1:0` with its data in `dir`; `extra` is appended to the TOML.
pub async fn start_hub(dir: &Path, extra: &str) -> anyhow::Result<RunningHub> {
    let text = format!(
        "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\nheartbeat_secs = 1\n\n[generic]\nenabled = true\ntoken = \"{GENERIC_TOKEN}\"\n{extra}",
        dir.join("data")
    );
    let settings = Config::from_toml(&text, Path::new("test.toml"), std::iter::empty())?;
    ringside_hub::start(settings).await
}
