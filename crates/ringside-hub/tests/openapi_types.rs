//! The hub's OpenAPI description (`openapi.json`) checked against the API's types in
//! `ringside_core::api`, so that the two cannot drift apart:
//!
//! - every answer the hub builds from a type validates against the answer's schema, and the
//!   schema's properties and required properties are exactly the fields the hub sends;
//! - every request body or query a type reads validates against its schema, names exactly
//!   the type's fields, and is required exactly where the type has no default; the schema
//!   forbids other properties exactly where the type refuses unknown fields.

use std::collections::BTreeSet;

use ringside_core::agent::{Identities, Presence};
use ringside_core::api::{
    AgentCreated, AgentToken, AgentUpdate, CallerKnown, CallerLookup, ContactQuery, DialRequest,
    DialResult, DndChange, DoneChange, DoneIds, ErrorBody, ErrorCode, HelpdeskConnection,
    HelpdeskKind, HelpdeskState, HelpdeskStatus, JournalQuery, Me, NewAgent, NewCustomer,
    PlacedCall, Probe, ProbeStatus, RelayBacklog, RelayFailure, Updated, ZammadSyncMode,
    ZammadSyncState,
};
use ringside_core::call::{CallTicket, Provider};
use ringside_core::caller::CallerMatch;
use ringside_core::listing::JournalFilter;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The description as the hub serves it.
const OPENAPI: &str = include_str!("../openapi.json");

fn openapi() -> Value {
    serde_json::from_str(OPENAPI).expect("openapi.json is JSON")
}

/// The schema at `pointer` (a JSON pointer into the description).
fn at(root: &Value, pointer: &str) -> Value {
    root.pointer(pointer)
        .unwrap_or_else(|| panic!("openapi.json has no {pointer}"))
        .clone()
}

/// The JSON body schema of `method path`: the request's when `status` is `None`, else the
/// answer's with that status.
fn body(root: &Value, path: &str, method: &str, status: Option<&str>) -> Value {
    let path = path.replace('~', "~0").replace('/', "~1");
    let part = match status {
        None => "requestBody".to_owned(),
        Some(status) => format!("responses/{status}"),
    };
    at(
        root,
        &format!("/paths/{path}/{method}/{part}/content/application~1json/schema"),
    )
}

/// The query parameters of `method path`, as one object schema.
fn query(root: &Value, path: &str, method: &str) -> Value {
    let pointer = format!("/paths/{}/{method}/parameters", path.replace('/', "~1"));
    let mut properties = Map::new();
    let mut required = vec![];
    for parameter in at(root, &pointer).as_array().unwrap() {
        if parameter["in"] != "query" {
            continue;
        }
        let name = parameter["name"].as_str().unwrap().to_owned();
        if parameter["required"] == true {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, parameter["schema"].clone());
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// Follows a local `$ref`.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            resolve(root, root.pointer(pointer).expect("$ref resolves"))
        }
        None => schema,
    }
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        other => panic!("openapi.json uses type {other:?}, unknown to this test"),
    }
}

/// Checks `value` against `schema` (the part of JSON Schema the description uses, patterns
/// and formats left out), strictly: an object may have no property its schema does not
/// declare. Returns what does not fit, each with where it is.
fn validate(root: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(root, schema);
    let mut errors = vec![];
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        let fitting = branches
            .iter()
            .filter(|branch| validate(root, branch, value, at).is_empty())
            .count();
        if fitting != 1 {
            errors.push(format!("{at}: fits {fitting} of oneOf's schemas, not one"));
        }
    }
    match schema.get("type") {
        Some(Value::String(name)) if !is_type(value, name) => {
            errors.push(format!("{at}: {value} is not of type {name}"));
            return errors;
        }
        Some(Value::Array(names)) if !names.iter().any(|n| is_type(value, n.as_str().unwrap())) => {
            errors.push(format!("{at}: {value} is none of the types {names:?}"));
            return errors;
        }
        _ => {}
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    if let Some(number) = value.as_f64() {
        if bound("minimum").is_some_and(|min| number < min) {
            errors.push(format!("{at}: {value} is below the minimum"));
        }
        if bound("maximum").is_some_and(|max| number > max) {
            errors.push(format!("{at}: {value} is above the maximum"));
        }
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count() as f64;
        if bound("minLength").is_some_and(|min| length < min) {
            errors.push(format!("{at}: {value} is shorter than minLength"));
        }
        if bound("maxLength").is_some_and(|max| length > max) {
            errors.push(format!("{at}: {value} is longer than maxLength"));
        }
    }
    if let Some(items) = value.as_array() {
        if bound("maxItems").is_some_and(|max| items.len() as f64 > max) {
            errors.push(format!("{at}: more items than maxItems"));
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                errors.extend(validate(root, item_schema, item, &format!("{at}[{i}]")));
            }
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !object.contains_key(name.as_str().unwrap()) {
                errors.push(format!("{at}: required property {name} is missing"));
            }
        }
        for (name, property) in object {
            let here = format!("{at}.{name}");
            match (
                properties.and_then(|p| p.get(name)),
                schema.get("additionalProperties"),
            ) {
                (Some(property_schema), _) => {
                    errors.extend(validate(root, property_schema, property, &here))
                }
                (None, Some(additional)) if additional.is_object() => {
                    errors.extend(validate(root, additional, property, &here))
                }
                (None, _)
                    if properties.is_some() || schema.get("additionalProperties").is_some() =>
                {
                    errors.push(format!("{here}: not declared in the schema"))
                }
                (None, _) => {}
            }
        }
    }
    errors
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

