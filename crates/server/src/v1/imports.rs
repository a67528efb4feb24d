//! Bulk imports: `POST /v1/imports` takes a CSV file (one row per sub-account) or an NDJSON
//! stream (one import document per line) of any size. The body is streamed to a spool file
//! (never held in memory), the job is answered 202 at once, and `GET /v1/imports/{id}` reports
//! its progress and the rejected rows.

use super::datetime;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, ErrorClass, OrNotFound};
use crate::http::extract::AppQuery;
use crate::http::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::StreamExt as _;
use quittance_domain::ids::{ImportId, OrganizationId};
use quittance_domain::import::ImportFormat;
use quittance_services::bulk_import::{self, Progress, spool_path};
use quittance_store::repo::imports::{self as store, ImportJob, Rejection};
use serde::{Deserialize, Serialize};
use std::path::Path as FsPath;
use std::sync::Arc;
use tokio::io::AsyncWriteExt as _;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RejectionResponse {
    /// The line of the file the row starts on (a CSV file's header is line 1).
    pub row: i64,
    /// The column (CSV) or field path (NDJSON) at fault, when one is.
    pub field: Option<String>,
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportJobResponse {
    pub id: String,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// `csv` or `ndjson`.
    pub format: String,
    pub rows_read: i64,
    pub rows_rejected: i64,
    /// Rows that matched what was already stored: nothing written.
    pub rows_unchanged: i64,
    pub accounts_created: i64,
    pub accounts_updated: i64,
    pub sub_accounts_created: i64,
    pub sub_accounts_updated: i64,
    /// The first 1,000 rejected rows; `rows_rejected` counts them all.
    pub rejections: Vec<RejectionResponse>,
    /// Why the job failed, when it did.
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
}

impl ImportJobResponse {
    fn new(job: ImportJob, rejections: Vec<Rejection>) -> Self {
        let t = job.tally;
        ImportJobResponse {
            id: job.id.to_string(),
            status: job.status.as_str().to_owned(),
            format: job.format.as_str().to_owned(),
            rows_read: t.rows_read,
            rows_rejected: t.rows_rejected,
            rows_unchanged: t.rows_unchanged,
            accounts_created: t.accounts_created,
            accounts_updated: t.accounts_updated,
            sub_accounts_created: t.sub_accounts_created,
            sub_accounts_updated: t.sub_accounts_updated,
            rejections: rejections
                .into_iter()
                .map(|r| RejectionResponse {
                    row: r.row_number,
                    field: r.field,
                    reason: r.reason,
                })
                .collect(),
            error: job.error,
            created_at: datetime(job.created_at),
            updated_at: datetime(job.updated_at),
            completed_at: job.completed_at.map(datetime),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateQuery {
    format: Option<String>,
}

/// The format from `?format=`, else from the content type.
fn format_of(query: Option<&str>, headers: &HeaderMap) -> ApiResult<ImportFormat> {
    if let Some(f) = query {
        return ImportFormat::parse(f).ok_or_else(|| {
            ApiError::bad_request(format!("format must be one of {}", ImportFormat::choices()))
                .with_param("format")
        });
    }
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match mime.as_str() {
        "text/csv" | "application/csv" => Ok(ImportFormat::Csv),
        "application/x-ndjson"
        | "application/ndjson"
        | "application/jsonl"
        | "application/x-jsonlines"
        | "application/jsonlines" => Ok(ImportFormat::Ndjson),
        _ => Err(ApiError::new(
            ErrorClass::UnsupportedMediaType,
            "send Content-Type: text/csv or application/x-ndjson (or ?format=csv|ndjson)",
        )),
    }
}

/// Streams the body to `path`; refuses more than `limit` bytes. Returns the size written.
async fn spool(body: Body, path: &FsPath, limit: u64) -> ApiResult<u64> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| ApiError::internal(format!("cannot create the import spool: {e}")))?;
    let mut stream = body.into_data_stream();
    let mut written: u64 = 0;
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|_| ApiError::bad_request("the upload was interrupted"))?;
        written += u64::try_from(piece.len()).unwrap_or(u64::MAX);
        if written > limit {
            return Err(ApiError::new(
                ErrorClass::PayloadTooLarge,
                format!("imports are limited to {limit} bytes"),
            ));
        }
        file.write_all(&piece)
            .await
            .map_err(|e| ApiError::internal(format!("cannot write the import spool: {e}")))?;
    }
    file.sync_all()
        .await
        .map_err(|e| ApiError::internal(format!("cannot write the import spool: {e}")))?;
    Ok(written)
}

async fn load(state: &AppState, org: &OrganizationId, id: &str) -> ApiResult<ImportJobResponse> {
    let (org, import) = (
        org.clone(),
        ImportId::parse(id).ok_or_else(|| ApiError::not_found("import", id))?,
    );
    let (job, rejections) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let job = store::get_import(tx, &org, &import).await?;
                let rejections = store::list_rejections(tx, &import).await?;
                Ok((job, rejections))
            })
        })
        .await
        .or_not_found("import", id)?;
    Ok(ImportJobResponse::new(job, rejections))
}

/// Start a bulk import.
#[utoipa::path(post, path = "/v1/imports", tag = "import",
    params(("format" = Option<String>, Query, description = "csv or ndjson; by default taken from Content-Type")),
    request_body(content(("text/csv"), ("application/x-ndjson")), description = "CSV with a header row (see the documented columns), or one import document per line"),
    responses(
        (status = 202, description = "The job is running; poll GET /v1/imports/{id}", body = ImportJobResponse),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<CreateQuery>,
    req: Request,
) -> ApiResult<(StatusCode, Json<ImportJobResponse>)> {
    let format = format_of(q.format.as_deref(), req.headers())?;
    let id = ImportId::generate();
    let path = spool_path(&state.config.data_dir, &id, format);
    if let Some(dir) = path.parent() {
        quittance_store::create_private_dir(dir)
            .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    match spool(req.into_body(), &path, state.config.max_import_bytes).await {
        Ok(0) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(ApiError::bad_request("the upload is empty"));
        }
        Ok(_) => {}
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e);
        }
    }
    let (org, job, now) = (caller.organization().clone(), id.clone(), state.clock.now());
    state
        .db
        .write(move |tx| {
            Box::pin(async move { store::insert_import(tx, &org, &job, format, now).await })
        })
        .await?;
    let response = load(&state, caller.organization(), id.as_str()).await?;
    let (task_state, org) = (state.clone(), caller.organization().clone());
    tokio::spawn(async move {
        let outcome = bulk_import::run(
            &task_state.db,
            &org,
            &id,
            &path,
            format,
            task_state.clock.clone(),
            Arc::new(Progress::default()),
        )
        .await;
        match outcome {
            Ok(tally) => {
                tracing::info!(import_id = %id, rows = tally.rows_read, rejected = tally.rows_rejected, "import completed")
            }
            Err(error) => tracing::warn!(import_id = %id, error, "import failed"),
        }
        let _ = tokio::fs::remove_file(&path).await;
    });
    Ok((StatusCode::ACCEPTED, Json(response)))
}

/// An import job's progress and results.
#[utoipa::path(get, path = "/v1/imports/{id}", tag = "import", params(("id" = String, Path)),
    responses((status = 200, body = ImportJobResponse), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ImportJobResponse>> {
    Ok(Json(load(&state, caller.organization(), &id).await?))
}
