//! Access and identity reviews: SelfSubjectAccessReview (`kubectl auth can-i`), SelfSubjectRulesReview
//! (`can-i --list`), SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectReview (`kubectl auth whoami`)
//! and TokenReview. Create-only, never stored, served in discovery as on a real cluster.

use crate::sandbox::auth::attributes::Attributes;
use crate::sandbox::auth::rbac;
use crate::sandbox::auth::rules::strings;
use crate::sandbox::auth::{User, constant_time_eq, tokens};
use crate::sandbox::status::ApiError;
use crate::sandbox::store::api::Api;
use serde_json::{Value, json};

pub const AUTHZ: &str = "authorization.k8s.io";
pub const AUTHN: &str = "authentication.k8s.io";

/// The review resources: group, plural, kind, namespaced.
pub const REVIEWS: &[(&str, &str, &str, bool)] = &[
    (AUTHN, "selfsubjectreviews", "SelfSubjectReview", false),
    (AUTHN, "tokenreviews", "TokenReview", false),
    (
        AUTHZ,
        "localsubjectaccessreviews",
        "LocalSubjectAccessReview",
        true,
    ),
    (
        AUTHZ,
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        false,
    ),
    (
        AUTHZ,
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        false,
    ),
    (AUTHZ, "subjectaccessreviews", "SubjectAccessReview", false),
];

/// Whether a group is one of the review groups (served beside the registry's groups).
pub fn is_review_group(group: &str) -> bool {
    group == AUTHZ || group == AUTHN
}

/// The APIResourceList entries of a review group-version.
pub fn discovery_resources(group: &str, version: &str) -> Option<Vec<Value>> {
    if version != "v1" || !is_review_group(group) {
        return None;
    }
    Some(
        REVIEWS
            .iter()
            .filter(|(g, ..)| *g == group)
            .map(|(_, plural, kind, namespaced)| {
                json!({"name": plural, "singularName": kind.to_lowercase(), "namespaced": namespaced, "kind": kind, "verbs": ["create"]})
            })
            .collect(),
    )
}

/// A request addressed to a review resource: its kind and namespace (for LocalSubjectAccessReview).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRoute {
    pub group: &'static str,
    pub kind: &'static str,
    pub namespace: Option<String>,
}

/// Recognises `/apis/<review group>/v1/[namespaces/<ns>/]<plural>`.
pub fn route(segs: &[&str]) -> Option<ReviewRoute> {
    let (group, namespace, plural) = match segs {
        ["apis", g, "v1", plural] => (*g, None, *plural),
        ["apis", g, "v1", "namespaces", ns, plural] => (*g, Some(ns.to_string()), *plural),
        _ => return None,
    };
    let (g, _, kind, namespaced) = REVIEWS
        .iter()
        .find(|(g, p, ..)| *g == group && *p == plural)?;
    (namespace.is_some() == *namespaced).then_some(ReviewRoute {
        group: g,
        kind,
        namespace,
    })
}

/// Answers a POST of a review (201 with the review and its status).
pub fn serve(
    api: &Api,
    admin_token: &str,
    user: &User,
    route: &ReviewRoute,
    body: &Value,
) -> Result<Value, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(format!(
            "the body of the request must be a {} object",
            route.kind
        )));
    }
    let spec = &body["spec"];
    let status = match route.kind {
        "SelfSubjectReview" => json!({"userInfo": user.to_user_info()}),
        "TokenReview" => token_review(api, admin_token, spec),
        "SelfSubjectRulesReview" => rules_review(api, user, spec),
        "SelfSubjectAccessReview" => access_review(api, user, route, spec)?,
        _ => {
            let subject = User {
                name: spec["user"].as_str().unwrap_or_default().to_string(),
                uid: spec["uid"].as_str().unwrap_or_default().to_string(),
                groups: strings(&spec["groups"]),
                extra: spec["extra"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), strings(v))).collect())
                    .unwrap_or_default(),
            };
            if subject.name.is_empty() && subject.groups.is_empty() {
                return Err(invalid(
                    route.kind,
                    "spec.user",
                    "\"\"",
                    "at least one of user or group must be specified",
                ));
            }
            access_review(api, &subject, route, spec)?
        }
    };
    let mut out = json!({
        "kind": route.kind,
        "apiVersion": format!("{}/v1", route.group),
        "metadata": {"creationTimestamp": null},
        "spec": spec,
        "status": status,
    });
    if let Some(ns) = &route.namespace {
        out["metadata"]["namespace"] = json!(ns);
    }
    Ok(out)
}

