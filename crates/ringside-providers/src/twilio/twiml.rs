//! The TwiML documents the hub answers Twilio with. Each is a complete document, the XML
//! declaration and one `<Response>` on one line, as Twilio's helper libraries write it, with
//! every value escaped. Serve them as [`CONTENT_TYPE`]: Twilio refuses an answer without a
//! content type (error 12300).

use std::fmt::Write;

use crate::xml;

/// The content type of every TwiML answer.
pub const CONTENT_TYPE: &str = crate::xml::CONTENT_TYPE;

/// The most phones one `<Dial>` rings at once, as Twilio documents it.
pub const MAX_DIAL_TARGETS: usize = 10;

/// The progress a ring-all asks Twilio to report for every leg, so the hub sees each
/// agent's phone ring, answer and hang up.
const RING_ALL_EVENTS: &str = "initiated ringing answered completed";

/// The progress a click-to-dial asks for the customer's leg: enough to tell when the
/// customer picked up.
const DIAL_OUT_EVENTS: &str = "answered completed";

/// The voice of `<Say>`: `alice`, a documented basic Twilio voice that speaks many
/// languages, so the configured language is honoured. The seed's `women` is no Twilio voice.
const VOICE: &str = "alice";

const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// One phone `<Dial>` can ring, told apart by how Twilio writes it in `To`: an agent's
/// number (E.164), a Twilio Client identity (`client:anna`) or a SIP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingTarget {
    /// A phone number, rung with `<Number>`.
    Number(String),
    /// A Twilio Client identity (without `client:`), rung with `<Client>`.
    Client(String),
    /// A SIP URI (with `sip:`), rung with `<Sip>`.
    Sip(String),
}

impl RingTarget {
    /// Reads an identity as agents' settings and Twilio's `To` write it: `client:anna`,
    /// `sip:anna@pbx.example`, or a number.
    pub fn of(identity: &str) -> Self {
        if let Some(name) = identity.strip_prefix("client:") {
            RingTarget::Client(name.to_owned())
        } else if identity.starts_with("sip:") {
            RingTarget::Sip(identity.to_owned())
        } else {
            RingTarget::Number(identity.to_owned())
        }
    }

    /// The noun that rings this target, reporting `events` to `status_callback`.
    fn noun(&self, status_callback: &str, events: &str) -> String {
        let (name, address) = match self {
            RingTarget::Number(number) => ("Number", number),
            RingTarget::Client(identity) => ("Client", identity),
            RingTarget::Sip(uri) => ("Sip", uri),
        };
        element(
            name,
            &[
                ("statusCallback", status_callback),
                ("statusCallbackEvent", events),
            ],
            &xml::text(address),
        )
    }
}

/// Rings `targets` at once; the first to answer is bridged to the caller and Twilio hangs
/// up the others. `None` when there is nobody to ring: answer with [`say_and_hang_up`] or
/// [`enqueue`] then.
///
/// Only the first [`MAX_DIAL_TARGETS`] targets are rung (Twilio documents no more; a caller
/// who reaches ten agents is better off than one who hears an application error), so the
/// hub passes them in the order it prefers. `caller_id` is what the agents' phones show
/// (Twilio shows the caller's number when it is `None`); each leg reports its progress to
/// `status_callback_url`, and `action_url` learns how the dial ended.
pub fn ring_all(
    targets: &[RingTarget],
    caller_id: Option<&str>,
    timeout_secs: u32,
    action_url: &str,
    status_callback_url: &str,
) -> Option<String> {
    if targets.is_empty() {
        return None;
    }
    let nouns: String = targets
        .iter()
        .take(MAX_DIAL_TARGETS)
        .map(|target| target.noun(status_callback_url, RING_ALL_EVENTS))
        .collect();
    let timeout = timeout_secs.to_string();
    let mut attributes = Vec::new();
    if let Some(caller_id) = caller_id {
        attributes.push(("callerId", caller_id));
    }
    attributes.push(("timeout", timeout.as_str()));
    attributes.push(("action", action_url));
    Some(response(&element("Dial", &attributes, &nouns)))
}

/// Tells the caller `message` in `language` (e.g. `en-US`, `de-DE`; none when empty) and
/// hangs up: nobody is available, or nobody answered.
pub fn say_and_hang_up(message: &str, language: &str) -> String {
    let mut attributes = vec![("voice", VOICE)];
    if !language.is_empty() {
        attributes.push(("language", language));
    }
    response(&format!(
        "{}<Hangup/>",
        element("Say", &attributes, &xml::text(message))
    ))
}

