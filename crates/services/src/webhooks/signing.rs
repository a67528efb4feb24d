//! Delivery signatures. Every delivery carries Standard Webhooks' `webhook-id`,
//! `webhook-timestamp` and `webhook-signature` (HMAC-SHA256 over `id.timestamp.body`); an
//! ISO Amp endpoint's also carry seed 001's `Isoamp-Signature` (HMAC-SHA256 over the Unix time
//! followed directly by the body, keyed by its `hmacSecret`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use quittance_domain::secret::random_hex;
use sha2::Sha256;

/// The prefix of a `/v1` endpoint's signing secret, as Standard Webhooks writes them.
const SECRET_PREFIX: &str = "whsec_";

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t ‖ body)>`.
pub fn isoamp_signature(hmac_secret: &str, t: i64, body: &[u8]) -> String {
    let t = t.to_string();
    let mac = hmac(hmac_secret.as_bytes(), &[t.as_bytes(), body]);
    format!("t={t},v1={}", hex::encode(mac))
}

/// One `v1,<base64>` signature of `id.timestamp.body` with `secret`.
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    let mac = hmac(
        &signing_key(secret),
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    );
    format!("v1,{}", STANDARD.encode(mac))
}

/// The key bytes of a secret: a `whsec_` secret's base64 content, or any other secret's text
/// as it is (an ISO Amp `hmacSecret`).
fn signing_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|b64| STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// A new `/v1` endpoint secret: `whsec_` and 32 random bytes in base64.
pub fn new_endpoint_secret() -> String {
    let bytes = hex::decode(random_hex(32)).unwrap_or_default();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// A new ISO Amp `hmacSecret`: 64 hex digits, as the seed's examples show.
pub fn new_hmac_secret() -> String {
    random_hex(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed 001's own example, with the line break inside the proposal id removed.
    #[test]
    fn the_seed_example_verifies() {
        let body = r#"{"id":"f9a6e449-e884-4726-973e-26d6bd99666a","object":"event","time":1650654842,"type":"statement_analysis.completed","data":{"statementAnalysisId":"f472949d-8227-4514-aa1c-b40f1f00380c","proposalId":"f9a4bb9c-d2b2-45fa-83fe-f895c74235ad"}}"#;
        assert_eq!(
            isoamp_signature(
                "f76fab345ce93a69aa77d68a08283400cd0b45cb0a0a16b61e20b4c1e626a115",
                1_650_654_842,
                body.as_bytes()
            ),
            "t=1650654842,v1=143f3835f2bf090fa6fd78754517d51b1897f691682627d241c5ed309cad0515"
        );
    }

    /// The Standard Webhooks specification's example: secret, id, timestamp, body and the
    /// signature its reference libraries produce.
    #[test]
    fn the_standard_webhooks_example_verifies() {
        assert_eq!(
            standard_signature(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn new_secrets_have_their_documented_shapes() {
        let hmac_secret = new_hmac_secret();
        assert_eq!(hmac_secret.len(), 64);
        assert!(hmac_secret.bytes().all(|b| b.is_ascii_hexdigit()));
        let endpoint = new_endpoint_secret();
        let key = signing_key(&endpoint);
        assert_eq!(key.len(), 32);
        assert_ne!(new_endpoint_secret(), endpoint);
        // Any change to the id, time or body changes the signature.
        let base = standard_signature(&endpoint, "evt_1", 10, b"{}");
        assert_ne!(standard_signature(&endpoint, "evt_2", 10, b"{}"), base);
        assert_ne!(standard_signature(&endpoint, "evt_1", 11, b"{}"), base);
        assert_ne!(standard_signature(&endpoint, "evt_1", 10, b"{ }"), base);
    }
}
