//! Twilio's request signature, `X-Twilio-Signature`: the only proof that a webhook came from
//! Twilio besides the URL token. It is the base64 HMAC-SHA1, keyed with the account's Auth
//! Token, of the URL Twilio called followed by the form parameters; for a JSON body, of the
//! URL alone, which then carries the body's SHA-256 as `bodySHA256`.
//!
//! Twilio's own validators accept a signature computed over the URL with or without its port,
//! because Twilio signs `https://host/…` and `https://host:443/…` inconsistently; so does
//! this one. The URL must be the public one configured at Twilio, not what a reverse proxy
//! shows the hub.

use std::collections::BTreeSet;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::params::Params;
use crate::signature::SignatureError;

/// The header carrying the signature, as Twilio names it.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The query parameter carrying the hex SHA-256 of a JSON body.
const BODY_HASH_PARAM: &str = "bodySHA256";

/// Bytes in an HMAC-SHA1.
const MAC_LEN: usize = 20;

/// Checks `header`, the value of [`SIGNATURE_HEADER`] if present, for a form-encoded
/// request to `url` with `params` (the decoded body parameters; none for a GET, whose query
/// is part of `url`).
///
/// The signed text is `url` followed by `name` + `value` for every parameter, sorted by
/// name and then by value, a value repeated under one name counted once, as Twilio's helper
/// libraries compute it. The comparison takes the same time wherever the first wrong byte is.
pub fn verify_form(
    auth_token: &str,
    url: &str,
    params: &Params,
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let given = decoded(header)?;
    let sorted: BTreeSet<(&str, &str)> = params.pairs().collect();
    if signed(auth_token, url, &sorted, &given) {
        Ok(())
    } else {
        Err(mismatch())
    }
}

/// Checks `header` for a request to `url` with a JSON `body`: the signature covers the URL
/// only, and the URL's `bodySHA256` must be the hex SHA-256 of the raw body (upper case
/// accepted).
pub fn verify_json(
    auth_token: &str,
    url: &str,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let given = decoded(header)?;
    let claimed = body_hash_in(url).ok_or_else(|| SignatureError::Malformed {
        header: SIGNATURE_HEADER,
        detail: format!(
            "a JSON body is signed through the URL's {BODY_HASH_PARAM} parameter, \
             and the URL has none; is it the URL configured at Twilio?"
        ),
    })?;
    let actual: String = Sha256::digest(body)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    if signed(auth_token, url, &BTreeSet::new(), &given) && claimed.eq_ignore_ascii_case(&actual) {
        Ok(())
    } else {
        Err(mismatch())
    }
}

fn mismatch() -> SignatureError {
    SignatureError::Mismatch {
        header: SIGNATURE_HEADER,
    }
}

