//! Delivers one ticket job of the outbox (a call logged as a Zammad ticket) through
//! Zammad's REST API: a new phone ticket for the customer, or an article on the customer's
//! open call ticket for the same number within the window. A job whose post had begun
//! before (the hub stopped or lost the answer) is first looked for in Zammad by its marker,
//! so that Zammad gets it once.

use ringside_core::call::CallTicket;
use ringside_providers::zammad::call_log::{self, TicketJob};
use ringside_providers::zammad::{links, tickets, Ticket};

use super::delivery::Outcome;
use crate::store::OutboxItem;
use crate::zammad::client::{ZammadClient, ZammadError, TICKET_WRITE};

/// Delivers the job in `item` with `client`; the ticket's links start at `url`.
pub async fn deliver(client: &ZammadClient, url: &str, item: &OutboxItem) -> Outcome {
    let job = match TicketJob::from_json(&item.body) {
        Ok(job) => job,
        Err(e) => return Outcome::Refused(format!("the ticket job is unreadable: {e}")),
    };
    match deliver_job(client, &job, item.sent_before).await {
        Ok(ticket) => Outcome::Logged(CallTicket {
            id: ticket.id,
            url: links::ticket(url, ticket.id),
            number: ticket.number,
        }),
        Err(e) if worth_retrying(&e) => Outcome::Retry(e.to_string()),
        Err(e) => Outcome::Refused(e.to_string()),
    }
}

async fn deliver_job(
    client: &ZammadClient,
    job: &TicketJob,
    sent_before: bool,
) -> Result<Ticket, ZammadError> {
    let customer_tickets = if sent_before || job.window_hours > 0 {
        let body = client
            .get(
                "ticket_customer",
                &[("customer_id", job.customer_id.to_string())],
                TICKET_WRITE,
            )
            .await?;
        tickets::customer(&body).map_err(|cause| ZammadError::Wire {
            what: "GET /api/v1/ticket_customer".into(),
            cause,
        })?
    } else {
        Default::default()
    };
    if sent_before {
        if let Some(ticket) = job.created_before(&customer_tickets) {
            return Ok(ticket.clone());
        }
    }
    if let Some(open) = job.open_ticket_in_window(&customer_tickets) {
        if sent_before {
            let articles = client
                .get(
                    &format!("ticket_articles/by_ticket/{}", open.id),
                    &[],
                    TICKET_WRITE,
                )
                .await?;
            let posted = job
                .posted_before(&articles)
                .map_err(|cause| ZammadError::Wire {
                    what: "GET /api/v1/ticket_articles/by_ticket".into(),
                    cause,
                })?;
            if posted {
                return Ok(open.clone());
            }
        }
        post_on_behalf(client, "ticket_articles", &job.article(open.id), job).await?;
        return Ok(open.clone());
    }
    let body = post_on_behalf(client, "tickets", &job.new_ticket(), job).await?;
    call_log::created(&body).map_err(|cause| ZammadError::Wire {
        what: "POST /api/v1/tickets".into(),
        cause,
    })
}

/// Posts on behalf of the answering agent's Zammad user when known; when Zammad refuses
/// that (the token lacks `admin.user`, or the user is gone), posts as the token's user:
/// the article names the agent in its text either way.
async fn post_on_behalf(
    client: &ZammadClient,
    path: &str,
    body: &serde_json::Value,
    job: &TicketJob,
) -> Result<Vec<u8>, ZammadError> {
    if let Some(user) = job.on_behalf_of {
        match client.post(path, body, Some(user), TICKET_WRITE).await {
            Err(ZammadError::Forbidden { .. } | ZammadError::TokenRefused { .. }) => {
                tracing::info!(
                    "Zammad refused to post on behalf of user {user}; posting as the token's user"
                );
            }
            result => return result,
        }
    }
    client.post(path, body, None, TICKET_WRITE).await
}

/// Whether a later try may succeed: Zammad unreachable, slow, failing on its side, or
/// throttling.
fn worth_retrying(e: &ZammadError) -> bool {
    match e {
        ZammadError::Unreachable { .. } | ZammadError::Timeout { .. } => true,
        ZammadError::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
        _ => false,
    }
}
