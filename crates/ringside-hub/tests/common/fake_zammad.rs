//! A fake Zammad: a real HTTP server on `127.0.0.1:0` built from Zammad's documented REST
//! API (token authentication, paged users and organizations with a hard `per_page` cap,
//! user search with and without Elasticsearch, ticket states, a customer's tickets, ticket
//! search, also by creation time and paged, creating tickets and articles (reference §1.6),
//! a ticket's articles, creating a user). It refuses what the real one refuses (401 for a
//! missing or wrong token or API token access off, 403 for a permission the token lacks or
//! a `From:` header without `admin.user`, 422 for a ticket without title, group, customer
//! or article and for a user with nothing that identifies them) and records every request.
//! It can be slow (every answer after a delay) or down (503 for everything, as the proxy in
//! front of a stopped Zammad answers), and counts the ticket lists being answered at once.
#![allow(dead_code)] // each test binary uses a different part of the fake

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::watch;

/// The token the fake accepts.
pub const ZAMMAD_TOKEN: &str = "zammad-api-token-0123456789";

/// The most records a page holds, whatever `per_page` asks (Zammad's caps cannot be raised).
pub const PER_PAGE_CAP: usize = 50;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The path and query.
    pub uri: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

/// What the fake holds and how it behaves; tests change it between requests.
#[derive(Debug)]
pub struct ZammadData {
    /// Users by id, as Zammad sends them.
    pub users: Vec<Map<String, Value>>,
    /// Organizations, as Zammad sends them.
    pub organizations: Vec<Map<String, Value>>,
    /// Tickets, as Zammad sends them (without expansion).
    pub tickets: Vec<Map<String, Value>>,
    /// Articles by ticket id, oldest first, as Zammad sends them expanded.
    pub articles: HashMap<u64, Vec<Map<String, Value>>>,
    /// Tickets whose articles are refused (403), as for a ticket moved to a group the
    /// token cannot read between the search and the read.
    pub refused_articles: Vec<u64>,
    /// Whether Elasticsearch is configured.
    pub elasticsearch: bool,
    /// Whether the admin turned on API Token Access.
    pub api_token_access: bool,
    /// The permissions of the token.
    pub permissions: Vec<&'static str>,
    /// Every request received, in order.
    pub requests: Vec<Recorded>,
    /// Status codes the next requests get instead of their answer (a failing Zammad).
    pub fail_next: Vec<StatusCode>,
    /// The one path `fail_next` fails (any, when `None`): the requests a call sends beside
    /// (its popup's ticket list) then keep their answers.
    pub fail_only: Option<&'static str>,
    /// Whether lists answer the first page whatever `page` says (a proxy that drops the
    /// query string, say).
    pub ignores_paging: bool,
    /// How long every answer waits (a slow Zammad).
    pub delay: Duration,
    /// Whether every request is answered 503 (Zammad stopped behind its proxy).
    pub down: bool,
    /// Customer ticket lists (`ticket_customer`) being answered now.
    pub tickets_in_flight: tokio::sync::watch::Sender<usize>,
    /// The most customer ticket lists that were answered at once.
    pub max_tickets_in_flight: usize,
    /// The groups tickets may go to.
    pub groups: Vec<&'static str>,
    /// Whether a created ticket or article is kept but never answered (the answer is lost,
    /// as when the hub dies while Zammad works).
    pub swallow_answers: bool,
    /// The bodies of the users created (`POST /api/v1/users`), in order.
    pub created: Vec<Value>,
    /// While true, a page of `GET /api/v1/users` (of more than the one user a connection
    /// check asks for) is read at once but answered only once it turns false: a slow page,
    /// while others change the users.
    pub users_held: watch::Sender<bool>,
    /// How many pages of users have waited while held.
    pub users_waited: watch::Sender<u32>,
}

/// A running fake Zammad.
#[derive(Clone)]
pub struct FakeZammad {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// Its data, shared with the server.
    pub data: Arc<Mutex<ZammadData>>,
    /// Turns true to stop the server: Zammad down.
    stop: Arc<watch::Sender<bool>>,
}

