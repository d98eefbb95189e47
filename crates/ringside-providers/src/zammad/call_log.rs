//! Calls logged as Zammad tickets (reference §1.6): what the hub queues for a call (a
//! [`TicketJob`], composed from the call when it ends or when an agent asks), the JSON of
//! `POST /api/v1/tickets` and `POST /api/v1/ticket_articles` made from it, and how the
//! hub recognizes in Zammad's answers a ticket or an article it posted before (its
//! [`TicketJob::marker`]), so that a post whose answer was lost is not repeated.
//! Pure: the hub does the HTTP.

use ringside_core::call::{Call, CallState, Direction};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

use super::tickets::{CustomerTickets, Ticket};
use super::{json as parse, shape, ZammadWireError};

/// Which calls are logged, from `[zammad] log_calls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogCalls {
    /// None: tickets only when an agent asks for one.
    #[default]
    Off,
    /// Inbound calls nobody answered.
    Missed,
    /// Missed calls, and answered inbound calls as the answering agent's article.
    All,
}

impl LogCalls {
    /// Reads the configured word.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "off" => Some(LogCalls::Off),
            "missed" => Some(LogCalls::Missed),
            "all" => Some(LogCalls::All),
            _ => None,
        }
    }

    /// Whether a call that just ended (`call`, in state hangup) is logged: an inbound call
    /// nobody answered and that was not forwarded (Zammad's own "missed"), with `missed` or
    /// `all`; an inbound call that was answered, with `all`.
    pub fn logs(self, call: &Call) -> bool {
        if call.direction != Direction::In || call.state != CallState::Ended {
            return false;
        }
        match self {
            LogCalls::Off => false,
            LogCalls::Missed => is_missed(call),
            LogCalls::All => is_missed(call) || call.start_at.is_some(),
        }
    }
}

/// Whether an ended inbound call is missed: never answered, and not forwarded elsewhere.
pub fn is_missed(call: &Call) -> bool {
    call.direction == Direction::In
        && call.start_at.is_none()
        && call.comment.as_deref() != Some("forwarded")
}

/// The customer a call is logged for: a Zammad user the caller's number belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// Zammad's user id.
    pub id: u64,
    /// The name the hub shows for them.
    pub name: String,
}

/// The people of the hub a call concerns, by name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Agents {
    /// The agents the call rang for (empty: every agent).
    pub rung: Vec<String>,
    /// The agent who answered, when the hub could tell.
    pub answered_by: Option<String>,
    /// The answering agent's Zammad user id, when the hub knows it: the article is then
    /// written on their behalf (`From:` header).
    pub answered_by_zammad: Option<u64>,
}

/// What to log for one call, queued in the hub's outbox as JSON and delivered later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketJob {
    /// The hub's id of the call (its journal entry).
    pub call: i64,
    /// Zammad's user id of the customer.
    pub customer_id: u64,
    /// The group the ticket goes to.
    pub group: String,
    /// The ticket's title.
    pub title: String,
    /// The article's subject.
    pub subject: String,
    /// The article's text: who called, when, how long, who was rung and who answered.
    pub body: String,
    /// `Customer` for a missed call (the customer reached out), `Agent` for a call an
    /// agent took.
    pub sender: String,
    /// The caller's number as the title shows it, to find the customer's open call ticket
    /// for the same number.
    pub number: String,
    /// When the call ended (or the job was asked for).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Hours back within which an open call ticket of the customer about the same number
    /// gets the call as an article instead of a new ticket; 0: always a new ticket.
    pub window_hours: u64,
    /// The Zammad user the article is written on behalf of, when known.
    pub on_behalf_of: Option<u64>,
}

/// The title words of a missed call's ticket, which also find the open one for a number.
const MISSED_TITLE: &str = "Missed call from";
/// The title words of a taken call's ticket.
const CALL_TITLE: &str = "Call with";

