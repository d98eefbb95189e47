//! Creating a customer in Zammad for an unknown caller (`POST /api/v1/users`, reference
//! §1.6): the JSON the hub sends, and Zammad's answer, the new user.

use ringside_core::number::{DefaultCountry, E164};
use serde_json::{json, Map, Value};

use super::records::{self, User};
use super::{json as parse, shape, ZammadWireError};

/// The body of `POST /api/v1/users` for a caller: the number in E.164 in `phone`, and the
/// name the agent gave split into `firstname` (every word but the last) and `lastname`
/// (the last word), as a full name is commonly written. The phone alone identifies the
/// user for Zammad, which asks for at least one of firstname, lastname, email or phone.
pub fn new_customer(name: Option<&str>, phone: &E164) -> Value {
    let mut body = Map::new();
    let words: Vec<&str> = name.unwrap_or_default().split_whitespace().collect();
    match words.split_last() {
        Some((only, [])) => {
            body.insert("firstname".into(), json!(only));
        }
        Some((last, first)) => {
            body.insert("firstname".into(), json!(first.join(" ")));
            body.insert("lastname".into(), json!(last));
        }
        None => {}
    }
    body.insert("phone".into(), json!(phone.as_str()));
    Value::Object(body)
}

/// Reads Zammad's answer to `POST /api/v1/users`: the user it created, as an object.
pub fn created_user(body: &[u8], country: &DefaultCountry) -> Result<User, ZammadWireError> {
    match parse(body)? {
        Value::Object(map) => records::user(&map, country),
        other => Err(shape("the user Zammad created", &other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number() -> E164 {
        E164::parse("+4930609854180").unwrap()
    }

    #[test]
    fn the_name_is_split_into_first_and_last_name() {
        assert_eq!(
            new_customer(Some("  Nicole  van  Braun "), &number()),
            json!({"firstname": "Nicole van", "lastname": "Braun", "phone": "+4930609854180"})
        );
        assert_eq!(
            new_customer(Some("Nicole"), &number()),
            json!({"firstname": "Nicole", "phone": "+4930609854180"})
        );
    }

    #[test]
    fn without_a_name_the_phone_identifies_the_customer() {
        for name in [None, Some(""), Some("   ")] {
            assert_eq!(
                new_customer(name, &number()),
                json!({"phone": "+4930609854180"})
            );
        }
    }

    #[test]
    fn the_answer_is_the_new_user_with_its_number() {
        let de = DefaultCountry::from_iso("DE").unwrap();
        let body = br#"{"id": 17, "firstname": "", "lastname": "", "email": "",
            "login": "auto-1733-123456", "phone": "+4930609854180", "active": true}"#;
        let user = created_user(body, &de).unwrap();
        assert_eq!(user.id, 17);
        assert_eq!(user.numbers, [number()]);
        assert_eq!(user.name, "+4930609854180", "not the login Zammad made up");
        assert!(created_user(b"[]", &de).is_err());
        assert!(created_user(br#"{"firstname": "no id"}"#, &de).is_err());
    }
}