impl FakeZammad {
    /// Starts a fake with Elasticsearch or without, a token with `ticket.agent`, and the
    /// three ticket states `new`, `open`, `closed`.
    pub async fn start(elasticsearch: bool) -> FakeZammad {
        let data = Arc::new(Mutex::new(ZammadData {
            users: Vec::new(),
            organizations: Vec::new(),
            tickets: Vec::new(),
            articles: HashMap::new(),
            refused_articles: Vec::new(),
            elasticsearch,
            api_token_access: true,
            permissions: vec!["ticket.agent"],
            requests: Vec::new(),
            fail_next: Vec::new(),
            fail_only: None,
            ignores_paging: false,
            delay: Duration::ZERO,
            down: false,
            tickets_in_flight: tokio::sync::watch::Sender::new(0),
            max_tickets_in_flight: 0,
            groups: vec!["Users"],
            swallow_answers: false,
            created: Vec::new(),
            users_held: watch::Sender::new(false),
            users_waited: watch::Sender::new(0),
        }));
        let app = Router::new()
            .route("/api/v1/users", get(users).post(create_user))
            .route("/api/v1/users/search", get(users_search))
            .route("/api/v1/organizations", get(organizations))
            .route("/api/v1/ticket_states", get(ticket_states))
            .route("/api/v1/ticket_customer", get(ticket_customer))
            .route("/api/v1/tickets/search", get(tickets_search))
            .route("/api/v1/tickets", post(create_ticket))
            .route("/api/v1/ticket_articles", post(create_article))
            .route(
                "/api/v1/ticket_articles/by_ticket/{ticket_id}",
                get(articles_by_ticket),
            )
            .layer(middleware::from_fn_with_state(data.clone(), slow_or_down))
            .with_state(data.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(watch::Sender::new(false));
        let mut stopped = stop.subscribe();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await
                .unwrap()
        });
        FakeZammad {
            url: format!("http://{addr}"),
            data,
            stop,
        }
    }

    /// Stops the server: connections are refused from now on, as when Zammad is down.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// The bodies of the users created so far.
    pub fn created(&self) -> Vec<Value> {
        self.data.lock().unwrap().created.clone()
    }

    /// The `[zammad]` section that points a hub at this fake.
    pub fn config(&self) -> String {
        format!("[zammad]\nurl = {:?}\ntoken = {ZAMMAD_TOKEN:?}\n", self.url)
    }

    /// Adds or replaces a user; `fields` are merged over Zammad's defaults and
    /// `updated_at` is set to now, as Zammad does on every change.
    pub fn put_user(&self, id: u64, fields: Value) {
        let user = user_record(id, fields, &now());
        let mut data = self.data.lock().unwrap();
        data.users.retain(|u| u["id"] != id);
        data.users.push(user);
        data.users.sort_by_key(|u| u["id"].as_u64());
    }

    /// Adds many users at once, last changed at `updated_at` (RFC 3339), as an instance
    /// that has had them for a while holds them; their ids must be new.
    pub fn add_users(&self, users: impl IntoIterator<Item = (u64, Value)>, updated_at: &str) {
        let mut data = self.data.lock().unwrap();
        data.users.extend(
            users
                .into_iter()
                .map(|(id, fields)| user_record(id, fields, updated_at)),
        );
        data.users.sort_by_key(|u| u["id"].as_u64());
    }

    /// Removes a user, as deleting or merging it away does.
    pub fn remove_user(&self, id: u64) {
        self.data.lock().unwrap().users.retain(|u| u["id"] != id);
    }

    /// Adds or replaces an organization.
    pub fn put_organization(&self, id: u64, name: &str, note: &str) {
        let org = json!({"id": id, "name": name, "shared": true, "domain": "",
            "domain_assignment": false, "active": true, "note": note, "member_ids": [],
            "created_at": now(), "updated_at": now()});
        let mut data = self.data.lock().unwrap();
        data.organizations.retain(|o| o["id"] != id);
        data.organizations.push(org.as_object().unwrap().clone());
        data.organizations.sort_by_key(|o| o["id"].as_u64());
    }

    /// Adds a ticket of `customer_id` in state `state_id`.
    pub fn put_ticket(&self, id: u64, customer_id: u64, title: &str, state_id: u64) {
        let ticket = json!({"id": id, "group_id": 1, "priority_id": 2, "state_id": state_id,
            "organization_id": null, "number": format!("{}", 53000 + id), "title": title,
            "owner_id": 1, "customer_id": customer_id, "article_count": 1,
            "created_at": now(), "updated_at": now()});
        let mut data = self.data.lock().unwrap();
        data.tickets.retain(|t| t["id"] != id);
        data.tickets.push(ticket.as_object().unwrap().clone());
    }

    /// Sets when a ticket was created (RFC 3339), as a ticket of some days ago has it.
    pub fn set_ticket_created(&self, id: u64, created_at: &str) {
        let mut data = self.data.lock().unwrap();
        for ticket in data.tickets.iter_mut().filter(|t| t["id"] == id) {
            ticket.insert("created_at".into(), Value::String(created_at.to_owned()));
        }
    }

    /// Removes a ticket and its articles, as deleting it does.
    pub fn remove_ticket(&self, id: u64) {
        let mut data = self.data.lock().unwrap();
        data.tickets.retain(|t| t["id"] != id);
        data.articles.remove(&id);
    }

    /// Adds an article to a ticket, after its others: sent by `sender` ("Customer",
    /// "Agent" or "System"), written by user `created_by_id`, with `body`.
    pub fn add_article(&self, ticket_id: u64, sender: &str, created_by_id: u64, body: &str) {
        let mut data = self.data.lock().unwrap();
        let id = 1 + data.articles.values().map(Vec::len).sum::<usize>() as u64;
        let sender_id = match sender {
            "Agent" => 1,
            "Customer" => 2,
            _ => 3,
        };
        let article = json!({"id": id, "ticket_id": ticket_id, "type_id": 1,
            "sender_id": sender_id, "from": format!("user{created_by_id}@example.com"),
            "to": "support@example.com", "cc": null, "subject": "Help",
            "reply_to": null, "message_id": format!("<{id}.20240101123456@example.com>"),
            "content_type": "text/plain", "body": body, "internal": false,
            "preferences": {}, "updated_by_id": created_by_id, "created_by_id": created_by_id,
            "origin_by_id": null, "created_at": now(), "updated_at": now(),
            "attachments": [], "type": "email", "sender": sender,
            "created_by": format!("user{created_by_id}@example.com"),
            "updated_by": format!("user{created_by_id}@example.com")});
        data.articles
            .entry(ticket_id)
            .or_default()
            .push(article.as_object().unwrap().clone());
    }

    /// The article lists asked for so far, by ticket id, in order.
    pub fn article_requests(&self) -> Vec<u64> {
        self.requests()
            .iter()
            .filter_map(|r| {
                let rest = r.uri.strip_prefix("/api/v1/ticket_articles/by_ticket/")?;
                rest.split('?').next()?.parse().ok()
            })
            .collect()
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.data.lock().unwrap().requests.clone()
    }

    /// The customer ticket lists asked for so far.
    pub fn ticket_requests(&self) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.uri.starts_with("/api/v1/ticket_customer?"))
            .count()
    }

    /// Makes every answer wait `delay` (zero: answer at once).
    pub fn set_delay(&self, delay: Duration) {
        self.data.lock().unwrap().delay = delay;
    }

    /// Answers every request 503 while `down`.
    pub fn set_down(&self, down: bool) {
        self.data.lock().unwrap().down = down;
    }

    /// Waits until at least `count` customer ticket lists are being answered at once.
    pub async fn tickets_in_flight(&self, count: usize) {
        let mut in_flight = self.data.lock().unwrap().tickets_in_flight.subscribe();
        in_flight.wait_for(|n| *n >= count).await.unwrap();
    }

    /// Customer ticket lists being answered now.
    pub fn tickets_in_flight_now(&self) -> usize {
        *self.data.lock().unwrap().tickets_in_flight.borrow()
    }

    /// The most customer ticket lists that were answered at once.
    pub fn max_tickets_in_flight(&self) -> usize {
        self.data.lock().unwrap().max_tickets_in_flight
    }

    /// The tickets it holds, oldest first.
    pub fn tickets(&self) -> Vec<Map<String, Value>> {
        let mut tickets = self.data.lock().unwrap().tickets.clone();
        tickets.sort_by_key(|t| t["id"].as_u64());
        tickets
    }

    /// The articles of ticket `id`, oldest first.
    pub fn articles_of(&self, id: u64) -> Vec<Map<String, Value>> {
        self.data
            .lock()
            .unwrap()
            .articles
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }
}

