//! sipgate.io's request signature: sipgate signs the raw body with its private key
//! (RSA-SHA256, PKCS#1 v1.5) and sends the base64 signature, the only proof a request came
//! from sipgate besides the URL token and the source address.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use sha2::Sha256;
use thiserror::Error;

use crate::signature::SignatureError;

/// The header carrying the signature, as sipgate names it.
pub const SIGNATURE_HEADER: &str = "X-Sipgate-Signature";

/// sipgate's public key (RSA 4096), as embedded in sipgate's official Node library
/// (`sipgateio-node`, `lib/webhook/signatureVerifier.ts`). No sipgate document publishes
/// it, so it may be rotated without notice: the hub lets the admin configure another.
pub const SIPGATE_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAvFdlnqRfO5TmqzjtsFVC
qPz+oW+poi3lXQFvMJJMEAtlU4MbX+yuIkgnC+Qt3AQWIK+oWSEQiybg+p39wEMl
16PZxEzf9gONQvTg1XhyHnwqYUFQj/AoxPKGYC3jmdjZ224SrESiTN3CdxoOc3vk
cXiQstYE7SxnksPtzfk0aIOkicim5/tAP9izNQ18/zmX3ChjK2k72gf5dDlq+qZ8
pRiHAPZ64TySH6cLQDhaoh6Nbq8FEG3usXXPClbUMh2DZaTMPafpd+LNuTngJ/y+
KoZasVuFfXAeBqGA6l5d4Uedfr99Z6qjwDrJ8sU4z2Do9bJrbuqP+mOXEebhSI1K
vi8trEfrIt8hnDBGsBaB9NEO3kYxvDT2/PhC9fNYFocjEpZNd7/mUqTJDYlpa4UC
NDQaU+ATdXG8/P5sGAegks6MQTu+qe9XTO0CV48eswDkz6g3UbLOwmrJK59SjD3J
yAZ52sluwyDKRWw/PPTt8BTQLjvkdbiLUlc4ehJ4b1X7D7diYWHDPeFL47cAvaXh
dXVrZDeBJYibvD1jRx4ES0KlfhwzNXBYUoM/Movg9zMM2PzyHHKS//xIjwUC/FJ6
/6eykno0Hy2B1ev6s3hdY6VkN2zd7Wf+EK4DxRliwsg1U99szFE3ewLfexF+Uag5
M+TfPtOUumI/NHMTvsRW9+ECAwEAAQ==
-----END PUBLIC KEY-----
";

/// Why a configured sipgate public key cannot be used; shown when the hub starts.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The text is not a PEM RSA public key.
    #[error(
        "the sipgate public key is not a PEM RSA public key \
         (\"-----BEGIN PUBLIC KEY-----\" or \"-----BEGIN RSA PUBLIC KEY-----\"): {detail}"
    )]
    Invalid {
        /// What the parser said.
        detail: String,
    },
}

/// Checks sipgate's signatures with one public key, parsed once when the hub starts (a
/// bad key is then a start-up error, not a refusal of every request).
#[derive(Debug, Clone)]
pub struct SipgateVerifier {
    key: VerifyingKey<Sha256>,
    /// Bytes in a signature: the modulus size.
    signature_len: usize,
}

