//! Payment methods (the vault): cards and bank accounts saved on a master account, shown as
//! brand and last four only. The number is sealed before it is written; the CVV is never
//! written (it waits in memory for the card's first authorization).

use super::{ListPage, datetime};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::http::extract::{AppJson, AppQuery, body_id, exactly_one, page};
use crate::http::state::AppState;
use crate::v1::accounts::DeletedResponse;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Datelike;
use quittance_domain::FieldError;
use quittance_domain::ids::{AccountId, PaymentMethodId};
use quittance_domain::instruments::{BankAccount, BankAccountInput, Card, CardInput, MethodType};
use quittance_store::repo::accounts::get_account;
use quittance_store::repo::payment_methods::{self as store, StoredPaymentMethod};
use serde::{Deserialize, Serialize};

/// A card as entered. `number` may hold spaces or dashes between digits.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardBody {
    #[schema(example = "4242424242424242")]
    pub number: String,
    #[schema(example = 12)]
    pub exp_month: i64,
    #[schema(example = 2030)]
    pub exp_year: i64,
    /// Used for the first authorization only, then forgotten; never stored.
    #[schema(example = "123")]
    pub cvv: Option<String>,
    pub holder_name: String,
    pub billing_zip: Option<String>,
}

impl CardBody {
    /// Validates the card; failures name the field under `parent` (`card.number`).
    pub fn validate(&self, parent: &str, state: &AppState) -> Result<Card, FieldError> {
        let today = state.clock.now().date_naive();
        CardInput {
            number: &self.number,
            exp_month: self.exp_month,
            exp_year: self.exp_year,
            cvv: self.cvv.as_deref(),
            holder_name: &self.holder_name,
            billing_zip: self.billing_zip.as_deref(),
        }
        .validate((today.year(), today.month()))
        .map_err(|e| e.within(parent))
    }
}

/// A bank account for ACH debits.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AchBody {
    #[schema(example = "110000000")]
    pub routing_number: String,
    #[schema(example = "000123456789")]
    pub account_number: String,
    /// `checking` or `savings`.
    pub account_type: String,
    pub holder_name: String,
}

