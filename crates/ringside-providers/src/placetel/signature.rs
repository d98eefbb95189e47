//! Placetel's request signature: with a shared secret set under "External APIs", Placetel
//! sends the hex HMAC-SHA256 of the raw body, the only proof a request came from Placetel
//! besides the URL token.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::signature::SignatureError;

/// The header carrying the signature, as Placetel names it.
pub const SIGNATURE_HEADER: &str = "X-PLACETEL-SIGNATURE";

/// Hex digits in an HMAC-SHA256.
const HEX_LEN: usize = 64;

/// The signature Placetel sends for `body`: the lower-case hex HMAC-SHA256 keyed with
/// `secret`. The hub's call simulator signs its requests with it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Checks `header`, the value of [`SIGNATURE_HEADER`] if present, against the raw `body`:
/// it must be the hex HMAC-SHA256 of the body keyed with `secret`. Placetel writes lower
/// case; upper case is accepted too. The comparison takes the same time wherever the
/// first wrong digit is.
pub fn verify_signature(
    secret: &str,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let given = header.ok_or(SignatureError::Missing {
        header: SIGNATURE_HEADER,
    })?;
    let given = given.trim().to_ascii_lowercase();
    let malformed = |detail: String| SignatureError::Malformed {
        header: SIGNATURE_HEADER,
        detail,
    };
    if let Some(bad) = given.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(malformed(format!("{bad:?} is not a hexadecimal digit")));
    }
    if given.len() != HEX_LEN {
        return Err(malformed(format!(
            "expected {HEX_LEN} hexadecimal digits (HMAC-SHA256), got {}",
            given.len()
        )));
    }
    let expected = sign(secret, body);
    if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch {
            header: SIGNATURE_HEADER,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Placetel's published example (call-control-notify-api README).
    const SECRET: &str = "12345";
    const BODY: &[u8] = b"call_id=4a4cbb39578170aed9a2761a7bec8c7e704a541f52291ef603d6f5f152980c3c\
        &event=CallAccepted&from=0123456789&to=0987654321";
    const SIGNATURE: &str = "c4f823c5b8806432fe2b83b1fc2ee714422e0cdfb4b5129152a7d0bbcd7792d0";

    #[test]
    fn published_vector_verifies() {
        assert_eq!(verify_signature(SECRET, BODY, Some(SIGNATURE)), Ok(()));
    }

    #[test]
    fn upper_case_and_surrounding_space_are_accepted() {
        let upper = format!(" {} ", SIGNATURE.to_uppercase());
        assert_eq!(verify_signature(SECRET, BODY, Some(&upper)), Ok(()));
    }

    #[test]
    fn tampered_body_or_wrong_secret_is_a_mismatch() {
        let tampered = String::from_utf8(BODY.to_vec())
            .unwrap()
            .replace("from=0123456789", "from=0123456780");
        let mismatch = Err(SignatureError::Mismatch {
            header: SIGNATURE_HEADER,
        });
        assert_eq!(
            verify_signature(SECRET, tampered.as_bytes(), Some(SIGNATURE)),
            mismatch
        );
        assert_eq!(verify_signature("54321", BODY, Some(SIGNATURE)), mismatch);
        let one_digit_off = format!("{}1", &SIGNATURE[..63]);
        assert_eq!(
            verify_signature(SECRET, BODY, Some(&one_digit_off)),
            mismatch
        );
    }

    #[test]
    fn missing_header() {
        let err = verify_signature(SECRET, BODY, None).unwrap_err();
        assert_eq!(
            err,
            SignatureError::Missing {
                header: SIGNATURE_HEADER
            }
        );
        assert!(err.to_string().contains("X-PLACETEL-SIGNATURE"));
    }

    #[test]
    fn malformed_header_says_why() {
        let err = verify_signature(SECRET, BODY, Some("c4f8zz")).unwrap_err();
        assert!(matches!(err, SignatureError::Malformed { .. }));
        assert!(err.to_string().contains("'z' is not a hexadecimal digit"));

        let err = verify_signature(SECRET, BODY, Some(&SIGNATURE[..62])).unwrap_err();
        assert!(matches!(err, SignatureError::Malformed { .. }));
        assert!(err.to_string().contains("expected 64 hexadecimal digits"));
        assert!(err.to_string().contains("got 62"));

        let err = verify_signature(SECRET, BODY, Some("")).unwrap_err();
        assert!(matches!(err, SignatureError::Malformed { .. }));
    }
}
