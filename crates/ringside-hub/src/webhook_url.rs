//! Where each PBX webhook lives. The one place that spells the webhooks' paths: the router's
//! routes, the URLs the hub hands to a provider (callbacks) or shows the admin, and the
//! prefixes whose token [`crate::redact`] hides all come from here, so they cannot drift apart.

/// The path prefix of Zammad's generic CTI push API; the token follows.
const GENERIC: &str = "/api/v1/cti/";
/// The path prefix of Placetel's notify API; the token follows.
const PLACETEL: &str = "/api/v1/placetel/";
/// The path prefix of sipgate.io's push API; the token and the direction follow.
const SIPGATE: &str = "/api/v1/sipgate/";
/// The path prefix of Twilio's webhooks; the token and the endpoint follow.
const TWILIO: &str = "/api/v1/twilio/";

/// The path prefixes whose next segment is a webhook token.
pub const TOKEN_PREFIXES: [&str; 4] = [GENERIC, PLACETEL, SIPGATE, TWILIO];

/// A webhook endpoint of the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook<'a> {
    /// Zammad's generic CTI push API.
    Generic,
    /// Placetel's notify API.
    Placetel,
    /// sipgate.io's push API for calls in one direction (`in` or `out`).
    Sipgate(&'a str),
    /// One of Twilio's endpoints (`voice`, `status`, `agents`, `events`).
    Twilio(&'a str),
}

impl Webhook<'_> {
    /// The path of the endpoint with `token` in it.
    pub fn path(self, token: &str) -> String {
        match self {
            Webhook::Generic => format!("{GENERIC}{token}"),
            Webhook::Placetel => format!("{PLACETEL}{token}"),
            Webhook::Sipgate(route) => format!("{SIPGATE}{token}/{route}"),
            Webhook::Twilio(endpoint) => format!("{TWILIO}{token}/{endpoint}"),
        }
    }

    /// The endpoint's URL on the hub at `base` (a trailing `/` of it is dropped).
    pub fn url(self, base: &str, token: &str) -> String {
        format!("{}{}", base.trim_end_matches('/'), self.path(token))
    }

    /// The endpoint's route, as the router matches it (`{token}` captures the token).
    pub fn route(self) -> String {
        self.path("{token}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_routes_spell_the_same_paths() {
        let base = "https://hub.example/";
        assert_eq!(
            Webhook::Generic.url(base, "t"),
            "https://hub.example/api/v1/cti/t"
        );
        assert_eq!(Webhook::Placetel.path("t"), "/api/v1/placetel/t");
        assert_eq!(Webhook::Sipgate("in").path("t"), "/api/v1/sipgate/t/in");
        assert_eq!(
            Webhook::Sipgate("{route}").route(),
            "/api/v1/sipgate/{token}/{route}"
        );
        assert_eq!(
            Webhook::Twilio("status").url("https://h", "t"),
            "https://h/api/v1/twilio/t/status"
        );
        for webhook in [
            Webhook::Generic,
            Webhook::Placetel,
            Webhook::Sipgate("in"),
            Webhook::Twilio("voice"),
        ] {
            let path = webhook.path("t");
            assert!(TOKEN_PREFIXES.iter().any(|p| path.starts_with(p)), "{path}");
        }
    }
}
