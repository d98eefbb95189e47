//! The desktop notification of a call, from the popup's point of view: one notification per
//! call, shown when its popup opens, replaced when the call changes, withdrawn when the popup
//! closes (the call ended, a colleague answered, the agent closed it). Without the
//! withdrawal, every call would leave a notification behind in the notification daemon.
//!
//! Pure: the app carries out the returned [`NotificationAction`]s in order (freedesktop
//! notifications on Linux: replace by id, close).

use std::collections::BTreeMap;

use ringside_core::call::Call;
use ringside_core::caller::MatchLevel;

use crate::state::Effect;

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationText {
    /// The summary line: who is calling. Plain text.
    pub title: String,
    /// The body: organization and number, escaped for servers that render markup.
    pub body: String,
}

/// What the app must do with the notification daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationAction {
    /// Show a new notification for call `call_id`.
    Show {
        /// The call it belongs to.
        call_id: i64,
        /// What it says.
        text: NotificationText,
    },
    /// Replace the notification of call `call_id` with new text.
    Replace {
        /// The call whose notification changes.
        call_id: i64,
        /// What it says now.
        text: NotificationText,
    },
    /// Take the notification of call `call_id` off the screen.
    Withdraw {
        /// The call whose notification goes.
        call_id: i64,
    },
}

/// The calls that have a notification now, and what each says.
#[derive(Debug, Clone, Default)]
pub struct CallNotifications {
    shown: BTreeMap<i64, NotificationText>,
}

impl CallNotifications {
    /// What the reducer's `effect` means for the notifications; `enabled` is the agent's
    /// setting (off: no new notification, but one already shown still follows its call).
    pub fn on_effect(&mut self, effect: &Effect, enabled: bool) -> Option<NotificationAction> {
        match effect {
            Effect::ShowPopup(call) => {
                let text = text(call);
                if self.shown.contains_key(&call.id) {
                    return self.replace(call.id, text);
                }
                if !enabled {
                    return None;
                }
                self.shown.insert(call.id, text.clone());
                Some(NotificationAction::Show {
                    call_id: call.id,
                    text,
                })
            }
            Effect::UpdatePopup(call) => self.replace(call.id, text(call)),
            Effect::ClosePopup(call_id) => self.popup_closed(*call_id),
            Effect::JournalChanged | Effect::PresenceChanged => None,
        }
    }

    /// The popup of `call_id` closed for another reason than the stream (the agent closed
    /// it): its notification goes too.
    pub fn popup_closed(&mut self, call_id: i64) -> Option<NotificationAction> {
        self.shown
            .remove(&call_id)
            .map(|_| NotificationAction::Withdraw { call_id })
    }

    /// Every popup closed at once (the app reconnects): every notification goes.
    pub fn clear(&mut self) -> Vec<NotificationAction> {
        std::mem::take(&mut self.shown)
            .into_keys()
            .map(|call_id| NotificationAction::Withdraw { call_id })
            .collect()
    }

    /// Replaces the shown notification of `call_id` when its text changed.
    fn replace(&mut self, call_id: i64, text: NotificationText) -> Option<NotificationAction> {
        let shown = self.shown.get_mut(&call_id)?;
        if *shown == text {
            return None;
        }
        *shown = text.clone();
        Some(NotificationAction::Replace { call_id, text })
    }
}

/// Title and body of the notification for a call.
pub fn text(call: &Call) -> NotificationText {
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
    if let Some(who) = call.answered_by.as_deref() {
        body.push(format!("Answered by {who}"));
    }
    NotificationText {
        title,
        body: escape_markup(&body.join("\n")),
    }
}

