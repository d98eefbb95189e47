//! `ringside-hub`: run the hub, write its configuration, manage agents, import the directory
//! and play test calls.

mod cli;

use clap::Parser;
use ringside_hub::config::LogFormat;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = cli::Args::parse();
    let log = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "ringside_hub=info".into()),
        )
        .with_writer(std::io::stderr);
    match args.log_format() {
        LogFormat::Text => log.init(),
        LogFormat::Json => log.json().flatten_event(true).init(),
    }
    match cli::run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
