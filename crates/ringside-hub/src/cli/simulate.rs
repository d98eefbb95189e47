//! `ringside-hub simulate inbound|outbound`: plays the event sequence a phone system sends for
//! one call against a hub — Zammad-style generic CTI, Placetel, sipgate.io or Twilio, in each
//! provider's wire format and signed where the provider signs — so an admin can try a setup
//! without a phone.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use ringside_hub::config::{Config, Settings};
// What the simulator prints about a failed request names the endpoint, never its token.
use ringside_hub::redact::tokens;
use ringside_hub::webhook_url::Webhook;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Direction {
    /// A customer calls the support line.
    Inbound,
    /// An agent calls a customer.
    Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ending {
    /// Somebody picks up and talks.
    Answered,
    /// Nobody picks up; the caller gives up.
    Missed,
    /// The voicemail box picks up.
    Voicemail,
    /// The PBX forwards the call elsewhere (generic and sipgate only).
    Forwarded,
}

/// Which webhook the simulated phone system calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Via {
    /// Zammad's generic CTI API.
    Generic,
    /// Placetel's notify API (signed with `placetel.signing_secret` when set).
    Placetel,
    /// sipgate.io's push API (unsigned: only sipgate holds its key).
    Sipgate,
    /// Twilio's voice and status webhooks (signed with `twilio.auth_token`); the hub's TwiML
    /// answer says which agent's phone rings.
    Twilio,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Which way the call goes.
    direction: Direction,
    /// How the call ends.
    #[arg(long, value_enum, default_value = "answered")]
    ending: Ending,
    /// Which webhook to call.
    #[arg(long, value_enum, default_value = "generic")]
    via: Via,
    /// The hub's base URL (default: public_url from the configuration).
    #[arg(long)]
    url: Option<String>,
    /// The webhook token (default: the provider's token from the configuration). Tokens
    /// are URL-safe base64 and may start with `-`.
    #[arg(long, allow_hyphen_values = true)]
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
    /// The provider id of the agent who picks up or calls out (Placetel SIP user, sipgate
    /// user id).
    #[arg(long)]
    agent_id: Option<String>,
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

/// One request of the sequence.
struct Step {
    name: &'static str,
    fields: Vec<(&'static str, String)>,
    /// Seconds to wait before sending it.
    pause: f64,
}

pub async fn run(config_path: &Path, args: SimulateArgs) -> anyhow::Result<()> {
    let settings = match (&args.url, &args.token) {
        (Some(_), Some(_)) => None,
        _ => Some(Config::load(config_path).with_context(|| {
            "give --url and --token, or a configuration file with public_url and the token"
        })?),
    };
    let url = args
        .url
        .clone()
        .or_else(|| settings.as_ref().map(|s| s.config.public_url.clone()))
        .unwrap_or_default();
    let token = args
        .token
        .clone()
        .or_else(|| settings.as_ref().map(|s| token_of(s, args.via)))
        .unwrap_or_default();
    let secret = settings
        .as_ref()
        .map(|s| s.config.placetel.signing_secret.clone())
        .unwrap_or_default();
    if args.via == Via::Twilio {
        let auth_token = settings
            .as_ref()
            .map(|s| s.config.twilio.auth_token.clone())
            .unwrap_or_default();
        return twilio_call(&args, &url, &token, &auth_token).await;
    }
    let call_id = args
        .call_id
        .clone()
        .unwrap_or_else(|| format!("sim-{}", ringside_hub::token::generate()));
    let route = match args.direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
    };
    let endpoint = match args.via {
        Via::Generic => Webhook::Generic.url(&url, &token),
        Via::Placetel => Webhook::Placetel.url(&url, &token),
        Via::Sipgate => Webhook::Sipgate(route).url(&url, &token),
        Via::Twilio => unreachable!("Twilio calls are played by twilio_call"),
    };
    let steps = match args.via {
        Via::Generic | Via::Sipgate => cti(&args, &call_id, args.via),
        Via::Placetel => placetel(&args, &call_id)?,
        Via::Twilio => unreachable!("Twilio calls are played by twilio_call"),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    for step in steps {
        pause(step.pause).await;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&step.fields)
            .finish();
        let mut request = client
            .post(&endpoint)
            .header("content-type", "application/x-www-form-urlencoded");
        if args.via == Via::Placetel && !secret.is_empty() {
            let signature = ringside_providers::placetel::sign(&secret, body.as_bytes());
            request = request.header(ringside_providers::placetel::SIGNATURE_HEADER, signature);
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(reqwest::Error::without_url)
            .with_context(|| format!("sending {} to {}", step.name, tokens(&endpoint)))?;
        let status = response.status();
        let answer = response.text().await.unwrap_or_default();
        println!("{:<12} -> {status} {}", step.name, one_line(&answer));
        if !status.is_success() {
            bail!("the hub refused the {} event: {answer}", step.name);
        }
        if answer.contains("\"reject\"") || answer.contains("<Reject") {
            println!("the hub rejected the caller (block list)");
            return Ok(());
        }
    }
    Ok(())
}

fn token_of(settings: &Settings, via: Via) -> String {
    let config = &settings.config;
    match via {
        Via::Generic => config.generic.token.clone(),
        Via::Placetel => config.placetel.token.clone(),
        Via::Sipgate => config.sipgate.token.clone(),
        Via::Twilio => config.twilio.token.clone(),
    }
}

fn answered(ending: Ending) -> bool {
    matches!(ending, Ending::Answered | Ending::Voicemail)
}

/// The sequence in Zammad's vocabulary, which the generic API and sipgate share; sipgate
/// names the users of a new call `user[]` and adds their ids.
fn cti(args: &SimulateArgs, call_id: &str, via: Via) -> Vec<Step> {
    let direction = match args.direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
    };
    let sipgate = via == Via::Sipgate;
    let call = |event: &'static str| {
        vec![
            ("event", event.to_owned()),
            ("direction", direction.to_owned()),
            ("callId", call_id.to_owned()),
            ("from", args.from.clone()),
            ("to", args.to.clone()),
        ]
    };
    let mut ring = call("newCall");
    let user_key = if sipgate { "user[]" } else { "user" };
    ring.extend(args.user.iter().map(|u| (user_key, u.clone())));
    if sipgate {
        ring.extend(args.agent_id.iter().map(|id| ("userId[]", id.clone())));
    }
    let mut steps = vec![Step {
        name: "newCall",
        fields: ring,
        pause: 0.0,
    }];
    if answered(args.ending) {
        let mut answer = call("answer");
        if args.ending == Ending::Voicemail {
            answer.push(("user", "voicemail".into()));
        } else {
            answer.extend(args.user.iter().map(|u| ("user", u.clone())));
            if sipgate {
                answer.extend(args.agent_id.iter().map(|id| ("userId", id.clone())));
            }
        }
        answer.extend(
            args.answering_number
                .iter()
                .map(|n| ("answeringNumber", n.clone())),
        );
        steps.push(Step {
            name: "answer",
            fields: answer,
            pause: args.ring_secs,
        });
    }
    let mut hangup = call("hangup");
    hangup.push(("cause", cause(args.ending).into()));
    steps.push(Step {
        name: "hangup",
        fields: hangup,
        pause: if answered(args.ending) {
            args.talk_secs
        } else {
            args.ring_secs
        },
    });
    steps
}

