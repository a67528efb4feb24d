//! What the hosted page does for the recipient: opens an `authorized_url` once and turns it
//! into a browser cookie, verifies who the recipient is against the `recipient_information`
//! the participant sent, captures and verifies an account and tokenizes it into the vault,
//! or records that the recipient canceled. Each ending is an event (and so a webhook).
//!
//! Attempts: each failed verification counts against its feature's threshold (recipient or
//! account) and the session's. Reaching a feature's threshold locks the page
//! (`max_verification_attempts_exceeded`, not terminal: an idempotent repeat of the session
//! request gives a new URL and the feature's counter starts again); reaching the session's is
//! terminal (`terminal_failure`).

use super::sessions::{self, recipient_of, record_event, status};
use super::validation::Recipient;
use crate::App;
use crate::error::{ServiceError, ServiceResult};
use crate::processor::Instrument;
use chrono::{Datelike, Duration};
use quittance_domain::FieldError;
use quittance_domain::events::EventType;
use quittance_domain::instruments::{BankAccountInput, CardInput};
use quittance_domain::secret::random_hex;
use quittance_store::StoreError;
use quittance_store::repo::ingo::{self, CapturedAccount, Session, Thresholds};
use subtle::ConstantTimeEq;

/// How long the browser cookie an `authorized_url` becomes lasts.
pub const BROWSER_LIFETIME: Duration = Duration::minutes(30);

/// Why an `authorized_url` did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// `t` or `h` was changed, or the URL names no session.
    Altered,
    /// Older than thirty seconds, or opened already.
    ExpiredOrUsed,
}

/// Opens the URL `/session/{id}?t=…&h=…` once; answers the browser token to set as a cookie.
pub async fn open_link(
    app: &App,
    session: &str,
    t: &str,
    h: &str,
) -> Result<Result<String, LinkRefusal>, ServiceError> {
    let Ok(ticks) = t.parse::<i64>() else {
        return Ok(Err(LinkRefusal::Altered));
    };
    // A raw `+` in a query string reads back as a space.
    let given = h.replace(' ', "+");
    let expected = sessions::link_hash(app, session, ticks);
    if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Ok(Err(LinkRefusal::Altered));
    }
    let token = random_hex(32);
    let (hash, now, id) = (app.hasher.hash(&token), app.clock.now(), session.to_owned());
    let opened = app
        .db
        .write(move |tx| {
            Box::pin(async move {
                ingo::use_link(tx, &id, ticks, &hash, now + BROWSER_LIFETIME, now).await
            })
        })
        .await?;
    Ok(if opened {
        Ok(token)
    } else {
        Err(LinkRefusal::ExpiredOrUsed)
    })
}