fn names(list: Option<&Value>) -> BTreeSet<String> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|name| name.as_str().unwrap().to_owned())
        .collect()
}

/// The object schema `value` is checked against: `schema` itself, or the one branch of its
/// `oneOf` that `value` fits.
fn branch<'a>(root: &'a Value, schema: &'a Value, value: &Value) -> &'a Value {
    let schema = resolve(root, schema);
    match schema.get("oneOf").and_then(Value::as_array) {
        Some(branches) => branches
            .iter()
            .map(|b| resolve(root, b))
            .find(|b| validate(root, b, value, "$").is_empty())
            .expect("a fitting branch"),
        None => schema,
    }
}

/// An answer of the hub: each sample fits `schema`, whose properties, and required
/// properties, are exactly the fields the hub sends.
fn check_answer<T: Serialize>(root: &Value, what: &str, schema: &Value, samples: &[T]) {
    check_answer_with(root, what, schema, samples, true);
}

/// [`check_answer`]; `all_required`: whether every field sent must be required in the
/// schema (else only the required properties must all be sent).
fn check_answer_with<T: Serialize>(
    root: &Value,
    what: &str,
    schema: &Value,
    samples: &[T],
    all_required: bool,
) {
    for sample in samples {
        let value = serde_json::to_value(sample).unwrap();
        let errors = validate(root, schema, &value, what);
        assert!(
            errors.is_empty(),
            "{what}: {value} does not fit: {errors:#?}"
        );
        let object = branch(root, schema, &value);
        let declared: BTreeSet<String> = object["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{what}: the schema lists no properties"))
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            declared,
            keys(&value),
            "{what}: properties ≠ the fields sent"
        );
        let required = names(object.get("required"));
        if all_required {
            assert_eq!(
                required,
                keys(&value),
                "{what}: required ≠ the fields sent (the hub sends every field)"
            );
        } else {
            assert!(
                required.is_subset(&keys(&value)),
                "{what}: the hub does not send all of {required:?}"
            );
        }
    }
}

/// A request the hub reads: each sample (every field given) fits `schema`, which names
/// exactly its fields; the schema's required properties are what the type needs: with them
/// alone it reads, without any one of them it does not. `strict`: whether the schema's
/// `additionalProperties: false` is checked against the type refusing unknown fields (not
/// for query parameters).
fn check_request<T: Serialize + DeserializeOwned>(
    root: &Value,
    what: &str,
    schema: &Value,
    samples: &[T],
    strict: bool,
) {
    for sample in samples {
        let value = serde_json::to_value(sample).unwrap();
        let errors = validate(root, schema, &value, what);
        assert!(
            errors.is_empty(),
            "{what}: {value} does not fit: {errors:#?}"
        );
        let object = branch(root, schema, &value);
        let declared: BTreeSet<String> = object["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            declared,
            keys(&value),
            "{what}: properties ≠ the type's fields"
        );
        let required = names(object.get("required"));
        let only_required: Map<String, Value> = value
            .as_object()
            .unwrap()
            .iter()
            .filter(|(name, _)| required.contains(*name))
            .map(|(name, v)| (name.clone(), v.clone()))
            .collect();
        if let Err(e) = serde_json::from_value::<T>(Value::Object(only_required.clone())) {
            panic!("{what}: the required properties alone do not read: {e}");
        }
        for name in &required {
            let mut without = only_required.clone();
            without.remove(name);
            assert!(
                serde_json::from_value::<T>(Value::Object(without)).is_err(),
                "{what}: {name} is required in openapi.json, but the type reads without it"
            );
        }
        if strict {
            let mut extra = value.as_object().unwrap().clone();
            extra.insert("surely_not_a_field".into(), json!(1));
            let refused = serde_json::from_value::<T>(Value::Object(extra)).is_err();
            assert_eq!(
                object.get("additionalProperties") == Some(&json!(false)),
                refused,
                "{what}: additionalProperties: false in openapi.json ⇔ the type refuses \
                 unknown fields"
            );
        }
    }
}

