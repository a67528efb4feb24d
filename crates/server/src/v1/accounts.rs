//! Master accounts (a patient or debtor) and their sub-accounts (one visit or one debt).
//! Accounts are created by import; here they are read, changed and deleted. An account's
//! `balance` always equals the sum of its sub-accounts' balances.

use super::ListPage;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::http::extract::{AppJson, AppQuery, page};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use quittance_domain::FieldError;
use quittance_domain::events::EventType;
use quittance_domain::ids::{AccountId, ClientId, OrganizationId, SubAccountId};
use quittance_domain::receivables::{
    Account, AccountStatus, MAX_KEY, MAX_TEXT, SubAccount, SubAccountStatus, non_negative_amount,
    optional_date, optional_email, optional_text, required_text,
};
use quittance_services::events;
pub use quittance_services::resources::accounts::{
    AccountResponse, AddressBody, SubAccountResponse,
};
use quittance_services::wire::{AmountText, nullable};
use quittance_store::repo::accounts::{self as store, AccountFilter};
use quittance_store::repo::clients::get_client;
use quittance_store::{StoreError, Tx};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
pub struct AccountListQuery {
    current_page: Option<String>,
    account_number: Option<String>,
    last_name: Option<String>,
    client_id: Option<String>,
    status: Option<String>,
}