/// Rejects a blocked caller as busy. `<Reject>` is the only verb, so Twilio neither answers
/// nor bills the call (the seed's `<Hangup/>` answered it first); the call ends `busy`.
pub fn reject_busy() -> String {
    response(r#"<Reject reason="busy"/>"#)
}

/// Refuses a request with `message` for the admin: `<Response><Error>…</Error></Response>`,
/// as Zammad's add-on refused requests. Not a TwiML verb: Twilio treats the answer as an
/// application error, and the webhook log shows the reason.
pub fn error(message: &str) -> String {
    response(&format!("<Error>{}</Error>", xml::text(message)))
}

/// Does nothing: the answer to status callbacks, and to a `<Dial action>` after which the
/// call is to end.
pub fn empty() -> String {
    format!("{DECLARATION}<Response/>")
}

/// Puts the caller in the Twilio queue `queue` (at most 64 characters, Twilio's limit),
/// playing `wait_url`'s TwiML (Twilio's hold music when `None`) until an agent takes the
/// call; `action_url` learns when the caller left the queue (`QueueResult`).
pub fn enqueue(queue: &str, wait_url: Option<&str>, action_url: &str) -> String {
    let mut attributes = vec![("action", action_url)];
    if let Some(wait_url) = wait_url {
        attributes.push(("waitUrl", wait_url));
    }
    response(&element("Enqueue", &attributes, &xml::text(queue)))
}

/// Connects the agent who answered (the call this TwiML runs on, one the hub placed to the
/// agent's phone) to the first caller waiting in `queue`. Before the two are bridged, Twilio
/// requests `caller_url` for TwiML played to the caller (`<Say>`, `<Play>`, or [`empty`]);
/// that request is how the journal learns the queued call was answered, and by whose call.
pub fn dial_queue(queue: &str, caller_url: &str) -> String {
    let queue = element("Queue", &[("url", caller_url)], &xml::text(queue));
    response(&element("Dial", &[], &queue))
}

/// The TwiML of a click-to-dial call, run once the agent answered: rings `number` (the
/// customer) showing `caller_id`. The customer's leg reports `answered` and `completed` to
/// `callback_url`, so the journal learns when the customer picked up, and the dial's
/// outcome (`busy`, `no-answer`, …) goes to `callback_url` as the `<Dial action>`.
pub fn dial_out(number: &str, caller_id: &str, callback_url: &str) -> String {
    let noun = RingTarget::of(number).noun(callback_url, DIAL_OUT_EVENTS);
    response(&element(
        "Dial",
        &[("callerId", caller_id), ("action", callback_url)],
        &noun,
    ))
}

fn response(verbs: &str) -> String {
    format!("{DECLARATION}<Response>{verbs}</Response>")
}

/// `<name attributes…>content</name>`, or `<name attributes…/>` without content.
/// `content` is markup, already escaped.
fn element(name: &str, attributes: &[(&str, &str)], content: &str) -> String {
    let mut xml = format!("<{name}");
    for (attribute, value) in attributes {
        let _ = write!(xml, " {attribute}=\"{}\"", xml::attribute(value));
    }
    if content.is_empty() {
        xml.push_str("/>");
    } else {
        let _ = write!(xml, ">{content}</{name}>");
    }
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_escapes_markup_but_not_quotes() {
        assert_eq!(
            error(r#"Tom & Jerry's <"tag">"#),
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Error>Tom &amp; Jerry's &lt;"tag"&gt;</Error></Response>"#
        );
    }

    const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
    const LEG_URL: &str = "https://hub.example/api/v1/twilio/T0KEN/leg";
    const ACTION_URL: &str = "https://hub.example/api/v1/twilio/T0KEN/dial?step=1&x=2";

    fn number(n: &str) -> String {
        format!(
            "<Number statusCallback=\"{LEG_URL}\" \
             statusCallbackEvent=\"initiated ringing answered completed\">{n}</Number>"
        )
    }

    #[test]
    fn ring_all_dials_every_target_with_its_callback() {
        let targets = [
            RingTarget::of("+491701111111"),
            RingTarget::of("client:anna"),
            RingTarget::of("sip:ben@pbx.example"),
        ];
        let twiml = ring_all(&targets, Some("+4930000000"), 20, ACTION_URL, LEG_URL).unwrap();
        assert_eq!(
            twiml,
            format!(
                "{HEAD}<Response><Dial callerId=\"+4930000000\" timeout=\"20\" \
                 action=\"https://hub.example/api/v1/twilio/T0KEN/dial?step=1&amp;x=2\">\
                 {}\
                 <Client statusCallback=\"{LEG_URL}\" \
                 statusCallbackEvent=\"initiated ringing answered completed\">anna</Client>\
                 <Sip statusCallback=\"{LEG_URL}\" \
                 statusCallbackEvent=\"initiated ringing answered completed\">\
                 sip:ben@pbx.example</Sip>\
                 </Dial></Response>",
                number("+491701111111")
            )
        );
    }

    #[test]
    fn ring_all_without_caller_id_lets_twilio_show_the_caller() {
        let twiml = ring_all(&[RingTarget::of("+491701111111")], None, 30, "a", LEG_URL);
        assert_eq!(
            twiml.unwrap(),
            format!(
                "{HEAD}<Response><Dial timeout=\"30\" action=\"a\">{}</Dial></Response>",
                number("+491701111111")
            )
        );
    }

    #[test]
    fn ring_all_rings_the_first_ten_and_nobody_is_none() {
        let targets: Vec<RingTarget> = (0..12)
            .map(|i| RingTarget::of(&format!("+4917000000{i:02}")))
            .collect();
        let twiml = ring_all(&targets, None, 20, "a", LEG_URL).unwrap();
        assert_eq!(twiml.matches("<Number ").count(), MAX_DIAL_TARGETS);
        assert!(twiml.contains(">+491700000009<"));
        assert!(!twiml.contains(">+491700000010<"));
        assert_eq!(ring_all(&[], None, 20, "a", LEG_URL), None);
    }

    #[test]
    fn ring_targets_are_read_from_identities() {
        assert_eq!(RingTarget::of("+4930"), RingTarget::Number("+4930".into()));
        assert_eq!(
            RingTarget::of("client:anna"),
            RingTarget::Client("anna".into())
        );
        assert_eq!(
            RingTarget::of("sip:a@b.example"),
            RingTarget::Sip("sip:a@b.example".into())
        );
    }

    #[test]
    fn say_and_hang_up_escapes_the_message() {
        assert_eq!(
            say_and_hang_up("Nobody's here <now> & later", "en-US"),
            format!(
                "{HEAD}<Response><Say voice=\"alice\" language=\"en-US\">\
                 Nobody's here &lt;now&gt; &amp; later</Say><Hangup/></Response>"
            )
        );
        assert_eq!(
            say_and_hang_up("Tschüss", ""),
            format!("{HEAD}<Response><Say voice=\"alice\">Tschüss</Say><Hangup/></Response>")
        );
    }

    #[test]
    fn reject_and_empty() {
        assert_eq!(CONTENT_TYPE, "application/xml; charset=UTF-8");
        assert_eq!(
            reject_busy(),
            format!("{HEAD}<Response><Reject reason=\"busy\"/></Response>")
        );
        assert_eq!(empty(), format!("{HEAD}<Response/>"));
    }

    #[test]
    fn enqueue_with_and_without_wait_url() {
        assert_eq!(
            enqueue("support", Some("https://svc/hold"), "https://svc/left"),
            format!(
                "{HEAD}<Response><Enqueue action=\"https://svc/left\" \
                 waitUrl=\"https://svc/hold\">support</Enqueue></Response>"
            )
        );
        assert_eq!(
            enqueue("a&b", None, "https://svc/left"),
            format!(
                "{HEAD}<Response><Enqueue action=\"https://svc/left\">a&amp;b</Enqueue></Response>"
            )
        );
    }

    #[test]
    fn dial_queue_for_the_agent_side() {
        assert_eq!(
            dial_queue("support & sales", "https://svc/connecting?q=1&r=2"),
            format!(
                "{HEAD}<Response><Dial><Queue url=\"https://svc/connecting?q=1&amp;r=2\">\
                 support &amp; sales</Queue></Dial></Response>"
            )
        );
    }

    #[test]
    fn dial_out_reports_the_customer_leg() {
        assert_eq!(
            dial_out("+4930609854180", "+4930600000000", "https://svc/status"),
            format!(
                "{HEAD}<Response><Dial callerId=\"+4930600000000\" action=\"https://svc/status\">\
                 <Number statusCallback=\"https://svc/status\" \
                 statusCallbackEvent=\"answered completed\">+4930609854180</Number>\
                 </Dial></Response>"
            )
        );
    }

    #[test]
    fn values_are_escaped_for_their_place() {
        assert_eq!(
            xml::attribute("a\"b<c>&d\te\nf'g"),
            "a&quot;b&lt;c&gt;&amp;d&#9;e&#10;f&apos;g"
        );
        assert_eq!(
            xml::text("a\"b\u{0}c\u{1b}d\u{ffff}\ne"),
            "a\"b\u{fffd}c\u{fffd}d\u{fffd}\ne"
        );
        assert_eq!(xml::text("Müller ☎ 😀"), "Müller ☎ 😀");
    }
}
