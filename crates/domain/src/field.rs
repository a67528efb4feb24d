//! A validation failure that names the field at fault (`sub_accounts[2].balance`).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Prefixes the field with its parent's path: `balance` becomes `sub_accounts[2].balance`.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_builds_a_path() {
        let e = FieldError::new("balance", "bad").within("sub_accounts[2]");
        assert_eq!(e.field, "sub_accounts[2].balance");
        assert_eq!(e.to_string(), "sub_accounts[2].balance: bad");
    }
}