fn presence() -> Presence {
    serde_json::from_value(json!({
        "login": "anna",
        "name": "Anna",
        "role": "admin",
        "numbers": ["030 609854180"],
        "identities": {"sipgate": "w0"},
        "online": true,
        "dnd": false,
        "out_of_office": false,
        "on_call": {"call": 7, "with": "Bob", "since": "2026-01-05T09:00:00Z"},
    }))
    .unwrap()
}

/// Zammad down since a moment, with why.
fn down() -> HelpdeskConnection {
    HelpdeskConnection {
        state: HelpdeskState::Down,
        since: Some(time::macros::datetime!(2026-12-03 10:03 UTC)),
        last_error: Some("Zammad at https://zammad.example.com/ could not be reached".into()),
    }
}

fn caller_match() -> CallerMatch {
    serde_json::from_value(json!({
        "number": "+4930609854180",
        "level": "known",
        "contacts": [{
            "id": 3,
            "name": "Bob",
            "organization": "Example GmbH",
            "email": "bob@example.com",
            "profile_url": "https://support.example.com/#user/profile/3",
            "new_ticket_url": "https://support.example.com/#ticket/create/customer/3",
            "tickets": [],
        }],
    }))
    .unwrap()
}

/// `code` is not required by the description's `Error`: the generic CTI webhook answers
/// Zammad's errors, which have none.
#[test]
fn the_error_body_is_the_description_of_errors() {
    let root = openapi();
    let schema = at(&root, "/components/schemas/Error");
    check_answer_with(
        &root,
        "Error",
        &schema,
        &ErrorCode::ALL.map(|code| ErrorBody::new(code, "what went wrong")),
        false,
    );
    let listed: Vec<&str> = schema["properties"]["code"]["enum"]
        .as_array()
        .expect("Error lists its codes")
        .iter()
        .map(|code| code.as_str().expect("a code is a string"))
        .collect();
    assert_eq!(
        listed,
        ErrorCode::ALL.map(ErrorCode::as_str),
        "the description lists exactly the codes the hub sends"
    );
}

