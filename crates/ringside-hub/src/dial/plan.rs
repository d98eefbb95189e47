//! What a dial request comes to before anything is sent: the number in E.164, the caller
//! ID the outbound rules choose, and which provider places the call for this agent. Pure
//! decisions over the configuration, so that they are tested without a network.

use ringside_core::agent::Identities;
use ringside_core::call::Provider;
use ringside_core::number::{self, DefaultCountry, E164};
use ringside_core::routing;
use thiserror::Error;

use crate::config::{Config, DialVia, Outbound};

/// Why the number an agent asked to dial is not one. Shown to the agent as it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NumberRefused {
    /// Nothing but blanks.
    #[error("enter the phone number to dial")]
    Empty,
    /// An identifier, an internal extension or garbage.
    #[error(
        "{0:?} is not a phone number: enter 6 to 15 digits, in national form (030 609854180) \
         or international form (+49 30 609854180)"
    )]
    NotANumber(String),
    /// Longer than any number as people write it.
    #[error(
        "a phone number has at most {} characters",
        crate::state::MAX_NUMBER_CHARS
    )]
    TooLong,
}

/// The provider that places an agent's call, with the agent's id there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialer<'a> {
    /// Placetel rings this SIP user (`sipuid`) first.
    Placetel {
        /// The agent's Placetel SIP user, e.g. `777abcdefg@fpbx.de`.
        sipuid: &'a str,
    },
    /// sipgate rings this device or user (`caller`) first.
    Sipgate {
        /// The agent's sipgate id, e.g. `w0` or `e14`.
        caller: &'a str,
    },
    /// Twilio calls the agent's phone or client first.
    Twilio {
        /// The agent's Twilio phone (`+49…`) or client (`client:anna`).
        agent: &'a str,
    },
}

/// The number to dial in E.164, from what the agent typed or clicked, read with the hub's
/// default country.
pub fn number(raw: &str, country: &DefaultCountry) -> Result<E164, NumberRefused> {
    if raw.chars().count() > crate::state::MAX_NUMBER_CHARS {
        return Err(NumberRefused::TooLong);
    }
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(NumberRefused::Empty);
    }
    number::normalize(raw, country).ok_or_else(|| NumberRefused::NotANumber(raw.to_owned()))
}

/// The caller ID the outbound rules choose for `number`, as configured (`None`: the
/// provider's own). The routing table's patterns are written against international digits
/// without `+` (`41*`), the form in which sipgate and Zammad's PBX scripts send numbers,
/// so they are matched against [`E164::digits`].
pub fn caller_id<'a>(outbound: &'a Outbound, number: &E164) -> Option<&'a str> {
    routing::outbound_caller_id(
        &outbound.routes,
        Some(outbound.default_caller_id.as_str()),
        number.digits(),
    )
}

/// A configured caller ID as the provider APIs want it: E.164 when it is a number, else as
/// written (the provider will say what it thinks of it).
pub fn caller_id_e164(caller_id: &str, country: &DefaultCountry) -> String {
    number::normalize(caller_id, country)
        .map(String::from)
        .unwrap_or_else(|| caller_id.to_owned())
}