impl TicketJob {
    /// The job for `call` from `customer`: a missed call's ticket (sender Customer) or an
    /// answered or outbound call's (sender Agent). Times are written in UTC, said so.
    pub fn compose(
        call: &Call,
        customer: &Customer,
        agents: &Agents,
        group: &str,
        window_hours: u64,
        now: OffsetDateTime,
    ) -> TicketJob {
        let missed = call.state == CallState::Ended && is_missed(call);
        let pretty = match call.direction {
            Direction::In => &call.from_pretty,
            Direction::Out => &call.to_pretty,
        };
        let title = if missed {
            format!("{MISSED_TITLE} {} ({pretty})", customer.name)
        } else {
            format!("{CALL_TITLE} {} ({pretty})", customer.name)
        };
        let mut lines = vec![
            format!("Caller: {} ({pretty})", customer.name),
            format!(
                "Direction: {}",
                match call.direction {
                    Direction::In => "inbound",
                    Direction::Out => "outbound",
                }
            ),
        ];
        if let Some(at) = call.initialized_at {
            lines.push(format!("Time: {}", utc(at)));
        }
        if let Some(wait) = call.duration_waiting_time {
            lines.push(format!("Waiting time: {}", duration(wait)));
        }
        if let Some(talk) = call.duration_talking_time {
            lines.push(format!("Talking time: {}", duration(talk)));
        }
        lines.push(format!(
            "Rung: {}",
            if agents.rung.is_empty() {
                "every agent".to_owned()
            } else {
                agents.rung.join(", ")
            }
        ));
        lines.push(format!(
            "Answered by: {}",
            match (&agents.answered_by, missed) {
                (_, true) => "nobody (missed)".to_owned(),
                (Some(name), false) => name.clone(),
                (None, false) => "unknown".to_owned(),
            }
        ));
        let mut job = TicketJob {
            call: call.id,
            customer_id: customer.id,
            group: group.to_owned(),
            subject: title.clone(),
            title,
            body: String::new(),
            sender: if missed { "Customer" } else { "Agent" }.to_owned(),
            number: pretty.clone(),
            at: call.end_at.unwrap_or(now),
            window_hours,
            on_behalf_of: if missed {
                None
            } else {
                agents.answered_by_zammad
            },
        };
        lines.push(format!("Reference: {}", job.marker()));
        job.body = lines.join("\n");
        job.title = format!("{} {}", job.title, job.marker());
        job
    }

    /// What marks this call's ticket and article in Zammad, in the title and the text:
    /// how a post whose answer was lost is found again.
    pub fn marker(&self) -> String {
        format!("[ringside call {}]", self.call)
    }

    /// The JSON of `POST /api/v1/tickets`: title, group, customer and the first article,
    /// a phone article written as an internal note (it names agents and times, which is
    /// for the team, not the customer).
    pub fn new_ticket(&self) -> Value {
        json!({
            "title": self.title,
            "group": self.group,
            "customer_id": self.customer_id,
            "article": self.article_fields(),
        })
    }

    /// The JSON of `POST /api/v1/ticket_articles`: the call as a phone article on the
    /// customer's open ticket `ticket_id`.
    pub fn article(&self, ticket_id: u64) -> Value {
        let mut article = self.article_fields();
        article["ticket_id"] = json!(ticket_id);
        article
    }

    fn article_fields(&self) -> Value {
        json!({
            "subject": self.subject,
            "body": self.body,
            "type": "phone",
            "internal": true,
            "sender": self.sender,
        })
    }

