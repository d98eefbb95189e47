//! Links into Zammad's web UI (reference §1.4), built in one place for the popup, the
//! journal and the directory: a ticket, a user's profile, and a new ticket for a customer.
//! They are fragments of the single-page app under the instance's base URL, so the desktop
//! app, which opens only links to the help desk's own origin, can open all of them.

/// The instance's base URL with exactly one `/` at its end, whatever the admin wrote.
fn base(url: &str) -> String {
    format!("{}/", url.trim_end_matches('/'))
}

/// A ticket's page: `#ticket/zoom/{id}` (the database id, not the ticket number).
pub fn ticket(url: &str, ticket_id: u64) -> String {
    format!("{}#ticket/zoom/{ticket_id}", base(url))
}

/// A user's profile: `#user/profile/{id}`, where Zammad lists the customer's tickets.
pub fn profile(url: &str, user_id: u64) -> String {
    format!("{}#user/profile/{user_id}", base(url))
}

/// The "new ticket" screen with the customer filled in: `#ticket/create/customer/{id}`.
pub fn new_ticket(url: &str, customer_id: u64) -> String {
    format!("{}#ticket/create/customer/{customer_id}", base(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_zammads_routes_whatever_the_base_ends_with() {
        // Routes from reference §1.4.
        for url in ["https://zammad.example.com", "https://zammad.example.com/"] {
            assert_eq!(
                ticket(url, 42),
                "https://zammad.example.com/#ticket/zoom/42"
            );
            assert_eq!(
                profile(url, 7),
                "https://zammad.example.com/#user/profile/7"
            );
            assert_eq!(
                new_ticket(url, 7),
                "https://zammad.example.com/#ticket/create/customer/7"
            );
        }
        assert_eq!(
            profile("https://example.com/zammad//", 3),
            "https://example.com/zammad/#user/profile/3"
        );
    }
}
