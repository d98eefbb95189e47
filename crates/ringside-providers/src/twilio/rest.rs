//! Click-to-dial through Twilio's REST API, built but not sent: the hub posts the form to
//! [`calls_url`] with HTTP Basic auth `AccountSid:AuthToken` and `Accept: application/json`,
//! and Twilio answers `201` with the call's `sid`.
//!
//! The call goes to the agent's phone first; when the agent answers, its inline TwiML
//! ([`super::twiml::dial_out`]) dials the customer, so the customer's phone only rings once
//! an agent is on the line.

use super::twiml;

/// Twilio's API base, for [`calls_url`].
pub const API_BASE: &str = "https://api.twilio.com";

/// How long the agent's phone rings before Twilio gives up (`Timeout`; Twilio's default is
/// 60 s). The agent just clicked, so a phone that does not answer within this is not there.
pub const CLICK_TO_DIAL_TIMEOUT_SECS: u32 = 30;

/// The progress reported for the agent's call: every step, so the hub sees the agent's
/// phone ring, answer and hang up.
const STATUS_CALLBACK_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];

/// The Calls resource of `account_sid` under `api_base` (normally [`API_BASE`]; a test
/// server's in tests), where a click-to-dial form is posted.
pub fn calls_url(api_base: &str, account_sid: &str) -> String {
    format!(
        "{}/2010-04-01/Accounts/{account_sid}/Calls.json",
        api_base.trim_end_matches('/')
    )
}

/// The form that calls `agent` (a number or `client:` identity) from `twilio_number` and,
/// once the agent answers, dials `customer` showing `twilio_number`. The agent's call and
/// the customer's leg report to `status_callback_url`, as does the end of the dial.
pub fn click_to_dial_form(
    agent: &str,
    customer: &str,
    twilio_number: &str,
    status_callback_url: &str,
) -> Vec<(String, String)> {
    let mut form = vec![
        ("To", agent.to_owned()),
        ("From", twilio_number.to_owned()),
        (
            "Twiml",
            twiml::dial_out(customer, twilio_number, status_callback_url),
        ),
        ("StatusCallback", status_callback_url.to_owned()),
    ];
    form.extend(
        STATUS_CALLBACK_EVENTS
            .iter()
            .map(|event| ("StatusCallbackEvent", (*event).to_owned())),
    );
    form.push(("Timeout", CLICK_TO_DIAL_TIMEOUT_SECS.to_string()));
    form.into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_url_for_an_account() {
        let sid = "AC0123456789abcdef0123456789abcdef";
        assert_eq!(
            calls_url(API_BASE, sid),
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json"
        );
        assert_eq!(
            calls_url("http://127.0.0.1:4010/", sid),
            "http://127.0.0.1:4010/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json"
        );
    }

    #[test]
    fn click_to_dial_form_has_every_field_in_order() {
        let callback = "https://hub.example/api/v1/twilio/T0KEN/status";
        let form = click_to_dial_form(
            "+491701111111",
            "+4930609854180",
            "+4930600000000",
            callback,
        );
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let twiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
            <Dial callerId=\"+4930600000000\" action=\"https://hub.example/api/v1/twilio/T0KEN/status\">\
            <Number statusCallback=\"https://hub.example/api/v1/twilio/T0KEN/status\" \
            statusCallbackEvent=\"answered completed\">+4930609854180</Number></Dial></Response>";
        assert_eq!(
            pairs,
            vec![
                ("To", "+491701111111"),
                ("From", "+4930600000000"),
                ("Twiml", twiml),
                ("StatusCallback", callback),
                ("StatusCallbackEvent", "initiated"),
                ("StatusCallbackEvent", "ringing"),
                ("StatusCallbackEvent", "answered"),
                ("StatusCallbackEvent", "completed"),
                ("Timeout", "30"),
            ]
        );
    }
}
