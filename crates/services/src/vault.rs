//! The vault: card and bank account numbers sealed field by field with AES-256-GCM.
//!
//! Each ciphertext carries its record id as associated data (a sealed number copied onto
//! another record does not open) and is stored beside the id of the key that sealed it. The
//! keys live in a key file (`vault.keys` in the data directory unless configured), one
//! `id:hex` line per key, the newest last: the newest seals, all of them open.
//! `quittance keys rotate` appends a key and re-seals every record under it, in small
//! batches, so an interrupted rotation is simply run again.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use quittance_domain::ids::PaymentMethodId;
use quittance_domain::secret::random_hex;
use quittance_store::repo::payment_methods::{self, Sealed};
use quittance_store::repo::sealed;
use quittance_store::{Db, StoreError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "vault.keys";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("vault key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("no vault key {0:?} in the key file")]
    UnknownKey(String),
    #[error("a sealed value failed to open (wrong key or record)")]
    Corrupt,
}

struct Keyring {
    /// `(id, key)`, oldest first.
    keys: Vec<(String, LessSafeKey)>,
}

impl Keyring {
    fn parse(text: &str, path: &Path) -> Result<Keyring, VaultError> {
        let bad = |reason: String| VaultError::KeyFile {
            path: path.display().to_string(),
            reason,
        };
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, hex_key) = line
                .split_once(':')
                .ok_or_else(|| bad(format!("line {}: expected id:hex", n + 1)))?;
            let bytes = hex::decode(hex_key.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| bad(format!("line {}: the key must be 64 hex digits", n + 1)))?;
            let key = UnboundKey::new(&AES_256_GCM, &bytes)
                .map_err(|_| bad(format!("line {}: unusable key", n + 1)))?;
            keys.push((id.trim().to_owned(), LessSafeKey::new(key)));
        }
        if keys.is_empty() {
            return Err(bad("holds no key".to_owned()));
        }
        Ok(Keyring { keys })
    }
}

/// Seals and opens numbers. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    path: PathBuf,
    ring: Arc<RwLock<Keyring>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vault({})", self.path.display())
    }
}

