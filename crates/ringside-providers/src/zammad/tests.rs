use ringside_core::number::DefaultCountry;
use time::macros::datetime;

use super::*;

fn de() -> DefaultCountry {
    DefaultCountry::from_iso("DE").unwrap()
}

fn numbers(user: &User) -> Vec<&str> {
    user.numbers.iter().map(|n| n.as_str()).collect()
}

/// A user as `GET /api/v1/users` sends it, with the attributes Zammad adds.
const NICOLE: &str = r#"[{
  "id": 2, "organization_id": 1, "login": "nicole.braun@zammad.org",
  "firstname": "Nicole", "lastname": "Braun", "email": "nicole.braun@zammad.org",
  "image": null, "image_source": null, "web": "", "phone": "+49 (0)30 123-456",
  "fax": "030 99 88 77", "mobile": "0171 2223333", "department": "", "street": "",
  "zip": "", "city": "", "country": "", "address": "", "vip": false, "verified": false,
  "active": true, "note": "Switchboard: +41 44 668 18 00", "last_login": null,
  "source": null, "login_failed": 0, "out_of_office": false,
  "preferences": {"locale": "de-de"}, "updated_by_id": 3, "created_by_id": 1,
  "created_at": "2021-07-26T14:25:53.073Z", "updated_at": "2021-07-26T14:26:18.108Z",
  "role_ids": [3], "organization_ids": [], "authorization_ids": [], "group_ids": {}
}]"#;

#[test]
fn a_user_page_reads_with_every_number_zammad_finds() {
    let users = records::users(NICOLE.as_bytes(), &de()).unwrap();
    assert_eq!(users.len(), 1);
    let user = &users[0];
    assert_eq!(user.id, 2);
    assert_eq!(user.name, "Nicole Braun");
    assert_eq!(user.email.as_deref(), Some("nicole.braun@zammad.org"));
    assert_eq!(user.organization_id, Some(1));
    assert!(user.active);
    assert_eq!(
        user.updated_at,
        Some(datetime!(2021-07-26 14:26:18.108 UTC))
    );
    // The reference's own example "+49 (0)30 123-456": the bracketed trunk zero is dropped.
    assert_eq!(
        numbers(user),
        [
            "+4930123456",
            "+491712223333",
            "+4930998877",
            "+41446681800"
        ]
    );
}

#[test]
fn phone_fields_keep_their_plus_and_other_text_is_scanned_as_zammad_does() {
    let body = r#"[{"id": 5, "phone": "+1 415 555 0100", "mobile": "030/123456",
        "street": "Hauptstr. 1", "zip": "10115", "department": "Support 089 123456",
        "created_at": "2021-07-26T14:25:53.073Z", "login": "5f0c3c1e-1234-5678-9abc-def012345678"}]"#;
    let user = &records::users(body.as_bytes(), &de()).unwrap()[0];
    // "10115" has five digits, fewer than a number; the dates, ids and the UUID login are
    // not scanned.
    assert_eq!(
        numbers(user),
        ["+14155550100", "+4930123456", "+4989123456"]
    );
    assert_eq!(
        user.name, "5f0c3c1e-1234-5678-9abc-def012345678",
        "no name or e-mail"
    );
}

#[test]
fn a_national_number_takes_the_configured_country_not_germany() {
    let body = r#"[{"id": 7, "firstname": "Ann", "phone": "0044 20 7946 0958",
        "mobile": "1 (415) 555-0100"}]"#;
    let us = DefaultCountry::from_iso("US").unwrap();
    let user = &records::users(body.as_bytes(), &us).unwrap()[0];
    assert_eq!(numbers(user), ["+442079460958", "+14155550100"]);
}

#[test]
fn users_without_names_are_named_by_email_then_login() {
    let body = r#"[{"id": 8, "firstname": "", "lastname": null, "email": "a@example.com"},
        {"id": 9, "login": "bob"}]"#;
    let users = records::users(body.as_bytes(), &de()).unwrap();
    assert_eq!(users[0].name, "a@example.com");
    assert_eq!(users[1].name, "bob");
    assert_eq!(users[1].email, None);
}

#[test]
fn organizations_read_with_numbers_from_their_text() {
    let body = r#"[{"id": 1, "name": "Zammad Foundation", "shared": true, "domain": "",
        "domain_assignment": false, "active": true, "note": "Hotline 030 609854180",
        "member_ids": [2], "updated_at": "2021-07-26T14:25:53.073Z"}]"#;
    let orgs = records::organizations(body.as_bytes(), &de()).unwrap();
    assert_eq!(orgs[0].id, 1);
    assert_eq!(orgs[0].name, "Zammad Foundation");
    assert_eq!(
        orgs[0]
            .numbers
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["+4930609854180"]
    );
}

#[test]
fn long_texts_are_cut_and_numbers_bounded() {
    let long = "x".repeat(10_000);
    let many: Vec<String> = (0..80).map(|i| format!("030 5550{i:03}")).collect();
    let body = serde_json::json!([{ "id": 3, "firstname": long, "note": many.join(", ") }]);
    let user = &records::users(body.to_string().as_bytes(), &de()).unwrap()[0];
    assert_eq!(
        user.name.chars().count(),
        ringside_core::limits::MAX_NAME_CHARS
    );
    assert_eq!(
        user.numbers.len(),
        ringside_core::limits::MAX_NUMBERS_PER_RECORD
    );
}