    /// The ticket of `tickets` this job created before, found by the marker in its title.
    pub fn created_before<'a>(&self, tickets: &'a CustomerTickets) -> Option<&'a Ticket> {
        let marker = self.marker();
        tickets
            .open
            .iter()
            .chain(&tickets.closed)
            .find(|ticket| ticket.title.contains(&marker))
    }

    /// The customer's open call ticket about the same number that changed within the
    /// window before the call, newest first: the one the call is added to.
    pub fn open_ticket_in_window<'a>(&self, tickets: &'a CustomerTickets) -> Option<&'a Ticket> {
        if self.window_hours == 0 {
            return None;
        }
        let since = self.at - time::Duration::hours(self.window_hours as i64);
        let number = format!("({})", self.number);
        tickets.open.iter().find(|ticket| {
            let is_call_ticket =
                ticket.title.starts_with(MISSED_TITLE) || ticket.title.starts_with(CALL_TITLE);
            let recent = ticket
                .updated_at
                .or(ticket.created_at)
                .is_some_and(|at| at >= since);
            is_call_ticket && ticket.title.contains(&number) && recent
        })
    }

    /// Whether one of `articles` (`GET /api/v1/ticket_articles/by_ticket/{id}`) is the
    /// one this job posted before, found by the marker in its text.
    pub fn posted_before(&self, articles: &[u8]) -> Result<bool, ZammadWireError> {
        let value = parse(articles)?;
        let Value::Array(articles) = &value else {
            return Err(shape("an array of articles", &value));
        };
        let marker = self.marker();
        Ok(articles.iter().any(|article| {
            article["body"]
                .as_str()
                .is_some_and(|body| body.contains(&marker))
        }))
    }

    /// Reads the JSON text the outbox keeps.
    pub fn from_json(text: &str) -> Result<TicketJob, ZammadWireError> {
        serde_json::from_str(text).map_err(|e| ZammadWireError::NotJson(e.to_string()))
    }

    /// The JSON text the outbox keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a ticket job serializes")
    }
}

/// The ticket Zammad answered `POST /api/v1/tickets` with: its id and number.
pub fn created(body: &[u8]) -> Result<Ticket, ZammadWireError> {
    let value = parse(body)?;
    match &value {
        Value::Object(map) => super::tickets::ticket(map),
        other => Err(shape("the created ticket", other)),
    }
}

/// A time as the article says it: `2026-12-04 09:15:00 UTC`.
fn utc(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second]"
    ))
    .map(|text| format!("{text} UTC"))
    .unwrap_or_else(|_| at.format(&Rfc3339).unwrap_or_default())
}

