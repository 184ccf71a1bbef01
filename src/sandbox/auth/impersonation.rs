//! Impersonation (`kubectl --as`, `--as-group`, `--as-uid`, `Impersonate-*` headers): the caller must be allowed
//! the `impersonate` verb on each requested user, service account, group, uid and extra value; then the request
//! runs as the impersonated user.
//!
//! As kube-apiserver's impersonation filter does it
//! (staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): a service-account user name is
//! authorized on `serviceaccounts` in its namespace, any other name on `users`; groups on `groups`, the uid on
//! `uids`, each extra value on `userextras/<key>`; an impersonated non-anonymous user also gets
//! `system:authenticated`, and a service account with no groups asked for gets its fixed groups.

use crate::sandbox::auth::attributes::{Attributes, forbidden_status};
use crate::sandbox::auth::{AUTHENTICATED, UNAUTHENTICATED, User};
use crate::sandbox::status::ApiError;
use crate::sandbox::store::api::Api;
use axum::http::HeaderMap;
use std::collections::BTreeMap;

pub const USER: &str = "impersonate-user";
pub const UID: &str = "impersonate-uid";
pub const GROUP: &str = "impersonate-group";
pub const EXTRA_PREFIX: &str = "impersonate-extra-";
const ANONYMOUS: &str = "system:anonymous";
const SA_PREFIX: &str = "system:serviceaccount:";

/// The user a request runs as: `caller` itself when it asks for no impersonation, the impersonated user when
/// `caller` may impersonate everything it asked for, else 403 (or 400 for groups without a user).
pub fn apply(api: &Api, caller: User, headers: &HeaderMap) -> Result<User, ApiError> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
            .collect()
    };
    let user = values(USER).into_iter().next().unwrap_or_default();
    let uid = values(UID).into_iter().next().unwrap_or_default();
    let groups = values(GROUP);
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        if let Some(key) = name.as_str().strip_prefix(EXTRA_PREFIX)
            && let Ok(v) = value.to_str()
        {
            // Header names carry the key percent-encoded (RFC 7230 token characters only).
            let key = percent_decode(key).to_lowercase();
            extra.entry(key).or_default().push(v.trim().to_string());
        }
    }
    if user.is_empty() && uid.is_empty() && groups.is_empty() && extra.is_empty() {
        return Ok(caller);
    }
    if user.is_empty() {
        return Err(ApiError::bad_request(format!(
            "requested {} without impersonating a user",
            requested(&groups, &extra, &uid)
        )));
    }
    let mut checks: Vec<Attributes> = Vec::new();
    let mut sa_namespace = None;
    if let Some(rest) = user.strip_prefix(SA_PREFIX)
        && let Some((ns, name)) = rest.split_once(':')
    {
        checks.push(impersonate("serviceaccounts", ns, name));
        sa_namespace = Some(ns.to_string());
    } else {
        checks.push(impersonate("users", "", &user));
    }
    for g in &groups {
        checks.push(impersonate("groups", "", g));
    }
    if !uid.is_empty() {
        checks.push(impersonate("uids", "", &uid));
    }
    for (key, vals) in &extra {
        for v in vals {
            let mut a = impersonate("userextras", "", v);
            a.subresource = key.clone();
            checks.push(a);
        }
    }
    if !caller.is_master() {
        for a in &checks {
            if !api.auth.rbac.authorize(api, &caller, a).allowed {
                return Err(forbidden(&caller, a));
            }
        }
    }
    let groups_given = !groups.is_empty();
    let mut out_groups = groups;
    if let Some(ns) = &sa_namespace
        && !groups_given
    {
        out_groups = vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{ns}"),
        ];
    }
    if user != ANONYMOUS {
        if !out_groups
            .iter()
            .any(|g| g == AUTHENTICATED || g == UNAUTHENTICATED)
        {
            out_groups.push(AUTHENTICATED.into());
        }
    } else if !out_groups.iter().any(|g| g == UNAUTHENTICATED) {
        out_groups.push(UNAUTHENTICATED.into());
    }
    Ok(User {
        name: user,
        uid,
        groups: out_groups,
        extra,
    })
}

fn impersonate(resource: &str, namespace: &str, name: &str) -> Attributes {
    Attributes::resource("impersonate", "", resource, "", namespace, name)
}

/// `users "alice" is forbidden: User "x" cannot impersonate resource "users" in API group "" at the cluster scope`.
fn forbidden(caller: &User, a: &Attributes) -> ApiError {
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace {:?}", a.namespace)
    };
    let why = format!(
        "User {:?} cannot impersonate resource {:?} in API group \"\" {scope}",
        caller.name,
        a.combined_resource()
    );
    forbidden_status("", &a.resource, &a.name, &why)
}

fn requested(groups: &[String], extra: &BTreeMap<String, Vec<String>>, uid: &str) -> String {
    let mut parts = Vec::new();
    if !groups.is_empty() {
        parts.push(format!("groups={groups:?}"));
    }
    if !extra.is_empty() {
        parts.push(format!("extra={extra:?}"));
    }
    if !uid.is_empty() {
        parts.push(format!("uid={uid:?}"));
    }
    parts.join(", ")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_keys_are_percent_decoded() {
        assert_eq!(percent_decode("example.com%2fteam"), "example.com/team");
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
    }
}
