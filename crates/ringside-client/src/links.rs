//! Which links the desktop app may open: the help desk's own pages (the help desk set in
//! Settings, and the one the hub syncs callers from) over `https:` (`http:` only to this
//! computer, as the hub allows for its help desk), and phone links. Anything else a caller
//! record carries (another host, `http:` elsewhere, `javascript:`, `file:`) is refused, so
//! a poisoned directory entry cannot send the agent anywhere. The `tel:` link the hub
//! returns when no provider dials is opened only when it would not come straight back to
//! this app.

use url::Url;

use crate::dial_prompt::LinkOrigin;
use crate::rest::DialResult;

/// Why a link was not opened; the text is shown to the agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefused {
    /// Not a URL at all.
    #[error("{0:?} is not a link")]
    Malformed(String),
    /// No help-desk address is configured, so no web link is trusted.
    #[error("set the help desk's address in Settings to open its links")]
    NoHelpdesk,
    /// A web link elsewhere than the help desk, or not over https.
    #[error("only https links to {helpdesk} are opened, not {url}")]
    Foreign {
        /// The trusted help-desk origins, joined with " or ".
        helpdesk: String,
        /// The refused link.
        url: String,
    },
    /// The hub answered a dial with a link that is not a phone link.
    #[error("the hub answered with {0:?}, which is not a phone link")]
    NotPhone(String),
    /// No provider dials for the agent, and the softphone link would come straight back to
    /// this app, the computer's handler of phone links.
    #[error(
        "No phone provider dials for you, and Ringside is this computer's handler of phone \
         links, so there is no softphone to hand {0} to. Ask the admin to set your provider \
         id, or open the number in your softphone."
    )]
    NoDialer(String),
}

impl LinkRefused {
    /// The stable code the UI switches on: `no_dialer` when the hub has no dialer for the
    /// agent, `link_refused` for every refused link.
    pub fn code(&self) -> &'static str {
        match self {
            LinkRefused::NoDialer(_) => "no_dialer",
            _ => "link_refused",
        }
    }
}

/// What the app does once the hub took a dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterDial {
    /// A provider rings the agent's phone: nothing to open.
    Placed,
    /// No provider dials: this `tel:` link goes to the agent's softphone.
    OpenSoftphone(Url),
}

/// What to do with the hub's answer to a dial of a link from `origin`: the one policy for
/// the hub's `tel:` link. It would come straight back to this app when the desktop handed
/// the link here (the app is then the computer's handler of `tel:` links, whatever it
/// reports) or when `app_is_phone_link_handler` says so (asked only then: it may ask the
/// desktop); then it is refused with the reason instead.
pub fn after_dial(
    dialed: &DialResult,
    origin: LinkOrigin,
    app_is_phone_link_handler: impl FnOnce() -> bool,
) -> Result<AfterDial, LinkRefused> {
    let DialResult::Tel { link, number } = dialed else {
        return Ok(AfterDial::Placed);
    };
    let url = Url::parse(link)
        .ok()
        .filter(|url| phone_number(url).is_some())
        .ok_or_else(|| LinkRefused::NotPhone(link.to_owned()))?;
    if origin == LinkOrigin::Desktop || app_is_phone_link_handler() {
        return Err(LinkRefused::NoDialer(number.clone()));
    }
    Ok(AfterDial::OpenSoftphone(url))
}

/// What an allowed link is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A page of the help desk, for the browser.
    Helpdesk(Url),
    /// A phone number from a `tel:` or `callto:` link, as written in it.
    Phone(String),
}

/// Checks `raw` against the allowlist: a page on the origin of one of `helpdesks` (the
/// help desk set in Settings, the one the hub names), or a phone link. A help desk is
/// trusted over https, or over http when it is on this computer.
pub fn check(raw: &str, helpdesks: &[&Url]) -> Result<Link, LinkRefused> {
    let url = Url::parse(raw.trim()).map_err(|_| LinkRefused::Malformed(raw.to_owned()))?;
    if let Some(number) = phone_number(&url) {
        return Ok(Link::Phone(number));
    }
    let trusted: Vec<&Url> = helpdesks
        .iter()
        .copied()
        .filter(|desk| secure(desk))
        .collect();
    if trusted.is_empty() {
        return Err(LinkRefused::NoHelpdesk);
    }
    let same_origin = trusted.iter().any(|desk| {
        url.scheme() == desk.scheme()
            && url.origin() == desk.origin()
            && url.username().is_empty()
            && url.password().is_none()
    });
    if same_origin {
        Ok(Link::Helpdesk(url))
    } else {
        let origins: Vec<String> = trusted
            .iter()
            .map(|desk| desk.origin().ascii_serialization())
            .collect();
        Err(LinkRefused::Foreign {
            helpdesk: origins.join(" or "),
            url: url.to_string(),
        })
    }
}

/// Whether a help desk's pages may be trusted: https, or http to this computer (where the
/// hub accepts a plain-http help desk too).
fn secure(helpdesk: &Url) -> bool {
    let loopback = match helpdesk.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match helpdesk.scheme() {
        "https" => true,
        "http" => loopback,
        _ => false,
    }
}

