//! Payments (the InstaMed transaction set): sale, authorization only, capture, void, refund
//! and the simple refund, plus settlement and the sandbox's after-the-fact events.

use super::{ListPage, datetime};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::http::extract::{
    AppJson, AppQuery, body_id, exactly_one, page, parse_json, query_param,
};
use crate::http::idempotency::IdempotencyRef;
use crate::http::state::AppState;
use crate::v1::payment_methods::{AchBody, CardBody};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use quittance_domain::FieldError;
use quittance_domain::ids::{
    AccountId, ClientId, OrganizationId, PaymentId, PaymentMethodId, SubAccountId,
};
use quittance_domain::instruments::MethodType;
use quittance_domain::payments::{Allocation, PaymentAction, PaymentStatus, check_allocations};
use quittance_domain::receivables::MAX_TEXT;
use quittance_services::payments::{self, PaymentRequest, Source};
pub use quittance_services::resources::payments::{
    AllocationResponse, MethodSummary, PaymentResponse,
};
use quittance_services::wire::{Amount, AmountText};
use quittance_store::repo::accounts::get_account;
use quittance_store::repo::payments::{
    self as store, PaymentFilter, RefundRecord, SettlementRecord,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationBody {
    pub sub_account_id: String,
    #[schema(value_type = f64, example = 50.25)]
    pub amount: AmountText,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    pub account_id: String,
    /// Exact decimal, in the account's currency.
    #[schema(value_type = f64, example = 100.50)]
    pub amount: AmountText,
    /// A saved method of this account; or give `card` or `ach`, used once and not kept.
    pub payment_method_id: Option<String>,
    pub card: Option<CardBody>,
    pub ach: Option<AchBody>,
    /// How the amount is spread over sub-accounts; must add up to `amount`. Default: oldest
    /// open sub-account first.
    pub allocations: Option<Vec<AllocationBody>>,
    /// `true` (default): a sale, captured at once. `false`: authorization only; capture later.
    pub capture: Option<bool>,
    pub description: Option<String>,
}

fn payment_id(id: &str) -> ApiResult<PaymentId> {
    PaymentId::parse(id).ok_or_else(|| ApiError::not_found("payment", id))
}

/// Take a payment: a sale (default) or an authorization only, with a saved method or a card
/// or bank account used once. A declined card is a payment with status `declined`.
#[utoipa::path(post, path = "/v1/payments", tag = "payments", request_body = CreatePayment,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the first answer is replayed")),
    responses((status = 201, body = PaymentResponse), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    idempotency: Option<Extension<IdempotencyRef>>,
    AppJson(body): AppJson<CreatePayment>,
) -> ApiResult<(StatusCode, Json<PaymentResponse>)> {
    let org = caller.organization().clone();
    let account_id = body_id("account_id", &body.account_id, AccountId::parse)?;
    exactly_one(&[
        ("payment_method_id", body.payment_method_id.is_some()),
        ("card", body.card.is_some()),
        ("ach", body.ach.is_some()),
    ])?;
    let (o, a) = (org.clone(), account_id.clone());
    let account = state
        .db
        .read(move |tx| Box::pin(async move { get_account(tx, &o, &a).await }))
        .await
        .or_not_found_in("account", account_id.as_str(), "account_id")?;
    let amount = body.amount.to_minor("amount", account.currency)?;
    if amount.get() <= 0 {
        return Err(FieldError::new("amount", "must be greater than zero").into());
    }
    let allocations = match &body.allocations {
        None => None,
        Some(list) => {
            let mut parsed = Vec::with_capacity(list.len());
            for (i, a) in list.iter().enumerate() {
                let field = format!("allocations[{i}]");
                parsed.push(Allocation {
                    sub_account_id: body_id(
                        "sub_account_id",
                        &a.sub_account_id,
                        SubAccountId::parse,
                    )
                    .map_err(|e| e.within(&field))?,
                    amount: a
                        .amount
                        .to_minor("amount", account.currency)
                        .map_err(|e| e.within(&field))?,
                });
            }
            check_allocations(amount, &parsed)?;
            Some(parsed)
        }
    };
    let source = match (&body.payment_method_id, &body.card, &body.ach) {
        (Some(id), _, _) => {
            Source::Saved(body_id("payment_method_id", id, PaymentMethodId::parse)?)
        }
        (None, Some(card), _) => Source::Card(card.validate("card", &state)?),
        (None, None, Some(ach)) => Source::Bank(ach.validate("ach")?),
        (None, None, None) => unreachable!("exactly_one checked"),
    };
    let description = match body.description.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) if d.chars().count() > MAX_TEXT => {
            return Err(FieldError::new("description", "is longer than 255 characters").into());
        }
        Some(d) => Some(d.to_owned()),
    };
    let payment = payments::create_payment(
        &state,
        &org,
        PaymentRequest {
            account_id: account.id,
            amount,
            source,
            allocations,
            capture: body.capture.unwrap_or(true),
            description,
            idempotency_ref: idempotency.map(|Extension(r)| r.0),
            installment_id: None,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(payment.into())))
}

