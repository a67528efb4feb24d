//! Clients: the creditors a debt belongs to (a hospital's practitioners, an agency's
//! creditors). `client_number` is unique per organization.

use super::{ListPage, datetime};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, OrNotFound};
use crate::http::extract::{AppJson, AppQuery, page};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use quittance_domain::ids::ClientId;
use quittance_domain::receivables::{
    Client, ClientStatus, MAX_KEY, MAX_TEXT, optional_email, optional_text, required_text,
};
use quittance_services::wire::nullable;
use quittance_store::StoreError;
use quittance_store::repo::clients as store;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClientResponse {
    pub id: String,
    pub client_number: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `active` or `inactive`.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Client> for ClientResponse {
    fn from(c: Client) -> Self {
        ClientResponse {
            id: c.id.to_string(),
            client_number: c.client_number,
            name: c.name,
            email: c.email,
            phone: c.phone,
            status: c.status.as_str().to_owned(),
            created_at: datetime(c.created_at),
            updated_at: datetime(c.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    /// Your number for this client; unique within the organization.
    pub client_number: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `active` (default) or `inactive`.
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClientRequest {
    pub client_number: Option<String>,
    pub name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub status: Option<String>,
}

fn number_taken(number: &str) -> ApiError {
    ApiError::conflict(format!(
        "client_number {number:?} is already used by another client"
    ))
    .with_param("client_number")
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    current_page: Option<String>,
}

/// Create a client.
#[utoipa::path(post, path = "/v1/clients", tag = "clients", request_body = CreateClientRequest,
    responses((status = 201, body = ClientResponse), (status = 409, description = "client_number taken", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<CreateClientRequest>,
) -> ApiResult<(StatusCode, Json<ClientResponse>)> {
    let now = state.clock.now();
    let client = Client {
        id: ClientId::generate(),
        organization_id: caller.organization().clone(),
        client_number: required_text("client_number", &req.client_number, MAX_KEY)?,
        name: required_text("name", &req.name, MAX_TEXT)?,
        email: optional_email("email", req.email.as_deref())?,
        phone: optional_text("phone", req.phone.as_deref(), MAX_KEY)?,
        status: req
            .status
            .as_deref()
            .map(|s| ClientStatus::parse_field("status", s))
            .transpose()?
            .unwrap_or(ClientStatus::Active),
        created_at: now,
        updated_at: now,
    };
    let stored = client.clone();
    let result = state
        .db
        .write(move |tx| Box::pin(async move { store::insert_client(tx, &stored).await }))
        .await;
    match result {
        Ok(()) => Ok((StatusCode::CREATED, Json(client.into()))),
        Err(StoreError::Conflict(_)) => Err(number_taken(&client.client_number)),
        Err(e) => Err(e.into()),
    }
}

/// List clients, oldest first.
#[utoipa::path(get, path = "/v1/clients", tag = "clients",
    params(("current_page" = Option<i64>, Query, description = "Page number, from 1")),
    responses((status = 200, body = ListPage<ClientResponse>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<ListQuery>,
) -> ApiResult<Json<ListPage<ClientResponse>>> {
    let page = page(q.current_page.as_deref())?;
    let org = caller.organization().clone();
    let paged = state
        .db
        .read(move |tx| Box::pin(async move { store::list_clients(tx, &org, page).await }))
        .await?;
    Ok(Json(ListPage::new(paged, page, ClientResponse::from)))
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Client> {
    let client_id = ClientId::parse(id).ok_or_else(|| ApiError::not_found("client", id))?;
    let org = caller.organization().clone();
    state
        .db
        .read(move |tx| Box::pin(async move { store::get_client(tx, &org, &client_id).await }))
        .await
        .or_not_found("client", id)
}

/// Retrieve a client.
#[utoipa::path(get, path = "/v1/clients/{id}", tag = "clients", params(("id" = String, Path)),
    responses((status = 200, body = ClientResponse), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ClientResponse>> {
    Ok(Json(load(&state, &caller, &id).await?.into()))
}

/// Update a client: only the fields sent change.
#[utoipa::path(patch, path = "/v1/clients/{id}", tag = "clients", params(("id" = String, Path)), request_body = UpdateClientRequest,
    responses((status = 200, body = ClientResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<UpdateClientRequest>,
) -> ApiResult<Json<ClientResponse>> {
    let current = load(&state, &caller, &id).await?;
    let now = state.clock.now();
    let updated = Client {
        client_number: match &req.client_number {
            Some(n) => required_text("client_number", n, MAX_KEY)?,
            None => current.client_number.clone(),
        },
        name: match &req.name {
            Some(n) => required_text("name", n, MAX_TEXT)?,
            None => current.name.clone(),
        },
        email: match &req.email {
            Some(e) => optional_email("email", e.as_deref())?,
            None => current.email.clone(),
        },
        phone: match &req.phone {
            Some(p) => optional_text("phone", p.as_deref(), MAX_KEY)?,
            None => current.phone.clone(),
        },
        status: req
            .status
            .as_deref()
            .map(|s| ClientStatus::parse_field("status", s))
            .transpose()?
            .unwrap_or(current.status),
        updated_at: now,
        ..current
    };
    let stored = updated.clone();
    match state
        .db
        .write(move |tx| Box::pin(async move { store::update_client(tx, &stored, now).await }))
        .await
    {
        Ok(()) => Ok(Json(updated.into())),
        Err(StoreError::Conflict(_)) => Err(number_taken(&updated.client_number)),
        other => other
            .map(|()| Json(updated.clone().into()))
            .or_not_found("client", &id),
    }
}