/// Counts a customer ticket list as answered until dropped (also when the hub gives up
/// and the answer is dropped half-way).
struct InFlight(Option<Arc<Mutex<ZammadData>>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(data) = &self.0 {
            data.lock()
                .unwrap()
                .tickets_in_flight
                .send_modify(|n| *n -= 1);
        }
    }
}

/// Holds every answer for the delay and refuses everything while down.
async fn slow_or_down(State(data): Shared, request: Request, next: Next) -> Response {
    let tickets = request.uri().path() == "/api/v1/ticket_customer";
    let (delay, down, _in_flight) = {
        let mut locked = data.lock().unwrap();
        let guard = if tickets {
            let mut now = 0;
            locked.tickets_in_flight.send_modify(|n| {
                *n += 1;
                now = *n;
            });
            locked.max_tickets_in_flight = locked.max_tickets_in_flight.max(now);
            InFlight(Some(data.clone()))
        } else {
            InFlight(None)
        };
        (locked.delay, locked.down, guard)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if down {
        data.lock().unwrap().requests.push(Recorded {
            uri: request.uri().to_string(),
            authorization: None,
        });
        return error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    }
    next.run(request).await
}

/// A user as Zammad sends it: `fields` merged over Zammad's defaults.
fn user_record(id: u64, fields: Value, updated_at: &str) -> Map<String, Value> {
    let mut user = json!({
        "id": id, "organization_id": null, "login": format!("user{id}@example.com"),
        "firstname": "", "lastname": "", "email": format!("user{id}@example.com"),
        "image": null, "web": "", "phone": "", "fax": "", "mobile": "", "department": "",
        "street": "", "zip": "", "city": "", "country": "", "address": "", "vip": false,
        "verified": false, "active": true, "note": "", "last_login": null,
        "out_of_office": false, "preferences": {}, "updated_by_id": 1,
        "created_by_id": 1, "created_at": updated_at, "role_ids": [3],
        "organization_ids": []
    });
    merge(&mut user, fields);
    user["updated_at"] = Value::String(updated_at.to_owned());
    user.as_object().unwrap().clone()
}

fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap()
}

