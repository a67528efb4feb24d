//! `quittance ingo participants …`: IngoPay participants (seed 003), the same operations as
//! `/v1/ingo/participants`.

use crate::commands::{organization_named, state_for};
use crate::settings::{CommonArgs, init_logging, load};
use quittance_services::ingo::participants::{self, ParticipantChanges, ParticipantView};

#[derive(clap::Subcommand)]
pub enum IngoAction {
    /// IngoPay participants: who may create hosted sessions, and how they sign.
    Participants {
        #[command(subcommand)]
        action: ParticipantsAction,
    },
}

/// The settings `create` and `update` take.
#[derive(clap::Args)]
pub struct ParticipantSettings {
    /// An origin allowed to frame the hosted page (https://…); repeat for several, the first
    /// is the default `host_uri`. On update, the list given replaces the list kept.
    #[arg(long = "host-uri")]
    host_uris: Vec<String>,
    /// Offer PayPal (and require `email_address` in session requests).
    #[arg(long, overrides_with = "no_paypal")]
    paypal: bool,
    /// Stop offering PayPal.
    #[arg(long)]
    no_paypal: bool,
    /// Failed recipient verifications before the page locks [default: 3].
    #[arg(long)]
    recipient_attempts: Option<i64>,
    /// Failed account verifications before the page locks [default: 3].
    #[arg(long)]
    account_attempts: Option<i64>,
    /// Failed verifications of either kind that end the session [default: 5].
    #[arg(long)]
    session_attempts: Option<i64>,
}

impl ParticipantSettings {
    fn changes(&self) -> ParticipantChanges {
        ParticipantChanges {
            host_uris: (!self.host_uris.is_empty()).then(|| self.host_uris.clone()),
            paypal_enabled: if self.paypal {
                Some(true)
            } else if self.no_paypal {
                Some(false)
            } else {
                None
            },
            recipient_attempts: self.recipient_attempts,
            account_attempts: self.account_attempts,
            session_attempts: self.session_attempts,
        }
    }
}

#[derive(clap::Subcommand)]
pub enum ParticipantsAction {
    /// Create a participant; prints participant_id, username and secret (the secret only now).
    Create {
        #[command(flatten)]
        common: CommonArgs,
        /// The organization the participant's sessions belong to.
        #[arg(long, default_value = "default")]
        organization: String,
        #[command(flatten)]
        settings: ParticipantSettings,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List participants (never their secrets).
    List {
        #[command(flatten)]
        common: CommonArgs,
        /// Only this organization's.
        #[arg(long)]
        organization: Option<String>,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Change a participant's host URIs, PayPal or thresholds.
    Update {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, default_value = "default")]
        organization: String,
        /// The participant_id.
        participant_id: i64,
        #[command(flatten)]
        settings: ParticipantSettings,
        #[arg(long)]
        json: bool,
    },
    /// A new secret, printed once; the old one stops working at once.
    RotateSecret {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, default_value = "default")]
        organization: String,
        participant_id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Delete a participant: its signatures stop working and its pages stop opening.
    Delete {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, default_value = "default")]
        organization: String,
        participant_id: i64,
    },
}

fn print_view(view: &ParticipantView) {
    println!("Participant ID: {}", view.participant_id);
    println!("Username:       {}", view.username);
    println!("Host URIs:      {}", view.host_uris.join(", "));
    println!(
        "PayPal:         {}",
        if view.paypal_enabled { "yes" } else { "no" }
    );
    println!(
        "Attempts:       {} recipient, {} account, {} per session",
        view.recipient_verification_attempts,
        view.account_verification_attempts,
        view.session_attempts
    );
}

fn json(value: &impl serde::Serialize) -> Result<(), String> {
    println!(
        "{}",
        serde_json::to_string(value).map_err(|e| e.to_string())?
    );
    Ok(())
}

pub async fn ingo(action: IngoAction) -> Result<(), String> {
    let IngoAction::Participants { action } = action;
    let common = match &action {
        ParticipantsAction::Create { common, .. }
        | ParticipantsAction::List { common, .. }
        | ParticipantsAction::Update { common, .. }
        | ParticipantsAction::RotateSecret { common, .. }
        | ParticipantsAction::Delete { common, .. } => common,
    };
    let config = load(common, None)?;
    init_logging(config.log_format);
    let (db, app) = state_for(config).await?;
    let done = run(&db, &app, action).await;
    db.close().await;
    done
}

async fn run(
    db: &quittance_store::Db,
    app: &quittance_services::App,
    action: ParticipantsAction,
) -> Result<(), String> {
    let text = |e: quittance_services::error::ServiceError| e.message().to_owned();
    match action {
        ParticipantsAction::Create {
            organization,
            settings,
            json: as_json,
            ..
        } => {
            let now = chrono::Utc::now();
            let name = organization.clone();
            let org = db
                .write(move |tx| {
                    Box::pin(async move {
                        quittance_store::repo::access::ensure_organization(tx, &name, now).await
                    })
                })
                .await
                .map_err(|e| e.to_string())?;
            quittance_services::pricing::defaults::seed_missing(db, now)
                .await
                .map_err(|e| e.to_string())?;
            let issued = participants::create(app, &org, &settings.changes())
                .await
                .map_err(text)?;
            if as_json {
                return json(&issued);
            }
            print_view(&issued.participant);
            println!("Secret:         {}", issued.secret.expose());
            println!();
            println!(
                "The secret is shown only now. Sign session requests with the username and secret (docs/ingopay.md)."
            );
            Ok(())
        }
        ParticipantsAction::List {
            organization,
            json: as_json,
            ..
        } => {
            let org = match organization {
                Some(name) => Some(organization_named(db, &name).await?),
                None => None,
            };
            let all = participants::list(app, org.as_ref()).await.map_err(text)?;
            if as_json {
                return json(&all);
            }
            println!(
                "{:<14} {:<22} {:<7} HOST URIS",
                "PARTICIPANT", "USERNAME", "PAYPAL"
            );
            for p in all {
                println!(
                    "{:<14} {:<22} {:<7} {}",
                    p.participant_id,
                    p.username,
                    if p.paypal_enabled { "yes" } else { "no" },
                    p.host_uris.join(", ")
                );
            }
            Ok(())
        }
        ParticipantsAction::Update {
            organization,
            participant_id,
            settings,
            json: as_json,
            ..
        } => {
            let org = organization_named(db, &organization).await?;
            let view = participants::update(app, &org, participant_id, &settings.changes())
                .await
                .map_err(text)?;
            if as_json {
                return json(&view);
            }
            print_view(&view);
            Ok(())
        }
        ParticipantsAction::RotateSecret {
            organization,
            participant_id,
            json: as_json,
            ..
        } => {
            let org = organization_named(db, &organization).await?;
            let issued = participants::rotate_secret(app, &org, participant_id)
                .await
                .map_err(text)?;
            if as_json {
                return json(&issued);
            }
            print_view(&issued.participant);
            println!("Secret:         {}", issued.secret.expose());
            Ok(())
        }
        ParticipantsAction::Delete {
            organization,
            participant_id,
            ..
        } => {
            let org = organization_named(db, &organization).await?;
            participants::delete(app, &org, participant_id)
                .await
                .map_err(text)?;
            println!("deleted participant {participant_id}");
            Ok(())
        }
    }
}