/// Seconds as people read them: `45 s`, `3 min 05 s`.
fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{} min {:02} s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::call::Provider;
    use time::macros::datetime;

    use super::*;

    fn call(answered: bool) -> Call {
        let start = datetime!(2026-12-04 09:15:00 UTC);
        Call {
            id: 17,
            provider: Provider::Generic,
            call_id: "c1".into(),
            direction: Direction::In,
            state: CallState::Ended,
            from: "+4930123456".into(),
            from_comment: Some("Nicole Braun".into()),
            from_pretty: "+49 30 123456".into(),
            to: "+4930600000000".into(),
            to_comment: None,
            to_pretty: "+49 30 600000000".into(),
            queue: None,
            comment: Some(if answered { "normalClearing" } else { "cancel" }.into()),
            done: answered,
            initialized_at: Some(start),
            start_at: answered.then_some(start + time::Duration::seconds(12)),
            end_at: Some(start + time::Duration::seconds(200)),
            duration_waiting_time: Some(12),
            duration_talking_time: answered.then_some(188),
            answered_by: answered.then(|| "anna".into()),
            offered_to: Some(vec!["anna".into(), "bert".into()]),
            caller: None,
            ticket: None,
            created_at: start,
            updated_at: start,
        }
    }

    fn nicole() -> Customer {
        Customer {
            id: 2,
            name: "Nicole Braun".into(),
        }
    }

    #[test]
    fn which_calls_are_logged() {
        let missed = call(false);
        let answered = call(true);
        let forwarded = Call {
            comment: Some("forwarded".into()),
            ..call(false)
        };
        assert!(!LogCalls::Off.logs(&missed));
        assert!(LogCalls::Missed.logs(&missed));
        assert!(!LogCalls::Missed.logs(&answered));
        assert!(LogCalls::All.logs(&answered));
        assert!(!LogCalls::All.logs(&forwarded), "Zammad: not missed");
        let ringing = Call {
            state: CallState::Ringing,
            ..call(false)
        };
        assert!(!LogCalls::All.logs(&ringing));
        assert_eq!(LogCalls::parse("missed"), Some(LogCalls::Missed));
        assert_eq!(LogCalls::parse("sometimes"), None);
    }

    #[test]
    fn a_missed_call_becomes_a_customer_phone_ticket_with_the_calls_facts() {
        let agents = Agents {
            rung: vec!["Anna Agent".into(), "Bert Agent".into()],
            ..Agents::default()
        };
        let job = TicketJob::compose(
            &call(false),
            &nicole(),
            &agents,
            "Users",
            0,
            datetime!(2026-12-04 10:00 UTC),
        );
        let ticket = job.new_ticket();
        assert_eq!(
            ticket["title"],
            "Missed call from Nicole Braun (+49 30 123456) [ringside call 17]"
        );
        assert_eq!(ticket["group"], "Users");
        assert_eq!(ticket["customer_id"], 2);
        let article = &ticket["article"];
        assert_eq!(article["type"], "phone");
        assert_eq!(article["sender"], "Customer");
        assert_eq!(article["internal"], true);
        let body = article["body"].as_str().unwrap();
        for line in [
            "Caller: Nicole Braun (+49 30 123456)",
            "Time: 2026-12-04 09:15:00 UTC",
            "Waiting time: 12 s",
            "Rung: Anna Agent, Bert Agent",
            "Answered by: nobody (missed)",
            "[ringside call 17]",
        ] {
            assert!(body.contains(line), "{line:?} in {body}");
        }
        let again = TicketJob::from_json(&job.to_json()).unwrap();
        assert_eq!(again, job);
    }

    #[test]
    fn an_answered_call_is_the_agents_article_and_goes_on_an_open_call_ticket_in_the_window() {
        let agents = Agents {
            rung: vec![],
            answered_by: Some("Anna Agent".into()),
            answered_by_zammad: Some(9),
        };
        let job = TicketJob::compose(
            &call(true),
            &nicole(),
            &agents,
            "Users",
            24,
            datetime!(2026-12-04 10:00 UTC),
        );
        assert!(job
            .title
            .starts_with("Call with Nicole Braun (+49 30 123456)"));
        assert_eq!(job.sender, "Agent");
        assert_eq!(job.on_behalf_of, Some(9));
        assert!(job.body.contains("Talking time: 3 min 08 s"));
        assert!(job.body.contains("Answered by: Anna Agent"));
        assert!(job.body.contains("Rung: every agent"));
        let article = job.article(5);
        assert_eq!(article["ticket_id"], 5);
        assert_eq!(article["type"], "phone");

        let ticket = |id: u64, title: &str, hours_ago: i64| Ticket {
            id,
            number: format!("5300{id}"),
            title: title.into(),
            state_id: Some(2),
            state: None,
            customer_id: Some(2),
            organization_id: None,
            created_at: None,
            updated_at: Some(job.at - time::Duration::hours(hours_ago)),
        };
        let tickets = CustomerTickets {
            open: vec![
                ticket(1, "Printer broken", 1),
                ticket(
                    2,
                    "Missed call from Nicole Braun (+49 30 999) [ringside call 3]",
                    1,
                ),
                ticket(
                    3,
                    "Missed call from Nicole Braun (+49 30 123456) [ringside call 4]",
                    30,
                ),
                ticket(
                    4,
                    "Missed call from Nicole Braun (+49 30 123456) [ringside call 5]",
                    2,
                ),
            ],
            closed: vec![ticket(
                6,
                "Call with Nicole Braun (+49 30 123456) [ringside call 17]",
                0,
            )],
        };
        assert_eq!(job.open_ticket_in_window(&tickets).map(|t| t.id), Some(4));
        assert_eq!(job.created_before(&tickets).map(|t| t.id), Some(6));
        let no_window = TicketJob {
            window_hours: 0,
            ..job.clone()
        };
        assert_eq!(no_window.open_ticket_in_window(&tickets), None);

        let articles = serde_json::json!([{"id": 1, "body": "hello"},
            {"id": 2, "body": "Caller: …\nReference: [ringside call 17]"}]);
        assert!(job.posted_before(articles.to_string().as_bytes()).unwrap());
        assert!(!job.posted_before(b"[]").unwrap());
    }

    #[test]
    fn zammads_created_ticket_gives_its_id_and_number() {
        let ticket =
            created(br#"{"id": 12, "number": "53012", "title": "x", "group_id": 1}"#).unwrap();
        assert_eq!((ticket.id, ticket.number.as_str()), (12, "53012"));
        assert!(created(b"[]").is_err());
    }
}
