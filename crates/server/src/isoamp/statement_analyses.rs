//! Statement analysis, the seed's three steps: `POST /api/statement_analyses` (create),
//! `POST /api/statement_analyses/{id}/files?filename=…` (the PDF as the raw body, as often as
//! there are files) and `POST /api/statement_analyses/{id}/start` (202: queued for the
//! worker in `quittance_services::statements`). `GET /api/statement_analyses/{id}` shows where it stands:
//! its files, the statements read, the proposal made or why it was rejected.

use super::documents::{self as docs, canonical_id};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, ErrorClass, OrNotFound};
use crate::http::extract::{AppJson, AppQuery, media_type};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use futures_util::StreamExt as _;
use quittance_domain::events::EventType;
use quittance_services::pricing::users::StoredUser;
use quittance_store::StoreError;
use quittance_store::repo::statements::{self as store, Analysis, FileInfo, NewFile, Refused};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The most files one analysis may hold (a processing statement, an Amex statement, …).
pub const MAX_FILES: i64 = 10;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisBody {
    /// The agent the analysis is for: an integer agent number (as the seed's example sends
    /// it) or the UUID of one of the organization's users.
    #[schema(value_type = Option<Object>)]
    pub user_id: Option<Value>,
    /// A name for the analysis, e.g. the statement's month.
    pub name: Option<String>,
    /// The business the statements belong to.
    pub merchant_name: Option<String>,
    pub notes: Option<String>,
}

