//! Phone links the desktop hands to the app (it is their handler): `tel:` and `callto:`
//! links clicked anywhere on the desktop. What happens to them is the session's
//! (`ringside_client::session`): the prompt, the dial, the notice.

use tauri::{AppHandle, Manager};
use url::Url;

use crate::desktop::Desktop;

/// Follows every phone link among `urls` the desktop handed to the app.
pub fn open(app: &AppHandle, urls: Vec<Url>) {
    let desktop = app.state::<Desktop>();
    for url in urls {
        match ringside_client::links::phone_number(&url) {
            Some(number) => desktop.session.follow_desktop_link(number),
            None => tracing::info!("ignoring a link that is not a phone number: {url}"),
        }
    }
}
