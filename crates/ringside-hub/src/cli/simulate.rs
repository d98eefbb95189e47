//! `ringside-hub simulate inbound|outbound`: plays the event sequence a PBX sends for one call
//! against a hub's generic CTI endpoint, so an admin can try a setup without a phone.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use ringside_hub::config::Config;
use serde_json::Value;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Direction {
    /// A customer calls the support line.
    Inbound,
    /// An agent calls a customer.
    Outbound,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Ending {
    /// Somebody picks up and talks.
    Answered,
    /// Nobody picks up; the caller gives up.
    Missed,
    /// The voicemail box picks up.
    Voicemail,
    /// The PBX forwards the call elsewhere.
    Forwarded,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Which way the call goes.
    direction: Direction,
    /// How the call ends.
    #[arg(long, value_enum, default_value = "answered")]
    ending: Ending,
    /// The hub's base URL (default: public_url from the configuration).
    #[arg(long)]
    url: Option<String>,
    /// The generic CTI token (default: generic.token from the configuration).
    #[arg(long)]
    token: Option<String>,
    /// The calling number.
    #[arg(long, default_value = "4930609854180")]
    from: String,
    /// The called number.
    #[arg(long, default_value = "4930600000000")]
    to: String,
    /// The agent named in the events.
    #[arg(long)]
    user: Option<String>,
    /// The number of the phone that picks up.
    #[arg(long)]
    answering_number: Option<String>,
    /// Seconds of ringing.
    #[arg(long, default_value_t = 3.0)]
    ring_secs: f64,
    /// Seconds of talking.
    #[arg(long, default_value_t = 5.0)]
    talk_secs: f64,
    /// The call id (default: a fresh one).
    #[arg(long)]
    call_id: Option<String>,
}

pub async fn run(config_path: &Path, args: SimulateArgs) -> anyhow::Result<()> {
    let (url, token) = match (&args.url, &args.token) {
        (Some(url), Some(token)) => (url.clone(), token.clone()),
        _ => {
            let settings = Config::load(config_path).with_context(|| {
                "give --url and --token, or a configuration file with public_url and generic.token"
            })?;
            (
                args.url.clone().unwrap_or(settings.config.public_url),
                args.token.clone().unwrap_or(settings.config.generic.token),
            )
        }
    };
    let endpoint = format!("{}/api/v1/cti/{token}", url.trim_end_matches('/'));
    let call_id = args
        .call_id
        .clone()
        .unwrap_or_else(|| format!("sim-{}", ringside_hub::token::generate()));
    let direction = match args.direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let endpoint = &endpoint;
    let post = |event: &'static str, extra: Vec<(&'static str, String)>| {
        let mut form = vec![
            ("event", event.to_owned()),
            ("direction", direction.to_owned()),
            ("callId", call_id.clone()),
            ("from", args.from.clone()),
            ("to", args.to.clone()),
        ];
        form.extend(extra);
        let request = client.post(endpoint).form(&form);
        async move {
            let response = request
                .send()
                .await
                .with_context(|| format!("sending {event} to {endpoint}"))?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            println!("{event:<8} -> {status} {body}");
            if !status.is_success() {
                bail!("the hub refused the {event} event: {body}");
            }
            Ok::<Value, anyhow::Error>(body)
        }
    };
    let user: Vec<(&'static str, String)> = args.user.iter().map(|u| ("user", u.clone())).collect();
    let first = post("newCall", user.clone()).await?;
    if first.get("action").and_then(Value::as_str) == Some("reject") {
        post("hangup", vec![("cause", "busy".into())]).await?;
        println!("the hub rejected the caller (block list)");
        return Ok(());
    }
    pause(args.ring_secs).await;
    let cause = match args.ending {
        Ending::Missed => "cancel",
        Ending::Forwarded => "forwarded",
        Ending::Answered | Ending::Voicemail => "normalClearing",
    };
    if matches!(args.ending, Ending::Answered | Ending::Voicemail) {
        let mut answer = match args.ending {
            Ending::Voicemail => vec![("user", "voicemail".to_owned())],
            _ => user,
        };
        answer.extend(
            args.answering_number
                .iter()
                .map(|n| ("answeringNumber", n.clone())),
        );
        post("answer", answer).await?;
        pause(args.talk_secs).await;
    }
    post("hangup", vec![("cause", cause.into())]).await?;
    Ok(())
}

async fn pause(seconds: f64) {
    if seconds > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    }
}