fn merge(target: &mut Value, fields: Value) {
    if let (Value::Object(target), Value::Object(fields)) = (target, fields) {
        for (k, v) in fields {
            target.insert(k, v);
        }
    }
}

type Shared = State<Arc<Mutex<ZammadData>>>;
type Params = Query<HashMap<String, String>>;

fn error(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "error": text, "error_human": text }))).into_response()
}

/// Records the request and checks the token and a permission (any of `needs`); the
/// refusal, if any.
fn admit(
    data: &mut ZammadData,
    uri: &Uri,
    headers: &HeaderMap,
    needs: &[&str],
) -> Option<Response> {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    data.requests.push(Recorded {
        uri: uri.to_string(),
        authorization: authorization.clone(),
    });
    let targeted = data.fail_only.is_none_or(|path| uri.path() == path);
    if let Some(status) = (targeted && !data.fail_next.is_empty()).then(|| data.fail_next.remove(0))
    {
        return Some(error(status, "internal error"));
    }
    let expected = format!("Token token={ZAMMAD_TOKEN}");
    if authorization.as_deref() != Some(expected.as_str()) {
        return Some(error(StatusCode::UNAUTHORIZED, "Invalid token!"));
    }
    if !data.api_token_access {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "API token access disabled!",
        ));
    }
    if !needs.iter().any(|p| data.permissions.contains(p)) {
        return Some(error(StatusCode::FORBIDDEN, "Not authorized (token)!"));
    }
    None
}

/// `page` (from 1) and `per_page` (capped) of a list.
fn paged(items: &[Map<String, Value>], params: &HashMap<String, String>) -> Vec<Value> {
    let page: usize = params
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let per_page: usize = params
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(100)
        .clamp(1, PER_PAGE_CAP);
    items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .map(Value::Object)
        .collect()
}

