//! The merchant-pricing resources' storage: each is a JSON document of one kind
//! (`repo::pricing`), with a bare UUID id and its creation time beside it. This module reads
//! and writes them typed.

use crate::App;
use crate::error::{OrNotFound, ServiceError, ServiceResult};
use chrono::{DateTime, SecondsFormat, Utc};
use quittance_domain::ids::OrganizationId;
use quittance_store::StoreError;
use quittance_store::Tx;
use quittance_store::repo::pricing::{self as store, Document};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// A kind of pricing document.
pub trait Kind: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The stored kind.
    const KIND: &'static str;
    /// Its name in messages ("no such prospect: …").
    const NAME: &'static str;

    /// The field whose value no other document of the kind in the organization may share.
    const UNIQUE_FIELD: &'static str = "";

    /// That field's value.
    fn unique_key(&self) -> Option<String> {
        None
    }
}

/// A unique key taken: 409 naming the field.
fn taken<T: Kind>(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(_) => {
            ServiceError::conflict(format!("another {} has this {}", T::NAME, T::UNIQUE_FIELD))
                .with_param(T::UNIQUE_FIELD)
        }
        other => other.into(),
    }
}

/// Stores a new document under a new id.
pub async fn create<T: Kind + Clone>(
    state: &App,
    org: &OrganizationId,
    body: T,
) -> ServiceResult<Stored<T>> {
    let stored = Stored {
        id: new_id(),
        body,
        created_at: state.clock.now(),
    };
    let (org, doc) = (org.clone(), stored.clone());
    state
        .db
        .write(move |tx| {
            Box::pin(async move { insert_in(tx, &org, &doc.id, &doc.body, doc.created_at).await })
        })
        .await
        .map_err(taken::<T>)?;
    Ok(stored)
}

/// Saves a changed document.
pub async fn save<T: Kind + Clone>(
    state: &App,
    org: &OrganizationId,
    stored: &Stored<T>,
) -> ServiceResult<()> {
    let (org, doc, now) = (org.clone(), stored.clone(), state.clock.now());
    state
        .db
        .write(move |tx| {
            Box::pin(async move { replace_in(tx, &org, &doc.id, &doc.body, now).await })
        })
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ServiceError::not_found(T::NAME, &stored.id),
            other => taken::<T>(other),
        })
}

/// 409 while documents of kind `R` still name `id` in their `field`.
pub async fn refuse_if_referred<R: Kind>(
    state: &App,
    org: &OrganizationId,
    field: &'static str,
    id: &str,
) -> ServiceResult<()> {
    let (org, key) = (org.clone(), id.to_owned());
    let count = state
        .db
        .read(move |tx| {
            Box::pin(async move { store::count_referring(tx, &org, R::KIND, field, &key).await })
        })
        .await?;
    if count > 0 {
        return Err(ServiceError::conflict(format!(
            "{count} {}(s) still refer to it in {field}",
            R::NAME
        )));
    }
    Ok(())
}

/// A document read back: its id, body and creation time.
#[derive(Debug, Clone)]
pub struct Stored<T> {
    pub id: String,
    pub body: T,
    pub created_at: DateTime<Utc>,
}

fn decode<T: Kind>(doc: Document) -> Result<Stored<T>, StoreError> {
    let body = serde_json::from_str(&doc.body)
        .map_err(|e| StoreError::Decode(format!("{} {}: {e}", T::NAME, doc.id)))?;
    Ok(Stored {
        id: doc.id,
        body,
        created_at: doc.created_at,
    })
}

fn encode<T: Kind>(body: &T) -> Result<String, StoreError> {
    serde_json::to_string(body).map_err(|e| StoreError::Backend(format!("{}: {e}", T::NAME)))
}

/// A new document id: a UUID v7, so ids sort in creation order.
pub fn new_id() -> String {
    Uuid::now_v7().hyphenated().to_string()
}

