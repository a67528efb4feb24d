//! Organizations and their credentials.
//!
//! Issued secrets (client secrets, API keys, access tokens) are random 256-bit values, so a
//! fast keyed hash (HMAC-SHA256 with a server key) protects them at rest; argon2 is for
//! human passwords. Only hashes are stored; a secret is shown once, when issued.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use quittance_domain::ids::{CredentialId, OrganizationId};
use quittance_domain::secret::{Secret, random_hex};
use quittance_store::repo::access::{self, NewCredential};
use quittance_store::{Db, StoreError};
use serde::Serialize;
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// The file in the data directory holding the generated hash key.
pub const HASH_KEY_FILE: &str = "credential-hash.key";

/// An `Authorization` value that says `Basic` but does not hold `base64(id:secret)`.
#[derive(Debug, PartialEq, Eq)]
pub struct MalformedBasic;

/// The client id and secret of an `Authorization: Basic …` value; `None` for another scheme.
pub fn basic_credentials(value: &str) -> Result<Option<(String, String)>, MalformedBasic> {
    use base64::Engine as _;
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| MalformedBasic)?;
    let text = String::from_utf8(decoded).map_err(|_| MalformedBasic)?;
    let (id, secret) = text.split_once(':').ok_or(MalformedBasic)?;
    Ok(Some((id.to_owned(), secret.to_owned())))
}

/// HMAC-SHA256 under the server's key: how issued secrets are stored and looked up.
#[derive(Clone)]
pub struct SecretHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher(***)")
    }
}

impl SecretHasher {
    pub fn from_hex(hex_key: &str) -> Result<Self, String> {
        let bytes = hex::decode(hex_key.trim())
            .map_err(|_| "the credential hash key must be 64 hex digits".to_owned())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the credential hash key must be 64 hex digits".to_owned())?;
        Ok(Self { key })
    }

