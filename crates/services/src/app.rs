//! What every service can reach: the database, the configuration, the clock, the secret
//! hasher, the vault, the processor and the webhook clients. One value, cloned into each
//! face's state and each worker, never a global.

use crate::config::Config;
use crate::credentials::{FailuresByAddress, SecretHasher};
use crate::processor::Processor;
use crate::processor::sandbox::SandboxProcessor;
use crate::vault::Vault;
use crate::webhooks::outbound::Outbound;
use quittance_domain::Clock;
use quittance_store::Db;
use std::ops::Deref;
use std::sync::Arc;

#[derive(Clone)]
pub struct App(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub hasher: SecretHasher,
    pub token_failures: FailuresByAddress,
    pub vault: Vault,
    pub processor: Arc<dyn Processor>,
    /// CVVs of newly saved cards, in memory only, until their first authorization.
    pub first_cvv: FirstCvv,
    /// The HTTP clients webhook deliveries go out through.
    pub outbound: Outbound,
    /// Notified when this process queues a statement analysis, so its worker starts at once.
    pub statements_queued: Arc<tokio::sync::Notify>,
    /// IngoPay participants recently seen, with their secrets opened.
    pub ingo_participants: crate::ingo::participants::ParticipantCache,
    /// Until when `Idempotency-Key`s stored as sent by an older version may be live (read once).
    pub idempotency_legacy_horizon: tokio::sync::OnceCell<Option<chrono::DateTime<chrono::Utc>>>,
}

impl App {
    /// The services on `db`, with the built-in sandbox processor. Fails when the
    /// webhook settings cannot be used (a bad allow-list entry, an unreadable CA file).
    pub fn new(
        db: Db,
        config: Config,
        clock: Arc<dyn Clock>,
        hasher: SecretHasher,
        vault: Vault,
    ) -> Result<Self, String> {
        let processor = Arc::new(SandboxProcessor::new(db.clone(), clock.clone()));
        let outbound = Outbound::new(&config)?;
        Ok(App(Arc::new(Inner {
            db,
            config,
            clock,
            hasher,
            token_failures: FailuresByAddress::default(),
            vault,
            processor,
            first_cvv: FirstCvv::default(),
            outbound,
            statements_queued: Arc::new(tokio::sync::Notify::new()),
            ingo_participants: Default::default(),
            idempotency_legacy_horizon: tokio::sync::OnceCell::new(),
        })))
    }
}

impl Deref for App {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The CVV a card was saved with, kept in this process's memory (never written anywhere) for
/// the card's first authorization, and for ten minutes at most.
#[derive(Default)]
pub struct FirstCvv(
    std::sync::Mutex<
        std::collections::HashMap<
            quittance_domain::ids::PaymentMethodId,
            (
                quittance_domain::instruments::SensitiveDigits,
                std::time::Instant,
            ),
        >,
    >,
);

impl FirstCvv {
    const KEEP: std::time::Duration = std::time::Duration::from_secs(600);

    pub fn keep(
        &self,
        method: quittance_domain::ids::PaymentMethodId,
        cvv: quittance_domain::instruments::SensitiveDigits,
    ) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (_, at)| at.elapsed() < Self::KEEP);
        map.insert(method, (cvv, std::time::Instant::now()));
    }

    /// Takes the CVV for the method's first authorization; later ones go without.
    pub fn take(
        &self,
        method: &quittance_domain::ids::PaymentMethodId,
    ) -> Option<quittance_domain::instruments::SensitiveDigits> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(method)
            .filter(|(_, at)| at.elapsed() < Self::KEEP)
            .map(|(cvv, _)| cvv)
    }
}
