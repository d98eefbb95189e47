//! Where the hub is and how to prove who we are: the one place that turns the configured
//! base URL into REST and stream URLs, so that a hub behind a path prefix works everywhere.
//! A team that runs several hub nodes lists them all ([`hub_urls`]): requests and the
//! stream go to one node at a time, and [`HubEndpoint::fail_over`] moves every clone of the
//! endpoint to the next when that node is gone.
//! It refuses a plain `http://` hub elsewhere than on this computer unless the caller opted
//! in ([`PlainHttp::Allowed`]): the agent token never expires and must not cross a network
//! in clear.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ringside_core::stream::ResumeFrom;
use url::Url;

use crate::error::ClientError;

/// The most hub URLs one setting may list.
pub const MAX_HUB_URLS: usize = 8;

/// The hub URLs of one setting: separated by commas or white space.
pub fn hub_urls(setting: &str) -> impl Iterator<Item = &str> {
    setting
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|url| !url.is_empty())
}

/// A hub's base URLs (one per node) and the agent token sent as `Authorization: Bearer` on
/// every request. Clones share which node is current.
#[derive(Clone)]
pub struct HubEndpoint {
    nodes: Arc<[Node]>,
    current: Arc<AtomicUsize>,
    token: String,
}

/// One hub node's URLs.
struct Node {
    base: Url,
    stream: Url,
}

/// Whether a plain `http://` hub URL on another machine is accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlainHttp {
    /// Only on this computer (a loopback address or `localhost`): the default.
    #[default]
    LoopbackOnly,
    /// Anywhere: the agent explicitly opted in (a trusted network, a TLS-terminating tunnel).
    Allowed,
}

/// Checks a hub URL: `https`, or `http` on this computer unless `plain_http` allows it
/// anywhere. Returns the parsed URL; the error carries a stable code for Settings
/// (`invalid_config`, `plain_http_hub`).
pub fn check_hub_url(base_url: &str, plain_http: PlainHttp) -> Result<Url, ClientError> {
    let invalid = |detail: String| ClientError::InvalidConfig { detail };
    let base = Url::parse(base_url).map_err(|e| invalid(format!("hub URL {base_url:?}: {e}")))?;
    match base.scheme() {
        "https" => Ok(base),
        "http" if plain_http == PlainHttp::Allowed || is_loopback(&base) => Ok(base),
        "http" => Err(ClientError::PlainHttp {
            url: base.origin().ascii_serialization(),
        }),
        other => Err(invalid(format!("hub URL scheme {other:?} is not http(s)"))),
    }
}

/// Whether the URL's host is this computer: `localhost` or a loopback address.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

impl HubEndpoint {
    /// Checks the settings once, so that no request fails later for a malformed address:
    /// the URL must be `https`, or `http` on this computer (a path prefix such as
    /// `/ringside` is kept), and the token must be non-empty printable ASCII.
    pub fn new(base_url: &str, token: impl Into<String>) -> Result<Self, ClientError> {
        Self::with_plain_http(base_url, token, PlainHttp::LoopbackOnly)
    }

    /// Like [`HubEndpoint::new`], with the agent's choice about plain `http://` hubs on
    /// other machines. `base_urls` lists one URL, or several nodes of one hub (see
    /// [`hub_urls`]; at most [`MAX_HUB_URLS`]), the first one current.
    pub fn with_plain_http(
        base_urls: &str,
        token: impl Into<String>,
        plain_http: PlainHttp,
    ) -> Result<Self, ClientError> {
        let invalid = |detail: String| ClientError::InvalidConfig { detail };
        let nodes = hub_urls(base_urls)
            .take(MAX_HUB_URLS + 1)
            .map(|url| node(url, plain_http))
            .collect::<Result<Vec<_>, _>>()?;
        if nodes.is_empty() {
            return Err(invalid("no hub URL".into()));
        }
        if nodes.len() > MAX_HUB_URLS {
            return Err(invalid(format!(
                "at most {MAX_HUB_URLS} hub URLs, not {}",
                nodes.len()
            )));
        }
        let token = token.into();
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("the agent token must be printable ASCII".into()));
        }
        Ok(HubEndpoint {
            nodes: nodes.into(),
            current: Arc::default(),
            token,
        })
    }

    fn node(&self) -> &Node {
        &self.nodes[self.current.load(Ordering::Relaxed) % self.nodes.len()]
    }

    /// The current node's base URL as configured, for display in settings.
    pub fn base_url(&self) -> &Url {
        &self.node().base
    }

    /// After the `failed`-th failed attempt in a row (from 1): makes the next node current,
    /// for this endpoint and its clones, and says whether to try it at once. A round tries
    /// every node once without a delay; after a whole round (and always with one node) the
    /// caller waits out its backoff.
    pub fn fail_over(&self, failed: usize) -> bool {
        let nodes = self.nodes.len();
        if nodes < 2 {
            return false;
        }
        self.current.fetch_add(1, Ordering::Relaxed);
        !failed.is_multiple_of(nodes)
    }

    /// `<base>/api/v1/<segments...>`, each segment percent-encoded (a caller number may
    /// contain anything).
    pub(crate) fn api_url(&self, segments: &[&str]) -> Url {
        join(&self.node().base, segments)
    }

    /// The stream's `ws(s)://` URL, with the resume query when a position is known.
    pub(crate) fn stream_url(&self, resume: Option<&ResumeFrom>) -> Url {
        let mut url = self.node().stream.clone();
        if let Some(resume) = resume {
            url.query_pairs_mut()
                .append_pair("epoch", &resume.epoch)
                .append_pair("seq", &resume.seq.to_string());
        }
        url
    }

    /// The agent token.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