#[test]
fn the_agent_api_types_are_the_description_of_the_agent_api() {
    let root = openapi();
    check_request(
        &root,
        "PUT /me/dnd",
        &body(&root, "/api/v1/me/dnd", "put", None),
        &[DndChange { dnd: true }],
        true,
    );
    check_request(
        &root,
        "GET /journal",
        &query(&root, "/api/v1/journal", "get"),
        &[JournalQuery {
            limit: Some(20),
            before: Some(99),
            filter: JournalFilter::Missed,
        }],
        false,
    );
    check_request(
        &root,
        "POST /journal/{id}/done",
        &body(&root, "/api/v1/journal/{id}/done", "post", None),
        &[DoneChange { done: false }],
        true,
    );
    check_request(
        &root,
        "POST /journal/done",
        &body(&root, "/api/v1/journal/done", "post", None),
        &[DoneIds { ids: vec![1, 2] }],
        true,
    );
    for (path, status) in [
        ("/healthz", ProbeStatus::Live),
        ("/readyz", ProbeStatus::Ready),
    ] {
        check_answer(
            &root,
            &format!("GET {path} answer"),
            &body(&root, path, "get", Some("200")),
            &[Probe { status }],
        );
    }
    check_answer(
        &root,
        "POST /journal/done answer",
        &body(&root, "/api/v1/journal/done", "post", Some("200")),
        &[Updated { updated: 2 }],
    );
    check_answer(
        &root,
        "POST /calls/{id}/ticket answer",
        &body(&root, "/api/v1/calls/{id}/ticket", "post", Some("200")),
        &[CallTicket {
            id: 12,
            number: "53012".into(),
            url: "https://zammad.example.com/#ticket/zoom/12".into(),
        }],
    );
    check_answer(
        &root,
        "GET /callers/{number} answer",
        &body(&root, "/api/v1/callers/{number}", "get", Some("200")),
        &[
            CallerLookup {
                number: "+4930609854180".into(),
                caller_match: Some(caller_match()),
            },
            CallerLookup {
                number: "+4930609854180".into(),
                caller_match: None,
            },
        ],
    );
    check_answer_with(
        &root,
        "GET /me answer",
        &body(&root, "/api/v1/me", "get", Some("200")),
        &[
            Me {
                presence: presence(),
                helpdesk_url: Some("https://support.example.com/".into()),
                hub_version: Some("0.1.0".into()),
            },
            Me {
                presence: presence(),
                helpdesk_url: None,
                hub_version: Some("0.2.0".into()),
            },
        ],
        false,
    );
    let customer = "/api/v1/calls/{id}/customer";
    check_request(
        &root,
        "POST /calls/{id}/customer",
        &body(&root, customer, "post", None),
        &[NewCustomer {
            name: Some("Nicole Braun".into()),
        }],
        true,
    );
    let card = caller_match().contacts.remove(0);
    check_answer_with(
        &root,
        "POST /calls/{id}/customer answer",
        &body(&root, customer, "post", Some("201")),
        std::slice::from_ref(&card),
        false,
    );
    check_answer(
        &root,
        "POST /calls/{id}/customer: caller known",
        &at(&root, "/components/schemas/CallerKnown"),
        &[CallerKnown {
            code: "caller_known".into(),
            error: "+4930609854180 is known already: it is Bob".into(),
            contact: card,
        }],
    );
    check_request(
        &root,
        "GET /contacts",
        &query(&root, "/api/v1/contacts", "get"),
        &[ContactQuery {
            q: "exam".into(),
            limit: Some(10),
        }],
        false,
    );
    check_request(
        &root,
        "POST /dial",
        &body(&root, "/api/v1/dial", "post", None),
        &[DialRequest {
            number: "030 609854180".into(),
        }],
        true,
    );
    let placed = |caller_id: Option<&str>, call_id: Option<&str>| PlacedCall {
        number: "+4930609854180".into(),
        caller_id: caller_id.map(str::to_owned),
        call_id: call_id.map(str::to_owned),
    };
    check_answer(
        &root,
        "GET /helpdesk answer",
        &body(&root, "/api/v1/helpdesk", "get", Some("200")),
        &[
            HelpdeskStatus {
                kind: HelpdeskKind::Zammad,
                url: Some("https://zammad.example.com".into()),
                connection: down(),
                sync: true,
                last_sync: Some(time::macros::datetime!(2026-12-03 10:01 UTC)),
                last_sync_error: Some("Zammad refused the API token".into()),
                users: 120,
                organizations: 4,
                numbers: 180,
                relay: true,
                relay_pending: 3,
                relay_failed: 1,
            },
            HelpdeskStatus {
                kind: HelpdeskKind::None,
                url: None,
                connection: HelpdeskConnection::default(),
                sync: false,
                last_sync: None,
                last_sync_error: None,
                users: 0,
                organizations: 0,
                numbers: 0,
                relay: false,
                relay_pending: 0,
                relay_failed: 0,
            },
            HelpdeskStatus {
                kind: HelpdeskKind::Zammad,
                url: Some("https://zammad.example.com".into()),
                connection: HelpdeskConnection {
                    state: HelpdeskState::Slow,
                    ..down()
                },
                sync: true,
                last_sync: None,
                last_sync_error: None,
                users: 0,
                organizations: 0,
                numbers: 0,
                relay: false,
                relay_pending: 0,
                relay_failed: 0,
            },
        ],
    );
    check_answer(
        &root,
        "POST /dial answer",
        &body(&root, "/api/v1/dial", "post", Some("200")),
        &[
            DialResult::Placetel(placed(None, None)),
            DialResult::Sipgate(placed(Some("+4930123456"), Some("session"))),
            DialResult::Twilio(placed(Some("+4930123456"), Some("CA123"))),
            DialResult::Tel {
                number: "+4930609854180".into(),
                link: "tel:+4930609854180".into(),
            },
        ],
    );
}

