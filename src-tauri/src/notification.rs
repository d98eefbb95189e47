//! The native notification of an incoming call (freedesktop notifications on Linux). It is
//! a courtesy next to the popup: when the desktop has no notification service, the failure
//! is logged and nothing else changes.

use notify_rust::{Notification, Timeout};
use ringside_core::call::Call;
use ringside_core::caller::MatchLevel;

/// Title and body of the notification for a call.
pub fn text(call: &Call) -> (String, String) {
    let contacts = call
        .caller
        .as_ref()
        .map(|caller| caller.contacts.as_slice())
        .unwrap_or_default();
    let maybe = call
        .caller
        .as_ref()
        .is_some_and(|caller| caller.level == MatchLevel::Maybe);
    let title = match contacts {
        [] => format!("Call from {}", call.from_pretty),
        [one] if maybe => format!("Call from {} (maybe)", one.name),
        [one] => format!("Call from {}", one.name),
        [first, rest @ ..] => format!("Call from {} or {} more", first.name, rest.len()),
    };
    let mut body = vec![];
    if let Some(organization) = contacts.first().and_then(|c| c.organization.as_deref()) {
        body.push(organization.to_owned());
    }
    if contacts.is_empty() {
        body.push("Unknown caller".to_owned());
    } else {
        body.push(call.from_pretty.clone());
    }
    (title, escape_markup(&body.join("\n")))
}

/// The body of a notification may carry markup (`<b>`, `<a href>`, `<img>`) that the
/// notification server renders: caller data is escaped so that it shows as text.
fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Shows the notification for `call`, off the async threads.
pub fn show(call: &Call) {
    let (title, body) = text(call);
    tauri::async_runtime::spawn_blocking(move || {
        let shown = Notification::new()
            .appname("Ringside")
            .summary(&title)
            .body(&body)
            .icon("call-start")
            .timeout(Timeout::Milliseconds(15_000))
            .show();
        if let Err(e) = shown {
            tracing::info!("no desktop notification: {e}");
        }
    });
}

#[cfg(test)]
mod tests {
    use ringside_core::caller::{CallerMatch, ContactCard};

    use super::*;

    fn call(caller: Option<CallerMatch>) -> Call {
        serde_json::from_value(serde_json::json!({
            "id": 1, "provider": "generic", "call_id": "c1", "direction": "in",
            "state": "newCall", "from": "+4930609854180", "from_comment": null,
            "from_pretty": "+49 30 609854180", "to": "+4930600000000", "to_comment": null,
            "to_pretty": "+49 30 600000000", "queue": null, "comment": null, "done": false,
            "initialized_at": "2026-11-21T09:00:00Z", "start_at": null, "end_at": null,
            "duration_waiting_time": null, "duration_talking_time": null,
            "answered_by": null, "offered_to": null, "caller": caller,
            "created_at": "2026-11-21T09:00:00Z", "updated_at": "2026-11-21T09:00:00Z"
        }))
        .unwrap()
    }

    fn contact(name: &str, organization: Option<&str>) -> ContactCard {
        ContactCard {
            id: Some(1),
            name: name.into(),
            organization: organization.map(str::to_owned),
            email: None,
            profile_url: None,
            tickets: vec![],
        }
    }

    #[test]
    fn markup_in_caller_data_is_escaped_in_the_body() {
        let evil = CallerMatch {
            number: "+4930609854180".into(),
            level: MatchLevel::Known,
            contacts: vec![contact("<img src=x>", Some("<b>Evil</b> & Co"))],
        };
        let (title, body) = text(&call(Some(evil)));
        assert_eq!(title, "Call from <img src=x>", "the summary is plain text");
        assert_eq!(body, "&lt;b&gt;Evil&lt;/b&gt; &amp; Co\n+49 30 609854180");
    }

    #[test]
    fn unknown_callers_are_named_by_number() {
        assert_eq!(
            text(&call(None)),
            ("Call from +49 30 609854180".into(), "Unknown caller".into())
        );
    }

    #[test]
    fn known_maybe_and_several_callers() {
        let known = CallerMatch {
            number: "+4930609854180".into(),
            level: MatchLevel::Known,
            contacts: vec![contact("Carla Customer", Some("Acme GmbH"))],
        };
        assert_eq!(
            text(&call(Some(known.clone()))),
            (
                "Call from Carla Customer".into(),
                "Acme GmbH\n+49 30 609854180".into()
            )
        );
        let maybe = CallerMatch {
            level: MatchLevel::Maybe,
            ..known.clone()
        };
        assert_eq!(
            text(&call(Some(maybe))).0,
            "Call from Carla Customer (maybe)"
        );
        let several = CallerMatch {
            contacts: vec![contact("Carla", None), contact("Dieter", None)],
            ..known
        };
        assert_eq!(text(&call(Some(several))).0, "Call from Carla or 1 more");
    }
}