async fn users(State(data): Shared, uri: Uri, headers: HeaderMap, Query(q): Params) -> Response {
    let (page, mut held) = {
        let mut data = data.lock().unwrap();
        if let Some(refused) = admit(&mut data, &uri, &headers, &["ticket.agent", "admin.user"]) {
            return refused;
        }
        // The index action ignores unknown parameters such as `phone`: it only pages.
        let mut q = q;
        if data.ignores_paging {
            q.remove("page");
        }
        let probe = q.get("per_page").map(String::as_str) == Some("1");
        let hold = !probe && *data.users_held.borrow();
        if hold {
            data.users_waited.send_modify(|n| *n += 1);
        }
        (
            paged(&data.users, &q),
            hold.then(|| data.users_held.subscribe()),
        )
    };
    if let Some(held) = held.as_mut() {
        let _ = held.wait_for(|held| !*held).await;
    }
    Json(page).into_response()
}

/// `POST /api/v1/users`: creates a user from a JSON body, as an agent (`ticket.agent`) or
/// a user admin (`admin.user`) may. Zammad refuses a user without a first name, last name,
/// e-mail address, phone or mobile (`User#ensure_identifier`), and an e-mail address
/// another user has. The new user is listed and found from then on.
async fn create_user(
    State(data): Shared,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut data = data.lock().unwrap();
    if let Some(refused) = admit(&mut data, &uri, &headers, &["ticket.agent", "admin.user"]) {
        return refused;
    }
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_body {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the user as JSON (Content-Type: application/json)",
        );
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not a JSON object");
    };
    let given = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if ["firstname", "lastname", "email", "phone", "mobile"]
        .iter()
        .all(|key| given(key).is_none())
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "At least one identifier (firstname, lastname, phone, mobile or email) for user \
             is required.",
        );
    }
    if let Some(email) = given("email") {
        let taken = data.users.iter().any(|u| {
            u["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(&email))
        });
        if taken {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Email address '{email}' is already used for other user."),
            );
        }
    }
    data.created.push(Value::Object(fields.clone()));
    let id = data
        .users
        .iter()
        .filter_map(|u| u["id"].as_u64())
        .max()
        .unwrap_or(0)
        .max(100)
        + 1;
    let login = given("email").unwrap_or_else(|| format!("auto-{}-{id}", now()));
    let mut user = json!({
        "id": id, "organization_id": null, "login": login, "firstname": "", "lastname": "",
        "email": "", "image": null, "web": "", "phone": "", "fax": "", "mobile": "",
        "department": "", "street": "", "zip": "", "city": "", "country": "", "address": "",
        "vip": false, "verified": false, "active": true, "note": "", "last_login": null,
        "out_of_office": false, "preferences": {}, "updated_by_id": 1, "created_by_id": 1,
        "created_at": now(), "updated_at": now(), "role_ids": [3], "organization_ids": []
    });
    for key in ["firstname", "lastname", "email", "phone", "mobile", "note"] {
        if let Some(value) = given(key) {
            user[key] = Value::String(value);
        }
    }
    let user = user.as_object().unwrap().clone();
    data.users.push(user.clone());
    data.users.sort_by_key(|u| u["id"].as_u64());
    (StatusCode::CREATED, Json(Value::Object(user))).into_response()
}

async fn organizations(
    State(data): Shared,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    let mut data = data.lock().unwrap();
    if let Some(refused) = admit(&mut data, &uri, &headers, &["ticket.agent", "admin.user"]) {
        return refused;
    }
    Json(paged(&data.organizations, &q)).into_response()
}

async fn users_search(
    State(data): Shared,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    let mut data = data.lock().unwrap();
    if let Some(refused) = admit(&mut data, &uri, &headers, &["ticket.agent", "admin.user"]) {
        return refused;
    }
    let query = q.get("query").cloned().unwrap_or_default();
    let found: Vec<Map<String, Value>> = if data.elasticsearch {
        data.users
            .iter()
            .filter(|u| es_matches(u, &query))
            .cloned()
            .collect()
    } else {
        // Zammad's SQL fallback: firstname, lastname, email and login LIKE %query%; phone
        // fields are not searched and field syntax is plain text.
        let needle = query.to_lowercase();
        data.users
            .iter()
            .filter(|u| {
                ["firstname", "lastname", "email", "login"].iter().any(|f| {
                    u[*f]
                        .as_str()
                        .is_some_and(|v| v.to_lowercase().contains(&needle))
                })
            })
            .cloned()
            .collect()
    };
    let mut params = q.clone();
    if let (Some(limit), None) = (q.get("limit"), q.get("per_page")) {
        params.insert("per_page".into(), limit.clone());
    }
    Json(paged(&found, &params)).into_response()
}