/// One payment.
#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, body = PaymentResponse), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PaymentResponse>> {
    let pid = payment_id(&id)?;
    Ok(Json(
        payments::get_payment(&state, caller.organization(), &pid)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize)]
pub struct PaymentListQuery {
    pub current_page: Option<String>,
    pub account_id: Option<String>,
    pub client_id: Option<String>,
    pub status: Option<String>,
    pub method_type: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    pub format: Option<String>,
}

/// A `YYYY-MM-DD` date as the start of that day in UTC.
fn day_start(field: &str, text: &str) -> Result<DateTime<Utc>, FieldError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| FieldError::new(field, "must be a date YYYY-MM-DD"))
}

impl PaymentListQuery {
    /// The filters; `created_to` is inclusive (the whole day).
    pub fn filter(&self) -> ApiResult<PaymentFilter> {
        Ok(PaymentFilter {
            account_id: query_param("account_id", self.account_id.as_deref(), |f, t| {
                body_id(f, t, AccountId::parse)
            })?,
            client_id: query_param("client_id", self.client_id.as_deref(), |f, t| {
                body_id(f, t, ClientId::parse)
            })?,
            status: query_param("status", self.status.as_deref(), PaymentStatus::parse_field)?,
            method_type: query_param(
                "method_type",
                self.method_type.as_deref(),
                MethodType::parse_field,
            )?,
            created_from: query_param("created_from", self.created_from.as_deref(), day_start)?,
            created_before: query_param("created_to", self.created_to.as_deref(), day_start)?
                .map(|d| d + chrono::Duration::days(1)),
        })
    }
}

/// List payments, oldest first (filters: `account_id`, `client_id`, `status`,
/// `method_type`, `created_from`, `created_to` as `YYYY-MM-DD`, inclusive).
#[utoipa::path(get, path = "/v1/payments", tag = "payments",
    params(("current_page" = Option<i64>, Query), ("account_id" = Option<String>, Query),
        ("client_id" = Option<String>, Query), ("status" = Option<String>, Query),
        ("method_type" = Option<String>, Query),
        ("created_from" = Option<String>, Query), ("created_to" = Option<String>, Query)),
    responses((status = 200, body = ListPage<PaymentResponse>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(query): AppQuery<PaymentListQuery>,
) -> ApiResult<Json<ListPage<PaymentResponse>>> {
    let page = page(query.current_page.as_deref())?;
    let filter = query.filter()?;
    let org = caller.organization().clone();
    let paged = state
        .db
        .read(move |tx| {
            Box::pin(async move { store::list_payments(tx, &org, &filter, page).await })
        })
        .await?;
    Ok(Json(ListPage::new(paged, page, PaymentResponse::from)))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmountBody {
    /// Default: all of it.
    #[schema(value_type = Option<f64>)]
    pub amount: Option<AmountText>,
    /// Refunds only: why, for your records.
    pub reason: Option<String>,
}

/// An optional JSON body: empty is the default.
fn optional_body<T: serde::de::DeserializeOwned + Default>(bytes: &Bytes) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(bytes)
    }
}

