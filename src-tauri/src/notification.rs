//! The native notification of a call (freedesktop notifications on Linux). It is a
//! courtesy next to the popup: when the desktop has no notification service, the failure is
//! logged and nothing else changes. What to show, replace or withdraw for which call is
//! decided by [`ringside_client::call_notification`]; this carries it out, in order, on a
//! thread of its own (the D-Bus calls block).

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};

use notify_rust::{Notification, NotificationHandle, Timeout};
use ringside_client::call_notification::{NotificationAction, NotificationText};

/// Sends the notification actions to the thread that talks to the notification daemon.
#[derive(Debug)]
pub struct Notifier {
    actions: Sender<NotificationAction>,
}

impl Notifier {
    /// Starts the notification thread.
    pub fn start() -> Notifier {
        let (actions, received) = mpsc::channel();
        let started = std::thread::Builder::new()
            .name("notifications".into())
            .spawn(move || carry_out_all(received));
        if let Err(e) = started {
            tracing::warn!("no desktop notifications: {e}");
        }
        Notifier { actions }
    }

    /// Queues one action; they are carried out in the order given.
    pub fn carry_out(&self, action: NotificationAction) {
        // The thread only ends with the app.
        let _ = self.actions.send(action);
    }
}

fn carry_out_all(actions: Receiver<NotificationAction>) {
    let mut shown: HashMap<i64, NotificationHandle> = HashMap::new();
    for action in actions {
        match action {
            NotificationAction::Show { call_id, text } => {
                match fill(&mut Notification::new(), &text).show() {
                    Ok(handle) => {
                        shown.insert(call_id, handle);
                    }
                    Err(e) => tracing::info!("no desktop notification: {e}"),
                }
            }
            NotificationAction::Replace { call_id, text } => {
                if let Some(handle) = shown.get_mut(&call_id) {
                    fill(handle, &text);
                    if let Err(e) = handle.update() {
                        tracing::info!("replacing a desktop notification: {e}");
                    }
                }
            }
            NotificationAction::Withdraw { call_id } => {
                if let Some(handle) = shown.remove(&call_id) {
                    handle.close();
                }
            }
        }
    }
}

/// The notification's look: no timeout of its own, it lasts as long as the call's popup.
fn fill<'a>(notification: &'a mut Notification, text: &NotificationText) -> &'a mut Notification {
    notification
        .appname("Ringside")
        .summary(&text.title)
        .body(&text.body)
        .icon("call-start")
        .timeout(Timeout::Never)
}
