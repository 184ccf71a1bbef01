//! Who is asking and what they may do: the admin token, ServiceAccount tokens, RBAC and access reviews.

pub mod attributes;
pub mod bootstrap;

pub mod impersonation;
pub mod rbac;
pub mod reviews;
pub mod rules;
pub mod tokens;
pub mod user;

use crate::sandbox::status::ApiError;
use crate::sandbox::store::api::Api;
use axum::http::{HeaderMap, header};
use std::sync::RwLock;

pub use user::{ADMIN_USER, AUTHENTICATED, MASTERS, UNAUTHENTICATED, User};

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