/// List master accounts, oldest first, optionally filtered.
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts",
    params(
        ("current_page" = Option<i64>, Query, description = "Page number, from 1"),
        ("account_number" = Option<String>, Query, description = "Exact account number"),
        ("last_name" = Option<String>, Query, description = "Owner's last name, any case"),
        ("client_id" = Option<String>, Query, description = "Accounts with a sub-account of this client"),
        ("status" = Option<String>, Query, description = "active, inactive or closed"),
    ),
    responses((status = 200, body = ListPage<AccountResponse>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<AccountListQuery>,
) -> ApiResult<Json<ListPage<AccountResponse>>> {
    let page = page(q.current_page.as_deref())?;
    let bad = |param: &str, message: String| ApiError::bad_request(message).with_param(param);
    let filter = AccountFilter {
        account_number: q.account_number.filter(|s| !s.is_empty()),
        last_name: q.last_name.filter(|s| !s.is_empty()),
        client_id: q
            .client_id
            .map(|c| {
                ClientId::parse(&c)
                    .ok_or_else(|| bad("client_id", "client_id is not a client id".to_owned()))
            })
            .transpose()?,
        status: q
            .status
            .map(|s| {
                AccountStatus::parse_field("status", &s)
                    .map_err(|e| bad("status", format!("status {}", e.message)))
            })
            .transpose()?,
    };
    let org = caller.organization().clone();
    let paged = state
        .db
        .read(move |tx| {
            Box::pin(async move { store::list_accounts(tx, &org, &filter, page).await })
        })
        .await?;
    Ok(Json(ListPage::new(paged, page, AccountResponse::from)))
}

fn account_id(id: &str) -> ApiResult<AccountId> {
    AccountId::parse(id).ok_or_else(|| ApiError::not_found("account", id))
}

async fn load_account(state: &AppState, org: &OrganizationId, id: &str) -> ApiResult<Account> {
    let (org, account) = (org.clone(), account_id(id)?);
    state
        .db
        .read(move |tx| Box::pin(async move { store::get_account(tx, &org, &account).await }))
        .await
        .or_not_found("account", id)
}

/// Retrieve a master account.
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = AccountResponse), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountResponse>> {
    Ok(Json(
        load_account(&state, caller.organization(), &id)
            .await?
            .into(),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressPatch {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub line1: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub line2: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub state: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
}

/// Only the fields sent change; `null` clears an optional field.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountRequest {
    pub account_number: Option<String>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub date_of_birth: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub address: Option<AddressPatch>,
}

/// Applies a nullable text patch: absent keeps, null clears, a value is validated.
fn patch_text(
    field: &str,
    patch: &Option<Option<String>>,
    current: &Option<String>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match patch {
        None => Ok(current.clone()),
        Some(value) => optional_text(field, value.as_deref(), max),
    }
}

fn patch_date(
    field: &str,
    patch: &Option<Option<String>>,
    current: Option<NaiveDate>,
) -> Result<Option<NaiveDate>, FieldError> {
    match patch {
        None => Ok(current),
        Some(value) => optional_date(field, value.as_deref()),
    }
}

fn account_number_taken(number: &str) -> ApiError {
    ApiError::conflict(format!(
        "account_number {number:?} is already used by another account"
    ))
    .with_param("account_number")
}

/// Update a master account.
#[utoipa::path(patch, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)), request_body = UpdateAccountRequest,
    responses((status = 200, body = AccountResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<UpdateAccountRequest>,
) -> ApiResult<Json<AccountResponse>> {
    let current = load_account(&state, caller.organization(), &id).await?;
    let mut updated = current.clone();
    if let Some(number) = &req.account_number {
        updated.account_number = required_text("account_number", number, MAX_KEY)?;
    }
    if let Some(status) = &req.status {
        updated.status = AccountStatus::parse_field("status", status)?;
    }
    let (h, c) = (&mut updated.holder, &current.holder);
    h.first_name = patch_text("first_name", &req.first_name, &c.first_name, MAX_TEXT)?;
    h.last_name = patch_text("last_name", &req.last_name, &c.last_name, MAX_TEXT)?;
    h.date_of_birth = patch_date("date_of_birth", &req.date_of_birth, c.date_of_birth)?;
    h.email = match &req.email {
        None => c.email.clone(),
        Some(email) => optional_email("email", email.as_deref())?,
    };
    h.phone = patch_text("phone", &req.phone, &c.phone, MAX_KEY)?;
    if let Some(a) = &req.address {
        let ca = &c.address;
        h.address.line1 = patch_text("address.line1", &a.line1, &ca.line1, MAX_TEXT)?;
        h.address.line2 = patch_text("address.line2", &a.line2, &ca.line2, MAX_TEXT)?;
        h.address.city = patch_text("address.city", &a.city, &ca.city, MAX_TEXT)?;
        h.address.state = patch_text("address.state", &a.state, &ca.state, MAX_KEY)?;
        h.address.postal_code = patch_text(
            "address.postal_code",
            &a.postal_code,
            &ca.postal_code,
            MAX_KEY,
        )?;
        h.address.country = patch_text("address.country", &a.country, &ca.country, MAX_KEY)?;
    }
    if updated == current {
        return Ok(Json(current.into()));
    }
    let now = state.clock.now();
    updated.updated_at = now;
    let stored = updated.clone();
    match state
        .db
        .write(move |tx| {
            Box::pin(async move {
                store::update_account(tx, &stored, now).await?;
                let org = stored.organization_id.clone();
                events::record(
                    tx,
                    &org,
                    EventType::MasterAccountChanged,
                    &AccountResponse::from(stored),
                    now,
                )
                .await?;
                Ok(())
            })
        })
        .await
    {
        Err(StoreError::Conflict(_)) => Err(account_number_taken(&updated.account_number)),
        other => other
            .map(|()| Json(updated.into()))
            .or_not_found("account", &id),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletedResponse {
    pub id: String,
    /// Always `true`.
    pub deleted: bool,
}

/// Delete a master account and its sub-accounts.
#[utoipa::path(delete, path = "/v1/accounts/{id}", tag = "accounts", params(("id" = String, Path)),
    responses((status = 200, body = DeletedResponse), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeletedResponse>> {
    let (org, account, now) = (
        caller.organization().clone(),
        account_id(&id)?,
        state.clock.now(),
    );
    state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let deleted = store::get_account(tx, &org, &account).await?;
                if quittance_store::repo::payments::account_has_payments(tx, &org, &account).await? {
                    return Err(StoreError::Conflict("payments".to_owned()));
                }
                store::delete_account(tx, &org, &account).await?;
                events::record(
                    tx,
                    &org,
                    EventType::MasterAccountDeleted,
                    &AccountResponse::from(deleted),
                    now,
                )
                .await?;
                Ok::<_, StoreError>(())
            })
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(
                "the account has payments, which are kept for the record: close it (status closed) instead",
            ),
            StoreError::NotFound => ApiError::not_found("account", &id),
            other => other.into(),
        })?;
    Ok(Json(DeletedResponse { id, deleted: true }))
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    current_page: Option<String>,
}

/// List an account's sub-accounts, oldest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/sub_accounts", tag = "sub-accounts",
    params(("id" = String, Path), ("current_page" = Option<i64>, Query, description = "Page number, from 1")),
    responses((status = 200, body = ListPage<SubAccountResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_sub_accounts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<ListPage<SubAccountResponse>>> {
    let page = page(q.current_page.as_deref())?;
    let (org, account) = (caller.organization().clone(), account_id(&id)?);
    let paged = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                store::get_account(tx, &org, &account).await?;
                store::list_sub_accounts(tx, &org, &account, page).await
            })
        })
        .await
        .or_not_found("account", &id)?;
    Ok(Json(ListPage::new(paged, page, SubAccountResponse::from)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubAccountRequest {
    pub reference: String,
    pub client_id: Option<String>,
    #[schema(value_type = f64, example = 200.0)]
    pub original_balance: AmountText,
    /// Defaults to `original_balance`.
    #[schema(value_type = Option<f64>, example = 125.5)]
    pub balance: Option<AmountText>,
    /// Must be the account's currency when given.
    pub currency: Option<String>,
    pub service_date: Option<String>,
    pub placement_date: Option<String>,
    pub description: Option<String>,
    /// `open` (default), `disputed` or `closed`.
    pub status: Option<String>,
}

/// The client must be the caller organization's own: another's is "no such client".
async fn check_client(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    client: &ClientId,
) -> Result<(), SubAccountWriteError> {
    match get_client(tx, org, client).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(SubAccountWriteError::Field(FieldError::new(
            "client_id",
            "no such client",
        ))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug)]
enum SubAccountWriteError {
    Field(FieldError),
    Store(StoreError),
}

impl From<StoreError> for SubAccountWriteError {
    fn from(e: StoreError) -> Self {
        SubAccountWriteError::Store(e)
    }
}

fn reference_taken(reference: &str) -> ApiError {
    ApiError::conflict(format!(
        "reference {reference:?} is already used in this account"
    ))
    .with_param("reference")
}

impl SubAccountWriteError {
    fn into_api(self, kind: &str, id: &str, reference: &str) -> ApiError {
        match self {
            SubAccountWriteError::Field(f) => f.into(),
            SubAccountWriteError::Store(StoreError::Conflict(_)) => reference_taken(reference),
            SubAccountWriteError::Store(StoreError::NotFound) => ApiError::not_found(kind, id),
            SubAccountWriteError::Store(e) => e.into(),
        }
    }
}

/// Add a sub-account (a debt or visit) to an account.
#[utoipa::path(post, path = "/v1/accounts/{id}/sub_accounts", tag = "sub-accounts", params(("id" = String, Path)), request_body = CreateSubAccountRequest,
    responses((status = 201, body = SubAccountResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_sub_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<CreateSubAccountRequest>,
) -> ApiResult<(StatusCode, Json<SubAccountResponse>)> {
    let account = load_account(&state, caller.organization(), &id).await?;
    if let Some(code) = req
        .currency
        .as_deref()
        .filter(|c| !c.eq_ignore_ascii_case(account.currency.code()))
    {
        return Err(FieldError::new(
            "currency",
            format!("the account is in {}, not {code}", account.currency),
        )
        .into());
    }
    let original_balance = non_negative_amount(
        "original_balance",
        &req.original_balance.0,
        account.currency,
    )?;
    let now = state.clock.now();
    let sub = SubAccount {
        id: SubAccountId::generate(),
        organization_id: account.organization_id.clone(),
        account_id: account.id.clone(),
        reference: required_text("reference", &req.reference, MAX_KEY)?,
        client_id: req
            .client_id
            .as_deref()
            .map(|c| {
                ClientId::parse(c).ok_or_else(|| FieldError::new("client_id", "no such client"))
            })
            .transpose()?,
        original_balance,
        balance: match &req.balance {
            Some(b) => non_negative_amount("balance", &b.0, account.currency)?,
            None => original_balance,
        },
        currency: account.currency,
        service_date: optional_date("service_date", req.service_date.as_deref())?,
        placement_date: optional_date("placement_date", req.placement_date.as_deref())?,
        description: optional_text("description", req.description.as_deref(), MAX_TEXT)?,
        status: req
            .status
            .as_deref()
            .map(|s| SubAccountStatus::parse_field("status", s))
            .transpose()?
            .unwrap_or(SubAccountStatus::Open),
        created_at: now,
        updated_at: now,
    };
    let stored = sub.clone();
    let result = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                if let Some(client) = &stored.client_id {
                    check_client(tx, &stored.organization_id, client).await?;
                }
                store::insert_sub_account(tx, &stored).await?;
                store::recompute_balance(tx, &stored.account_id, now).await?;
                events::account_changed(tx, &stored.organization_id, &stored.account_id, now)
                    .await?;
                Ok::<_, SubAccountWriteError>(())
            })
        })
        .await;
    result.map_err(|e| e.into_api("account", &id, &sub.reference))?;
    Ok((StatusCode::CREATED, Json(sub.into())))
}