fn write_private(path: &Path, text: &str, create_new: bool) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if create_new {
        options.create_new(true);
    } else {
        options.append(true);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

impl Vault {
    /// Opens the configured key file, or `data_dir/vault.keys`, generating it (owner-only,
    /// with a warning) when neither exists.
    pub fn load_or_create(configured: Option<&Path>, data_dir: &Path) -> Result<Vault, VaultError> {
        let path = configured.map_or_else(|| data_dir.join(KEY_FILE), Path::to_path_buf);
        let io = |e: std::io::Error| VaultError::KeyFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        if configured.is_none() {
            quittance_store::create_private_dir(data_dir).map_err(io)?;
            match write_private(&path, &format!("k1:{}\n", random_hex(32)), true) {
                Ok(()) => tracing::warn!(
                    path = %path.display(),
                    "generated a new vault key; keep it apart from database backups and back it up: without it saved cards cannot be used"
                ),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(e)),
            }
        }
        let vault = Vault {
            ring: Arc::new(RwLock::new(Keyring::parse(
                &std::fs::read_to_string(&path).map_err(io)?,
                &path,
            )?)),
            path,
        };
        Ok(vault)
    }

    /// Re-reads the key file (another process may have rotated).
    pub fn reload(&self) -> Result<(), VaultError> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| VaultError::KeyFile {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        })?;
        let ring = Keyring::parse(&text, &self.path)?;
        *self.ring.write().unwrap_or_else(|p| p.into_inner()) = ring;
        Ok(())
    }

    /// The id of the key that seals.
    pub fn current_key_id(&self) -> String {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        ring.keys
            .last()
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    }

    /// Appends a new key to the key file and makes it the one that seals; returns its id.
    pub fn add_key(&self) -> Result<String, VaultError> {
        let next = {
            let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
            let highest = ring
                .keys
                .iter()
                .filter_map(|(id, _)| id.strip_prefix('k')?.parse::<u64>().ok())
                .max()
                .unwrap_or(0);
            format!("k{}", highest + 1)
        };
        write_private(&self.path, &format!("{next}:{}\n", random_hex(32)), false).map_err(|e| {
            VaultError::KeyFile {
                path: self.path.display().to_string(),
                reason: e.to_string(),
            }
        })?;
        self.reload()?;
        Ok(next)
    }

    /// Seals `plain` for the record `record_id` under the current key.
    pub fn seal(&self, record_id: &str, plain: &str) -> Sealed {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        let (key_id, key) = ring
            .keys
            .last()
            .map(|(i, k)| (i.clone(), k))
            .unwrap_or_else(|| {
                unreachable!("a keyring is never empty (parse refuses an empty file)")
            });
        let mut nonce = [0u8; NONCE_LEN];
        // The OS random source failing is unrecoverable for a server that seals secrets.
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut nonce).expect("operating system random source");
        let mut data = plain.as_bytes().to_vec();
        #[allow(clippy::expect_used)]
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(record_id.as_bytes()),
            &mut data,
        )
        .expect("AES-GCM sealing a short value cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Sealed {
            key_id,
            ciphertext: STANDARD.encode(out),
        }
    }

    /// Opens a sealed value of `record_id`.
    pub fn open(&self, record_id: &str, sealed: &Sealed) -> Result<String, VaultError> {
        match self.open_with_ring(record_id, sealed) {
            Err(VaultError::UnknownKey(_)) => {
                self.reload()?;
                self.open_with_ring(record_id, sealed)
            }
            other => other,
        }
    }

    /// Opens a value stored as `key_id:ciphertext` ([`Sealed::to_stored`]).
    pub fn open_stored(&self, record_id: &str, stored: &str) -> Result<String, VaultError> {
        let sealed = Sealed::from_stored(stored).ok_or(VaultError::Corrupt)?;
        self.open(record_id, &sealed)
    }

    fn open_with_ring(&self, record_id: &str, sealed: &Sealed) -> Result<String, VaultError> {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        let key = ring
            .keys
            .iter()
            .find(|(id, _)| *id == sealed.key_id)
            .map(|(_, k)| k)
            .ok_or_else(|| VaultError::UnknownKey(sealed.key_id.clone()))?;
        let raw = STANDARD
            .decode(&sealed.ciphertext)
            .map_err(|_| VaultError::Corrupt)?;
        if raw.len() < NONCE_LEN {
            return Err(VaultError::Corrupt);
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Corrupt)?;
        let mut body = body.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(record_id.as_bytes()), &mut body)
            .map_err(|_| VaultError::Corrupt)?;
        String::from_utf8(plain.to_vec()).map_err(|_| VaultError::Corrupt)
    }
}

/// What a rotation pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    pub records: u64,
}

/// Where sealed values live: payment methods' numbers (key id in a column of its own) or a
/// `key_id:ciphertext` column ([`sealed::SEALED_COLUMNS`]).
#[derive(Debug, Clone, Copy)]
enum Holder {
    CardNumbers,
    Column(sealed::SealedColumn),
}

impl Holder {
    async fn stale(
        self,
        tx: &mut dyn quittance_store::Tx,
        current: &str,
        limit: i64,
    ) -> Result<Vec<(String, Sealed)>, StoreError> {
        match self {
            Holder::CardNumbers => Ok(payment_methods::sealed_under_other_keys(tx, current, limit)
                .await?
                .into_iter()
                .map(|(id, old)| (id.as_str().to_owned(), old))
                .collect()),
            Holder::Column(at) => sealed::under_other_keys(tx, at, current, limit)
                .await?
                .into_iter()
                .map(|(id, stored)| match Sealed::from_stored(&stored) {
                    Some(old) => Ok((id, old)),
                    None => Err(StoreError::Decode(format!(
                        "{}.{} of {id} is not key_id:ciphertext",
                        at.table, at.column
                    ))),
                })
                .collect(),
        }
    }

    async fn replace(
        self,
        tx: &mut dyn quittance_store::Tx,
        id: &str,
        old: &Sealed,
        new: &Sealed,
    ) -> Result<bool, StoreError> {
        match self {
            Holder::CardNumbers => match PaymentMethodId::parse(id) {
                Some(id) => payment_methods::reseal(tx, &id, old, new).await,
                None => Ok(false),
            },
            Holder::Column(at) => {
                sealed::reseal(tx, at, id, &old.to_stored(), &new.to_stored()).await
            }
        }
    }
}

