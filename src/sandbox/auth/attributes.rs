//! Request attributes as kube-apiserver's RequestInfo derives them (verb, group, resource, namespace, name, path)
//! and the 403 Forbidden message a real server words from them.

use crate::sandbox::auth::user::User;
use crate::sandbox::status::{ApiError, qualified};
use crate::sandbox::transport::codec::Query;
use axum::http::Method;
use serde_json::json;

/// What a request asks to do, for authorization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub verb: String,
    pub resource_request: bool,
    /// The URL path (non-resource requests are authorized on it).
    pub path: String,
    pub api_group: String,
    pub api_version: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
}

impl Attributes {
    /// `pods` or `pods/log`.
    pub fn combined_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }

    /// A resource request from its parts (access reviews).
    pub fn resource(
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
        namespace: &str,
        name: &str,
    ) -> Self {
        Self {
            verb: verb.into(),
            resource_request: true,
            api_group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: namespace.into(),
            name: name.into(),
            ..Self::default()
        }
    }

    /// The attributes of an HTTP request; `segs` are the decoded path segments.
    pub fn from_request(method: &Method, path: &str, segs: &[&str], query: &Query) -> Self {
        let mut a = Self {
            path: path.to_string(),
            ..Self::default()
        };
        let non_resource = |mut a: Self| {
            a.verb = method.as_str().to_ascii_lowercase();
            a
        };
        if segs.len() < 3 {
            return non_resource(a);
        }
        let mut rest: &[&str] = match segs[0] {
            "api" => &segs[1..],
            "apis" if segs.len() >= 4 => {
                a.api_group = segs[1].to_string();
                &segs[2..]
            }
            _ => return non_resource(a),
        };
        a.resource_request = true;
        a.api_version = rest[0].to_string();
        rest = &rest[1..];
        let mut special = false;
        if matches!(rest.first(), Some(&("watch" | "proxy"))) && rest.len() >= 2 {
            a.verb = rest[0].to_string();
            special = true;
            rest = &rest[1..];
        } else {
            a.verb = match *method {
                Method::POST => "create",
                Method::GET | Method::HEAD => "get",
                Method::PUT => "update",
                Method::PATCH => "patch",
                Method::DELETE => "delete",
                _ => "",
            }
            .to_string();
        }
        if rest.first() == Some(&"namespaces") && rest.len() > 1 {
            a.namespace = rest[1].to_string();
            if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
                rest = &rest[2..];
            }
        }
        if rest.len() >= 3 && !(special && a.verb == "proxy") {
            a.subresource = rest[2].to_string();
        }
        if rest.len() >= 2 {
            a.name = rest[1].to_string();
        }
        if let Some(r) = rest.first() {
            a.resource = r.to_string();
        }
        if a.name.is_empty() && a.verb == "get" {
            let watching = query
                .get("watch")
                .is_some_and(|w| matches!(w.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"));
            a.verb = if watching { "watch" } else { "list" }.into();
        }
        if a.name.is_empty()
            && matches!(a.verb.as_str(), "list" | "watch")
            && let Some(name) = pinned_name(query)
        {
            a.name = name;
        }
        if a.name.is_empty() && a.verb == "delete" {
            a.verb = "deletecollection".into();
        }
        a
    }
}

/// `metadata.name=x` in a field selector names the one object a list or watch is about.
fn pinned_name(query: &Query) -> Option<String> {
    let sel = query.get("fieldSelector")?;
    let mut names = sel.split(',').filter_map(|term| {
        let (k, v) = term.split_once("==").or_else(|| term.split_once('='))?;
        (k.trim() == "metadata.name" && !k.ends_with('!')).then(|| v.trim().to_string())
    });
    let name = names.next()?;
    (!name.is_empty() && !name.contains('/') && name != "." && name != "..").then_some(name)
}

/// The 403 a real API server answers when no authorizer allows the request.
pub fn forbidden(user: &User, a: &Attributes, reason: &str) -> ApiError {
    let mut text = if !a.resource_request {
        format!("User {:?} cannot {} path {:?}", user.name, a.verb, a.path)
    } else if !a.namespace.is_empty() {
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} in the namespace {:?}",
            user.name,
            a.verb,
            a.combined_resource(),
            a.api_group,
            a.namespace
        )
    } else {
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} at the cluster scope",
            user.name,
            a.verb,
            a.combined_resource(),
            a.api_group
        )
    };
    if !reason.is_empty() {
        text = format!("{text}: {reason}");
    }
    forbidden_status(&a.api_group, &a.resource, &a.name, &text)
}

/// `NewForbidden`: `pods "x" is forbidden: <why>`, with the resource in details.
pub fn forbidden_status(group: &str, resource: &str, name: &str, why: &str) -> ApiError {
    let message = if resource.is_empty() && group.is_empty() {
        format!("forbidden: {why}")
    } else if name.is_empty() {
        format!("{} is forbidden: {why}", qualified(group, resource))
    } else {
        format!(
            "{} {name:?} is forbidden: {why}",
            qualified(group, resource)
        )
    };
    let mut details = json!({"group": group, "kind": resource});
    if !name.is_empty() {
        details["name"] = json!(name);
    }
    ApiError::forbidden(message).with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(method: Method, path: &str, query: &str) -> Attributes {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let q = crate::sandbox::transport::codec::parse_query(Some(query));
        Attributes::from_request(&method, path, &segs, &q)
    }

    #[test]
    fn verbs_and_scopes_as_request_info() {
        let a = attrs(Method::GET, "/api/v1/namespaces/bob/pods", "watch=1");
        assert_eq!((a.verb.as_str(), a.namespace.as_str()), ("watch", "bob"));
        let a = attrs(Method::DELETE, "/apis/apps/v1/namespaces/x/deployments", "");
        assert_eq!(
            (a.verb.as_str(), a.api_group.as_str()),
            ("deletecollection", "apps")
        );
        let a = attrs(Method::GET, "/api/v1/namespaces/x", "");
        assert_eq!(
            (a.resource.as_str(), a.name.as_str(), a.namespace.as_str()),
            ("namespaces", "x", "x")
        );
        let a = attrs(Method::GET, "/api/v1/namespaces/x/pods/p/log", "");
        assert_eq!(a.combined_resource(), "pods/log");
        let a = attrs(Method::GET, "/apis/apps/v1", "");
        assert!(!a.resource_request);
        let a = attrs(
            Method::GET,
            "/api/v1/pods",
            "fieldSelector=metadata.name%3Dp",
        );
        assert_eq!((a.verb.as_str(), a.name.as_str()), ("list", "p"));
    }

    #[test]
    fn forbidden_messages_as_kube_apiserver() {
        let user = User::service_account("alice", "default", "u");
        let a = attrs(Method::GET, "/api/v1/namespaces/bob/pods", "");
        assert_eq!(
            forbidden(&user, &a, "").message,
            r#"pods is forbidden: User "system:serviceaccount:alice:default" cannot list resource "pods" in API group "" in the namespace "bob""#
        );
        let a = attrs(Method::GET, "/apis/apps/v1/deployments", "");
        assert_eq!(
            forbidden(&user, &a, "").message,
            r#"deployments.apps is forbidden: User "system:serviceaccount:alice:default" cannot list resource "deployments" in API group "apps" at the cluster scope"#
        );
        let a = attrs(Method::GET, "/metrics", "");
        assert_eq!(
            forbidden(&user, &a, "").message,
            r#"forbidden: User "system:serviceaccount:alice:default" cannot get path "/metrics""#
        );
    }
}
