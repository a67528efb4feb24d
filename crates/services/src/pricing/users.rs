//! ISO Amp users: the sales agents prospects and statement analyses belong to.

use super::documents::Kind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredUser {
    pub email: String,
    pub user_name: String,
    pub name: String,
    pub admin: bool,
    pub password_hash: String,
}

impl Kind for StoredUser {
    const KIND: &'static str = "user";
    const NAME: &'static str = "user";
    const UNIQUE_FIELD: &'static str = "userName";

    fn unique_key(&self) -> Option<String> {
        Some(self.user_name.clone())
    }
}