impl fmt::Debug for HubEndpoint {
    /// Leaves the token out: endpoints end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubEndpoint")
            .field("base", &self.base_url().as_str())
            .field("nodes", &self.nodes.len())
            .field("token", &"<redacted>")
            .finish()
    }
}

/// One node's URLs from its base URL: `https`, or `http` as `plain_http` allows; a path
/// prefix is kept, a query or fragment dropped.
fn node(base_url: &str, plain_http: PlainHttp) -> Result<Node, ClientError> {
    let mut base = check_hub_url(base_url, plain_http)?;
    let stream_scheme = if base.scheme() == "http" { "ws" } else { "wss" };
    base.set_query(None);
    base.set_fragment(None);
    let mut stream = join(&base, &["stream"]);
    stream
        .set_scheme(stream_scheme)
        .map_err(|()| ClientError::InvalidConfig {
            detail: format!("hub URL {base_url:?} has no WebSocket form"),
        })?;
    Ok(Node { base, stream })
}

fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    // http(s) URLs always have path segments; `new` rejects every other scheme.
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(["api", "v1"]).extend(segments);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_api_and_stream_urls_under_a_path_prefix() {
        let endpoint = HubEndpoint::new("https://hub.example/ringside/?x=1", "t0k").unwrap();
        assert_eq!(
            endpoint.api_url(&["callers", "+49 30/1"]).as_str(),
            "https://hub.example/ringside/api/v1/callers/+49%2030%2F1"
        );
        assert_eq!(
            endpoint.stream_url(None).as_str(),
            "wss://hub.example/ringside/api/v1/stream"
        );
        let resume = ResumeFrom {
            epoch: "e 1".into(),
            seq: 42,
        };
        assert_eq!(
            endpoint.stream_url(Some(&resume)).as_str(),
            "wss://hub.example/ringside/api/v1/stream?epoch=e+1&seq=42"
        );
    }

    #[test]
    fn several_nodes_are_used_one_at_a_time_and_clones_fail_over_together() {
        let endpoint = HubEndpoint::new(
            "https://a.example/ringside, https://b.example\nhttps://c.example/",
            "t",
        )
        .unwrap();
        let clone = endpoint.clone();
        assert_eq!(endpoint.base_url().as_str(), "https://a.example/ringside");
        assert!(clone.fail_over(1), "the second node at once");
        assert_eq!(
            endpoint.api_url(&["me"]).as_str(),
            "https://b.example/api/v1/me"
        );
        assert!(endpoint.fail_over(2), "the third node at once");
        assert_eq!(
            clone.stream_url(None).as_str(),
            "wss://c.example/api/v1/stream"
        );
        assert!(
            !endpoint.fail_over(3),
            "a whole round failed: the backoff waits"
        );
        assert_eq!(
            endpoint.base_url().as_str(),
            "https://a.example/ringside",
            "round again"
        );

        let one = HubEndpoint::new("https://a.example", "t").unwrap();
        assert!(!one.fail_over(1), "no other node");
        assert_eq!(one.base_url().as_str(), "https://a.example/");
        let plain = HubEndpoint::new("https://a.example, http://b.example", "t").unwrap_err();
        assert_eq!(plain.code(), "plain_http_hub", "every node is checked");
        let many = ["https://a.example"; MAX_HUB_URLS + 1].join(",");
        assert!(HubEndpoint::new(&many, "t").is_err());
        assert!(HubEndpoint::new(" , ", "t").is_err());
    }

    #[test]
    fn plain_http_streams_over_ws() {
        let endpoint = HubEndpoint::new("http://127.0.0.1:8642", "t").unwrap();
        assert_eq!(
            endpoint.stream_url(None).as_str(),
            "ws://127.0.0.1:8642/api/v1/stream"
        );
    }

    #[test]
    fn plain_http_is_refused_unless_on_this_computer() {
        for url in [
            "http://hub.example.com",
            "http://192.168.1.20:8642",
            "http://10.0.0.1",
            "http://[2001:db8::1]:8642",
            "http://localhost.evil.example",
            "http://127.0.0.1.nip.io",
        ] {
            let error = HubEndpoint::new(url, "t").unwrap_err();
            assert_eq!(error.code(), "plain_http_hub", "{url}");
            assert!(error.is_terminal(), "{url}: retrying cannot help");
        }
        for url in [
            "http://127.0.0.1:8642",
            "http://127.8.9.1",
            "http://[::1]:8642",
            "http://localhost:8642",
            "http://LOCALHOST",
            "https://hub.example.com",
        ] {
            assert!(HubEndpoint::new(url, "t").is_ok(), "{url}");
        }
    }

    #[test]
    fn plain_http_elsewhere_needs_the_explicit_opt_in() {
        let endpoint =
            HubEndpoint::with_plain_http("http://hub.lan:8642", "t", PlainHttp::Allowed).unwrap();
        assert_eq!(
            endpoint.stream_url(None).as_str(),
            "ws://hub.lan:8642/api/v1/stream"
        );
        assert_eq!(
            check_hub_url("http://hub.lan:8642", PlainHttp::LoopbackOnly)
                .unwrap_err()
                .code(),
            "plain_http_hub"
        );
    }

    #[test]
    fn rejects_unusable_settings() {
        for (url, token) in [
            ("ftp://hub", "t"),
            ("not a url", "t"),
            ("https://hub", ""),
            ("https://hub", "two words"),
            ("https://hub", "t\n"),
        ] {
            let error = HubEndpoint::new(url, token).unwrap_err();
            assert_eq!(error.code(), "invalid_config", "{url} {token:?}");
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let endpoint = HubEndpoint::new("https://hub", "secret-token").unwrap();
        assert!(!format!("{endpoint:?}").contains("secret-token"));
    }
}
