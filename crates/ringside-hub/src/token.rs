//! Secrets: agent API tokens (random, shown once, stored only as a hash) and the
//! constant-time comparison of webhook path tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new random token: 32 bytes from the OS generator, URL-safe base64 (43 characters).
pub fn generate() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The hash stored for a token. Tokens carry 256 bits of entropy, so a plain SHA-256 is
/// enough: there is nothing to brute-force.
pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares a presented secret with the configured one in constant time.
pub fn matches(presented: &str, expected: &str) -> bool {
    let a = Sha256::digest(presented.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_different() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn hash_is_stable_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn matches_only_the_same_secret() {
        assert!(matches("secret-token", "secret-token"));
        assert!(!matches("secret-tokem", "secret-token"));
        assert!(!matches("", "secret-token"));
    }
}