/// The create body as stored (and shown).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisRequest {
    pub user_id: Value,
    pub name: String,
    pub merchant_name: String,
    pub notes: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedAnalysis {
    pub id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisFile {
    pub filename: String,
    /// Bytes.
    pub size: i64,
    /// Hex SHA-256 of the file.
    pub sha256: String,
    /// Unix time, in seconds.
    pub upload_time: i64,
}

impl From<FileInfo> for AnalysisFile {
    fn from(f: FileInfo) -> Self {
        AnalysisFile {
            filename: f.filename,
            size: f.size,
            sha256: f.sha256,
            upload_time: f.created_at.timestamp(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatementAnalysis {
    pub id: String,
    /// Always `statement_analysis`.
    pub object: &'static str,
    #[schema(value_type = Object)]
    pub user_id: Value,
    pub name: String,
    pub merchant_name: String,
    pub notes: Option<String>,
    /// `created` (files may be added), `queued` (started, being read), `completed` or
    /// `rejected`.
    pub status: &'static str,
    pub files: Vec<AnalysisFile>,
    /// The statements read, one per file, once completed.
    #[schema(value_type = Option<Vec<Object>>)]
    pub statements: Option<Value>,
    /// Sales volume and count, current fees and the effective rate over all files.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Value>,
    /// The proposal made from the statements, once completed.
    pub proposal_id: Option<String>,
    /// Why the statements could not be analyzed, once rejected.
    pub rejection_reason: Option<String>,
    /// Unix times, in seconds.
    pub creation_time: i64,
    pub start_time: Option<i64>,
    pub finish_time: Option<i64>,
}

impl StatementAnalysis {
    fn new(analysis: Analysis, files: Vec<FileInfo>) -> ApiResult<Self> {
        let request: AnalysisRequest = serde_json::from_str(&analysis.request)
            .map_err(|e| ApiError::internal(format!("statement analysis {}: {e}", analysis.id)))?;
        let mut result: Value = match &analysis.result {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                ApiError::internal(format!("statement analysis {} result: {e}", analysis.id))
            })?,
            None => Value::Null,
        };
        Ok(StatementAnalysis {
            id: analysis.id,
            object: "statement_analysis",
            user_id: request.user_id,
            name: request.name,
            merchant_name: request.merchant_name,
            notes: request.notes,
            status: analysis.status.as_str(),
            files: files.into_iter().map(AnalysisFile::from).collect(),
            statements: result.get_mut("statements").map(Value::take),
            summary: result.get_mut("summary").map(Value::take),
            proposal_id: analysis.proposal_id,
            rejection_reason: analysis.reason,
            creation_time: analysis.created_at.timestamp(),
            start_time: analysis.started_at.map(|t| t.timestamp()),
            finish_time: analysis.finished_at.map(|t| t.timestamp()),
        })
    }
}

/// `userId`: a non-negative 32-bit integer, or the UUID of one of the organization's users.
async fn user_id(state: &AppState, caller: &Caller, value: Option<Value>) -> ApiResult<Value> {
    let field = "userId";
    match value {
        None | Some(Value::Null) => Err(ApiError::unprocessable(field, "userId is required")),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if (0..=i64::from(i32::MAX)).contains(&v) => Ok(Value::from(v)),
            _ => Err(ApiError::unprocessable(
                field,
                "userId must be a whole number from 0 to 2147483647, or a user's UUID",
            )),
        },
        Some(Value::String(text)) => {
            let id = canonical_id(&text).ok_or_else(|| {
                ApiError::unprocessable(field, "userId must be a number or a user's UUID")
            })?;
            docs::load::<StoredUser>(state, caller.organization(), &id)
                .await
                .map_err(|_| {
                    ApiError::unprocessable(field, "userId names no user of this organization")
                })?;
            Ok(Value::String(id))
        }
        Some(_) => Err(ApiError::unprocessable(
            field,
            "userId must be a number or a user's UUID",
        )),
    }
}

/// Create a statement analysis.
#[utoipa::path(post, path = "/api/statement_analyses", tag = "iso-amp",
    request_body = AnalysisBody,
    responses((status = 200, body = CreatedAnalysis), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<AnalysisBody>,
) -> ApiResult<Json<CreatedAnalysis>> {
    let request = AnalysisRequest {
        user_id: user_id(&state, &caller, req.user_id).await?,
        name: docs::required("name", req.name, 300)?,
        merchant_name: docs::required("merchantName", req.merchant_name, 300)?,
        notes: req
            .notes
            .map(|n| docs::checked("notes", n, 10_000))
            .transpose()?,
    };
    let text = serde_json::to_string(&request)
        .map_err(|e| ApiError::internal(format!("cannot encode the analysis: {e}")))?;
    let (org, id, now) = (
        caller.organization().clone(),
        docs::new_id(),
        state.clock.now(),
    );
    let key = id.clone();
    state
        .db
        .write(move |tx| Box::pin(async move { store::insert(tx, &org, &key, &text, now).await }))
        .await?;
    Ok(Json(CreatedAnalysis { id }))
}

#[derive(Debug, Deserialize)]
pub struct FileQuery {
    filename: Option<String>,
}

/// The declared length, which must be there and within the limit.
fn declared_length(headers: &HeaderMap, limit: u64) -> ApiResult<u64> {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .ok_or_else(|| {
            ApiError::new(
                ErrorClass::LengthRequired,
                "Content-Length is required: send the file as the body, not chunked",
            )
            .with_param("Content-Length")
        })?
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::bad_request("Content-Length must be a number of bytes")
                .with_param("Content-Length")
        })?;
    if length == 0 {
        return Err(ApiError::unprocessable("body", "the file is empty"));
    }
    if length > limit {
        return Err(too_large(limit));
    }
    Ok(length)
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorClass::PayloadTooLarge,
        format!("statement files are limited to {limit} bytes"),
    )
    .with_param("body")
}