impl AchBody {
    pub fn validate(&self, parent: &str) -> Result<BankAccount, FieldError> {
        BankAccountInput {
            routing_number: &self.routing_number,
            account_number: &self.account_number,
            account_type: &self.account_type,
            holder_name: &self.holder_name,
        }
        .validate()
        .map_err(|e| e.within(parent))
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePaymentMethod {
    pub account_id: String,
    /// A card; give this or `ach`.
    pub card: Option<CardBody>,
    /// A bank account; give this or `card`.
    pub ach: Option<AchBody>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentMethodResponse {
    pub payment_method_id: String,
    pub account_id: String,
    /// `card` or `ach`.
    #[serde(rename = "type")]
    pub method_type: String,
    /// Cards: `visa`, `mastercard`, `amex`, `discover`, `jcb` or `diners`.
    pub brand: Option<String>,
    pub last4: String,
    pub exp_month: Option<i64>,
    pub exp_year: Option<i64>,
    pub holder_name: String,
    pub billing_zip: Option<String>,
    /// ACH: the bank's routing number (not secret).
    pub routing_number: Option<String>,
    /// ACH: `checking` or `savings`.
    pub account_type: Option<String>,
    pub created_at: String,
}

impl From<StoredPaymentMethod> for PaymentMethodResponse {
    fn from(m: StoredPaymentMethod) -> Self {
        PaymentMethodResponse {
            payment_method_id: m.id.to_string(),
            account_id: m.account_id.to_string(),
            method_type: m.method_type.as_str().to_owned(),
            brand: m.brand.map(|b| b.as_str().to_owned()),
            last4: m.last4,
            exp_month: m.exp_month,
            exp_year: m.exp_year,
            holder_name: m.holder_name,
            billing_zip: m.billing_zip,
            routing_number: m.routing_number,
            account_type: m.account_type.map(|t| t.as_str().to_owned()),
            created_at: datetime(m.created_at),
        }
    }
}

/// Save a card or bank account on a master account.
#[utoipa::path(post, path = "/v1/payment_methods", tag = "payment-methods", request_body = CreatePaymentMethod,
    responses((status = 201, body = PaymentMethodResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<CreatePaymentMethod>,
) -> ApiResult<(StatusCode, Json<PaymentMethodResponse>)> {
    let account_id = body_id("account_id", &body.account_id, AccountId::parse)?;
    exactly_one(&[("card", body.card.is_some()), ("ach", body.ach.is_some())])?;
    let id = PaymentMethodId::generate();
    let now = state.clock.now();
    let org = caller.organization().clone();
    let mut cvv = None;
    let method = match (&body.card, &body.ach) {
        (Some(card), _) => {
            let card = card.validate("card", &state)?;
            cvv = card.cvv.clone();
            StoredPaymentMethod {
                id: id.clone(),
                organization_id: org.clone(),
                account_id: account_id.clone(),
                method_type: MethodType::Card,
                brand: Some(card.brand),
                last4: card.number.last4(),
                exp_month: Some(i64::from(card.exp_month)),
                exp_year: Some(i64::from(card.exp_year)),
                holder_name: card.holder_name.clone(),
                billing_zip: card.billing_zip.clone(),
                routing_number: None,
                account_type: None,
                number: state.vault.seal(id.as_str(), card.number.expose()),
                created_at: now,
            }
        }
        (None, Some(ach)) => {
            let bank = ach.validate("ach")?;
            StoredPaymentMethod {
                id: id.clone(),
                organization_id: org.clone(),
                account_id: account_id.clone(),
                method_type: MethodType::Ach,
                brand: None,
                last4: bank.account_number.last4(),
                exp_month: None,
                exp_year: None,
                holder_name: bank.holder_name.clone(),
                billing_zip: None,
                routing_number: Some(bank.routing_number.clone()),
                account_type: Some(bank.account_type),
                number: state.vault.seal(id.as_str(), bank.account_number.expose()),
                created_at: now,
            }
        }
        (None, None) => unreachable!("exactly_one checked"),
    };
    let stored = method.clone();
    state
        .db
        .write(move |tx| {
            Box::pin(async move {
                get_account(tx, &stored.organization_id, &stored.account_id).await?;
                store::insert_payment_method(tx, &stored).await
            })
        })
        .await
        .or_not_found_in("account", account_id.as_str(), "account_id")?;
    if let Some(cvv) = cvv {
        state.first_cvv.keep(id, cvv);
    }
    Ok((StatusCode::CREATED, Json(method.into())))
}

/// One saved payment method.
#[utoipa::path(get, path = "/v1/payment_methods/{id}", tag = "payment-methods", params(("id" = String, Path)),
    responses((status = 200, body = PaymentMethodResponse), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PaymentMethodResponse>> {
    let method_id =
        PaymentMethodId::parse(&id).ok_or_else(|| ApiError::not_found("payment method", &id))?;
    let org = caller.organization().clone();
    let method = state
        .db
        .read(move |tx| {
            Box::pin(async move { store::get_payment_method(tx, &org, &method_id).await })
        })
        .await
        .or_not_found("payment method", &id)?;
    Ok(Json(method.into()))
}

/// Delete a saved payment method: its sealed number is erased. Payments made with it keep
/// their brand and last four.
#[utoipa::path(delete, path = "/v1/payment_methods/{id}", tag = "payment-methods", params(("id" = String, Path)),
    responses((status = 200, body = DeletedResponse), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeletedResponse>> {
    let method_id =
        PaymentMethodId::parse(&id).ok_or_else(|| ApiError::not_found("payment method", &id))?;
    let (org, now) = (caller.organization().clone(), state.clock.now());
    state
        .db
        .write(move |tx| {
            Box::pin(async move { store::delete_payment_method(tx, &org, &method_id, now).await })
        })
        .await
        .or_not_found("payment method", &id)?;
    Ok(Json(DeletedResponse { id, deleted: true }))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    current_page: Option<String>,
}

/// The saved payment methods of a master account.
#[utoipa::path(get, path = "/v1/accounts/{id}/payment_methods", tag = "payment-methods",
    params(("id" = String, Path), ("current_page" = Option<i64>, Query)),
    responses((status = 200, body = ListPage<PaymentMethodResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_for_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<ListQuery>,
) -> ApiResult<Json<ListPage<PaymentMethodResponse>>> {
    let account = AccountId::parse(&id).ok_or_else(|| ApiError::not_found("account", &id))?;
    let page = page(query.current_page.as_deref())?;
    let org = caller.organization().clone();
    let paged = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                get_account(tx, &org, &account).await?;
                store::list_payment_methods(tx, &org, &account, page).await
            })
        })
        .await
        .or_not_found("account", &id)?;
    Ok(Json(ListPage::new(
        paged,
        page,
        PaymentMethodResponse::from,
    )))
}