#[test]
fn answers_of_the_wrong_shape_are_refused_in_words() {
    let err = records::users(b"{\"error\":\"Not authorized\"}", &de()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Zammad's answer is not an array of users: an object"
    );
    assert!(matches!(
        records::users(b"<html>", &de()),
        Err(ZammadWireError::NotJson(_))
    ));
    assert!(records::users(br#"[{"firstname": "x"}]"#, &de()).is_err());
    let too_many = format!(
        "[{}]",
        vec!["{\"id\":1}"; MAX_RECORDS_PER_PAGE + 1].join(",")
    );
    assert_eq!(
        records::users(too_many.as_bytes(), &de()),
        Err(ZammadWireError::TooMany(MAX_RECORDS_PER_PAGE + 1))
    );
    assert!(records::users(b"[]", &de()).unwrap().is_empty());
}

#[test]
fn ticket_states_and_expanded_tickets_read() {
    let states = tickets::states(
        br#"[{"id":1,"name":"new","state_type_id":1},
        {"id":2,"name":"open"},{"id":4,"name":"closed"}]"#,
    )
    .unwrap();
    assert_eq!(
        states[2],
        TicketState {
            id: 4,
            name: "closed".into()
        }
    );
    let found = tickets::search(
        br#"[{"id":3,"group_id":1,"priority_id":2,"state_id":2,"organization_id":1,
        "number":"53003","title":"Printer on fire","owner_id":1,"customer_id":2,
        "article_count":2,"state":"open","priority":"2 normal","group":"Users",
        "created_at":"2021-07-26T14:25:53.073Z","updated_at":"2021-07-27T09:00:00Z"}]"#,
    )
    .unwrap();
    assert_eq!(found[0].number, "53003");
    assert_eq!(found[0].state.as_deref(), Some("open"));
    assert_eq!(found[0].state_id, Some(2));
    assert_eq!(found[0].customer_id, Some(2));
    assert_eq!(found[0].updated_at, Some(datetime!(2021-07-27 09:00 UTC)));
}

#[test]
fn a_customers_profile_tickets_come_from_the_assets() {
    let body = br#"{"ticket_ids_open":[12,11],"ticket_ids_closed":[3,99],
        "assets":{"Ticket":{
          "12":{"id":12,"number":"53012","title":"New","state_id":1,"customer_id":2},
          "11":{"id":11,"number":"53011","title":"Older","state_id":2,"customer_id":2},
          "3":{"id":3,"number":"53003","title":"Done","state_id":4,"customer_id":2}},
          "User":{"2":{"id":2}}}}"#;
    let tickets = tickets::customer(body).unwrap();
    let numbers = |list: &[Ticket]| list.iter().map(|t| t.number.clone()).collect::<Vec<_>>();
    assert_eq!(numbers(&tickets.open), ["53012", "53011"]);
    assert_eq!(
        numbers(&tickets.closed),
        ["53003"],
        "99 is not among the assets"
    );
    assert!(tickets::customer(b"[]").is_err());
}

#[test]
fn the_incremental_query_is_elasticsearch_date_math() {
    assert_eq!(updated_within_query(90), "updated_at:>now-90s");
}

/// A ticket's articles as `ticket_articles/by_ticket/{id}?expand=true` sends them: a
/// customer's e-mail with a signature, then an agent's answer with the hotline's number.
const ARTICLES: &str = r#"[{
  "id": 11, "ticket_id": 7, "type_id": 1, "sender_id": 2, "from": "Anna Schmidt <anna@example.com>",
  "to": "support@example.com", "cc": null, "subject": "Printer 4711 broken",
  "message_id": "<20240101123456.7654321@example.com>",
  "body": "Hello,\nit jams.\n\nAnna Schmidt\nTel. 030 1234567", "content_type": "text/plain",
  "internal": false, "preferences": {}, "created_by_id": 5, "updated_by_id": 5,
  "origin_by_id": null, "created_at": "2024-01-01T12:34:56.000Z",
  "updated_at": "2024-01-01T12:34:56.000Z", "sender": "Customer", "type": "email",
  "created_by": "customer20240101@example.com", "updated_by": "customer20240101@example.com"
}, {
  "id": 12, "ticket_id": 7, "sender_id": 1, "from": "Support", "to": "anna@example.com",
  "subject": "Re: Printer", "body": "Call our hotline 030 9999999", "content_type": "text/plain",
  "created_by_id": 3, "created_at": "2024-01-01T13:00:00.000Z", "sender": "Agent", "type": "email"
}]"#;

#[test]
fn a_customer_written_first_article_gives_its_numbers_and_author() {
    let article = articles::first_by_customer(ARTICLES.as_bytes(), &de())
        .unwrap()
        .expect("the customer wrote the first article");
    assert_eq!(article.id, 11);
    assert_eq!(article.author_id, 5);
    // The signature's number, read in the default country; not the agent's hotline in the
    // second article, nor digits of the message id or the creator's login.
    let numbers: Vec<&str> = article.numbers.iter().map(|n| n.as_str()).collect();
    assert_eq!(numbers, ["+49301234567"]);
}

#[test]
fn an_agent_written_first_article_or_none_gives_nothing() {
    let agent_first = ARTICLES.replacen(r#""sender": "Customer""#, r#""sender": "Agent""#, 1);
    assert_eq!(
        articles::first_by_customer(agent_first.as_bytes(), &de()).unwrap(),
        None
    );
    assert_eq!(articles::first_by_customer(b"[]", &de()).unwrap(), None);
    assert!(articles::first_by_customer(b"{}", &de()).is_err());
    assert!(articles::first_by_customer(b"[1]", &de()).is_err());
}
