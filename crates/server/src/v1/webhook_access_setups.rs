//! Webhook access setups (seed 000's "Webhooks Access Setup"): how Quittance authenticates to
//! a receiver. Basic (client id and secret), API key (sent in a header or in the body, under
//! the authentication key name), OAuth2 client credentials (a token fetched from the
//! receiver's token URL, cached until it expires), or a client certificate for mutual TLS,
//! which Basic and OAuth2 setups may also carry (seed 002). Secrets and private keys are
//! sealed by the vault and never shown again.

use super::{ListPage, datetime};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::http::extract::{AppJson, AppQuery, page};
use crate::http::state::AppState;
use crate::v1::accounts::DeletedResponse;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use quittance_domain::FieldError;
use quittance_domain::ids::AccessSetupId;
use quittance_domain::receivables::required_text;
use quittance_domain::webhooks::{AccessType, KeyTransfer};
use quittance_services::webhooks::endpoints::target;
use quittance_store::repo::webhooks::{self as store, AccessSetupRecord};
use serde::{Deserialize, Serialize};

/// Seed 000: every field "up to 300 symbols".
pub const MAX_FIELD: usize = 300;
/// Longest PEM certificate or key accepted.
const MAX_PEM: usize = 16 * 1024;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClientCertificateResponse {
    /// The certificate Quittance presents (PEM). Its private key is never shown.
    pub certificate_pem: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessSetupResponse {
    pub id: String,
    /// Always `webhook_access_setup`.
    pub object: &'static str,
    /// `basic`, `api_key`, `oauth2_client_credentials` or `mutual_tls`.
    #[serde(rename = "type")]
    pub access_type: String,
    /// Names the access; for an API key, also the header or body field it travels in.
    pub authentication_key_name: String,
    /// Names the receiving API.
    pub api_name: String,
    pub client_id: Option<String>,
    /// For an API key: `header` or `body`.
    pub transfer: Option<String>,
    pub token_url: Option<String>,
    pub scope: Option<String>,
    pub client_certificate: Option<ClientCertificateResponse>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<AccessSetupRecord> for AccessSetupResponse {
    fn from(s: AccessSetupRecord) -> Self {
        AccessSetupResponse {
            id: s.id.to_string(),
            object: "webhook_access_setup",
            access_type: s.access_type.as_str().to_owned(),
            authentication_key_name: s.key_name,
            api_name: s.api_name,
            client_id: s.client_id,
            transfer: s.transfer.map(|t| t.as_str().to_owned()),
            token_url: s.token_url,
            scope: s.scope,
            client_certificate: s
                .certificate_pem
                .map(|certificate_pem| ClientCertificateResponse { certificate_pem }),
            created_at: datetime(s.created_at),
            updated_at: datetime(s.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificateRequest {
    pub certificate_pem: String,
    /// Sealed by the vault; never shown again.
    pub private_key_pem: String,
}

/// Create: `type`, `authentication_key_name` and `api_name`, and what the type needs.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessSetupRequest {
    /// `basic`, `api_key`, `oauth2_client_credentials` or `mutual_tls`.
    #[serde(rename = "type")]
    pub access_type: Option<String>,
    pub authentication_key_name: Option<String>,
    pub api_name: Option<String>,
    /// Basic and OAuth2.
    pub client_id: Option<String>,
    /// Basic and OAuth2; never shown again.
    pub client_secret: Option<String>,
    /// API key; never shown again.
    pub api_key: Option<String>,
    /// API key: `header` (default) or `body`.
    pub transfer: Option<String>,
    /// OAuth2: where tokens come from (client credentials grant).
    pub token_url: Option<String>,
    /// OAuth2: the scope to ask for, if any.
    pub scope: Option<String>,
    /// Required for `mutual_tls`; optional for `basic` and `oauth2_client_credentials`.
    pub client_certificate: Option<ClientCertificateRequest>,
}

fn text(field: &str, value: &str) -> Result<String, FieldError> {
    required_text(field, value, MAX_FIELD)
}

fn needed<'a>(
    field: &str,
    value: Option<&'a str>,
    kind: AccessType,
) -> Result<&'a str, FieldError> {
    value.ok_or_else(|| FieldError::new(field, format!("is required for type {}", kind.as_str())))
}

/// Refuses fields that the type does not use, naming the first.
fn refuse_foreign_fields(kind: AccessType, req: &AccessSetupRequest) -> Result<(), FieldError> {
    use AccessType::{ApiKey, Basic, MutualTls, OAuth2};
    let fields: [(&str, bool, &[AccessType]); 7] = [
        ("client_id", req.client_id.is_some(), &[Basic, OAuth2]),
        (
            "client_secret",
            req.client_secret.is_some(),
            &[Basic, OAuth2],
        ),
        ("api_key", req.api_key.is_some(), &[ApiKey]),
        ("transfer", req.transfer.is_some(), &[ApiKey]),
        ("token_url", req.token_url.is_some(), &[OAuth2]),
        ("scope", req.scope.is_some(), &[OAuth2]),
        (
            "client_certificate",
            req.client_certificate.is_some(),
            &[Basic, OAuth2, MutualTls],
        ),
    ];
    match fields
        .iter()
        .find(|(_, given, types)| *given && !types.contains(&kind))
    {
        Some((field, _, _)) => Err(FieldError::new(
            *field,
            format!("is not used by type {}", kind.as_str()),
        )),
        None => Ok(()),
    }
}

/// Applies `req` over `current` (empty for a create), checks the result, and seals the new
/// secrets under the setup's id.
async fn apply(
    state: &AppState,
    mut setup: AccessSetupRecord,
    req: AccessSetupRequest,
) -> ApiResult<AccessSetupRecord> {
    let before = setup.access_type;
    if let Some(kind) = &req.access_type {
        setup.access_type = AccessType::parse_field("type", kind)?;
    }
    let kind = setup.access_type;
    refuse_foreign_fields(kind, &req)?;
    if kind != before {
        // Nothing of the old type carries over.
        setup.client_id = None;
        setup.transfer = None;
        setup.token_url = None;
        setup.scope = None;
        setup.sealed_secret = None;
        setup.certificate_pem = None;
        setup.sealed_private_key = None;
    }
    if let Some(name) = &req.authentication_key_name {
        setup.key_name = text("authentication_key_name", name)?;
    }
    if let Some(name) = &req.api_name {
        setup.api_name = text("api_name", name)?;
    }
    if setup.key_name.is_empty() {
        return Err(FieldError::new("authentication_key_name", "is required").into());
    }
    if setup.api_name.is_empty() {
        return Err(FieldError::new("api_name", "is required").into());
    }
    let id = setup.id.to_string();
    let seal = |plain: &str| state.vault.seal(&id, plain).to_stored();
    if let Some(client_id) = &req.client_id {
        setup.client_id = Some(text("client_id", client_id)?);
    }
    if let Some(secret) = &req.client_secret {
        setup.sealed_secret = Some(seal(&text("client_secret", secret)?));
    }
    if let Some(key) = &req.api_key {
        setup.sealed_secret = Some(seal(&text("api_key", key)?));
    }
    if let Some(transfer) = &req.transfer {
        setup.transfer = Some(KeyTransfer::parse_field("transfer", transfer)?);
    }
    if let Some(url) = &req.token_url {
        // The rules a webhook's own target is held to, names resolved now included.
        setup.token_url = Some(target(state, "token_url", url).await?);
    }
    if let Some(scope) = &req.scope {
        setup.scope = Some(text("scope", scope)?);
    }
    if let Some(cert) = &req.client_certificate {
        for (field, pem) in [
            ("client_certificate.certificate_pem", &cert.certificate_pem),
            ("client_certificate.private_key_pem", &cert.private_key_pem),
        ] {
            if pem.len() > MAX_PEM || !pem.contains("-----BEGIN ") {
                return Err(FieldError::new(
                    field,
                    format!("must be PEM of at most {MAX_PEM} bytes"),
                )
                .into());
            }
        }
        reqwest::Identity::from_pem(
            format!("{}\n{}", cert.certificate_pem, cert.private_key_pem).as_bytes(),
        )
        .map_err(|e| {
            FieldError::new(
                "client_certificate",
                format!("is not a usable certificate and key: {e}"),
            )
        })?;
        setup.certificate_pem = Some(cert.certificate_pem.clone());
        setup.sealed_private_key = Some(seal(&cert.private_key_pem));
    }
    // What each type needs, given now or kept from before.
    match kind {
        AccessType::Basic | AccessType::OAuth2 => {
            needed("client_id", setup.client_id.as_deref(), kind)?;
            needed("client_secret", setup.sealed_secret.as_deref(), kind)?;
            if kind == AccessType::OAuth2 {
                needed("token_url", setup.token_url.as_deref(), kind)?;
            }
        }
        AccessType::ApiKey => {
            needed("api_key", setup.sealed_secret.as_deref(), kind)?;
            let transfer = *setup.transfer.get_or_insert(KeyTransfer::Header);
            if transfer == KeyTransfer::Header
                && reqwest::header::HeaderName::from_bytes(setup.key_name.as_bytes()).is_err()
            {
                return Err(FieldError::new(
                    "authentication_key_name",
                    "must be a valid HTTP header name when the key travels in a header",
                )
                .into());
            }
        }
        AccessType::MutualTls => {
            needed("client_certificate", setup.certificate_pem.as_deref(), kind)?;
        }
    }
    Ok(setup)
}

/// Create an access setup.
#[utoipa::path(post, path = "/v1/webhook_access_setups", tag = "webhooks", request_body = AccessSetupRequest,
    responses((status = 201, body = AccessSetupResponse), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<AccessSetupRequest>,
) -> ApiResult<(StatusCode, Json<AccessSetupResponse>)> {
    let now = state.clock.now();
    let kind = req.access_type.as_deref().ok_or_else(|| {
        FieldError::new("type", format!("is required: {}", AccessType::choices()))
    })?;
    let blank = AccessSetupRecord {
        id: AccessSetupId::generate(),
        organization_id: caller.organization().clone(),
        access_type: AccessType::parse_field("type", kind)?,
        key_name: String::new(),
        api_name: String::new(),
        client_id: None,
        transfer: None,
        token_url: None,
        scope: None,
        certificate_pem: None,
        sealed_secret: None,
        sealed_private_key: None,
        created_at: now,
        updated_at: now,
    };
    let setup = apply(&state, blank, req).await?;
    let stored = setup.clone();
    state
        .db
        .write(move |tx| Box::pin(async move { store::insert_access_setup(tx, &stored).await }))
        .await?;
    Ok((StatusCode::CREATED, Json(setup.into())))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    current_page: Option<String>,
}

/// List access setups.
#[utoipa::path(get, path = "/v1/webhook_access_setups", tag = "webhooks",
    params(("current_page" = Option<i64>, Query, description = "1-based page of 50")),
    responses((status = 200, body = ListPage<AccessSetupResponse>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<ListQuery>,
) -> ApiResult<Json<ListPage<AccessSetupResponse>>> {
    let page = page(q.current_page.as_deref())?;
    let org = caller.organization().clone();
    let found = state
        .db
        .read(move |tx| Box::pin(async move { store::list_access_setups(tx, &org, page).await }))
        .await?;
    Ok(Json(ListPage::new(found, page, AccessSetupResponse::from)))
}

fn setup_id(id: &str) -> ApiResult<AccessSetupId> {
    AccessSetupId::parse(id).ok_or_else(|| ApiError::not_found("webhook access setup", id))
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<AccessSetupRecord> {
    let (org, setup) = (caller.organization().clone(), setup_id(id)?);
    state
        .db
        .read(move |tx| Box::pin(async move { store::get_access_setup(tx, &org, &setup).await }))
        .await
        .or_not_found("webhook access setup", id)
}

/// Retrieve an access setup (its secrets are never shown).
#[utoipa::path(get, path = "/v1/webhook_access_setups/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = AccessSetupResponse), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AccessSetupResponse>> {
    Ok(Json(load(&state, &caller, &id).await?.into()))
}

/// Update an access setup: the fields given replace the stored ones; a new secret replaces
/// the old.
#[utoipa::path(patch, path = "/v1/webhook_access_setups/{id}", tag = "webhooks", params(("id" = String, Path)),
    request_body = AccessSetupRequest,
    responses((status = 200, body = AccessSetupResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<AccessSetupRequest>,
) -> ApiResult<Json<AccessSetupResponse>> {
    let mut setup = apply(&state, load(&state, &caller, &id).await?, req).await?;
    setup.updated_at = state.clock.now();
    let stored = setup.clone();
    state
        .db
        .write(move |tx| Box::pin(async move { store::update_access_setup(tx, &stored).await }))
        .await
        .or_not_found("webhook access setup", &id)?;
    Ok(Json(setup.into()))
}

/// Delete an access setup no webhook uses.
#[utoipa::path(delete, path = "/v1/webhook_access_setups/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = DeletedResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeletedResponse>> {
    let (org, setup, shown) = (caller.organization().clone(), setup_id(&id)?, id.clone());
    state
        .db
        .write(move |tx| {
            Box::pin(async move {
                if let Some(webhook) = store::webhook_using_setup(tx, &org, &setup).await? {
                    return Err(ApiError::conflict(format!(
                        "webhook {webhook} uses this access setup; change or delete it first"
                    )));
                }
                store::delete_access_setup(tx, &org, &setup)
                    .await
                    .or_not_found("webhook access setup", &shown)
            })
        })
        .await?;
    Ok(Json(DeletedResponse { id, deleted: true }))
}