/// Capture an authorized payment, in full (no body) or in part (`{"amount"}`); the rest of
/// the authorization is released.
#[utoipa::path(post, path = "/v1/payments/{id}/capture", tag = "payments", params(("id" = String, Path)),
    request_body(content = Option<AmountBody>),
    responses((status = 200, body = PaymentResponse), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn capture(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<PaymentResponse>> {
    let pid = payment_id(&id)?;
    let body: AmountBody = optional_body(&body)?;
    Ok(Json(
        payments::capture(&state, caller.organization(), &pid, body.amount.as_ref())
            .await?
            .into(),
    ))
}

/// Void a payment before settlement: an authorization is released, a capture given back.
#[utoipa::path(post, path = "/v1/payments/{id}/void", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, body = PaymentResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn void(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PaymentResponse>> {
    let pid = payment_id(&id)?;
    Ok(Json(
        payments::void(&state, caller.organization(), &pid)
            .await?
            .into(),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefundResponse {
    pub id: String,
    pub payment_id: String,
    #[schema(value_type = f64)]
    pub amount: Amount,
    pub currency: String,
    pub reason: Option<String>,
    /// `pending` (the processor has not answered yet), `succeeded` or `failed`.
    pub status: String,
    pub created_at: String,
}

impl From<RefundRecord> for RefundResponse {
    fn from(r: RefundRecord) -> Self {
        RefundResponse {
            id: r.id.to_string(),
            payment_id: r.payment_id.to_string(),
            amount: Amount::new(r.amount, r.currency),
            currency: r.currency.code().to_owned(),
            reason: r.reason,
            status: r.status,
            created_at: datetime(r.created_at),
        }
    }
}

async fn refund_payment(
    state: &AppState,
    org: &OrganizationId,
    pid: &PaymentId,
    body: AmountBody,
) -> ApiResult<(StatusCode, Json<RefundResponse>)> {
    let amount = match &body.amount {
        None => None,
        Some(a) => {
            let currency = payments::get_payment(state, org, pid).await?.currency;
            Some(a.to_minor("amount", currency)?)
        }
    };
    let reason = match body.reason.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(r) if r.chars().count() > MAX_TEXT => {
            return Err(FieldError::new("reason", "is longer than 255 characters").into());
        }
        Some(r) => Some(r.to_owned()),
    };
    let refund = payments::refund(state, org, pid, amount, reason).await?;
    Ok((StatusCode::CREATED, Json(refund.into())))
}

/// Refund a captured payment, in full (no body) or in part; refunds never exceed what was
/// captured.
#[utoipa::path(post, path = "/v1/payments/{id}/refunds", tag = "payments", params(("id" = String, Path)),
    request_body(content = Option<AmountBody>),
    responses((status = 201, body = RefundResponse), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<RefundResponse>)> {
    let pid = payment_id(&id)?;
    refund_payment(&state, caller.organization(), &pid, optional_body(&body)?).await
}

/// A payment's refunds.
#[utoipa::path(get, path = "/v1/payments/{id}/refunds", tag = "payments", params(("id" = String, Path)),
    responses((status = 200, body = Vec<RefundResponse>), (status = 404, body = ErrorBody)))]
pub async fn list_refunds(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<RefundResponse>>> {
    let pid = payment_id(&id)?;
    let org = caller.organization().clone();
    let refunds = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                store::get_payment(tx, &org, &pid).await?;
                store::list_refunds(tx, &org, &pid).await
            })
        })
        .await
        .or_not_found("payment", &id)?;
    Ok(Json(
        refunds.into_iter().map(RefundResponse::from).collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimpleRefund {
    pub payment_id: String,
    /// Default: everything not yet refunded.
    #[schema(value_type = Option<f64>)]
    pub amount: Option<AmountText>,
    pub reason: Option<String>,
}

/// The simple refund: refund a payment by its id.
#[utoipa::path(post, path = "/v1/refunds", tag = "payments", request_body = SimpleRefund,
    responses((status = 201, body = RefundResponse), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn simple_refund(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(body): AppJson<SimpleRefund>,
) -> ApiResult<(StatusCode, Json<RefundResponse>)> {
    let pid = body_id("payment_id", &body.payment_id, PaymentId::parse)?;
    refund_payment(
        &state,
        caller.organization(),
        &pid,
        AmountBody {
            amount: body.amount,
            reason: body.reason,
        },
    )
    .await
    .map_err(|e| {
        if e.class() == crate::http::error::ErrorClass::NotFound {
            e.with_param("payment_id")
        } else {
            e
        }
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettlementResponse {
    pub id: String,
    pub currency: String,
    pub payment_count: i64,
    /// Captured less refunded, over the batch's payments.
    #[schema(value_type = f64)]
    pub amount: Amount,
    pub payment_ids: Vec<String>,
    pub created_at: String,
}

impl From<SettlementRecord> for SettlementResponse {
    fn from(s: SettlementRecord) -> Self {
        SettlementResponse {
            id: s.id.to_string(),
            currency: s.currency.code().to_owned(),
            payment_count: s.payment_count,
            amount: Amount::new(s.amount, s.currency),
            payment_ids: s.payments.iter().map(ToString::to_string).collect(),
            created_at: datetime(s.created_at),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SettlementsResponse {
    /// One batch per currency; empty when nothing was waiting.
    pub data: Vec<SettlementResponse>,
}

/// Close a settlement batch now: captured payments move to `settled` (ACH debits that come
/// back are then `returned`). It also happens daily on its own.
#[utoipa::path(post, path = "/v1/settlements", tag = "payments",
    responses((status = 201, body = SettlementsResponse)))]
pub async fn settle(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<SettlementsResponse>)> {
    let cutoff = state.clock.now() + chrono::Duration::microseconds(1);
    let batches = payments::settle(&state, caller.organization(), cutoff).await?;
    Ok((
        StatusCode::CREATED,
        Json(SettlementsResponse {
            data: batches.into_iter().map(SettlementResponse::from).collect(),
        }),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxEventBody {
    /// The return or dispute reason code (`R01` by default for returns).
    pub code: Option<String>,
}

async fn sandbox_reverse(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: PaymentAction,
    body: &Bytes,
    default_code: &str,
) -> ApiResult<Json<PaymentResponse>> {
    let pid = payment_id(id)?;
    let body: SandboxEventBody = optional_body(body)?;
    let code = body.code.unwrap_or_else(|| default_code.to_owned());
    if code.is_empty() || code.len() > 16 {
        return Err(FieldError::new("code", "must be 1 to 16 characters").into());
    }
    if action == PaymentAction::Return {
        let payment = payments::get_payment(state, caller.organization(), &pid).await?;
        if payment.method_type != MethodType::Ach {
            return Err(ApiError::conflict("only an ACH payment can be returned"));
        }
    }
    Ok(Json(
        payments::reverse(state, caller.organization(), &pid, action, Some(code))
            .await?
            .into(),
    ))
}

/// Sandbox: the cardholder disputes the payment and the processor takes the money back.
#[utoipa::path(post, path = "/v1/sandbox/payments/{id}/chargeback", tag = "sandbox", params(("id" = String, Path)),
    request_body(content = Option<SandboxEventBody>),
    responses((status = 200, body = PaymentResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn sandbox_chargeback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<PaymentResponse>> {
    sandbox_reverse(
        &state,
        &caller,
        &id,
        PaymentAction::Chargeback,
        &body,
        "fraudulent",
    )
    .await
}

/// Sandbox: the bank returns an ACH debit (`R01`, insufficient funds, unless `code` says
/// otherwise).
#[utoipa::path(post, path = "/v1/sandbox/payments/{id}/ach_return", tag = "sandbox", params(("id" = String, Path)),
    request_body(content = Option<SandboxEventBody>),
    responses((status = 200, body = PaymentResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn sandbox_ach_return(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<PaymentResponse>> {
    sandbox_reverse(&state, &caller, &id, PaymentAction::Return, &body, "R01").await
}