fn invalid(kind: &str, field: &str, value: &str, detail: &str) -> ApiError {
    ApiError::invalid(
        AUTHZ,
        kind,
        "",
        format!("{kind}.{AUTHZ} \"\" is invalid: {field}: Invalid value: {value}: {detail}"),
        json!([{"reason": "FieldValueInvalid", "message": format!("Invalid value: {value}: {detail}"), "field": field}]),
    )
}

fn access_review(
    api: &Api,
    user: &User,
    route: &ReviewRoute,
    spec: &Value,
) -> Result<Value, ApiError> {
    let (res, non_res) = (&spec["resourceAttributes"], &spec["nonResourceAttributes"]);
    if res.is_null() == non_res.is_null() {
        return Err(invalid(
            route.kind,
            "spec.resourceAttributes",
            "\"null\"",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    }
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let attrs = if res.is_null() {
        Attributes {
            verb: s(non_res, "verb"),
            path: s(non_res, "path"),
            ..Attributes::default()
        }
    } else {
        let ns = s(res, "namespace");
        if let Some(url_ns) = &route.namespace
            && *url_ns != ns
        {
            return Err(ApiError::bad_request(format!(
                "spec.resourceAttributes.namespace must match namespace: {url_ns}"
            )));
        }
        let mut a = Attributes::resource(
            &s(res, "verb"),
            &s(res, "group"),
            &s(res, "resource"),
            &s(res, "subresource"),
            &ns,
            &s(res, "name"),
        );
        a.api_version = s(res, "version");
        a
    };
    let decision = api.auth.rbac.authorize(api, user, &attrs);
    let mut status = json!({"allowed": decision.allowed});
    if !decision.reason.is_empty() {
        status["reason"] = json!(decision.reason);
    }
    Ok(status)
}

fn rules_review(api: &Api, user: &User, spec: &Value) -> Value {
    let ns = spec["namespace"].as_str().unwrap_or_default();
    let (rules, errors) = rbac::all_rules(api, user, ns);
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    for r in rules {
        if !r.resources.is_empty() {
            let mut v =
                json!({"verbs": r.verbs, "apiGroups": r.api_groups, "resources": r.resources});
            if !r.resource_names.is_empty() {
                v["resourceNames"] = json!(r.resource_names);
            }
            resource_rules.push(v);
        }
        if !r.non_resource_urls.is_empty() {
            non_resource_rules
                .push(json!({"verbs": r.verbs, "nonResourceURLs": r.non_resource_urls}));
        }
    }
    let mut status = json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": !errors.is_empty(),
    });
    if !errors.is_empty() {
        status["evaluationError"] = json!(errors.join(", "));
    }
    status
}

fn token_review(api: &Api, admin_token: &str, spec: &Value) -> Value {
    let token = spec["token"].as_str().unwrap_or_default();
    // No audiences asked for means the API server's own (kube-apiserver's TokenReview REST storage,
    // pkg/registry/authentication/tokenreview/storage.go).
    let asked = strings(&spec["audiences"]);
    let wanted = if asked.is_empty() {
        vec![tokens::API_AUDIENCE.to_string()]
    } else {
        asked.clone()
    };
    let found = if !token.is_empty() && constant_time_eq(token.as_bytes(), admin_token.as_bytes()) {
        let audiences = tokens::implicit_audiences(&wanted);
        (!audiences.is_empty()).then(|| (User::admin(), audiences))
    } else {
        tokens::authenticate_for(api, token, &wanted)
    };
    match found {
        Some((u, audiences)) => {
            json!({"authenticated": true, "user": u.to_user_info(), "audiences": audiences})
        }
        None if !asked.is_empty()
            && tokens::authenticate_for(api, token, &[tokens::API_AUDIENCE.to_string()])
                .is_some() =>
        {
            json!({"authenticated": false, "error": "[invalid bearer token, token audiences don't match]"})
        }
        None => {
            json!({"authenticated": false, "error": "[invalid bearer token, token lookup failed]"})
        }
    }
}