/// The few query forms of Elasticsearch's `query_string` the hub sends: `field:value`
/// terms joined by ` OR `, `updated_at:>now-Ns` and `created_at:>now-Nd` (seconds or
/// days), and plain text as a prefix of any text.
fn es_matches(record: &Map<String, Value>, query: &str) -> bool {
    query.split(" OR ").any(|term| match term.split_once(':') {
        Some((field @ ("updated_at" | "created_at"), range)) => {
            let Some(secs) = range.strip_prefix(">now-").and_then(|s| {
                let (n, unit) = s.split_at(s.len().checked_sub(1)?);
                let n: i64 = n.parse().ok()?;
                match unit {
                    "s" => Some(n),
                    "d" => Some(n * 86_400),
                    _ => None,
                }
            }) else {
                return false;
            };
            let since = OffsetDateTime::now_utc() - time::Duration::seconds(secs);
            record[field]
                .as_str()
                .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok())
                .is_some_and(|at| at > since)
        }
        Some((field, value)) => match &record.get(field) {
            Some(Value::Number(n)) => n.to_string() == value,
            Some(Value::String(s)) => s == value,
            _ => false,
        },
        None => {
            let prefix = term.to_lowercase();
            record.values().any(|v| {
                v.as_str().is_some_and(|s| {
                    s.to_lowercase()
                        .split_whitespace()
                        .any(|w| w.starts_with(&prefix))
                })
            })
        }
    })
}

fn states() -> Vec<Value> {
    vec![
        json!({"id": 1, "name": "new", "state_type_id": 1, "active": true}),
        json!({"id": 2, "name": "open", "state_type_id": 2, "active": true}),
        json!({"id": 4, "name": "closed", "state_type_id": 5, "active": true}),
    ]
}

async fn ticket_states(State(data): Shared, uri: Uri, headers: HeaderMap) -> Response {
    let mut data = data.lock().unwrap();
    if let Some(refused) = admit(&mut data, &uri, &headers, &["ticket.agent"]) {
        return refused;
    }
    Json(states()).into_response()
}

async fn ticket_customer(
    State(data): Shared,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    let mut data = data.lock().unwrap();
    if let Some(refused) = admit(&mut data, &uri, &headers, &["ticket.agent"]) {
        return refused;
    }
    let Some(customer) = q.get("customer_id").and_then(|c| c.parse::<u64>().ok()) else {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "Need customer_id!");
    };
    let mut tickets: Vec<&Map<String, Value>> = data
        .tickets
        .iter()
        .filter(|t| t["customer_id"] == customer)
        .collect();
    tickets.sort_by_key(|t| std::cmp::Reverse(t["id"].as_u64()));
    let closed = |t: &&Map<String, Value>| t["state_id"] == 4;
    let ids = |open: bool| -> Vec<u64> {
        tickets
            .iter()
            .filter(|t| closed(t) != open)
            .take(15)
            .filter_map(|t| t["id"].as_u64())
            .collect()
    };
    let assets: Map<String, Value> = tickets
        .iter()
        .map(|t| (t["id"].to_string(), Value::Object((*t).clone())))
        .collect();
    Json(json!({
        "ticket_ids_open": ids(true),
        "ticket_ids_closed": ids(false),
        "assets": { "Ticket": assets },
    }))
    .into_response()
}

