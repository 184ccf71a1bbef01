//! Who is asking and what they may do: the admin token, ServiceAccount tokens, RBAC and access reviews.

pub mod attributes;
pub mod bootstrap;
pub mod escalation;
pub mod impersonation;
pub mod rbac;
pub mod reviews;
pub mod rules;
pub mod tokens;

use crate::sandbox::status::ApiError;
use crate::sandbox::store::api::Api;
use axum::http::{HeaderMap, header};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::RwLock;

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
            name: tokens::sa_username(ns, name),
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

/// The sandbox's authentication and authorization state: the token signing key and the RBAC rule cache.
pub struct Auth {
    key: RwLock<Vec<u8>>,
    pub rbac: rbac::Authorizer,
}

impl Default for Auth {
    fn default() -> Self {
        Self::new()
    }
}

impl Auth {
    /// A fresh random signing key.
    pub fn new() -> Self {
        Self {
            key: RwLock::new(tokens::random_key()),
            rbac: rbac::Authorizer::default(),
        }
    }

    /// The key ServiceAccount tokens are signed with (kept in the state directory with `--state`).
    pub fn signing_key(&self) -> Vec<u8> {
        self.key.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Uses a kept key, so tokens issued before a restart stay valid.
    pub fn set_signing_key(&self, key: Vec<u8>) {
        *self.key.write().unwrap_or_else(|e| e.into_inner()) = key;
    }
}

/// Who sent a request: the admin token, a valid ServiceAccount token, or 401 Unauthorized.
pub fn authenticate(api: &Api, admin_token: &str, headers: &HeaderMap) -> Result<User, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    if constant_time_eq(token.as_bytes(), admin_token.as_bytes()) {
        return Ok(User::admin());
    }
    tokens::authenticate(api, token).ok_or_else(ApiError::unauthorized)
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
