//! `/api/users`, as seed 001 documents them: `userName` matching `\A[a-z][a-z0-9-]*\z` and
//! unique in the organization, `admin` as a boolean or its string, `creationTime` in Unix
//! seconds. Passwords are stored as argon2id hashes and never shown; a user created without
//! one gets an unguessable one.

use super::documents::{self as docs, Stored};
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{AppJson, AppQuery};
use crate::http::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use quittance_domain::secret::random_hex;
use quittance_services::pricing::users::StoredUser;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub email: String,
    pub user_name: String,
    pub name: String,
    pub admin: bool,
    /// Always `user`.
    pub object: &'static str,
    /// Unix time, in seconds.
    pub creation_time: i64,
}

impl From<Stored<StoredUser>> for User {
    fn from(s: Stored<StoredUser>) -> Self {
        User {
            id: s.id,
            email: s.body.email,
            user_name: s.body.user_name,
            name: s.body.name,
            admin: s.body.admin,
            object: "user",
            creation_time: s.created_at.timestamp(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserList {
    /// Always `list`.
    pub object: &'static str,
    pub data: Vec<User>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    pub email: Option<String>,
    pub user_name: Option<String>,
    pub name: Option<String>,
    /// `true`/`false`, or the strings `"true"`/`"false"`.
    #[schema(value_type = Option<bool>)]
    pub admin: Option<Value>,
    /// Never shown; stored as an argon2id hash.
    pub password: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    limit: Option<String>,
    start_after_id: Option<String>,
}

const MAX_TEXT: usize = 300;

fn user_name(value: String) -> ApiResult<String> {
    let value = docs::checked("userName", value, 64)?;
    let mut chars = value.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(value)
    } else {
        Err(ApiError::unprocessable(
            "userName",
            r"userName must match /\A[a-z][a-z0-9-]*\z/",
        ))
    }
}

fn admin(value: &Value) -> ApiResult<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(ApiError::unprocessable(
            "admin",
            "admin must be true or false",
        )),
    }
}

/// An argon2id hash of `password` (PHC string), computed off the async threads.
async fn hash_password(password: String) -> ApiResult<String> {
    if password.chars().count() > 1024 {
        return Err(ApiError::unprocessable(
            "password",
            "password must be at most 1024 characters",
        ));
    }
    tokio::task::spawn_blocking(move || {
        use argon2::PasswordHasher as _;
        argon2::Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|e| ApiError::internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| ApiError::internal(format!("password hashing failed: {e}")))?
}

/// All users, by `creationTime` ascending.
#[utoipa::path(get, path = "/api/users", tag = "iso-amp",
    params(
        ("limit" = Option<i64>, Query, description = "1 to 100 (default 10)"),
        ("startAfterId" = Option<String>, Query, description = "Only users created after the user with this UUID"),
    ),
    responses((status = 200, body = UserList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    AppQuery(q): AppQuery<ListQuery>,
) -> ApiResult<Json<UserList>> {
    let page = docs::page(
        q.limit.as_deref(),
        q.start_after_id.as_deref(),
        "startAfterId",
    )?;
    let found = docs::list::<StoredUser>(&state, caller.organization(), page).await?;
    Ok(Json(UserList {
        object: "list",
        data: found.into_iter().map(User::from).collect(),
    }))
}

/// A specific user.
#[utoipa::path(get, path = "/api/users/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The user's UUID")),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    let found = docs::load::<StoredUser>(&state, caller.organization(), &id).await?;
    Ok(Json(found.into()))
}

/// Create a user: `email`, `name` and `userName` are required.
#[utoipa::path(post, path = "/api/users", tag = "iso-amp", request_body = UserBody,
    responses((status = 200, body = User), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(req): AppJson<UserBody>,
) -> ApiResult<Json<User>> {
    let email = req
        .email
        .ok_or_else(|| ApiError::unprocessable("email", "email is required"))
        .and_then(|e| docs::email("email", e))?;
    let name = docs::required("name", req.name, MAX_TEXT)?;
    let user_name = req
        .user_name
        .ok_or_else(|| ApiError::unprocessable("userName", "userName is required"))
        .and_then(user_name)?;
    let admin = req.admin.as_ref().map(admin).transpose()?.unwrap_or(false);
    let password = req.password.unwrap_or_else(|| random_hex(32));
    let body = StoredUser {
        email,
        user_name,
        name,
        admin,
        password_hash: hash_password(password).await?,
    };
    let stored = docs::create(&state, caller.organization(), body).await?;
    Ok(Json(stored.into()))
}

/// Update a user: any of `admin`, `email`, `name`, `password`, `userName`.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "iso-amp", request_body = UserBody,
    params(("id" = String, Path, description = "The user's UUID")),
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    AppJson(req): AppJson<UserBody>,
) -> ApiResult<Json<User>> {
    let mut found = docs::load::<StoredUser>(&state, caller.organization(), &id).await?;
    if let Some(email) = req.email {
        found.body.email = docs::email("email", email)?;
    }
    if let Some(name) = req.name {
        found.body.name = docs::checked("name", name, MAX_TEXT)?;
    }
    if let Some(name) = req.user_name {
        found.body.user_name = user_name(name)?;
    }
    if let Some(value) = &req.admin {
        found.body.admin = admin(value)?;
    }
    if let Some(password) = req.password {
        found.body.password_hash = hash_password(password).await?;
    }
    docs::save(&state, caller.organization(), &found).await?;
    Ok(Json(found.into()))
}

/// Delete a user; answers 200 with no body. A user who still owns prospects is kept (409).
#[utoipa::path(delete, path = "/api/users/{id}", tag = "iso-amp",
    params(("id" = String, Path, description = "The user's UUID")),
    responses((status = 200, description = "Deleted; no body"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<()> {
    let found = docs::load::<StoredUser>(&state, caller.organization(), &id).await?;
    docs::refuse_if_referred::<quittance_services::pricing::prospects::StoredProspect>(
        &state,
        caller.organization(),
        "user_id",
        &found.id,
    )
    .await?;
    docs::remove::<StoredUser>(&state, caller.organization(), &id).await?;
    Ok(())
}