async fn load_sub_account(
    state: &AppState,
    org: &OrganizationId,
    id: &str,
) -> ApiResult<SubAccount> {
    let org = org.clone();
    let sub = SubAccountId::parse(id).ok_or_else(|| ApiError::not_found("sub-account", id))?;
    state
        .db
        .read(move |tx| Box::pin(async move { store::get_sub_account(tx, &org, &sub).await }))
        .await
        .or_not_found("sub-account", id)
}

/// Retrieve a sub-account.
#[utoipa::path(get, path = "/v1/sub_accounts/{id}", tag = "sub-accounts", params(("id" = String, Path)),
    responses((status = 200, body = SubAccountResponse), (status = 404, body = ErrorBody)))]
pub async fn retrieve_sub_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SubAccountResponse>> {
    Ok(Json(
        load_sub_account(&state, caller.organization(), &id)
            .await?
            .into(),
    ))
}

/// Only the fields sent change; `null` clears an optional field. Balances move through
/// import (and payments), not here.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSubAccountRequest {
    pub reference: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub client_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub service_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub placement_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub status: Option<String>,
}

/// Update a sub-account.
#[utoipa::path(patch, path = "/v1/sub_accounts/{id}", tag = "sub-accounts", params(("id" = String, Path)), request_body = UpdateSubAccountRequest,
    responses((status = 200, body = SubAccountResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_sub_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<UpdateSubAccountRequest>,
) -> ApiResult<Json<SubAccountResponse>> {
    let current = load_sub_account(&state, caller.organization(), &id).await?;
    let mut updated = current.clone();
    if let Some(reference) = &req.reference {
        updated.reference = required_text("reference", reference, MAX_KEY)?;
    }
    if let Some(client) = &req.client_id {
        updated.client_id = client
            .as_deref()
            .map(|c| {
                ClientId::parse(c).ok_or_else(|| FieldError::new("client_id", "no such client"))
            })
            .transpose()?;
    }
    updated.service_date = patch_date("service_date", &req.service_date, current.service_date)?;
    updated.placement_date = patch_date(
        "placement_date",
        &req.placement_date,
        current.placement_date,
    )?;
    updated.description = patch_text(
        "description",
        &req.description,
        &current.description,
        MAX_TEXT,
    )?;
    if let Some(status) = &req.status {
        updated.status = SubAccountStatus::parse_field("status", status)?;
    }
    if updated == current {
        return Ok(Json(current.into()));
    }
    let now = state.clock.now();
    updated.updated_at = now;
    let stored = updated.clone();
    let result = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                if let Some(client) = &stored.client_id {
                    check_client(tx, &stored.organization_id, client).await?;
                }
                store::update_sub_account(tx, &stored, now).await?;
                events::account_changed(tx, &stored.organization_id, &stored.account_id, now)
                    .await?;
                Ok::<_, SubAccountWriteError>(())
            })
        })
        .await;
    result.map_err(|e| e.into_api("sub-account", &id, &updated.reference))?;
    Ok(Json(updated.into()))
}
