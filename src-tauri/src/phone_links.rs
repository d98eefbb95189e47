//! `tel:` and `callto:` links clicked anywhere on the desktop (the help desk in the browser,
//! a mail): the app is their handler, and dials them through the hub.

use std::time::Duration;

use ringside_client::links;
use tauri::{AppHandle, Emitter, Manager};
use url::Url;

use crate::desktop::{self, Desktop, Notice, NoticeLevel};

/// How long a link clicked while the app starts waits for the connection.
const PATIENCE: Duration = Duration::from_secs(15);

/// Dials every phone link among `urls`, telling the agent in the main window how it went.
pub fn open(app: &AppHandle, urls: Vec<Url>) {
    for url in urls {
        let Some(number) = links::phone_number(&url) else {
            tracing::info!("ignoring a link that is not a phone number: {url}");
            continue;
        };
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            let notice = match dial(&app, &number).await {
                Ok(message) => Notice {
                    level: NoticeLevel::Info,
                    message,
                },
                Err(message) => Notice {
                    level: NoticeLevel::Error,
                    message,
                },
            };
            crate::show_main_window(&app);
            if let Err(e) = app.emit("notice", &notice) {
                tracing::warn!("showing a notice: {e}");
            }
        });
    }
}

async fn dial(app: &AppHandle, number: &str) -> Result<String, String> {
    let desktop = app.state::<Desktop>();
    let client = desktop::wait_for_client(&desktop, PATIENCE)
        .await
        .map_err(|e| format!("Could not dial {number}: {}", e.message))?;
    let dialed = client
        .dial(number)
        .await
        .map_err(|e| format!("Could not dial {number}: {e}"))?;
    if dialed.via == "tel" {
        // Opening the tel: link would come straight back here.
        return Err(format!(
            "No phone provider dials for you, so Ringside cannot call {} from a link. \
             Ask the admin to set your provider id, or open the link in your softphone.",
            dialed.number
        ));
    }
    Ok(format!(
        "Calling {}: {} is ringing your phone first.",
        dialed.number,
        provider_name(&dialed.via)
    ))
}

fn provider_name(via: &str) -> &str {
    match via {
        "placetel" => "Placetel",
        "sipgate" => "sipgate",
        "twilio" => "Twilio",
        other => other,
    }
}