impl SipgateVerifier {
    /// Parses a PEM public key, SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`, as sipgate
    /// publishes it) or PKCS#1 (`BEGIN RSA PUBLIC KEY`); [`SIPGATE_PUBLIC_KEY`] is sipgate's.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pem = pem.trim();
        let key = if pem.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
            RsaPublicKey::from_pkcs1_pem(pem).map_err(|e| e.to_string())
        } else {
            RsaPublicKey::from_public_key_pem(pem).map_err(|e| e.to_string())
        }
        .map_err(|detail| KeyError::Invalid { detail })?;
        Ok(SipgateVerifier {
            signature_len: key.size(),
            key: VerifyingKey::new(key),
        })
    }

    /// Checks `header`, the value of [`SIGNATURE_HEADER`] if present: the base64 RSA-SHA256
    /// (PKCS#1 v1.5) signature of the raw `body`.
    pub fn verify(&self, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
        let given = header.ok_or(SignatureError::Missing {
            header: SIGNATURE_HEADER,
        })?;
        let malformed = |detail: String| SignatureError::Malformed {
            header: SIGNATURE_HEADER,
            detail,
        };
        let bytes = STANDARD
            .decode(given.trim())
            .map_err(|e| malformed(format!("not base64: {e}")))?;
        if bytes.len() != self.signature_len {
            return Err(malformed(format!(
                "expected a {}-byte signature, got {} bytes",
                self.signature_len,
                bytes.len()
            )));
        }
        let signature = Signature::try_from(bytes.as_slice())
            .map_err(|e| malformed(format!("not a signature: {e}")))?;
        self.key
            .verify(body, &signature)
            .map_err(|_| SignatureError::Mismatch {
                header: SIGNATURE_HEADER,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body of sipgate's own test (`sipgateio-node`, `lib/webhook/webhook.test.node.ts`),
    /// exactly as its serializer wrote it.
    const BODY: &str = "callId=&direction=in&event=newCall&from=4912354678\
        &fullUserId%5B%5D%5B0%5D=123456789&originalCallId=&to=49999999\
        &user%5B%5D%5B0%5D=TestUser&userId%5B%5D%5B0%5D=123456789&xcid=";
    const SIGNATURE: &str = "hlY7r9Vad0NP/7xJxf+vcDqjWaGWHOcIrj+rcP5aqQQcHtbSLsElp2kRNRPBL5unWbq6\
        bExVPZB49HHM+Y/fWSVL19q7KSJhYPHfikcME0r0mCYB4S/VnJwnIvpiqz6s7Dpnk3wDCy65B3WQLwBVWA9oh6oj\
        NM/g+87YnoMTKRx1KoFqosKNfBp1c1I8XjXusGOW/VlGnMb6wHhUVdwi9K7FfUgxj2pnV+M1Xv9rYs6RAi4V1OcU\
        PqdT5geHsxWa09sk+AEHSUm1EFnAvx7PhIkugpNwST7yPKHf0+iyei4qUQCBZtfQVOI4mLZTRfQuyVo3YuJfvHaN\
        PYY34/1ZCZGCKeu+HS6WHs1vGUyKxSi8v4JJqog2VOlWruf8pMGg+syuAFwuxiCnWsSXgaaUfe9JrBAFjBxUmNP9\
        DzR1bbkwxkJnthacu7jALXjGsubjSSSl955QgenV/ZpODHgWDPg0fe6qGILtk+kXLjyfSsoR/qgzE5W5OAyZq8W6\
        4h01KAt9Q283N7/2nogy6keiIWL3qjPolWnrchSP7iJUatM2YiTcpkNKnJ70UE05cdw3swuNe7zqD51MdOX3rAio\
        EOFgOIFMSrxMVX+V4XK7sa5o43smN8lHoa+0AogQMuIrC7k2axdRbulSSNfyqVAZIT4qS0cItiv3aPXsdDKkkA0=";

    fn sipgate() -> SipgateVerifier {
        SipgateVerifier::from_pem(SIPGATE_PUBLIC_KEY).expect("sipgate's key parses")
    }

    #[test]
    fn published_vector_verifies() {
        assert_eq!(sipgate().verify(BODY.as_bytes(), Some(SIGNATURE)), Ok(()));
    }

    #[test]
    fn one_changed_digit_is_a_mismatch() {
        let tampered = BODY.replace(
            "fullUserId%5B%5D%5B0%5D=123456789",
            "fullUserId%5B%5D%5B0%5D=123456779",
        );
        assert_ne!(tampered, BODY);
        let err = sipgate()
            .verify(tampered.as_bytes(), Some(SIGNATURE))
            .unwrap_err();
        assert_eq!(
            err,
            SignatureError::Mismatch {
                header: SIGNATURE_HEADER
            }
        );
        assert!(err.to_string().contains("X-Sipgate-Signature"));
    }

    #[test]
    fn missing_header() {
        assert_eq!(
            sipgate().verify(BODY.as_bytes(), None),
            Err(SignatureError::Missing {
                header: SIGNATURE_HEADER
            })
        );
    }

    #[test]
    fn malformed_header_says_why() {
        let err = sipgate()
            .verify(BODY.as_bytes(), Some("not base64!"))
            .unwrap_err();
        assert!(matches!(err, SignatureError::Malformed { .. }));
        assert!(err.to_string().contains("not base64"), "{err}");

        let err = sipgate()
            .verify(BODY.as_bytes(), Some("c2hvcnQ="))
            .unwrap_err();
        assert!(matches!(err, SignatureError::Malformed { .. }));
        assert!(
            err.to_string()
                .contains("expected a 512-byte signature, got 5 bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_signature_from_another_key_is_a_mismatch() {
        // A valid-length signature that sipgate's key did not make: the published one with
        // its first byte changed.
        let mut bytes = STANDARD.decode(SIGNATURE).unwrap();
        bytes[0] ^= 0x01;
        let forged = STANDARD.encode(bytes);
        assert!(matches!(
            sipgate().verify(BODY.as_bytes(), Some(&forged)),
            Err(SignatureError::Mismatch { .. })
        ));
    }

    #[test]
    fn a_bad_key_is_a_start_up_error() {
        let err = SipgateVerifier::from_pem("not a key").unwrap_err();
        assert!(matches!(err, KeyError::Invalid { .. }));
        assert!(err
            .to_string()
            .starts_with("the sipgate public key is not a PEM RSA public key"));
        let truncated = SIPGATE_PUBLIC_KEY.replace("M+TfPtOUumI/NHMTvsRW9+ECAwEAAQ==\n", "");
        assert!(SipgateVerifier::from_pem(&truncated).is_err());
    }

    #[test]
    fn pkcs1_pem_is_accepted_too() {
        use rsa::pkcs1::{EncodeRsaPublicKey, LineEnding};
        let spki = RsaPublicKey::from_public_key_pem(SIPGATE_PUBLIC_KEY).unwrap();
        let pkcs1 = spki.to_pkcs1_pem(LineEnding::LF).unwrap();
        let verifier = SipgateVerifier::from_pem(&pkcs1).unwrap();
        assert_eq!(verifier.verify(BODY.as_bytes(), Some(SIGNATURE)), Ok(()));
    }
}