/// Re-seals every stored secret not under the current key (card and bank numbers, webhook
/// signing secrets, receivers' credentials), a batch per transaction, until none is left.
/// Safe to interrupt and run again: each value is re-sealed only if it still holds what was
/// read, and keys are never removed.
pub async fn reseal_all(vault: &Vault, db: &Db, batch: i64) -> Result<Resealed, String> {
    let mut done = Resealed::default();
    let holders = std::iter::once(Holder::CardNumbers)
        .chain(sealed::SEALED_COLUMNS.iter().map(|&at| Holder::Column(at)));
    for holder in holders {
        done.records += reseal_holder(vault, db, holder, batch).await?;
    }
    Ok(done)
}

async fn reseal_holder(vault: &Vault, db: &Db, holder: Holder, batch: i64) -> Result<u64, String> {
    let current = vault.current_key_id();
    let mut records = 0;
    loop {
        let key = current.clone();
        let stale = db
            .read(move |tx| Box::pin(async move { holder.stale(tx, &key, batch).await }))
            .await
            .map_err(|e| e.to_string())?;
        if stale.is_empty() {
            return Ok(records);
        }
        let mut fresh = Vec::with_capacity(stale.len());
        for (id, old) in stale {
            let plain = vault.open(&id, &old).map_err(|e| format!("{id}: {e}"))?;
            let new = vault.seal(&id, &plain);
            fresh.push((id, old, new));
        }
        let changed = db
            .write(move |tx| {
                Box::pin(async move {
                    let mut changed = 0u64;
                    for (id, old, new) in &fresh {
                        changed += u64::from(holder.replace(tx, id, old, new).await?);
                    }
                    Ok::<_, StoreError>(changed)
                })
            })
            .await
            .map_err(|e| e.to_string())?;
        records += changed;
    }
}

/// How many stored secrets each key seals, for `quittance keys status`.
pub async fn count_by_key(db: &Db) -> Result<Vec<(String, i64)>, String> {
    db.read(|tx| {
        Box::pin(async move {
            let mut counts = std::collections::BTreeMap::<String, i64>::new();
            let mut add = |pairs: Vec<(String, i64)>| {
                for (key, n) in pairs {
                    *counts.entry(key).or_default() += n;
                }
            };
            add(payment_methods::count_by_key(tx).await?);
            for &at in sealed::SEALED_COLUMNS {
                add(sealed::count_by_key(tx, at).await?);
            }
            Ok::<_, StoreError>(counts.into_iter().collect())
        })
    })
    .await
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_open_only_for_their_record_and_rotate() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::load_or_create(None, dir.path()).expect("vault");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join(KEY_FILE))
                .expect("key file")
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let sealed = vault.seal("pm_1", "4242424242424242");
        assert_eq!(sealed.key_id, "k1");
        assert!(!sealed.ciphertext.contains("4242424242424242"));
        assert_eq!(
            vault.open("pm_1", &sealed).expect("open"),
            "4242424242424242"
        );
        assert_eq!(vault.open("pm_2", &sealed), Err(VaultError::Corrupt));
        // Two seals of one value differ (fresh nonce).
        assert_ne!(vault.seal("pm_1", "4242424242424242"), sealed);

        // Another process rotates: this vault learns the new key when it meets it.
        let other = Vault::load_or_create(None, dir.path()).expect("same file");
        assert_eq!(other.add_key().expect("rotate"), "k2");
        let resealed = other.seal("pm_1", "4242424242424242");
        assert_eq!(resealed.key_id, "k2");
        assert_eq!(
            vault.open("pm_1", &resealed).expect("reloads"),
            "4242424242424242"
        );
        assert_eq!(vault.current_key_id(), "k2");
        assert_eq!(
            other.open("pm_1", &sealed).expect("old key still opens"),
            "4242424242424242"
        );
        let gone = Sealed {
            key_id: "k9".into(),
            ciphertext: sealed.ciphertext.clone(),
        };
        assert_eq!(
            vault.open("pm_1", &gone),
            Err(VaultError::UnknownKey("k9".into()))
        );
    }
}