/// The host page and locale of a session, for pages shown before (or instead of) the session
/// itself: a refused link is framed by the same host and speaks the same language.
pub async fn host_and_locale(app: &App, session: &str) -> ServiceResult<Option<(String, String)>> {
    let id = session.to_owned();
    let found = app
        .db
        .read(move |tx| Box::pin(async move { ingo::get_session(tx, None, &id).await }))
        .await;
    match found {
        Ok(s) => Ok(Some((s.host_uri, s.locale))),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A session as its page sees it.
#[derive(Debug, Clone)]
pub struct PageState {
    pub session: Session,
    pub recipient: Recipient,
    pub thresholds: Thresholds,
    pub paypal_enabled: bool,
}

/// Where the recipient is in the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Verify,
    Capture,
    Done,
    /// A feature's threshold was reached: the participant must send a new URL.
    Locked,
    Canceled,
    Failed,
}

impl PageState {
    pub fn step(&self) -> Step {
        match self.session.status.as_str() {
            status::FAILED => Step::Failed,
            status::CANCELED => Step::Canceled,
            status::TOKENIZED => Step::Done,
            _ if self.session.locked => Step::Locked,
            status::VERIFIED => Step::Capture,
            _ => Step::Verify,
        }
    }
}

/// The session the browser's cookie opens, if it is that session's and still live.
pub async fn page_state(app: &App, session: &str, token: &str) -> ServiceResult<Option<PageState>> {
    let (hash, now, wanted) = (app.hasher.hash(token), app.clock.now(), session.to_owned());
    let found = app
        .db
        .read(move |tx| {
            Box::pin(async move {
                match ingo::session_of_browser(tx, &hash, now).await? {
                    Some(id) if id == wanted => {
                        let s = ingo::get_session(tx, None, &id).await?;
                        let p = ingo::get_participant(tx, None, s.participant_id).await;
                        match p {
                            Ok(p) => Ok(Some((s, p.thresholds, p.paypal_enabled))),
                            // A deleted participant's sessions no longer open.
                            Err(StoreError::NotFound) => Ok(None),
                            Err(e) => Err(e),
                        }
                    }
                    _ => Ok::<_, StoreError>(None),
                }
            })
        })
        .await?;
    match found {
        None => Ok(None),
        Some((session, thresholds, paypal_enabled)) => Ok(Some(PageState {
            recipient: recipient_of(app, &session)?,
            session,
            thresholds,
            paypal_enabled,
        })),
    }
}

/// Lowercase letters and digits only: `O'Brien-Smith` and `obrien smith` match.
pub fn normalize_name(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What the recipient types to show who they are.
#[derive(Debug, Clone, Default)]
pub struct VerifyInput {
    pub first_name: String,
    pub last_name: String,
    pub zip_code: String,
}

/// First and last name compared letters and digits only, case-insensitively; the ZIP code's
/// first five digits.
pub fn matches(recipient: &Recipient, input: &VerifyInput) -> bool {
    let zip5 = |z: &str| {
        z.chars()
            .filter(char::is_ascii_digit)
            .take(5)
            .collect::<String>()
    };
    !normalize_name(&input.first_name).is_empty()
        && normalize_name(&input.first_name) == normalize_name(&recipient.first_name)
        && normalize_name(&input.last_name) == normalize_name(&recipient.last_name)
        && zip5(&input.zip_code).len() == 5
        && zip5(&input.zip_code) == zip5(&recipient.zip_code)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feature {
    Recipient,
    Account,
}

/// Counts one failed attempt on `s`; answers the event it leads to, if any.
fn count_failure(s: &mut Session, feature: Feature, t: Thresholds) -> Option<EventType> {
    let (counter, limit) = match feature {
        Feature::Recipient => (&mut s.recipient_failures, t.recipient),
        Feature::Account => (&mut s.account_failures, t.account),
    };
    *counter += 1;
    let feature_spent = *counter >= limit;
    s.session_failures += 1;
    if s.session_failures >= t.session {
        s.status = status::FAILED.to_owned();
        Some(EventType::SessionTerminalFailure)
    } else if feature_spent {
        s.locked = true;
        Some(EventType::SessionMaxVerificationAttemptsExceeded)
    } else {
        None
    }
}

/// Applies `change` to the session as it stands in the database, if it is still at `step`,
/// and records the event the change answers. Answers the session's new state.
async fn advance(
    app: &App,
    state: &PageState,
    step: Step,
    change: impl FnOnce(&mut Session) -> Option<EventType> + Send + 'static,
    account: Option<CapturedAccount>,
) -> ServiceResult<PageState> {
    let (id, now, recipient, thresholds, paypal) = (
        state.session.id.clone(),
        app.clock.now(),
        state.recipient.clone(),
        state.thresholds,
        state.paypal_enabled,
    );
    let saved = app
        .db
        .write(move |tx| {
            Box::pin(async move {
                let mut s = ingo::get_session(tx, None, &id).await?;
                let current = PageState {
                    session: s.clone(),
                    recipient: recipient.clone(),
                    thresholds,
                    paypal_enabled: paypal,
                };
                if current.step() != step {
                    return Ok::<_, StoreError>(s);
                }
                if let Some(account) = &account {
                    ingo::insert_account(tx, account).await?;
                }
                let event = change(&mut s);
                s.updated_at = now;
                ingo::save_session(tx, &s).await?;
                if let Some(event) = event {
                    record_event(tx, &s, &recipient, event, now).await?;
                }
                Ok(s)
            })
        })
        .await?;
    Ok(PageState {
        session: saved,
        ..state.clone()
    })
}

/// Checks who the recipient is. A mismatch counts as an attempt.
pub async fn verify_recipient(
    app: &App,
    state: &PageState,
    input: &VerifyInput,
) -> ServiceResult<(bool, PageState)> {
    let thresholds = state.thresholds;
    if matches(&state.recipient, input) {
        let next = advance(
            app,
            state,
            Step::Verify,
            |s| {
                s.status = status::VERIFIED.to_owned();
                None
            },
            None,
        )
        .await?;
        return Ok((true, next));
    }
    let next = advance(
        app,
        state,
        Step::Verify,
        move |s| count_failure(s, Feature::Recipient, thresholds),
        None,
    )
    .await?;
    Ok((false, next))
}

/// The funding destinations a recipient can choose.
pub mod destination {
    pub const DEBIT_CARD: &str = "debit_card";
    pub const CREDIT_CARD: &str = "credit_card";
    pub const BANK_ACCOUNT: &str = "bank_account";
    pub const PAYPAL: &str = "paypal";
}

/// An account as typed on the page.
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    /// One of [`destination`].
    pub funding_destination: String,
    pub card_number: String,
    pub exp_month: String,
    pub exp_year: String,
    pub cvv: String,
    pub name_on_account: String,
    pub routing_number: String,
    pub account_number: String,
    pub account_number_confirmation: String,
    pub account_type: String,
    pub paypal_email: String,
}

/// What became of an account the recipient entered.
#[derive(Debug, Clone)]
pub enum CaptureOutcome {
    /// Tokenized: `customer_account_token` is on the session.
    Tokenized(PageState),
    /// The input is not usable (no attempt counted): the fields at fault.
    Invalid(Vec<FieldError>),
    /// The account failed verification (an attempt counted).
    NotVerified(PageState),
}

struct Checked {
    destination: &'static str,
    number: String,
    last4: String,
    brand: Option<String>,
    routing: Option<String>,
    expiry: Option<(i64, i64)>,
}

fn check_account(
    app: &App,
    state: &PageState,
    input: &AccountInput,
) -> Result<(Checked, Option<InstrumentOwned>), Vec<FieldError>> {
    let today = app.clock.now();
    match input.funding_destination.as_str() {
        d @ (destination::DEBIT_CARD | destination::CREDIT_CARD) => {
            let month = input
                .exp_month
                .trim()
                .parse::<i64>()
                .map_err(|_| vec![FieldError::new("exp_month", "must be a month, 1 to 12")])?;
            let year = input
                .exp_year
                .trim()
                .parse::<i64>()
                .map_err(|_| vec![FieldError::new("exp_year", "must be a four-digit year")])?;
            let number: String = input
                .card_number
                .chars()
                .filter(|c| !matches!(c, ' ' | '-'))
                .collect();
            let card = CardInput {
                number: &number,
                exp_month: month,
                exp_year: year,
                cvv: Some(input.cvv.trim()),
                holder_name: &input.name_on_account,
                billing_zip: None,
            }
            .validate((today.year(), today.month()))
            .map_err(|e| vec![rename_card_field(e)])?;
            let checked = Checked {
                destination: if d == destination::DEBIT_CARD {
                    destination::DEBIT_CARD
                } else {
                    destination::CREDIT_CARD
                },
                number: card.number.expose().to_owned(),
                last4: card.number.last4(),
                brand: Some(card.brand.as_str().to_owned()),
                routing: None,
                expiry: Some((i64::from(card.exp_month), i64::from(card.exp_year))),
            };
            Ok((checked, Some(InstrumentOwned::Card(card))))
        }
        destination::BANK_ACCOUNT => {
            let account: String = input
                .account_number
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let confirmation: String = input
                .account_number_confirmation
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let mut errors = Vec::new();
            let bank = BankAccountInput {
                routing_number: input.routing_number.trim(),
                account_number: &account,
                account_type: input.account_type.trim(),
                holder_name: &input.name_on_account,
            }
            .validate();
            if let Err(e) = &bank {
                errors.push(rename_card_field(e.clone()));
            }
            if account != confirmation {
                errors.push(FieldError::new(
                    "account_number_confirmation",
                    "does not match the account number",
                ));
            }
            match bank {
                Ok(bank) if errors.is_empty() => {
                    let checked = Checked {
                        destination: destination::BANK_ACCOUNT,
                        number: bank.account_number.expose().to_owned(),
                        last4: bank.account_number.last4(),
                        brand: None,
                        routing: Some(bank.routing_number.clone()),
                        expiry: None,
                    };
                    Ok((checked, Some(InstrumentOwned::Bank(bank))))
                }
                _ => Err(errors),
            }
        }
        destination::PAYPAL if state.paypal_enabled => {
            let email = input.paypal_email.trim();
            if email.len() > 150 || !super::validation::plausible_email(email) {
                return Err(vec![FieldError::new(
                    "paypal_email",
                    "is not an e-mail address",
                )]);
            }
            let local = email.split('@').next().unwrap_or_default();
            Ok((
                Checked {
                    destination: destination::PAYPAL,
                    number: email.to_owned(),
                    last4: local.chars().take(1).collect::<String>() + "***",
                    brand: None,
                    routing: None,
                    expiry: None,
                },
                None,
            ))
        }
        _ => Err(vec![FieldError::new(
            "funding_destination",
            "choose where the money should go",
        )]),
    }
}

/// The domain's field names, as the page's inputs are named.
fn rename_card_field(mut e: FieldError) -> FieldError {
    e.field = match e.field.as_str() {
        "number" => "card_number".to_owned(),
        "holder_name" => "name_on_account".to_owned(),
        other => other.to_owned(),
    };
    e
}

enum InstrumentOwned {
    Card(quittance_domain::instruments::Card),
    Bank(quittance_domain::instruments::BankAccount),
}

/// Checks the account, verifies it with the processor and tokenizes it.
pub async fn capture_account(
    app: &App,
    state: &PageState,
    input: &AccountInput,
) -> ServiceResult<CaptureOutcome> {
    let (checked, instrument) = match check_account(app, state, input) {
        Ok(ok) => ok,
        Err(errors) => return Ok(CaptureOutcome::Invalid(errors)),
    };
    let verified = match &instrument {
        // PayPal addresses are verified by PayPal when money is sent.
        None => Ok(true),
        Some(InstrumentOwned::Card(card)) => {
            app.processor.verify_account(Instrument::Card(card)).await
        }
        Some(InstrumentOwned::Bank(bank)) => {
            app.processor.verify_account(Instrument::Bank(bank)).await
        }
    }
    .map_err(|e| {
        ServiceError::of_class(crate::error::ErrorClass::ServiceUnavailable)
            .with_cause(e.to_string())
    })?;
    let thresholds = state.thresholds;
    if !verified {
        let next = advance(
            app,
            state,
            Step::Capture,
            move |s| count_failure(s, Feature::Account, thresholds),
            None,
        )
        .await?;
        return Ok(CaptureOutcome::NotVerified(next));
    }
    let token = uuid::Uuid::new_v4().to_string();
    let account = CapturedAccount {
        sealed_number: app.vault.seal(&token, &checked.number).to_stored(),
        id: token.clone(),
        organization_id: state.session.organization_id.clone(),
        participant_id: state.session.participant_id,
        session_id: state.session.id.clone(),
        funding_destination: checked.destination.to_owned(),
        last4: checked.last4,
        brand: checked.brand,
        routing_number: checked.routing,
        exp_month: checked.expiry.map(|e| e.0),
        exp_year: checked.expiry.map(|e| e.1),
        created_at: app.clock.now(),
    };
    let destination = checked.destination;
    let next = advance(
        app,
        state,
        Step::Capture,
        move |s| {
            s.status = status::TOKENIZED.to_owned();
            s.customer_account_token = Some(token);
            s.funding_destination = Some(destination.to_owned());
            Some(EventType::SessionTokenSuccess)
        },
        Some(account),
    )
    .await?;
    Ok(CaptureOutcome::Tokenized(next))
}

/// The recipient stops without giving an account.
pub async fn cancel(app: &App, state: &PageState) -> ServiceResult<PageState> {
    let step = state.step();
    if !matches!(step, Step::Verify | Step::Capture) {
        return Ok(state.clone());
    }
    advance(
        app,
        state,
        step,
        |s| {
            s.status = status::CANCELED.to_owned();
            Some(EventType::SessionFundingCanceled)
        },
        None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient() -> Recipient {
        Recipient {
            first_name: "Jack".into(),
            last_name: "O'Frost-Smith".into(),
            address_line1: "123 Main St".into(),
            address_line2: None,
            city: "Atlanta".into(),
            state: "GA".into(),
            zip_code: "30313-1234".into(),
            email_address: None,
            phone_number: None,
            mobile_number: None,
            business_name: None,
        }
    }

    #[test]
    fn names_match_letters_only_and_zip_codes_on_five_digits() {
        let input = |f: &str, l: &str, z: &str| VerifyInput {
            first_name: f.into(),
            last_name: l.into(),
            zip_code: z.into(),
        };
        assert!(matches(
            &recipient(),
            &input(" jack ", "ofrost smith", "30313")
        ));
        assert!(!matches(&recipient(), &input("Jack", "Frost", "30313")));
        assert!(!matches(
            &recipient(),
            &input("Jack", "O'Frost-Smith", "30314")
        ));
        assert!(!matches(&recipient(), &input("", "O'Frost-Smith", "30313")));
    }

    #[test]
    fn feature_thresholds_lock_and_the_session_threshold_ends() {
        let t = Thresholds {
            recipient: 2,
            account: 2,
            session: 3,
        };
        let mut s = quittance_store::repo::ingo::Session {
            id: "s".into(),
            organization_id: quittance_domain::ids::OrganizationId::generate(),
            participant_id: 1,
            idempotency_key: None,
            idempotency_expires_at: None,
            fingerprint: String::new(),
            participant_unique_id1: String::new(),
            participant_unique_id2: String::new(),
            host_uri: String::new(),
            locale: "en-US".into(),
            sealed_recipient: String::new(),
            tracer_token: String::new(),
            status: status::OPEN.into(),
            recipient_failures: 0,
            account_failures: 0,
            session_failures: 0,
            locked: false,
            customer_account_token: None,
            funding_destination: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        assert_eq!(count_failure(&mut s, Feature::Recipient, t), None);
        assert_eq!(
            count_failure(&mut s, Feature::Recipient, t),
            Some(EventType::SessionMaxVerificationAttemptsExceeded)
        );
        assert!(s.locked);
        s.locked = false;
        s.recipient_failures = 0;
        assert_eq!(
            count_failure(&mut s, Feature::Recipient, t),
            Some(EventType::SessionTerminalFailure)
        );
        assert_eq!(s.status, status::FAILED);
    }
}
