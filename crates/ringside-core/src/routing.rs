//! The hub's answers to the PBX and its choice of whom to notify: pure decisions over the
//! configured rules.
//!
//! - Inbound block list: a `newCall` from a listed caller is rejected as busy. Zammad compares
//!   the raw strings only; Ringside also blocks when both sides are the same E.164 number, so
//!   `+491715000000` is blocked by a rule for `491715000000`.
//! - Outbound routing table: the first route whose `dest` pattern matches the dialed number
//!   sets the caller ID, else the default caller ID. `*` stands for one or more characters;
//!   every other character is literal (Zammad turns the pattern into an unescaped regex).
//! - Notify map: an inbound call to a mapped queue is meant for the agents listed for it and
//!   for the agents whose own number it is; with no map, it is meant for everyone.

use serde::{Deserialize, Serialize};

/// One entry of the inbound block list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockRule {
    /// The caller ID to reject, as the PBX sends it.
    pub caller_id: String,
    /// Why it is blocked, for the admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `caller_id` normalized to E.164, filled in when the configuration is loaded.
    #[serde(skip)]
    pub e164: Option<String>,
}

/// One row of the outbound routing table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The dialed-number pattern; `*` stands for one or more characters.
    pub dest: String,
    /// The caller ID to present when the pattern matches.
    pub caller_id: String,
    /// What the route is for, for the admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One row of the notify map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyRule {
    /// The called number (queue) as the PBX sends it in `to`.
    pub queue: String,
    /// The logins of the agents to notify.
    pub agents: Vec<String>,
}

/// What the hub tells the PBX to do with a call, before any provider renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PbxAnswer {
    /// Go on as usual.
    Proceed,
    /// Reject the inbound call as busy.
    Reject,
    /// Dial `number` presenting `caller_id`.
    Dial {
        /// The caller ID to present.
        caller_id: String,
        /// The number to dial, as the PBX sent it.
        number: String,
    },
}

/// The rule that blocks an inbound caller, if any.
pub fn blocking_rule<'a>(
    rules: &'a [BlockRule],
    from: &str,
    from_e164: Option<&str>,
) -> Option<&'a BlockRule> {
    rules.iter().find(|rule| {
        rule.caller_id == from || (rule.e164.is_some() && rule.e164.as_deref() == from_e164)
    })
}

/// The caller ID an outbound call to `to` must present, if the routing table or the
/// default caller ID says so.
pub fn outbound_caller_id<'a>(
    routes: &'a [Route],
    default_caller_id: Option<&'a str>,
    to: &str,
) -> Option<&'a str> {
    if to.is_empty() {
        return None;
    }
    routes
        .iter()
        .find(|route| pattern_matches(&route.dest, to))
        .map(|route| route.caller_id.as_str())
        .or(default_caller_id.filter(|id| !id.is_empty()))
}

/// Whom an inbound call to `to` is meant for: `None` means everyone (no notify map).
/// `agents_owning_to` are the agents whose own number is `to`.
pub fn audience(
    rules: &[NotifyRule],
    to: &str,
    agents_owning_to: &[String],
) -> Option<Vec<String>> {
    if rules.is_empty() {
        return None;
    }
    let mut logins: Vec<String> = Vec::new();
    let mapped = rules
        .iter()
        .filter(|rule| rule.queue == to)
        .flat_map(|rule| rule.agents.iter());
    for login in mapped.chain(agents_owning_to) {
        if !logins.contains(login) {
            logins.push(login.clone());
        }
    }
    Some(logins)
}

