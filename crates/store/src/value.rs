//! Parameters and row values shared by both backends. Four column kinds are used — BIGINT,
//! TEXT, BOOLEAN and bytes (SQLite's BLOB, PostgreSQL's BYTEA, for uploaded files) — so the
//! schemas stay the same across SQLite and PostgreSQL.

use crate::StoreError;

/// A bound parameter. Nulls carry their type, which PostgreSQL needs to plan the statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

impl From<Vec<u8>> for Param {
    fn from(v: Vec<u8>) -> Self {
        Param::Bytes(Some(v))
    }
}
impl From<&[u8]> for Param {
    fn from(v: &[u8]) -> Self {
        Param::Bytes(Some(v.to_vec()))
    }
}
impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}
impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}
impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Bool(Some(v))
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(Some(v.to_owned()))
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(Some(v))
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(Some(v.clone()))
    }
}
impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Self {
        Param::Text(v.map(str::to_owned))
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Self {
        Param::Text(v)
    }
}
impl From<&Option<String>> for Param {
    fn from(v: &Option<String>) -> Self {
        Param::Text(v.clone())
    }
}

/// Builds a parameter list: `params![id, name, balance]`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => { [$($crate::Param::from($value)),*] };
}

/// A value read back from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
    Bytes(Vec<u8>),
}

/// One result row; columns are read by position.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, index: usize) -> Result<&Value, StoreError> {
        self.0
            .get(index)
            .ok_or_else(|| StoreError::Decode(format!("no column {index}")))
    }

    pub fn i64(&self, index: usize) -> Result<i64, StoreError> {
        match self.at(index)? {
            Value::Int(v) => Ok(*v),
            other => Err(StoreError::Decode(format!(
                "column {index}: expected an integer, found {other:?}"
            ))),
        }
    }

    pub fn opt_i64(&self, index: usize) -> Result<Option<i64>, StoreError> {
        match self.at(index)? {
            Value::Null => Ok(None),
            _ => self.i64(index).map(Some),
        }
    }

    pub fn bool(&self, index: usize) -> Result<bool, StoreError> {
        match self.at(index)? {
            Value::Bool(v) => Ok(*v),
            Value::Int(v) => Ok(*v != 0),
            other => Err(StoreError::Decode(format!(
                "column {index}: expected a boolean, found {other:?}"
            ))),
        }
    }

    pub fn str(&self, index: usize) -> Result<&str, StoreError> {
        match self.at(index)? {
            Value::Text(v) => Ok(v),
            other => Err(StoreError::Decode(format!(
                "column {index}: expected text, found {other:?}"
            ))),
        }
    }

    pub fn bytes(&self, index: usize) -> Result<&[u8], StoreError> {
        match self.at(index)? {
            Value::Bytes(v) => Ok(v),
            other => Err(StoreError::Decode(format!(
                "column {index}: expected bytes, found {other:?}"
            ))),
        }
    }

    pub fn string(&self, index: usize) -> Result<String, StoreError> {
        self.str(index).map(str::to_owned)
    }

    pub fn opt_string(&self, index: usize) -> Result<Option<String>, StoreError> {
        match self.at(index)? {
            Value::Null => Ok(None),
            _ => self.string(index).map(Some),
        }
    }
}
