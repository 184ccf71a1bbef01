//! Who a request is from, as kube-apiserver's `user.Info`.

use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The group every admin-token request belongs to: allowed everything, as on a real cluster.
pub const MASTERS: &str = "system:masters";
/// The user of the admin token.
pub const ADMIN_USER: &str = "oplab-admin";
pub const AUTHENTICATED: &str = "system:authenticated";
pub const UNAUTHENTICATED: &str = "system:unauthenticated";

/// An authenticated user, as kube-apiserver's `user.Info`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct User {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

impl User {
    /// The user of the sandbox's admin token.
    pub fn admin() -> Self {
        Self {
            name: ADMIN_USER.into(),
            uid: String::new(),
            groups: vec![MASTERS.into(), AUTHENTICATED.into()],
            extra: BTreeMap::new(),
        }
    }

    /// `system:serviceaccount:<ns>:<name>` with its groups.
    pub fn service_account(ns: &str, name: &str, uid: &str) -> Self {
        Self {
            name: sa_username(ns, name),
            uid: uid.into(),
            groups: vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
                AUTHENTICATED.into(),
            ],
            extra: BTreeMap::new(),
        }
    }

    /// Members of `system:masters` skip authorization entirely.
    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }

    /// The UserInfo object of reviews (`username`, `uid`, `groups`, `extra`).
    pub fn to_user_info(&self) -> Value {
        let mut info = json!({"username": self.name, "groups": self.groups});
        if !self.uid.is_empty() {
            info["uid"] = json!(self.uid);
        }
        if !self.extra.is_empty() {
            info["extra"] = json!(self.extra);
        }
        info
    }
}

/// `system:serviceaccount:<ns>:<name>`.
pub fn sa_username(ns: &str, name: &str) -> String {
    format!("system:serviceaccount:{ns}:{name}")
}