async fn tickets_search(
    State(data): Shared,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    let mut data = data.lock().unwrap();
    if let Some(refused) = admit(&mut data, &uri, &headers, &["ticket.agent"]) {
        return refused;
    }
    let query = q.get("query").cloned().unwrap_or_default();
    let mut found: Vec<Map<String, Value>> = if data.elasticsearch {
        data.tickets
            .iter()
            .filter(|t| es_matches(t, &query))
            .cloned()
            .collect()
    } else {
        let needle = query.to_lowercase();
        data.tickets
            .iter()
            .filter(|t| {
                t["title"]
                    .as_str()
                    .is_some_and(|v| v.to_lowercase().contains(&needle))
            })
            .cloned()
            .collect()
    };
    if let Some(field @ ("updated_at" | "created_at")) = q.get("sort_by").map(String::as_str) {
        found.sort_by(|a, b| {
            (a[field].as_str(), a["id"].as_u64()).cmp(&(b[field].as_str(), b["id"].as_u64()))
        });
        if q.get("order_by").map(String::as_str) == Some("desc") {
            found.reverse();
        }
    }
    // `per_page` with `page`, else `limit` (Zammad reads `limit` as `per_page`).
    let mut params = q.clone();
    if let (Some(limit), None) = (q.get("limit"), q.get("per_page")) {
        params.insert("per_page".into(), limit.clone());
    }
    let found: Vec<Map<String, Value>> = paged(&found, &params)
        .into_iter()
        .filter_map(|t| t.as_object().cloned())
        .collect();
    if q.get("expand").map(String::as_str) == Some("true") {
        let names = states();
        let expanded: Vec<Value> = found
            .into_iter()
            .map(|mut t| {
                let state = names
                    .iter()
                    .find(|s| s["id"] == t["state_id"])
                    .map(|s| s["name"].clone())
                    .unwrap_or(Value::Null);
                t.insert("state".into(), state);
                Value::Object(t)
            })
            .collect();
        return Json(expanded).into_response();
    }
    let ids: Vec<Value> = found.iter().map(|t| t["id"].clone()).collect();
    let assets: Map<String, Value> = found
        .into_iter()
        .map(|t| (t["id"].to_string(), Value::Object(t)))
        .collect();
    Json(json!({"tickets": ids, "tickets_count": ids.len(), "assets": {"Ticket": assets}}))
        .into_response()
}

/// A refusal's status and Zammad's text.
type Refusal = (StatusCode, String);

/// Who a write is by: the token's user (1), or the user named by `From:` (id, login or
/// e-mail), which needs `admin.user` (reference §1.1).
fn author(data: &ZammadData, headers: &HeaderMap) -> Result<u64, Refusal> {
    let Some(from) = headers.get("from").and_then(|v| v.to_str().ok()) else {
        return Ok(1);
    };
    if !data.permissions.contains(&"admin.user") {
        return Err((StatusCode::FORBIDDEN, "Not authorized (admin.user)!".into()));
    }
    data.users
        .iter()
        .find(|u| {
            u["id"].as_u64().is_some_and(|id| id.to_string() == from)
                || u["login"].as_str() == Some(from)
                || u["email"].as_str() == Some(from)
        })
        .and_then(|u| u["id"].as_u64())
        .ok_or_else(|| (StatusCode::UNAUTHORIZED, format!("No such user '{from}'")))
}

/// Checks an article as Zammad would store it: a body, a known type and sender.
fn article_fields(article: &Value) -> Result<(), Refusal> {
    let text = |key: &str| article[key].as_str().filter(|v| !v.trim().is_empty());
    if text("body").is_none() {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "Need body for article!".into(),
        ));
    }
    if !matches!(text("type"), Some("phone" | "note" | "email" | "web")) {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "No lookup value found for 'type'".into(),
        ));
    }
    if !matches!(text("sender"), Some("Customer" | "Agent" | "System")) {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "No lookup value found for 'sender'".into(),
        ));
    }
    Ok(())
}

fn store_article(data: &mut ZammadData, ticket_id: u64, article: &Value, by: u64) -> Value {
    let id = 1 + data.articles.values().map(Vec::len).sum::<usize>() as u64;
    let mut stored = article.as_object().cloned().unwrap_or_default();
    stored.insert("id".into(), json!(id));
    stored.insert("ticket_id".into(), json!(ticket_id));
    stored.insert("created_by_id".into(), json!(by));
    stored.insert("created_at".into(), json!(now()));
    data.articles
        .entry(ticket_id)
        .or_default()
        .push(stored.clone());
    if let Some(ticket) = data.tickets.iter_mut().find(|t| t["id"] == ticket_id) {
        ticket.insert("updated_at".into(), json!(now()));
        let count = ticket["article_count"].as_u64().unwrap_or(0) + 1;
        ticket.insert("article_count".into(), json!(count));
    }
    Value::Object(stored)
}