/// Whether `text` matches `pattern`, where `*` stands for one or more characters.
///
/// The pattern is run as a set of positions in it (a Thompson NFA): each character of `text`
/// moves every live position at once, so the work is at most (pattern length + 1) × text
/// length steps whatever the number of `*`. (Trying each split of the text for each `*` in
/// turn takes exponential time on patterns such as `*1*1*1*1*` against long numbers.)
fn pattern_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    // live[i]: the first i pattern characters have matched the text read so far.
    let mut live = vec![false; pattern.len() + 1];
    let mut next = vec![false; pattern.len() + 1];
    live[0] = true;
    for c in text.chars() {
        next.fill(false);
        for (i, &p) in pattern.iter().enumerate() {
            // A `*` that has taken at least one character may take this one as well.
            if live[i + 1] && p == '*' {
                next[i + 1] = true;
            }
            if live[i] && (p == '*' || p == c) {
                next[i + 1] = true;
            }
        }
        std::mem::swap(&mut live, &mut next);
        if !live.contains(&true) {
            return false;
        }
    }
    live[pattern.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Vec<Route> {
        vec![
            Route {
                dest: "41*".into(),
                caller_id: "41715880339000".into(),
                note: None,
            },
            Route {
                dest: "491714000000".into(),
                caller_id: "41715880339000".into(),
                note: None,
            },
        ]
    }

    #[test]
    fn routing_table_as_in_zammads_fixture() {
        let default = Some("4930777000000");
        assert_eq!(
            outbound_caller_id(&routes(), default, "4147110000000"),
            Some("41715880339000")
        );
        assert_eq!(
            outbound_caller_id(&routes(), default, "491714000000"),
            Some("41715880339000")
        );
        assert_eq!(
            outbound_caller_id(&routes(), default, "4912347114711"),
            Some("4930777000000")
        );
        assert_eq!(outbound_caller_id(&routes(), None, "4912347114711"), None);
        assert_eq!(
            outbound_caller_id(&routes(), Some(""), "4912347114711"),
            None
        );
        assert_eq!(outbound_caller_id(&routes(), default, ""), None);
    }

    #[test]
    fn star_needs_at_least_one_character_and_other_characters_are_literal() {
        assert!(!pattern_matches("41*", "41"));
        assert!(pattern_matches("41*", "410"));
        assert!(pattern_matches("*00", "4100"));
        assert!(pattern_matches("4*1*", "4x1y"));
        assert!(!pattern_matches("4.1", "401"));
        assert!(pattern_matches("4.1", "4.1"));
        assert!(!pattern_matches("+41*", "41999"));
        assert!(pattern_matches("+41*", "+41999"));
    }

    /// The rule as first written: each `*` tries every split of the rest of the text.
    /// Exponential, but obviously right: the reference for [`pattern_matches`].
    fn reference(pattern: &[char], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) => (1..=text.len()).any(|taken| reference(rest, &text[taken..])),
            Some((c, rest)) => text.first() == Some(c) && reference(rest, &text[1..]),
        }
    }

    /// Every string of length up to `max` over `alphabet`.
    fn strings(alphabet: &[char], max: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn matching_agrees_with_the_reference_on_every_small_case() {
        let patterns = strings(&['*', '1', '2'], 5);
        let texts = strings(&['1', '2', '*'], 6);
        for pattern in &patterns {
            let p: Vec<char> = pattern.chars().collect();
            for text in &texts {
                let t: Vec<char> = text.chars().collect();
                assert_eq!(
                    pattern_matches(pattern, text),
                    reference(&p, &t),
                    "pattern {pattern:?}, text {text:?}"
                );
            }
        }
    }

    #[test]
    fn many_stars_against_a_long_number_that_does_not_match() {
        // Tried split by split, 30 stars against 240 digits are more splits than atoms in the
        // universe; run as positions, 31 × 240 steps.
        let pattern = format!("{}9", "*1".repeat(30));
        let number = "1".repeat(240);
        assert!(!pattern_matches(&pattern, &number));
        assert!(pattern_matches(&pattern, &format!("{number}9")));
        // The fuzzer's find: four stars against 240 characters.
        assert!(!pattern_matches("*0*0*0*0*x", &"0".repeat(240)));
    }

    #[test]
    fn block_list_matches_raw_or_same_number() {
        let rules = vec![BlockRule {
            caller_id: "491715000000".into(),
            note: Some("some note".into()),
            e164: Some("+491715000000".into()),
        }];
        assert!(blocking_rule(&rules, "491715000000", Some("+491715000000")).is_some());
        assert!(blocking_rule(&rules, "+491715000000", Some("+491715000000")).is_some());
        assert!(blocking_rule(&rules, "491715000001", Some("+491715000001")).is_none());
        assert!(blocking_rule(&rules, "anonymous", None).is_none());
    }

    #[test]
    fn audience_is_everyone_without_a_map() {
        assert_eq!(audience(&[], "4930600000000", &[]), None);
    }

    #[test]
    fn audience_unites_mapped_agents_and_number_owners() {
        let rules = vec![
            NotifyRule {
                queue: "4930600000000".into(),
                agents: vec!["anna".into(), "ben".into()],
            },
            NotifyRule {
                queue: "4930600000001".into(),
                agents: vec!["carl".into()],
            },
        ];
        assert_eq!(
            audience(&rules, "4930600000000", &["ben".into(), "dora".into()]),
            Some(vec!["anna".into(), "ben".into(), "dora".into()])
        );
        assert_eq!(audience(&rules, "4930699999999", &[]), Some(vec![]));
    }
}