#[test]
fn the_admin_api_types_are_the_description_of_the_admin_api() {
    let root = openapi();
    let identities: Identities = [(Provider::Twilio, "client:anna".to_owned())].into();
    check_request(
        &root,
        "POST /admin/agents",
        &body(&root, "/api/v1/admin/agents", "post", None),
        &[NewAgent {
            login: "anna".into(),
            name: "Anna".into(),
            admin: true,
            numbers: vec!["030 609854180".into()],
            identities: identities.clone(),
        }],
        true,
    );
    check_answer(
        &root,
        "POST /admin/agents answer",
        &body(&root, "/api/v1/admin/agents", "post", Some("201")),
        &[AgentCreated {
            agent: presence(),
            token: "secret".into(),
        }],
    );
    check_request(
        &root,
        "PATCH /admin/agents/{login}",
        &body(&root, "/api/v1/admin/agents/{login}", "patch", None),
        &[AgentUpdate {
            name: Some("Anna B.".into()),
            admin: Some(false),
            numbers: Some(vec![]),
            identities: Some(identities),
            out_of_office: Some(true),
        }],
        true,
    );
    check_answer(
        &root,
        "POST /admin/agents/{login}/token answer",
        &body(
            &root,
            "/api/v1/admin/agents/{login}/token",
            "post",
            Some("200"),
        ),
        &[AgentToken {
            login: "anna".into(),
            token: "secret".into(),
        }],
    );
    let synced = ZammadSyncState {
        enabled: true,
        mode: Some(ZammadSyncMode::Incremental),
        syncing: true,
        last_full_sync: Some(time::macros::datetime!(2026-12-03 10:00 UTC)),
        last_incremental_sync: Some(time::macros::datetime!(2026-12-03 10:01 UTC)),
        users: 100_000,
        organizations: 20,
        numbers: 150_000,
        last_error: Some("Zammad at https://zammad.example.com/ could not be reached".into()),
        last_error_at: Some(time::macros::datetime!(2026-12-03 10:02 UTC)),
        connection: down(),
    };
    let never = ZammadSyncState {
        enabled: false,
        mode: None,
        syncing: false,
        last_full_sync: None,
        last_incremental_sync: None,
        users: 0,
        organizations: 0,
        numbers: 0,
        last_error: None,
        last_error_at: None,
        connection: HelpdeskConnection::default(),
    };
    let full_passes = ZammadSyncState {
        mode: Some(ZammadSyncMode::FullPasses),
        ..never.clone()
    };
    let states = [synced, never, full_passes];
    check_answer(
        &root,
        "GET /admin/zammad answer",
        &body(&root, "/api/v1/admin/zammad", "get", Some("200")),
        &states,
    );
    check_answer(
        &root,
        "POST /admin/zammad/sync answer",
        &body(&root, "/api/v1/admin/zammad/sync", "post", Some("202")),
        &states,
    );
    check_answer(
        &root,
        "POST /admin/zammad/relay/retry answer",
        &body(
            &root,
            "/api/v1/admin/zammad/relay/retry",
            "post",
            Some("200"),
        ),
        &[RelayBacklog {
            enabled: true,
            pending: 2,
            failed: 0,
            dropped: 0,
            oldest_pending_secs: Some(0),
            last_error: Some("Zammad answered newCall with HTTP 401: Invalid token".into()),
            recent_failures: vec![],
        }],
    );
    check_answer(
        &root,
        "GET /admin/zammad/relay answer",
        &body(&root, "/api/v1/admin/zammad/relay", "get", Some("200")),
        &[
            RelayBacklog {
                enabled: true,
                pending: 3,
                failed: 1,
                dropped: 0,
                oldest_pending_secs: Some(42),
                last_error: Some("Zammad unreachable: connection refused".into()),
                recent_failures: vec![RelayFailure {
                    call_id: "placetel-abc".into(),
                    event: "newCall".into(),
                    error: "Zammad answered newCall with HTTP 401: Invalid token".into(),
                }],
            },
            RelayBacklog {
                enabled: false,
                pending: 0,
                failed: 0,
                dropped: 0,
                oldest_pending_secs: None,
                last_error: None,
                recent_failures: vec![],
            },
        ],
    );
}