/// The generic and sipgate cause that ends a call.
fn cause(ending: Ending) -> &'static str {
    match ending {
        Ending::Missed => "cancel",
        Ending::Forwarded => "forwarded",
        Ending::Answered | Ending::Voicemail => "normalClearing",
    }
}

fn placetel(args: &SimulateArgs, call_id: &str) -> anyhow::Result<Vec<Step>> {
    let call = |event: &'static str| {
        vec![
            ("event", event.to_owned()),
            ("call_id", call_id.to_owned()),
            ("from", args.from.clone()),
            ("to", args.to.clone()),
        ]
    };
    let peer = args.agent_id.iter().map(|p| ("peer", p.clone()));
    let mut steps = Vec::new();
    let hang_up_type = match args.ending {
        Ending::Answered => "accepted",
        Ending::Missed => "missed",
        Ending::Voicemail => "voicemail",
        Ending::Forwarded => {
            bail!("Placetel has no forwarded ending; try answered, missed or voicemail")
        }
    };
    match args.direction {
        Direction::Inbound => {
            let mut ring = call("IncomingCall");
            ring.push(("direction", "in".into()));
            steps.push(Step {
                name: "IncomingCall",
                fields: ring,
                pause: 0.0,
            });
            if args.ending == Ending::Answered {
                let mut accepted = call("CallAccepted");
                accepted.extend(peer);
                steps.push(Step {
                    name: "CallAccepted",
                    fields: accepted,
                    pause: args.ring_secs,
                });
            }
        }
        Direction::Outbound => {
            let mut dial = call("OutgoingCall");
            dial.push(("direction", "out".into()));
            dial.extend(peer);
            steps.push(Step {
                name: "OutgoingCall",
                fields: dial,
                pause: 0.0,
            });
        }
    }
    let mut hung_up = call("HungUp");
    hung_up.push(("type", hang_up_type.into()));
    let talked = if args.ending == Ending::Answered {
        args.talk_secs.round() as u64
    } else {
        0
    };
    hung_up.push(("duration", talked.to_string()));
    if args.direction == Direction::Outbound {
        hung_up.push(("direction", "out".into()));
    }
    steps.push(Step {
        name: "HungUp",
        fields: hung_up,
        pause: if args.ending == Ending::Answered {
            args.talk_secs
        } else {
            args.ring_secs
        },
    });
    Ok(steps)
}

