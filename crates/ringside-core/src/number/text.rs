//! Numbers in free text: a contact's note, a ticket's body, an e-mail signature.

use std::collections::HashSet;

use super::{normalize, DefaultCountry, E164};

/// Zammad's free-text runs: at least this many characters ...
const MIN_RUN: usize = 6;
/// ... and at most this many; longer runs are cut into chunks of this size.
const MAX_RUN: usize = 26;

/// Finds the numbers in free text such as a contact's note or a ticket's body, the way
/// Zammad's `extract_numbers` does, deduplicated in first-seen order.
///
/// A candidate is a maximal run of 6 to 26 characters of digits, spaces, `-`, `(`, `)`,
/// `|` and `/`; longer runs are cut into 26-character chunks and a remainder shorter than
/// 6 is dropped. `+` is not in the class, so `+49 30 1234567` yields the run
/// `49 30 1234567`, which normalizes to the same number. Unlike Zammad, a line break ends
/// a run, so that two numbers on consecutive lines are not glued into one.
pub fn extract(text: &str, country: &DefaultCountry) -> Vec<E164> {
    let mut found: Vec<E164> = Vec::new();
    // What `found` holds, so that deduplicating stays linear in the text's length.
    let mut seen: HashSet<E164> = HashSet::new();
    let mut keep = |run: &str| {
        if run.chars().count() >= MIN_RUN {
            if let Some(number) = normalize(run, country) {
                if seen.insert(number.clone()) {
                    found.push(number);
                }
            }
        }
    };
    let mut run = String::new();
    let mut run_len = 0;
    for c in text.chars() {
        if is_run_char(c) {
            run.push(c);
            run_len += 1;
            if run_len == MAX_RUN {
                keep(&run);
                run.clear();
                run_len = 0;
            }
        } else {
            keep(&run);
            run.clear();
            run_len = 0;
        }
    }
    keep(&run);
    found
}

/// Zammad's character class for number runs, without line breaks.
fn is_run_char(c: char) -> bool {
    matches!(
        c,
        '0'..='9' | ' ' | '\t' | '\x0B' | '\x0C' | '-' | '(' | ')' | '|' | '/'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extracted(text: &str) -> Vec<String> {
        let de = DefaultCountry::from_iso("DE").unwrap();
        extract(text, &de).into_iter().map(String::from).collect()
    }

    #[test]
    fn extraction_finds_numbers_in_text() {
        let signature = "Best regards\nAnna Example\nTel. 030 609854180\nMobil: +49 171 2345678\n\
                         Fax (030) 609854181";
        assert_eq!(
            extracted(signature),
            ["+4930609854180", "+491712345678", "+4930609854181"]
        );
        assert_eq!(
            extracted("call 4930609854180 or 030 609854180"),
            ["+4930609854180"]
        );
        assert_eq!(extracted("Tel 030/609854180"), ["+4930609854180"]);
    }

    #[test]
    fn extraction_skips_dates_short_runs_and_junk() {
        assert!(extracted("Meeting on 12/12/2024 at 10:30").is_empty());
        assert!(extracted("room 12345, ext 23, order #99").is_empty());
        assert!(extracted("").is_empty());
        assert!(extracted("anonymous").is_empty());
    }

    #[test]
    fn extraction_cuts_long_runs_like_zammad() {
        // 30 run characters: one 26-character chunk, the 4-character remainder is dropped.
        let text = "0301234567 0301234567 030123456";
        assert_eq!(text.len(), 31);
        assert!(extracted(text).is_empty(), "the first chunk has 20 digits");
        // Two chunks, each a number.
        let text = format!("{:<26}{}", "030 609854180", "0171 2345678");
        assert_eq!(extracted(&text), ["+4930609854180", "+491712345678"]);
        // A line break ends a run (Zammad would glue both lines into one 22-digit run).
        assert_eq!(
            extracted("030 609854180\n030 609854181"),
            ["+4930609854180", "+4930609854181"]
        );
    }
}