    /// The configured key, or the one in `data_dir` (generated there, owner-only, on first use).
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> Result<Self, String> {
        if let Some(key) = configured {
            return Self::from_hex(key);
        }
        let path = data_dir.join(HASH_KEY_FILE);
        quittance_store::create_private_dir(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let created = {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .and_then(|mut file| {
                    file.write_all(random_hex(32).as_bytes())?;
                    file.sync_all()
                })
        };
        match created {
            Ok(()) => {
                tracing::warn!(path = %path.display(), "generated a new credential hash key; keep it with the data and back it up")
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_hex(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn hash(&self, secret: &str) -> String {
        self.hash_bytes(secret.as_bytes())
    }

    /// The keyed hash of any bytes (a request body's fingerprint, say), as hex.
    pub fn hash_bytes(&self, bytes: &[u8]) -> String {
        #[allow(clippy::expect_used)]
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(bytes);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Compares `secret` with a stored hash in constant time.
    pub fn verify(&self, secret: &str, stored_hash: &str) -> bool {
        self.hash(secret)
            .as_bytes()
            .ct_eq(stored_hash.as_bytes())
            .into()
    }
}

/// What `quittance credentials create` prints, once.
#[derive(Debug, Serialize)]
pub struct IssuedCredentials {
    pub organization_id: OrganizationId,
    #[serde(skip)]
    pub credential_id: CredentialId,
    pub client_id: String,
    #[serde(serialize_with = "expose")]
    pub client_secret: Secret,
    #[serde(serialize_with = "expose")]
    pub api_key: Secret,
}

fn expose<S: serde::Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

/// Creates the organization if needed, with what every face starts it with, and a new
/// credential for it.
pub async fn issue_credentials(
    db: &Db,
    hasher: &SecretHasher,
    organization: &str,
    now: DateTime<Utc>,
) -> Result<IssuedCredentials, StoreError> {
    let client_secret = Secret::new(format!("qs_{}", random_hex(32)));
    let api_key = Secret::new(format!("qk_{}", random_hex(32)));
    let credential = NewCredential {
        id: CredentialId::generate(),
        client_id: format!("qc_{}", random_hex(16)),
        client_secret_hash: hasher.hash(client_secret.expose()),
        api_key_hash: hasher.hash(api_key.expose()),
        api_key_hint: api_key.expose().chars().take(9).collect(),
    };
    let name = organization.to_owned();
    let stored = credential.clone();
    let organization_id = db
        .write(move |tx| {
            Box::pin(async move {
                let org = access::ensure_organization(tx, &name, now).await?;
                crate::pricing::defaults::seed(tx, &org, now).await?;
                access::insert_credential(tx, &org, &stored, now).await?;
                Ok::<_, StoreError>(org)
            })
        })
        .await?;
    Ok(IssuedCredentials {
        organization_id,
        credential_id: credential.id,
        client_id: credential.client_id,
        client_secret,
        api_key,
    })
}

/// Failed token requests per source address, in this process's memory: a second line of
/// defence beside the per-client lockout, against one address trying many client ids.
#[derive(Default)]
pub struct FailuresByAddress {
    failures: Mutex<HashMap<IpAddr, VecDeque<DateTime<Utc>>>>,
}

/// Addresses remembered before expired ones are swept out.
const REMEMBERED_ADDRESSES: usize = 10_000;

impl FailuresByAddress {
    /// How long `address` must wait, if it has reached `max` failures within `window`.
    pub fn throttled(
        &self,
        address: IpAddr,
        now: DateTime<Utc>,
        max: u32,
        window: chrono::Duration,
    ) -> Option<chrono::Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let recent = failures.get(&address)?;
        let in_window: Vec<&DateTime<Utc>> = recent.iter().filter(|t| **t > now - window).collect();
        if max == 0 || in_window.len() < usize::try_from(max).unwrap_or(usize::MAX) {
            return None;
        }
        // Free again when the oldest failure that still counts leaves the window.
        let free_at =
            **in_window.get(in_window.len() - usize::try_from(max).unwrap_or(1))? + window;
        Some(free_at - now)
    }

    pub fn record(&self, address: IpAddr, now: DateTime<Utc>, window: chrono::Duration) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= REMEMBERED_ADDRESSES {
            failures.retain(|_, times| times.back().is_some_and(|t| *t > now - window));
        }
        let times = failures.entry(address).or_default();
        while times.front().is_some_and(|t| *t <= now - window) {
            times.pop_front();
        }
        times.push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_keyed_and_verify_in_constant_time() {
        let a = SecretHasher::from_hex(&"11".repeat(32)).expect("key");
        let b = SecretHasher::from_hex(&"22".repeat(32)).expect("key");
        assert_ne!(a.hash("qs_x"), b.hash("qs_x"), "the key changes the hash");
        assert!(a.verify("qs_x", &a.hash("qs_x")));
        assert!(!a.verify("qs_y", &a.hash("qs_x")));
        assert!(SecretHasher::from_hex("abc").is_err());
    }

    #[test]
    fn the_key_file_is_created_once_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("dir");
        let first = SecretHasher::load_or_create(None, dir.path()).expect("created");
        let second = SecretHasher::load_or_create(None, dir.path()).expect("read back");
        assert_eq!(first.hash("x"), second.hash("x"));
        let mode = std::fs::metadata(dir.path().join(HASH_KEY_FILE))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[cfg(test)]
mod throttle_tests {
    use super::*;

    #[test]
    fn an_address_is_throttled_until_its_oldest_counted_failure_leaves_the_window() {
        let throttle = FailuresByAddress::default();
        let address: IpAddr = [127, 0, 0, 1].into();
        let start = DateTime::from_timestamp(1_700_000_000, 0).expect("valid");
        let window = chrono::Duration::minutes(10);
        for minute in 0..3 {
            throttle.record(address, start + chrono::Duration::minutes(minute), window);
        }
        let now = start + chrono::Duration::minutes(3);
        assert_eq!(
            throttle.throttled(address, now, 4, window),
            None,
            "three failures are under a limit of four"
        );
        assert_eq!(
            throttle.throttled(address, now, 3, window),
            Some(chrono::Duration::minutes(7)),
            "free when the first leaves"
        );
        assert_eq!(
            throttle.throttled(address, now, 0, window),
            None,
            "0 turns it off"
        );
        assert_eq!(
            throttle.throttled([10, 0, 0, 2].into(), now, 1, window),
            None,
            "other addresses are apart"
        );
        let later = start + chrono::Duration::minutes(11);
        assert_eq!(throttle.throttled(address, later, 3, window), None);
    }
}
