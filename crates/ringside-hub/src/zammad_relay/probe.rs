//! `ringside-hub zammad check` for the relay: whether Zammad's generic CTI endpoint takes
//! the configured token, without writing to its caller log. The probe is an event with a
//! direction that is neither `in` nor `out`: Zammad checks the integration switch, its
//! configuration and the token before the direction (reference: helpdesks.md §2), so its
//! refusal of the direction says everything before it passed, and nothing is logged.

use serde_json::json;

use super::delivery;

/// What the probe found, in words, as the check prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeFinding {
    /// The endpoint takes the token and the integration is on.
    Ready(String),
    /// What is wrong, with what to do.
    Missing(String),
}

/// Posts the probe to `endpoint` (which holds the token: never printed) and says what the
/// answer means.
pub async fn run(endpoint: &str) -> ProbeFinding {
    let body = json!({
        "event": "newCall",
        "direction": "probe",
        "callId": "ringside-check",
        "from": "ringside-check",
        "to": "ringside-check",
    })
    .to_string();
    match delivery::post_raw(endpoint, body).await {
        Ok((status, text)) => meaning(status, &text),
        Err(reason) => ProbeFinding::Missing(format!(
            "{reason}; check zammad.url and that the hub can reach it"
        )),
    }
}

/// What Zammad's answer to the probe means.
pub fn meaning(status: u16, body: &str) -> ProbeFinding {
    let text = delivery::error_text(body);
    let lower = text.to_lowercase();
    match status {
        422 if lower.contains("direction") => ProbeFinding::Ready(
            "Zammad's generic CTI endpoint accepts the CTI token; the relay can forward calls"
                .into(),
        ),
        401 => ProbeFinding::Missing(format!(
            "Zammad refused the CTI token (401: {text}): copy it again from Admin → \
             Integrations → CTI (generic) into zammad.cti_token"
        )),
        422 if lower.contains("disabled") => ProbeFinding::Missing(format!(
            "Zammad's generic CTI integration is off (422: {text}): switch it on under \
             Admin → Integrations → CTI (generic)"
        )),
        422 if lower.contains("not configured") => ProbeFinding::Missing(format!(
            "Zammad's generic CTI integration is not configured (422: {text}): fill in its \
             inbound and outbound settings under Admin → Integrations → CTI (generic)"
        )),
        _ => ProbeFinding::Missing(format!(
            "Zammad's generic CTI endpoint answered a probe it should refuse with HTTP \
             {status}{}: check that zammad.url is Zammad's address",
            if text.is_empty() {
                String::new()
            } else {
                format!(" ({text})")
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zammads_refusals_of_the_probe_say_what_is_missing() {
        // Zammad's texts, from reference helpdesks.md §2.
        assert!(matches!(
            meaning(422, r#"{"error":"Invalid 'direction'!"}"#),
            ProbeFinding::Ready(_)
        ));
        let missing =
            |status, error: &str| match meaning(status, &json!({ "error": error }).to_string()) {
                ProbeFinding::Missing(text) => text,
                ProbeFinding::Ready(text) => panic!("ready: {text}"),
            };
        assert!(missing(401, "Invalid token, please contact your admin!").contains("CTI token"));
        assert!(missing(
            422,
            "Feature is disabled, please contact your administrator!"
        )
        .contains("is off"));
        assert!(
            missing(422, "Feature not configured, please contact your admin!")
                .contains("not configured")
        );
        assert!(missing(200, "").contains("HTTP 200"));
        assert!(missing(404, "<html>").contains("zammad.url"));
    }
}