/// The number of a `tel:` or `callto:` link (`tel:+49 30 1234`, `callto://+49301234`),
/// percent-decoded, without parameters such as `;ext=`.
pub fn phone_number(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "tel" | "callto") {
        return None;
    }
    let rest = url.as_str().split_once(':')?.1.trim_start_matches('/');
    let rest = rest.split([';', '?']).next().unwrap_or_default();
    let decoded = percent_decode(rest);
    let number = decoded.trim();
    (number.chars().filter(char::is_ascii_digit).count() >= 3).then(|| number.to_owned())
}

/// Decodes `%XX` escapes; invalid ones stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use ringside_core::api::PlacedCall;

    use super::*;

    fn tel(link: &str) -> DialResult {
        DialResult::Tel {
            number: "+49301234567".into(),
            link: link.into(),
        }
    }

    #[test]
    fn a_provider_dial_opens_nothing() {
        assert_eq!(
            after_dial(
                &DialResult::Placetel(PlacedCall {
                    number: "+49301234567".into(),
                    caller_id: None,
                    call_id: None,
                }),
                LinkOrigin::AppWindow,
                || true
            ),
            Ok(AfterDial::Placed)
        );
    }

    #[test]
    fn the_softphone_link_opens_unless_it_would_come_back_here() {
        let tel = tel("tel:+49301234567");
        assert_eq!(
            after_dial(&tel, LinkOrigin::AppWindow, || false),
            Ok(AfterDial::OpenSoftphone(
                Url::parse("tel:+49301234567").unwrap()
            ))
        );
        let refused = after_dial(&tel, LinkOrigin::AppWindow, || true).unwrap_err();
        assert_eq!(refused.code(), "no_dialer");
        assert!(refused.to_string().contains("+49301234567"), "{refused}");
        assert_eq!(
            after_dial(&tel, LinkOrigin::Desktop, || false),
            Err(refused),
            "a link the desktop handed here came because this app handles tel: links"
        );
    }

    #[test]
    fn a_hub_link_that_is_not_a_phone_link_is_refused() {
        let web = tel("https://evil.example/");
        let refused = after_dial(&web, LinkOrigin::AppWindow, || false).unwrap_err();
        assert_eq!(refused.code(), "link_refused");
        assert_eq!(
            refused,
            LinkRefused::NotPhone("https://evil.example/".into())
        );
    }

    fn desk() -> Url {
        Url::parse("https://support.example.com/").unwrap()
    }

    #[test]
    fn helpdesk_pages_over_https_are_allowed() {
        let link = check("https://support.example.com/#ticket/zoom/7", &[&desk()]).unwrap();
        assert_eq!(
            link,
            Link::Helpdesk(Url::parse("https://support.example.com/#ticket/zoom/7").unwrap())
        );
    }

    #[test]
    fn other_hosts_schemes_and_ports_are_refused() {
        for raw in [
            "http://support.example.com/tickets/1",
            "https://support.example.com.evil.example/",
            "https://evil.example/support.example.com",
            "https://support.example.com:8443/",
            "https://user:pw@support.example.com/",
            "javascript:alert(1)",
            "file:///etc/passwd",
        ] {
            assert!(check(raw, &[&desk()]).is_err(), "{raw} must be refused");
        }
    }

    #[test]
    fn without_a_helpdesk_no_web_link_opens() {
        assert_eq!(
            check("https://support.example.com/", &[]),
            Err(LinkRefused::NoHelpdesk)
        );
    }

    #[test]
    fn the_hubs_help_desk_is_trusted_beside_the_one_in_settings() {
        let hubs = Url::parse("https://zammad.example.org/").unwrap();
        let profile = "https://zammad.example.org/#user/profile/101";
        assert_eq!(
            check(profile, &[&hubs]),
            Ok(Link::Helpdesk(Url::parse(profile).unwrap()))
        );
        assert!(check(profile, &[&desk(), &hubs]).is_ok());
        assert!(check("https://support.example.com/", &[&desk(), &hubs]).is_ok());
        let refused = check("https://evil.example/", &[&desk(), &hubs]).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "only https links to https://support.example.com or https://zammad.example.org \
             are opened, not https://evil.example/"
        );
    }

    #[test]
    fn plain_http_is_trusted_only_on_this_computer() {
        let local = Url::parse("http://127.0.0.1:3000/").unwrap();
        assert!(check("http://127.0.0.1:3000/#ticket/zoom/1", &[&local]).is_ok());
        assert!(check("https://127.0.0.1:3000/", &[&local]).is_err());
        assert!(check("http://127.0.0.1:3001/", &[&local]).is_err());
        let localhost = Url::parse("http://localhost:3000/").unwrap();
        assert!(check("http://localhost:3000/#user/profile/2", &[&localhost]).is_ok());
        let remote = Url::parse("http://zammad.example.org/").unwrap();
        assert_eq!(
            check("http://zammad.example.org/#ticket/zoom/1", &[&remote]),
            Err(LinkRefused::NoHelpdesk),
            "a plain-http help desk elsewhere is not trusted at all"
        );
    }

    #[test]
    fn phone_links_give_their_number() {
        let phone = |raw: &str| check(raw, &[]);
        assert_eq!(
            phone("tel:+49301234567"),
            Ok(Link::Phone("+49301234567".into()))
        );
        assert_eq!(
            phone("tel:+49%2030%201234567;ext=12"),
            Ok(Link::Phone("+49 30 1234567".into()))
        );
        assert_eq!(
            phone("callto://0301234567"),
            Ok(Link::Phone("0301234567".into()))
        );
        assert!(phone("tel:").is_err());
        assert!(phone("not a link").is_err());
    }
}
