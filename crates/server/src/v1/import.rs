//! `POST /v1/import`: create or update one master account with its sub-accounts in one
//! atomic call, creating the clients it names by `client_number` when missing. The same
//! document imported twice changes nothing the second time and answers `"unchanged"`.
//!
//! The document's validation here is shared with bulk imports (NDJSON lines and CSV rows).

use super::accounts::{AccountResponse, SubAccountResponse};
use crate::http::auth::Caller;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::AppJson;
use crate::http::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use quittance_domain::events::EventType;
use quittance_services::events;
pub use quittance_services::resources::import::{ImportDocumentRequest, SubAccountImportRequest};
use quittance_store::StoreError;
use quittance_store::repo::accounts::{get_account, get_sub_account};
use quittance_store::repo::imports::{Change, ClientCache, ImportError, apply_document};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportResponse {
    /// `created`, `updated` or `unchanged` (the same document was already imported).
    pub result: &'static str,
    pub account: AccountResponse,
    /// The document's sub-accounts as they now stand, in its order.
    pub sub_accounts: Vec<SubAccountResponse>,
}

/// Import one master account with its sub-accounts.
#[utoipa::path(post, path = "/v1/import", tag = "import", request_body = ImportDocumentRequest,
    responses(
        (status = 201, description = "The account was created", body = ImportResponse),
        (status = 200, description = "The account was updated, or was already exactly so (`result` says which)", body = ImportResponse),
        (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody)
    ))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<ImportDocumentRequest>,
) -> ApiResult<(StatusCode, Json<ImportResponse>)> {
    let doc = req.validate()?;
    let org = caller.organization().clone();
    let now = state.clock.now();
    let run = || {
        let (org, doc) = (org.clone(), doc.clone());
        state.db.write(move |tx| {
            Box::pin(async move {
                let outcome =
                    apply_document(tx, &org, &doc, now, &mut ClientCache::default()).await?;
                let account = get_account(tx, &org, &outcome.account_id).await?;
                if outcome.changes_an_existing_account() {
                    let data = AccountResponse::from(account.clone());
                    events::record(tx, &org, EventType::MasterAccountChanged, &data, now).await?;
                }
                let mut subs = Vec::with_capacity(outcome.sub_accounts.len());
                for (id, _) in &outcome.sub_accounts {
                    subs.push(get_sub_account(tx, &org, id).await?);
                }
                Ok::<_, ImportError>((outcome, account, subs))
            })
        })
    };
    // Two imports creating the same account at once: the loser sees the winner's row on retry.
    let (outcome, account, subs) = match run().await {
        Err(ImportError::Store(StoreError::Conflict(_))) => run().await?,
        other => other?,
    };
    let (status, result) = match outcome.account {
        Change::Created => (StatusCode::CREATED, "created"),
        _ if outcome.is_unchanged() => (StatusCode::OK, "unchanged"),
        _ => (StatusCode::OK, "updated"),
    };
    Ok((
        status,
        Json(ImportResponse {
            result,
            account: account.into(),
            sub_accounts: subs.into_iter().map(SubAccountResponse::from).collect(),
        }),
    ))
}