/// The header's MAC bytes: base64 (standard alphabet, padded) of 20 bytes.
fn decoded(header: Option<&str>) -> Result<Vec<u8>, SignatureError> {
    let given = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing {
            header: SIGNATURE_HEADER,
        })?;
    let malformed = |detail: String| SignatureError::Malformed {
        header: SIGNATURE_HEADER,
        detail,
    };
    let bytes = STANDARD
        .decode(given)
        .map_err(|e| malformed(format!("not base64: {e}")))?;
    if bytes.len() != MAC_LEN {
        return Err(malformed(format!(
            "expected {MAC_LEN} bytes (HMAC-SHA1), got {}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// The signature Twilio sends for a form request to `url` (exactly as given) with `params`.
/// The hub's call simulator signs its requests with it.
pub fn sign_form(auth_token: &str, url: &str, params: &Params) -> String {
    let sorted: BTreeSet<(&str, &str)> = params.pairs().collect();
    STANDARD.encode(mac(auth_token, url, &sorted).finalize().into_bytes())
}

/// The HMAC-SHA1 of `url` followed by the sorted parameters.
fn mac(auth_token: &str, url: &str, sorted: &BTreeSet<(&str, &str)>) -> Hmac<Sha1> {
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// Whether `given` is the MAC of `url`, in any of the forms Twilio may have signed, followed
/// by the sorted parameters.
fn signed(auth_token: &str, url: &str, sorted: &BTreeSet<(&str, &str)>, given: &[u8]) -> bool {
    url_forms(url)
        .iter()
        .any(|form| mac(auth_token, form, sorted).verify_slice(given).is_ok())
}

/// The URL as given, and with its port toggled: an explicit port removed, or the scheme's
/// default port (`:443` for https, `:80` for http) added when there is none.
fn url_forms(url: &str) -> Vec<String> {
    let mut forms = vec![url.to_owned()];
    let Some(scheme_end) = url.find("://") else {
        return forms;
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host = &authority[host_start..];
    // An IPv6 literal's colons are inside its brackets.
    let port_colon = match host.rfind(']') {
        Some(bracket) => host[bracket..].find(':').map(|i| bracket + i),
        None => host.find(':'),
    };
    match port_colon {
        Some(colon) => {
            let colon = authority_start + host_start + colon;
            forms.push(format!("{}{}", &url[..colon], &url[authority_end..]));
        }
        None => {
            let default_port = match url[..scheme_end].to_ascii_lowercase().as_str() {
                "https" => "443",
                "http" => "80",
                _ => return forms,
            };
            forms.push(format!(
                "{}:{default_port}{}",
                &url[..authority_end],
                &url[authority_end..]
            ));
        }
    }
    forms
}

/// The decoded `bodySHA256` query value of `url`, if any.
fn body_hash_in(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == BODY_HASH_PARAM)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vectors published in twilio-python's and twilio-node's test suites.
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const URL_443: &str = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    const URL_HTTP: &str = "http://mycompany.com/myapp.php?foo=1&bar=2";
    const URL_HTTP_80: &str = "http://mycompany.com:80/myapp.php?foo=1&bar=2";
    const URL_HTTP_1234: &str = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
    const BODY: &str = "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234\
        &From=%2B14158675309&To=%2B18005551212";
    const SIGNATURE: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    const SIGNATURE_443: &str = "kvajT1Ptam85bY51eRf/AJRuM3w=";
    const SIGNATURE_HTTP_80: &str = "0ZXoZLH/DfblKGATFgpif+LLRf4=";
    const SIGNATURE_1234: &str = "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=";

    const JSON_BODY: &str = r#"{"property": "value", "boolean": true}"#;
    const JSON_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    const EMPTY_JSON_HASH: &str =
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    fn form(body: &str) -> Params {
        Params::from_form(body.as_bytes()).unwrap()
    }

    fn check(url: &str, body: &str, signature: &str) -> Result<(), SignatureError> {
        verify_form(TOKEN, url, &form(body), Some(signature))
    }

    /// The signature of a URL alone, for cases no published vector covers.
    fn sign(url: &str) -> String {
        let mut mac = Hmac::<Sha1>::new_from_slice(TOKEN.as_bytes()).unwrap();
        mac.update(url.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }

    fn json_url(base: &str, hash: &str) -> String {
        format!("{base}&bodySHA256={hash}")
    }

    const MISMATCH: Result<(), SignatureError> = Err(SignatureError::Mismatch {
        header: SIGNATURE_HEADER,
    });

    #[test]
    fn published_form_vector_verifies() {
        assert_eq!(check(URL, BODY, SIGNATURE), Ok(()));
    }

    #[test]
    fn signing_reproduces_the_published_vectors() {
        assert_eq!(sign_form(TOKEN, URL, &form(BODY)), SIGNATURE);
        assert_eq!(sign_form(TOKEN, URL_443, &form(BODY)), SIGNATURE_443);
        assert_eq!(sign_form(TOKEN, URL_HTTP_1234, &form(BODY)), SIGNATURE_1234);
    }

    #[test]
    fn parameter_order_in_the_body_does_not_matter() {
        let shuffled = "To=%2B18005551212&Digits=1234&From=%2B14158675309\
            &CallSid=CA1234567890ABCDE&Caller=%2B14158675309";
        assert_eq!(check(URL, shuffled, SIGNATURE), Ok(()));
    }

    #[test]
    fn explicit_443_verifies_as_given_and_with_the_port_added() {
        assert_eq!(check(URL_443, BODY, SIGNATURE_443), Ok(()));
        // Twilio signed with :443, the hub knows the URL without it.
        assert_eq!(check(URL, BODY, SIGNATURE_443), Ok(()));
        // Twilio signed without :443, the hub knows the URL with it.
        assert_eq!(check(URL_443, BODY, SIGNATURE), Ok(()));
    }

    #[test]
    fn http_with_80_verifies_as_given_and_with_the_port_added() {
        assert_eq!(check(URL_HTTP_80, BODY, SIGNATURE_HTTP_80), Ok(()));
        assert_eq!(check(URL_HTTP, BODY, SIGNATURE_HTTP_80), Ok(()));
    }

    #[test]
    fn other_ports_verify_as_given_or_with_the_port_removed() {
        assert_eq!(check(URL_HTTP_1234, BODY, SIGNATURE_1234), Ok(()));
        // twilio-python accepts an https URL with :1234 against the port-less signature.
        let https_1234 = URL.replace(".com", ".com:1234");
        assert_eq!(check(&https_1234, BODY, SIGNATURE), Ok(()));
        // A port is never guessed: the :1234 signature matches neither another port nor none.
        let http_4321 = URL_HTTP_1234.replace(":1234", ":4321");
        assert_eq!(check(&http_4321, BODY, SIGNATURE_1234), MISMATCH);
        assert_eq!(check(URL_HTTP, BODY, SIGNATURE_1234), MISMATCH);
        assert_eq!(check(URL_HTTP_80, BODY, SIGNATURE_1234), MISMATCH);
    }

    #[test]
    fn repeated_names_count_each_distinct_value_once_in_order() {
        let body = "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234";
        assert_eq!(check(URL, body, "IK+Dwps556ElfBT0I3Rgjkr1wJU="), Ok(()));
    }

    #[test]
    fn tampered_form_requests_are_refused() {
        let other_value = BODY.replace("Digits=1234", "Digits=1235");
        assert_eq!(check(URL, &other_value, SIGNATURE), MISMATCH);
        let extra = format!("{BODY}&Extra=1");
        assert_eq!(check(URL, &extra, SIGNATURE), MISMATCH);
        let missing = BODY.replace("&Digits=1234", "");
        assert_eq!(check(URL, &missing, SIGNATURE), MISMATCH);
        let other_url = URL.replace("foo=1", "foo=2");
        assert_eq!(check(&other_url, BODY, SIGNATURE), MISMATCH);
        assert_eq!(check(URL_HTTP, BODY, SIGNATURE), MISMATCH);
        assert_eq!(
            verify_form("54321", URL, &form(BODY), Some(SIGNATURE)),
            MISMATCH
        );
        // Values are signed decoded: an encoded `+` is not the same value as a space.
        let spaces = BODY.replace("%2B", "+");
        assert_eq!(check(URL, &spaces, SIGNATURE), MISMATCH);
    }

    #[test]
    fn missing_and_malformed_headers_are_told_apart() {
        let missing = Err(SignatureError::Missing {
            header: SIGNATURE_HEADER,
        });
        assert_eq!(verify_form(TOKEN, URL, &form(BODY), None), missing);
        assert_eq!(verify_form(TOKEN, URL, &form(BODY), Some(" ")), missing);
        let Err(SignatureError::Malformed { detail, .. }) = check(URL, BODY, "not base64!") else {
            panic!("expected malformed")
        };
        assert!(detail.starts_with("not base64"), "{detail}");
        let Err(SignatureError::Malformed { detail, .. }) = check(URL, BODY, "AAAA") else {
            panic!("expected malformed")
        };
        assert_eq!(detail, "expected 20 bytes (HMAC-SHA1), got 3");
        // Surrounding white space is not part of the signature.
        assert_eq!(check(URL, BODY, &format!(" {SIGNATURE} ")), Ok(()));
    }

    #[test]
    fn published_json_vectors_verify() {
        let json = JSON_BODY.as_bytes();
        let with_query = json_url(URL, JSON_HASH);
        let header = Some("a9nBmqA0ju/hNViExpshrM61xv4=");
        assert_eq!(verify_json(TOKEN, &with_query, json, header), Ok(()));
        let only_hash = format!("https://mycompany.com/myapp.php?bodySHA256={JSON_HASH}");
        let header = Some("y77kIzt2vzLz71DgmJGsen2scGs=");
        assert_eq!(verify_json(TOKEN, &only_hash, json, header), Ok(()));
    }

    #[test]
    fn empty_json_object_verifies_only_through_the_443_form() {
        let url = json_url(URL, EMPTY_JSON_HASH);
        let header = Some("Ldidvp12m26NI7eqEvxnEpkd9Hc=");
        assert_eq!(verify_json(TOKEN, &url, b"{}", header), Ok(()));
        let url_443 = json_url(URL_443, EMPTY_JSON_HASH);
        assert_eq!(verify_json(TOKEN, &url_443, b"{}", header), Ok(()));
        // The URL as the hub knows it was not what Twilio signed: the :443 form was.
        assert_ne!(sign(&url), "Ldidvp12m26NI7eqEvxnEpkd9Hc=");
        assert_eq!(sign(&url_443), "Ldidvp12m26NI7eqEvxnEpkd9Hc=");
    }

    #[test]
    fn tampered_json_requests_are_refused() {
        let url = json_url(URL, JSON_HASH);
        let header = Some("a9nBmqA0ju/hNViExpshrM61xv4=");
        let other_body = br#"{"property": "value", "boolean": false}"#;
        assert_eq!(verify_json(TOKEN, &url, other_body, header), MISMATCH);
        let other_url = url.replace("foo=1", "foo=2");
        let json = JSON_BODY.as_bytes();
        assert_eq!(verify_json(TOKEN, &other_url, json, header), MISMATCH);
        // A body hash forged to match another body breaks the URL's signature.
        let forged = json_url(URL, EMPTY_JSON_HASH);
        assert_eq!(verify_json(TOKEN, &forged, b"{}", header), MISMATCH);
        // A correctly signed URL whose hash is not the body's.
        let signature = sign(&forged);
        assert_eq!(
            verify_json(TOKEN, &forged, json, Some(&signature)),
            MISMATCH
        );
    }

    #[test]
    fn body_hash_may_be_upper_case() {
        let upper = json_url(URL, &JSON_HASH.to_uppercase());
        let signature = sign(&upper);
        let json = JSON_BODY.as_bytes();
        assert_eq!(verify_json(TOKEN, &upper, json, Some(&signature)), Ok(()));
    }

    #[test]
    fn json_url_without_body_hash_is_malformed() {
        let header = Some("a9nBmqA0ju/hNViExpshrM61xv4=");
        let result = verify_json(TOKEN, URL, JSON_BODY.as_bytes(), header);
        let Err(SignatureError::Malformed { detail, .. }) = result else {
            panic!("expected malformed, got {result:?}")
        };
        assert!(detail.contains("bodySHA256"), "{detail}");
        assert_eq!(
            verify_json(TOKEN, URL, b"{}", None),
            Err(SignatureError::Missing {
                header: SIGNATURE_HEADER
            })
        );
    }

    #[test]
    fn url_forms_toggle_the_port_only() {
        assert_eq!(url_forms(URL), vec![URL, URL_443]);
        assert_eq!(url_forms(URL_443), vec![URL_443, URL]);
        assert_eq!(url_forms(URL_HTTP), vec![URL_HTTP, URL_HTTP_80]);
        assert_eq!(
            url_forms("https://host"),
            vec!["https://host", "https://host:443"]
        );
        assert_eq!(
            url_forms("https://host?a=b:c"),
            vec!["https://host?a=b:c", "https://host:443?a=b:c"]
        );
        assert_eq!(
            url_forms("https://user:pa%3Ass@host:8443/x"),
            vec![
                "https://user:pa%3Ass@host:8443/x",
                "https://user:pa%3Ass@host/x"
            ]
        );
        assert_eq!(
            url_forms("https://user:pass@host/x"),
            vec!["https://user:pass@host/x", "https://user:pass@host:443/x"]
        );
        assert_eq!(
            url_forms("http://[2001:db8::1]:8080/x"),
            vec!["http://[2001:db8::1]:8080/x", "http://[2001:db8::1]/x"]
        );
        assert_eq!(
            url_forms("http://[2001:db8::1]/x"),
            vec!["http://[2001:db8::1]/x", "http://[2001:db8::1]:80/x"]
        );
        assert_eq!(url_forms("ftp://host/x"), vec!["ftp://host/x"]);
        assert_eq!(url_forms("/relative"), vec!["/relative"]);
    }

    #[test]
    fn body_hash_is_read_from_the_query_only() {
        assert_eq!(
            body_hash_in("https://h/p?a=1&bodySHA256=ab#frag").as_deref(),
            Some("ab")
        );
        assert_eq!(body_hash_in("https://h/p#bodySHA256=ab"), None);
        assert_eq!(body_hash_in("https://h/p"), None);
    }
}