/// Upload a statement file: the PDF is the body. Answers 200 with no body.
#[utoipa::path(post, path = "/api/statement_analyses/{id}/files", tag = "iso-amp",
    params(
        ("id" = String, Path, description = "The statement analysis's UUID"),
        ("filename" = String, Query, description = "Name of the uploaded file"),
    ),
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    responses(
        (status = 200, description = "Stored; no body"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 411, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)
    ))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<FileQuery>,
    req: Request,
) -> ApiResult<()> {
    let key = canonical_id(&id).ok_or_else(|| ApiError::not_found("statement analysis", &id))?;
    // An unknown analysis is a 404 whatever the upload looks like.
    let (org, probe) = (caller.organization().clone(), key.clone());
    state
        .db
        .read(move |tx| Box::pin(async move { store::get(tx, &org, &probe).await }))
        .await
        .or_not_found("statement analysis", &id)?;
    let filename = docs::required("filename", q.filename, 255)?;
    if media_type(req.headers()).as_deref() != Some("application/pdf") {
        return Err(ApiError::new(
            ErrorClass::UnsupportedMediaType,
            "statement files must be sent with Content-Type: application/pdf",
        )
        .with_param("Content-Type"));
    }
    let limit = state.config.max_statement_bytes;
    let declared = declared_length(req.headers(), limit)?;
    let mut content = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    let mut stream = req.into_body().into_data_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|_| ApiError::bad_request("the upload was interrupted"))?;
        if (content.len() + piece.len()) as u64 > declared {
            return Err(ApiError::bad_request(
                "the body is longer than its Content-Length",
            ));
        }
        content.extend_from_slice(&piece);
    }
    if !content.starts_with(b"%PDF-") {
        return Err(ApiError::unprocessable(
            "body",
            "the file is not a PDF (it does not begin with %PDF-)",
        ));
    }
    let sha256 = hex::encode(Sha256::digest(&content));
    let (org, now) = (caller.organization().clone(), state.clock.now());
    let refused = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let file = NewFile {
                    filename: &filename,
                    content: &content,
                    sha256: &sha256,
                };
                store::add_file(tx, &org, &key, file, MAX_FILES, now).await
            })
        })
        .await
        .or_not_found("statement analysis", &id)?;
    match refused {
        Ok(_) => Ok(()),
        Err(Refused::Started(status)) => Err(ApiError::conflict(format!(
            "the analysis is {}: files can only be added before it is started",
            status.as_str()
        ))),
        Err(Refused::TooManyFiles(held)) => Err(ApiError::conflict(format!(
            "the analysis already holds {held} files, the most one may hold"
        ))),
        Err(Refused::NoFiles) => Err(ApiError::internal("adding a file found no files")),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Requested<'a> {
    statement_analysis_id: &'a str,
    agent_id: &'a Value,
    name: &'a str,
}

/// Start the analysis: answers 202 with no body and queues it. Starting it again changes
/// nothing.
#[utoipa::path(post, path = "/api/statement_analyses/{id}/start", tag = "iso-amp",
    params(("id" = String, Path, description = "The statement analysis's UUID")),
    responses(
        (status = 202, description = "Queued; no body"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    ))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let key = canonical_id(&id).ok_or_else(|| ApiError::not_found("statement analysis", &id))?;
    let (org, now) = (caller.organization().clone(), state.clock.now());
    let started = state
        .db
        .write(move |tx| {
            Box::pin(async move {
                let outcome = store::start(tx, &org, &key, now).await?;
                if outcome == Ok(true) {
                    let analysis = store::get(tx, &org, &key).await?;
                    let request: AnalysisRequest = serde_json::from_str(&analysis.request)
                        .map_err(|e| StoreError::Decode(format!("analysis {key}: {e}")))?;
                    let data = Requested {
                        statement_analysis_id: &key,
                        agent_id: &request.user_id,
                        name: &request.name,
                    };
                    quittance_services::events::record(
                        tx,
                        &org,
                        EventType::StatementAnalysisRequested,
                        &data,
                        now,
                    )
                    .await?;
                }
                Ok(outcome)
            })
        })
        .await
        .or_not_found("statement analysis", &id)?;
    match started {
        Ok(true) => {
            state.statements_queued.notify_one();
            Ok(StatusCode::ACCEPTED)
        }
        Ok(false) => Ok(StatusCode::ACCEPTED),
        Err(Refused::NoFiles) => Err(ApiError::conflict(
            "upload a statement file before starting the analysis",
        )),
        Err(other) => Err(ApiError::internal(format!("starting: {other:?}"))),
    }
}

/// A statement analysis: its files, and once finished, the statements read and the proposal
/// made, or why it was rejected.
#[utoipa::path(get, path = "/api/statement_analyses/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The statement analysis's UUID")),
    responses((status = 200, body = StatementAnalysis), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<StatementAnalysis>> {
    let key = canonical_id(&id).ok_or_else(|| ApiError::not_found("statement analysis", &id))?;
    let org = caller.organization().clone();
    let (analysis, files) = state
        .db
        .read(move |tx| {
            Box::pin(async move {
                let analysis = store::get(tx, &org, &key).await?;
                let files = store::files(tx, &org, &key).await?;
                Ok::<_, StoreError>((analysis, files))
            })
        })
        .await
        .or_not_found("statement analysis", &id)?;
    Ok(Json(StatementAnalysis::new(analysis, files)?))
}
