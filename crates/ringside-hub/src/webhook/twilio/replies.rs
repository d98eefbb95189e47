//! The TwiML answers and the callback URL both of Twilio's flows (ring-all in
//! [`super::calls`], simple-queue in [`super::queue`]) give.

use ringside_providers::twilio::{twiml, CallInfo};

use crate::state::Hub;
use crate::webhook_url::Webhook;

/// The answer to a voice URL request for a call the hub already answered: `<Reject
/// reason="busy"/>`, which rings nobody. Twilio acts only on the answer to the request it
/// is waiting for, so a replay's answer goes nowhere; and if Twilio itself asks again (it
/// retries a request whose answer did not reach it), `<Reject>` as the first verb ends the
/// call as busy without answering or billing it (reference §1.5), the caller can call
/// again, and the call's final status callback closes the journal entry.
pub fn repeated(call: &CallInfo) -> String {
    tracing::warn!(
        "Twilio voice request for call {} repeated: the call was already offered, nobody \
         is rung again",
        call.call_sid
    );
    twiml::reject_busy()
}

/// Tells the caller nobody is available and hangs up.
pub fn nobody(hub: &Hub) -> String {
    let config = &hub.settings.config.twilio;
    twiml::say_and_hang_up(&config.no_agent_message, &config.language)
}

/// Where Twilio reports legs, the end of a dial or of a wait in a queue, and a dequeue.
pub fn status_url(hub: &Hub) -> String {
    let config = &hub.settings.config;
    Webhook::Twilio("status").url(&config.public_url, &config.twilio.token)
}