/// The provider that dials for an agent: the one `dial_via` names (`[outbound] dial_via`, as
/// the rules in force say), or with `auto` the first of Placetel, sipgate and Twilio whose
/// API credentials are configured and at which the agent has an identity; `None`: the agent
/// dials from their own softphone.
pub fn dialer<'a>(
    config: &Config,
    dial_via: DialVia,
    identities: &'a Identities,
) -> Option<Dialer<'a>> {
    let identity = |provider| {
        identities
            .get(&provider)
            .map(|id| id.trim())
            .filter(|id| !id.is_empty())
    };
    let set = |value: &str| !value.trim().is_empty();
    let allowed = |provider: Provider| match dial_via {
        DialVia::Auto => true,
        DialVia::Placetel => provider == Provider::Placetel,
        DialVia::Sipgate => provider == Provider::Sipgate,
        DialVia::Twilio => provider == Provider::Twilio,
        DialVia::Tel => false,
    };
    let placetel = &config.placetel;
    let sipgate = &config.sipgate;
    let twilio = &config.twilio;
    if let (true, Some(sipuid)) = (
        allowed(Provider::Placetel) && set(&placetel.api_token),
        identity(Provider::Placetel),
    ) {
        return Some(Dialer::Placetel { sipuid });
    }
    if let (true, Some(caller)) = (
        allowed(Provider::Sipgate) && set(&sipgate.api_token_id) && set(&sipgate.api_token),
        identity(Provider::Sipgate),
    ) {
        return Some(Dialer::Sipgate { caller });
    }
    if let (true, Some(agent)) = (
        allowed(Provider::Twilio)
            && set(&twilio.account_sid)
            && set(&twilio.auth_token)
            && set(&twilio.number),
        identity(Provider::Twilio),
    ) {
        return Some(Dialer::Twilio { agent });
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use ringside_core::routing::Route;

    use super::*;

    fn de() -> DefaultCountry {
        DefaultCountry::from_iso("DE").unwrap()
    }

    fn config(text: &str) -> Config {
        Config::from_toml(text, Path::new("test.toml"), std::iter::empty())
            .unwrap()
            .config
    }

    fn identities(pairs: &[(Provider, &str)]) -> Identities {
        pairs.iter().map(|(p, id)| (*p, id.to_string())).collect()
    }

    #[test]
    fn numbers_are_read_with_the_default_country() {
        assert_eq!(
            number(" 030 609854180 ", &de()).unwrap().as_str(),
            "+4930609854180"
        );
        assert_eq!(
            number("+41 71 588 03 39", &de()).unwrap().as_str(),
            "+41715880339"
        );
        assert_eq!(number("  ", &de()), Err(NumberRefused::Empty));
        for garbage in ["anonymous", "client:anna", "23", "call me", "12/12/2024"] {
            assert_eq!(
                number(garbage, &de()),
                Err(NumberRefused::NotANumber(garbage.into()))
            );
        }
    }

    #[test]
    fn routes_match_international_digits_then_the_default_applies() {
        let outbound = Outbound {
            default_caller_id: "4930777000000".into(),
            routes: vec![Route {
                dest: "41*".into(),
                caller_id: "41715880339000".into(),
                note: None,
            }],
            dial_via: DialVia::Auto,
        };
        let swiss = number("0041 71 588 03 39", &de()).unwrap();
        let german = number("030 609854180", &de()).unwrap();
        assert_eq!(caller_id(&outbound, &swiss), Some("41715880339000"));
        assert_eq!(caller_id(&outbound, &german), Some("4930777000000"));
        assert_eq!(caller_id(&Outbound::default(), &german), None);
        assert_eq!(caller_id_e164("41715880339000", &de()), "+41715880339000");
        assert_eq!(caller_id_e164("anonymous", &de()), "anonymous");
    }

    #[test]
    fn the_first_provider_with_credentials_and_an_identity_dials() {
        let all = config(
            "[placetel]\napi_token = \"p\"\n\
             [sipgate]\napi_token_id = \"token-A\"\napi_token = \"s\"\n\
             [twilio]\naccount_sid = \"AC1\"\nauth_token = \"t\"\nnumber = \"+4930600000000\"\n",
        );
        let everywhere = identities(&[
            (Provider::Placetel, "777a@fpbx.de"),
            (Provider::Sipgate, "w0"),
            (Provider::Twilio, "client:anna"),
        ]);
        assert_eq!(
            dialer(&all, all.outbound.dial_via, &everywhere),
            Some(Dialer::Placetel {
                sipuid: "777a@fpbx.de"
            })
        );
        let sipgate_and_twilio = identities(&[(Provider::Sipgate, "w0"), (Provider::Twilio, "x")]);
        assert_eq!(
            dialer(&all, all.outbound.dial_via, &sipgate_and_twilio),
            Some(Dialer::Sipgate { caller: "w0" })
        );
        let twilio_only = identities(&[(Provider::Twilio, "+491701111111")]);
        assert_eq!(
            dialer(&all, all.outbound.dial_via, &twilio_only),
            Some(Dialer::Twilio {
                agent: "+491701111111"
            })
        );
        assert_eq!(
            dialer(
                &all,
                all.outbound.dial_via,
                &identities(&[(Provider::Generic, "x")])
            ),
            None
        );
        assert_eq!(
            dialer(
                &all,
                all.outbound.dial_via,
                &identities(&[(Provider::Placetel, " ")])
            ),
            None
        );
    }

    #[test]
    fn dial_via_names_the_provider_or_the_softphone() {
        let both = "[placetel]\napi_token = \"p\"\n[sipgate]\napi_token_id = \"token-1\"\napi_token = \"s\"\n";
        let ids = identities(&[
            (Provider::Placetel, "777a@fpbx.de"),
            (Provider::Sipgate, "w0"),
        ]);
        let auto = config(both);
        assert!(matches!(
            dialer(&auto, auto.outbound.dial_via, &ids),
            Some(Dialer::Placetel { .. })
        ));
        let sipgate = config(&format!("{both}[outbound]\ndial_via = \"sipgate\"\n"));
        assert!(matches!(
            dialer(&sipgate, sipgate.outbound.dial_via, &ids),
            Some(Dialer::Sipgate { caller: "w0" })
        ));
        let tel = config(&format!("{both}[outbound]\ndial_via = \"tel\"\n"));
        assert!(dialer(&tel, tel.outbound.dial_via, &ids).is_none());
        let twilio = config(&format!("{both}[outbound]\ndial_via = \"twilio\"\n"));
        assert!(
            dialer(&twilio, twilio.outbound.dial_via, &ids).is_none(),
            "no Twilio credentials or identity"
        );
    }

    #[test]
    fn an_identity_without_credentials_does_not_dial() {
        let half = config(
            "[sipgate]\napi_token_id = \"token-A\"\n[twilio]\naccount_sid = \"AC1\"\nauth_token = \"t\"\n",
        );
        let everywhere = identities(&[
            (Provider::Placetel, "777a@fpbx.de"),
            (Provider::Sipgate, "w0"),
            (Provider::Twilio, "client:anna"),
        ]);
        assert_eq!(dialer(&half, half.outbound.dial_via, &everywhere), None);
    }
}