/// Keeps what was written but never answers, when the test says so.
async fn answer(data: &Arc<Mutex<ZammadData>>, body: Value) -> Response {
    let swallow = data.lock().unwrap().swallow_answers;
    if swallow {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn create_ticket(
    State(shared): Shared,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let created = {
        let mut data = shared.lock().unwrap();
        if let Some(refused) = admit(&mut data, &uri, &headers, &["ticket.agent"]) {
            return refused;
        }
        let by = match author(&data, &headers) {
            Ok(by) => by,
            Err((status, text)) => return error(status, &text),
        };
        let Ok(ticket) = serde_json::from_slice::<Value>(&body) else {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid JSON");
        };
        let Some(title) = ticket["title"].as_str().filter(|t| !t.trim().is_empty()) else {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "Need title for ticket!");
        };
        let group = ticket["group"].as_str().unwrap_or_default();
        if !data.groups.contains(&group) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("No lookup value found for 'group': {group:?}"),
            );
        }
        let customer = ticket["customer_id"].as_u64();
        if !customer.is_some_and(|c| data.users.iter().any(|u| u["id"] == c)) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "No lookup value found for 'customer_id'",
            );
        }
        if let Err((status, text)) = article_fields(&ticket["article"]) {
            return error(status, &text);
        }
        let id = data
            .tickets
            .iter()
            .filter_map(|t| t["id"].as_u64())
            .max()
            .unwrap_or(0)
            + 1;
        let stored = json!({"id": id, "group_id": 1, "priority_id": 2, "state_id": 1,
            "organization_id": null, "number": format!("{}", 53000 + id), "title": title,
            "owner_id": 1, "customer_id": customer, "article_count": 0,
            "created_by_id": by, "created_at": now(), "updated_at": now()});
        data.tickets.push(stored.as_object().unwrap().clone());
        store_article(&mut data, id, &ticket["article"], by);
        Value::Object(data.tickets.iter().find(|t| t["id"] == id).unwrap().clone())
    };
    answer(&shared, created).await
}

async fn create_article(
    State(shared): Shared,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let created = {
        let mut data = shared.lock().unwrap();
        if let Some(refused) = admit(&mut data, &uri, &headers, &["ticket.agent"]) {
            return refused;
        }
        let by = match author(&data, &headers) {
            Ok(by) => by,
            Err((status, text)) => return error(status, &text),
        };
        let Ok(article) = serde_json::from_slice::<Value>(&body) else {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid JSON");
        };
        let Some(ticket_id) = article["ticket_id"].as_u64() else {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "Need ticket_id!");
        };
        if !data.tickets.iter().any(|t| t["id"] == ticket_id) {
            return error(
                StatusCode::NOT_FOUND,
                &format!("Couldn't find Ticket with 'id'={ticket_id}"),
            );
        }
        if let Err((status, text)) = article_fields(&article) {
            return error(status, &text);
        }
        store_article(&mut data, ticket_id, &article, by)
    };
    answer(&shared, created).await
}

/// `GET /api/v1/ticket_articles/by_ticket/{id}?expand=true`: the ticket's articles, oldest
/// first; 404 for a ticket Zammad does not have. Without `expand` the sender and type are
/// ids only, as in Zammad.
async fn articles_by_ticket(
    State(data): Shared,
    uri: Uri,
    headers: HeaderMap,
    axum::extract::Path(ticket_id): axum::extract::Path<String>,
    Query(q): Params,
) -> Response {
    let mut data = data.lock().unwrap();
    if let Some(refused) = admit(&mut data, &uri, &headers, &["ticket.agent"]) {
        return refused;
    }
    let Some(ticket_id) = ticket_id
        .parse::<u64>()
        .ok()
        .filter(|id| data.tickets.iter().any(|t| t["id"] == *id))
    else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("Couldn't find Ticket with 'id'={ticket_id}"),
        );
    };
    if data.refused_articles.contains(&ticket_id) {
        return error(StatusCode::FORBIDDEN, "Not authorized");
    }
    let expand = q.get("expand").map(String::as_str) == Some("true");
    let articles: Vec<Value> = data
        .articles
        .get(&ticket_id)
        .into_iter()
        .flatten()
        .map(|article| {
            let mut article = article.clone();
            if !expand {
                for key in ["sender", "type", "created_by", "updated_by"] {
                    article.remove(key);
                }
            }
            Value::Object(article)
        })
        .collect();
    Json(articles).into_response()
}