/// The body of a notification may carry markup (`<b>`, `<a href>`, `<img>`) that the
/// notification server renders: caller data is escaped so that it shows as text.
fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use ringside_core::caller::{CallerMatch, ContactCard};

    use super::*;

    fn call(id: i64, caller: Option<CallerMatch>) -> Call {
        serde_json::from_value(serde_json::json!({
            "id": id, "provider": "generic", "call_id": "c1", "direction": "in",
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
            new_ticket_url: None,
            source: ringside_core::caller::ContactSource::Import,
            tickets: vec![],
        }
    }

    fn carla() -> CallerMatch {
        CallerMatch {
            number: "+4930609854180".into(),
            level: MatchLevel::Known,
            contacts: vec![contact("Carla Customer", Some("Acme GmbH"))],
        }
    }

    fn show(call: Call) -> Effect {
        Effect::ShowPopup(Box::new(call))
    }

    fn update(call: Call) -> Effect {
        Effect::UpdatePopup(Box::new(call))
    }

    #[test]
    fn a_popup_shows_one_notification_that_goes_when_the_popup_closes() {
        let mut board = CallNotifications::default();
        assert_eq!(
            board.on_effect(&show(call(7, None)), true),
            Some(NotificationAction::Show {
                call_id: 7,
                text: NotificationText {
                    title: "Call from +49 30 609854180".into(),
                    body: "Unknown caller".into()
                }
            })
        );
        assert_eq!(
            board.on_effect(&Effect::ClosePopup(7), true),
            Some(NotificationAction::Withdraw { call_id: 7 })
        );
        assert_eq!(
            board.on_effect(&Effect::ClosePopup(7), true),
            None,
            "withdrawn once"
        );
    }

    #[test]
    fn a_changed_call_replaces_its_notification_an_unchanged_one_does_not() {
        let mut board = CallNotifications::default();
        board.on_effect(&show(call(7, None)), true);
        assert_eq!(board.on_effect(&update(call(7, None)), true), None);
        let found = board.on_effect(&update(call(7, Some(carla()))), true);
        assert_eq!(
            found,
            Some(NotificationAction::Replace {
                call_id: 7,
                text: NotificationText {
                    title: "Call from Carla Customer".into(),
                    body: "Acme GmbH\n+49 30 609854180".into()
                }
            })
        );
        let mut answered = call(7, Some(carla()));
        answered.answered_by = Some("alice".into());
        let Some(NotificationAction::Replace { text, .. }) =
            board.on_effect(&update(answered), true)
        else {
            panic!("an answer replaces the notification");
        };
        assert!(text.body.ends_with("Answered by alice"), "{text:?}");
    }

    #[test]
    fn calls_without_a_notification_get_no_replace_or_withdraw() {
        let mut board = CallNotifications::default();
        assert_eq!(board.on_effect(&update(call(3, None)), true), None);
        assert_eq!(board.on_effect(&Effect::ClosePopup(3), true), None);
        assert_eq!(board.on_effect(&Effect::JournalChanged, true), None);
    }

    #[test]
    fn notifications_off_shows_none_but_a_shown_one_still_goes() {
        let mut board = CallNotifications::default();
        assert_eq!(board.on_effect(&show(call(1, None)), false), None);
        assert_eq!(board.on_effect(&Effect::ClosePopup(1), false), None);
        board.on_effect(&show(call(2, None)), true);
        assert_eq!(
            board.on_effect(&Effect::ClosePopup(2), false),
            Some(NotificationAction::Withdraw { call_id: 2 })
        );
    }

    #[test]
    fn a_dismissed_popup_and_a_reconnect_withdraw_theirs() {
        let mut board = CallNotifications::default();
        board.on_effect(&show(call(1, None)), true);
        board.on_effect(&show(call(2, None)), true);
        board.on_effect(&show(call(3, None)), true);
        assert_eq!(
            board.popup_closed(2),
            Some(NotificationAction::Withdraw { call_id: 2 })
        );
        assert_eq!(board.popup_closed(2), None);
        assert_eq!(
            board.clear(),
            vec![
                NotificationAction::Withdraw { call_id: 1 },
                NotificationAction::Withdraw { call_id: 3 }
            ]
        );
        assert!(board.clear().is_empty());
    }

    #[test]
    fn a_popup_shown_again_replaces_instead_of_adding() {
        let mut board = CallNotifications::default();
        board.on_effect(&show(call(1, None)), true);
        assert!(matches!(
            board.on_effect(&show(call(1, Some(carla()))), true),
            Some(NotificationAction::Replace { call_id: 1, .. })
        ));
    }

    #[test]
    fn markup_in_caller_data_is_escaped_in_the_body() {
        let evil = CallerMatch {
            number: "+4930609854180".into(),
            level: MatchLevel::Known,
            contacts: vec![contact("<img src=x>", Some("<b>Evil</b> & Co"))],
        };
        let shown = text(&call(1, Some(evil)));
        assert_eq!(
            shown.title, "Call from <img src=x>",
            "the summary is plain text"
        );
        assert_eq!(
            shown.body,
            "&lt;b&gt;Evil&lt;/b&gt; &amp; Co\n+49 30 609854180"
        );
    }

    #[test]
    fn maybe_and_several_callers() {
        let maybe = CallerMatch {
            level: MatchLevel::Maybe,
            ..carla()
        };
        assert_eq!(
            text(&call(1, Some(maybe))).title,
            "Call from Carla Customer (maybe)"
        );
        let several = CallerMatch {
            contacts: vec![contact("Carla", None), contact("Dieter", None)],
            ..carla()
        };
        assert_eq!(
            text(&call(1, Some(several))).title,
            "Call from Carla or 1 more"
        );
    }
}
