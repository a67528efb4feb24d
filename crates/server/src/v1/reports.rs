//! The payments report: one row per payment with its account, owner, clients and
//! sub-accounts paid, as a page of JSON or the whole selection streamed as CSV.

use super::{ListPage, datetime};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{AppQuery, PER_PAGE, page};
use crate::http::state::AppState;
use crate::v1::payments::PaymentListQuery;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use quittance_domain::ids::PaymentId;
use quittance_services::wire::Amount;
use quittance_store::repo::Paged;
use quittance_store::repo::payments::{self as store, PaymentFilter, ReportRow};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PaymentReportRow {
    pub payment_id: String,
    pub date: String,
    pub account_number: String,
    pub owner_name: String,
    /// The clients whose sub-accounts the payment paid.
    pub clients: Vec<String>,
    /// The references of the sub-accounts paid.
    pub sub_accounts: Vec<String>,
    #[schema(value_type = f64)]
    pub amount: Amount,
    pub currency: String,
    /// Brand and last four (`visa ****4242`), or `ach ****6789`.
    pub method: String,
    pub status: String,
    pub processor_reference: Option<String>,
    /// The master account's balance right after the payment was captured.
    #[schema(value_type = Option<f64>)]
    pub account_balance_after: Option<Amount>,
}

impl From<ReportRow> for PaymentReportRow {
    fn from(r: ReportRow) -> Self {
        let p = r.payment;
        let c = p.currency;
        PaymentReportRow {
            payment_id: p.id.to_string(),
            date: datetime(p.created_at),
            account_number: r.account_number,
            owner_name: r.owner_name,
            clients: r.client_names,
            sub_accounts: r.sub_account_references,
            amount: Amount::new(p.amount, c),
            currency: c.code().to_owned(),
            method: format!(
                "{} ****{}",
                p.brand.map_or(p.method_type.as_str(), |b| b.as_str()),
                p.last4
            ),
            status: p.status.as_str().to_owned(),
            processor_reference: p.processor_reference,
            account_balance_after: p.account_balance_after.map(|b| Amount::new(b, c)),
        }
    }
}

const CSV_HEADER: &str = "payment_id,date,account_number,owner_name,clients,sub_accounts,amount,currency,method,status,processor_reference,account_balance_after\n";

/// A CSV field, quoted when needed. A leading `=`, `+`, `-` or `@` gets a `'` so that a
/// spreadsheet does not run it as a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn csv_line(row: &PaymentReportRow) -> String {
    let amount = |a: &Option<Amount>| a.as_ref().map(Amount::text).unwrap_or_default();
    let fields = [
        row.payment_id.clone(),
        row.date.clone(),
        row.account_number.clone(),
        row.owner_name.clone(),
        row.clients.join("; "),
        row.sub_accounts.join("; "),
        row.amount.text(),
        row.currency.clone(),
        row.method.clone(),
        row.status.clone(),
        row.processor_reference.clone().unwrap_or_default(),
        amount(&row.account_balance_after),
    ];
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// The payments report. Filters as on `GET /v1/payments`; `format=csv` streams every
/// matching row (no paging) as `text/csv`.
#[utoipa::path(get, path = "/v1/reports/payments", tag = "reports",
    params(("current_page" = Option<i64>, Query), ("format" = Option<String>, Query, description = "`json` (default) or `csv`"),
        ("account_id" = Option<String>, Query), ("client_id" = Option<String>, Query),
        ("status" = Option<String>, Query), ("method_type" = Option<String>, Query),
        ("created_from" = Option<String>, Query), ("created_to" = Option<String>, Query)),
    responses((status = 200, description = "A JSON page, or with format=csv every matching row as CSV",
        content((ListPage<PaymentReportRow> = "application/json"), (String = "text/csv")))))]
pub async fn payments(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(query): AppQuery<PaymentListQuery>,
) -> ApiResult<Response> {
    let filter = query.filter()?;
    let org = caller.organization().clone();
    match query.format.as_deref().map(str::trim) {
        None | Some("json") => {
            let page = page(query.current_page.as_deref())?;
            let (f, o) = (filter.clone(), org.clone());
            let (items, total) = state
                .db
                .read(move |tx| {
                    Box::pin(async move {
                        let total = store::count_payments(tx, &o, &f).await?;
                        let rows =
                            store::report_rows(tx, &o, &f, None, Some(page), PER_PAGE).await?;
                        Ok::<_, quittance_store::StoreError>((rows, total))
                    })
                })
                .await?;
            Ok(Json(ListPage::new(
                Paged { items, total },
                page,
                PaymentReportRow::from,
            ))
            .into_response())
        }
        Some("csv") => Ok(csv_stream(state, org, filter)),
        Some(_) => Err(ApiError::bad_request("format: must be json or csv").with_param("format")),
    }
}

/// Streams the selection in batches by payment id, so memory stays flat however many rows.
fn csv_stream(
    state: AppState,
    org: quittance_domain::ids::OrganizationId,
    filter: PaymentFilter,
) -> Response {
    const BATCH: i64 = 500;
    let (send, receive) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(4);
    tokio::spawn(async move {
        if send.send(Ok(CSV_HEADER.to_owned())).await.is_err() {
            return;
        }
        let mut after: Option<PaymentId> = None;
        loop {
            let (o, f, a) = (org.clone(), filter.clone(), after.clone());
            let rows = state
                .db
                .read(move |tx| {
                    Box::pin(async move {
                        store::report_rows(tx, &o, &f, a.as_ref(), None, BATCH).await
                    })
                })
                .await;
            let rows = match rows {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(error = %e, "payments report stopped");
                    let _ = send.send(Err(std::io::Error::other("report failed"))).await;
                    return;
                }
            };
            let done = rows.len() < BATCH as usize;
            after = rows.last().map(|r| r.payment.id.clone());
            let chunk: String = rows
                .into_iter()
                .map(|r| csv_line(&PaymentReportRow::from(r)))
                .collect();
            if send.send(Ok(chunk)).await.is_err() || done {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(receive, |mut r| async move {
        r.recv().await.map(|item| (item, r))
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"payments.csv\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-1,5"), "\"'-1,5\"");
    }
}