/// An id as a path or body carries it: a UUID, written in the canonical form, or `None`.
pub fn canonical_id(text: &str) -> Option<String> {
    Uuid::try_parse(text.trim())
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// ISO 8601 with milliseconds, as the seed prints `created_at`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// The first document of kind `T` that `pick` accepts, scanning the organization's
/// documents of that kind (used for the few defaults: merchant types and programs).
pub async fn find_in<T: Kind>(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    pick: impl Fn(&T) -> bool + Send,
) -> Result<Option<Stored<T>>, StoreError> {
    for doc in store::list(tx, org, T::KIND, None, 10_000).await? {
        let stored = decode::<T>(doc)?;
        if pick(&stored.body) {
            return Ok(Some(stored));
        }
    }
    Ok(None)
}

/// Reads a document in a transaction already open; `NotFound` for a malformed id too.
pub async fn get_in<T: Kind>(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &str,
) -> Result<Stored<T>, StoreError> {
    let id = canonical_id(id).ok_or(StoreError::NotFound)?;
    decode(store::get(tx, org, T::KIND, &id).await?)
}

pub async fn load<T: Kind>(
    state: &App,
    org: &OrganizationId,
    id: &str,
) -> ServiceResult<Stored<T>> {
    let (org, key) = (org.clone(), id.to_owned());
    state
        .db
        .read(move |tx| Box::pin(async move { get_in::<T>(tx, &org, &key).await }))
        .await
        .or_not_found(T::NAME, id)
}

/// `limit` (1–100) documents after the one named by `after`, in creation order.
pub async fn list<T: Kind>(
    state: &App,
    org: &OrganizationId,
    page: Page,
) -> ServiceResult<Vec<Stored<T>>> {
    let org = org.clone();
    let Page { after, limit, .. } = page.clone();
    state
        .db
        .read(move |tx| {
            Box::pin(async move {
                store::list(tx, &org, T::KIND, after.as_deref(), limit)
                    .await?
                    .into_iter()
                    .map(decode)
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .await
        .map_err(|e| match e {
            // 404 as for any id that names nothing of the caller's: the cursor is well formed.
            StoreError::NotFound => ServiceError::new(
                crate::error::ErrorClass::NotFound,
                format!(
                    "{} names no {} of this organization",
                    page.after_param,
                    T::NAME
                ),
            )
            .with_param(page.after_param),
            other => other.into(),
        })
}

/// Inserts in a transaction already open.
pub async fn insert_in<T: Kind>(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &str,
    body: &T,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let doc = Document {
        id: id.to_owned(),
        body: encode(body)?,
        created_at: now,
    };
    store::insert(tx, org, T::KIND, &doc, body.unique_key().as_deref()).await
}

/// Replaces in a transaction already open.
pub async fn replace_in<T: Kind>(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    id: &str,
    body: &T,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let text = encode(body)?;
    store::update(
        tx,
        org,
        T::KIND,
        id,
        &text,
        body.unique_key().as_deref(),
        now,
    )
    .await
}

/// Deletes a document: 404 when missing.
pub async fn remove<T: Kind>(state: &App, org: &OrganizationId, id: &str) -> ServiceResult<()> {
    let key = canonical_id(id).ok_or_else(|| ServiceError::not_found(T::NAME, id))?;
    let org = org.clone();
    state
        .db
        .write(move |tx| Box::pin(async move { store::delete(tx, &org, T::KIND, &key).await }))
        .await
        .or_not_found(T::NAME, id)
}

/// A list request: `limit` and the id to start after, with the parameter names the endpoint
/// uses (`startAfterId` on users, `start_after_id` elsewhere).
#[derive(Debug, Clone)]
pub struct Page {
    pub after: Option<String>,
    pub after_param: &'static str,
    pub limit: i64,
}

impl Page {
    /// The first `limit` documents.
    pub fn first(limit: i64) -> Page {
        Page {
            after: None,
            after_param: "start_after_id",
            limit,
        }
    }
}
