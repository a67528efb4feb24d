//! PostgreSQL through sqlx: each script in its own transaction from a pool. PostgreSQL does
//! group commit itself.

use crate::{Backend, Param, Row, StoreError, Tx, Value};
use futures_util::future::BoxFuture;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Column as _, Postgres, Row as _, Transaction, TypeInfo as _};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct PgDb {
    pool: PgPool,
    pub(crate) outbox: Arc<Notify>,
}

fn backend_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(format!(
            "{} {}",
            db.constraint().unwrap_or_default(),
            db.message()
        )),
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
        other => StoreError::Backend(other.to_string()),
    }
}

impl PgDb {
    pub async fn connect(url: &str) -> Result<PgDb, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(PgDb {
            pool,
            outbox: Arc::new(Notify::new()),
        })
    }

    pub async fn write<T, E, F>(&self, script: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>>,
    {
        self.run(script).await
    }

    pub async fn read<T, E, F>(&self, script: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>>,
    {
        self.run(script).await
    }

    async fn run<T, E, F>(&self, script: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>>,
    {
        let tx = self
            .pool
            .begin()
            .await
            .map_err(|e| E::from(backend_error(e)))?;
        let mut tx = PgTx { tx, signal: false };
        match script(&mut tx).await {
            Ok(value) => {
                tx.tx
                    .commit()
                    .await
                    .map_err(|e| E::from(backend_error(e)))?;
                if tx.signal {
                    self.outbox.notify_one();
                }
                Ok(value)
            }
            Err(e) => {
                // The transaction is void whatever the rollback says.
                let _ = tx.tx.rollback().await;
                Err(e)
            }
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

struct PgTx {
    tx: Transaction<'static, Postgres>,
    signal: bool,
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    params: &[Param],
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    for param in params {
        query = match param {
            Param::Int(v) => query.bind(*v),
            Param::Text(v) => query.bind(v.clone()),
            Param::Bool(v) => query.bind(*v),
            Param::Bytes(v) => query.bind(v.clone()),
        };
    }
    query
}

fn decode(row: &PgRow) -> Result<Row, StoreError> {
    let mut values = Vec::with_capacity(row.columns().len());
    for (i, column) in row.columns().iter().enumerate() {
        let decode_error =
            |e: sqlx::Error| StoreError::Decode(format!("column {}: {e}", column.name()));
        let value = match column.type_info().name() {
            "INT8" => row
                .try_get::<Option<i64>, _>(i)
                .map_err(decode_error)?
                .map(Value::Int),
            "INT4" => row
                .try_get::<Option<i32>, _>(i)
                .map_err(decode_error)?
                .map(|v| Value::Int(i64::from(v))),
            "INT2" => row
                .try_get::<Option<i16>, _>(i)
                .map_err(decode_error)?
                .map(|v| Value::Int(i64::from(v))),
            "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => row
                .try_get::<Option<String>, _>(i)
                .map_err(decode_error)?
                .map(Value::Text),
            "BOOL" => row
                .try_get::<Option<bool>, _>(i)
                .map_err(decode_error)?
                .map(Value::Bool),
            "BYTEA" => row
                .try_get::<Option<Vec<u8>>, _>(i)
                .map_err(decode_error)?
                .map(Value::Bytes),
            other => {
                return Err(StoreError::Decode(format!(
                    "column {} has unsupported type {other}",
                    column.name()
                )));
            }
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

impl Tx for PgTx {
    fn query<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param],
    ) -> BoxFuture<'a, Result<Vec<Row>, StoreError>> {
        Box::pin(async move {
            let rows = bind(sqlx::query(AssertSqlSafe(sql.to_owned())), params)
                .fetch_all(&mut *self.tx)
                .await
                .map_err(backend_error)?;
            rows.iter().map(decode).collect()
        })
    }

    fn execute<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Param],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let done = bind(sqlx::query(AssertSqlSafe(sql.to_owned())), params)
                .execute(&mut *self.tx)
                .await
                .map_err(backend_error)?;
            Ok(done.rows_affected())
        })
    }

    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                .execute(&mut *self.tx)
                .await
                .map(drop)
                .map_err(backend_error)
        })
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn signal_outbox(&mut self) {
        self.signal = true;
    }
}

#[cfg(feature = "testing")]
impl PgDb {
    /// `name` is generated by the test harness: lowercase letters, digits and underscores.
    pub(crate) async fn create_database(&self, name: &str) -> Result<(), StoreError> {
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(backend_error)
    }

    pub(crate) async fn drop_database(&self, name: &str) -> Result<(), StoreError> {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&self.pool)
        .await
        .map(drop)
        .map_err(backend_error)
    }
}
