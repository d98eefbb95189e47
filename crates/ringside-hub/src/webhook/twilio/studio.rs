//! What a Twilio Studio flow asks the hub (its "Make HTTP Request" widget, which reads JSON):
//! whom to ring, and to note the call's progress in the journal.

use ringside_providers::twilio;
use ringside_providers::{generic, Params};
use serde_json::{json, Value};

use super::available::{available, line_of};
use super::calls::record;
use crate::state::Hub;
use crate::webhook::failure::Failure;

/// `{"agents":[{"login","name","target"}]}`: the agents available now, leaving out the
/// caller when the request names one (`From`). `target` is what a `Connect Call To` widget
/// dials: a number in E.164 or `client:name`.
pub async fn agents(hub: &Hub, params: &Params) -> Result<Value, Failure> {
    let agents = available(hub, params.first_of(&["From", "Caller"])).await?;
    let listed: Vec<Value> = agents
        .into_iter()
        .map(|agent| {
            json!({
                "login": agent.login,
                "name": agent.name,
                "target": line_of(&agent.target),
            })
        })
        .collect();
    Ok(json!({ "agents": listed }))
}

/// Records a call event the flow posts with Twilio's parameters (`CallSid`, `CallStatus`,
/// `Direction`, `From`, `To`, …), mapped as the voice and status webhooks are, and answers
/// as the generic CTI API does: `{}`, or `{"action":"reject","reason":"busy"}` for a new
/// call from a blocked caller, on which the flow should end the call.
pub async fn event(hub: &Hub, params: &Params) -> Result<Value, Failure> {
    let request = twilio::classify(params)?;
    let answer = record(hub, &request).await?;
    Ok(generic::answer(&answer))
}