/// Plays Twilio's side of an inbound call: the voice request, then, for the phone the hub's
/// TwiML rings first, the leg's callbacks, the `<Dial action>` and the call's final status,
/// to the hub at `base` whose Twilio token is `token`.
async fn twilio_call(
    args: &SimulateArgs,
    base: &str,
    token: &str,
    auth_token: &str,
) -> anyhow::Result<()> {
    if args.direction == Direction::Outbound {
        bail!("Twilio calls out through click-to-dial (POST /api/v1/dial), not a webhook");
    }
    if !matches!(args.ending, Ending::Answered | Ending::Missed) {
        bail!("a Twilio call ends answered or missed here");
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let plus = |number: &str| {
        if number.starts_with('+') || number.contains(':') {
            number.to_owned()
        } else {
            format!("+{number}")
        }
    };
    let (from, to) = (plus(&args.from), plus(&args.to));
    let call_sid = args.call_id.clone().unwrap_or_else(|| twilio_sid("CA"));
    let leg_sid = twilio_sid("CA");
    let call = |status: &str| {
        vec![
            ("AccountSid", twilio_sid("AC")),
            ("ApiVersion", "2010-04-01".to_owned()),
            ("CallSid", call_sid.clone()),
            ("CallStatus", status.to_owned()),
            ("Direction", "inbound".to_owned()),
            ("From", from.clone()),
            ("To", to.clone()),
        ]
    };
    let post = |path: &'static str, name: &'static str, fields: Vec<(&'static str, String)>| {
        let url = Webhook::Twilio(path).url(base, token);
        let params = ringside_providers::Params::from_form(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&fields)
                .finish()
                .as_bytes(),
        );
        let client = client.clone();
        async move {
            let params = params.context("encoding the request")?;
            let signature = ringside_providers::twilio::sign_form(auth_token, &url, &params);
            let response = client
                .post(&url)
                .header(ringside_providers::twilio::SIGNATURE_HEADER, signature)
                .form(&fields)
                .send()
                .await
                .map_err(reqwest::Error::without_url)
                .with_context(|| format!("sending {name} to {}", tokens(&url)))?;
            let status = response.status();
            let answer = response.text().await.unwrap_or_default();
            println!("{name:<14} -> {status} {}", one_line(&answer));
            if !status.is_success() {
                bail!("the hub refused {name}: {answer}");
            }
            Ok::<String, anyhow::Error>(answer)
        }
    };
    let twiml = post("voice", "voice", call("ringing")).await?;
    if twiml.contains("<Reject") {
        println!("the hub rejected the caller (block list)");
        return Ok(());
    }
    let Some(agent) = args.agent_id.clone().or_else(|| first_target(&twiml)) else {
        println!("nobody available: the caller hears the message");
        post("status", "call completed", call("completed")).await?;
        return Ok(());
    };
    let leg = |status: &str| {
        vec![
            ("CallbackSource", "call-progress-events".to_owned()),
            ("CallSid", leg_sid.clone()),
            ("ParentCallSid", call_sid.clone()),
            ("CallStatus", status.to_owned()),
            ("Direction", "outbound-dial".to_owned()),
            ("From", from.clone()),
            ("To", agent.clone()),
        ]
    };
    post("status", "leg ringing", leg("ringing")).await?;
    pause(args.ring_secs).await;
    let dial_status = if args.ending == Ending::Answered {
        post("status", "leg answered", leg("in-progress")).await?;
        pause(args.talk_secs).await;
        post("status", "leg completed", leg("completed")).await?;
        "completed"
    } else {
        post("status", "leg no-answer", leg("no-answer")).await?;
        "no-answer"
    };
    let mut dial_action = call("in-progress");
    dial_action.push(("DialCallStatus", dial_status.to_owned()));
    dial_action.push(("DialCallSid", leg_sid.clone()));
    post("status", "dial action", dial_action).await?;
    let mut completed = call("completed");
    completed.push(("CallbackSource", "call-progress-events".to_owned()));
    post("status", "call completed", completed).await?;
    Ok(())
}

/// The first phone a ring-all TwiML answer dials.
fn first_target(twiml: &str) -> Option<String> {
    for (open, prefix) in [("<Number", ""), ("<Client", "client:"), ("<Sip", "")] {
        if let Some(start) = twiml.find(open) {
            let text = &twiml[start..];
            let value = &text[text.find('>')? + 1..text.find("</")?];
            return Some(format!("{prefix}{value}"));
        }
    }
    None
}

/// A fresh Twilio-style id: a two-letter prefix and 32 hex digits.
fn twilio_sid(prefix: &str) -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// The hub's answer on one line, as printed; the callback URLs in TwiML and sipgate's XML
/// carry webhook tokens, which are hidden.
fn one_line(answer: &str) -> String {
    tokens(&answer.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned()
}

async fn pause(seconds: f64) {
    if seconds > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    }
}
