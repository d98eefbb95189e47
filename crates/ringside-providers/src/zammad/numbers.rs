//! The numbers of a Zammad record as Zammad's own caller ID finds them
//! (`Cti::CallerId.build_item`): every text attribute is scanned for runs of digits, and
//! every number found is a caller number of the record. Normalized to E.164 with the hub's
//! default country instead of Zammad's hard-coded Germany.

use ringside_core::limits::{MAX_NUMBERS_PER_RECORD, MAX_TEXT_CHARS};
use ringside_core::number::{self, DefaultCountry, E164};
use serde_json::{Map, Value};

/// The attributes that hold one phone number each: the whole value is tried as a number
/// first (so that `+1 415 555 0100` keeps its `+`), then scanned like any text.
pub const PHONE_FIELDS: [&str; 3] = ["phone", "mobile", "fax"];

/// Whether an attribute of Zammad's JSON is left out of the scan. In Zammad's model the
/// scan sees String columns only; in the JSON, ids, id lists and times (`*_at`) are
/// numbers, arrays or date strings that are not String columns there, and the `login`
/// may be an auto-generated UUID whose digit runs Zammad itself stopped indexing
/// (its migration `Issue6384CleanupCtiCallerIdsFromTechnicalColumns`).
fn skipped(key: &str) -> bool {
    key == "id"
        || key == "login"
        || key.ends_with("_id")
        || key.ends_with("_ids")
        || key.ends_with("_at")
}

/// The caller numbers of a user or organization, deduplicated, in the order found (phone
/// fields first), at most [`MAX_NUMBERS_PER_RECORD`].
pub fn of_record(map: &Map<String, Value>, country: &DefaultCountry) -> Vec<E164> {
    let mut found: Vec<E164> = Vec::new();
    let mut add = |numbers: Vec<E164>| {
        for n in numbers {
            if found.len() < MAX_NUMBERS_PER_RECORD && !found.contains(&n) {
                found.push(n);
            }
        }
    };
    for field in PHONE_FIELDS {
        if let Some(value) = map.get(field).and_then(Value::as_str) {
            add(number::normalize(value, country).into_iter().collect());
        }
    }
    for (key, value) in map {
        if skipped(key) {
            continue;
        }
        if let Value::String(text) = value {
            let (text, _) = ringside_core::limits::cut(text, MAX_TEXT_CHARS);
            add(number::extract(text, country));
        }
    }
    found
}
