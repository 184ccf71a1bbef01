//! Privilege escalation prevention, as Kubernetes' RBAC storage does it: a Role or ClusterRole may only grant
//! what its writer holds (or has `escalate`); a binding only to a role whose rules the writer holds (or has `bind`).

use crate::sandbox::auth::User;
use crate::sandbox::auth::attributes::{Attributes, forbidden_status};
use crate::sandbox::auth::rbac::{self, GROUP};
use crate::sandbox::auth::rules::{self, Rule};
use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::status::ApiError;
use crate::sandbox::store::api::{Api, FieldValidation, PatchType, WriteOpts};
use axum::http::{HeaderMap, Method};
use serde_json::Value;

/// Checks a create, update or patch of an RBAC object (at namespace and name) by a user outside `system:masters`.
pub fn check_request(
    api: &Api,
    user: &User,
    rt: &ResourceType,
    (ns, name): (&str, Option<&str>),
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    if user.is_master() || rt.group != GROUP {
        return Ok(());
    }
    if !matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
        return Ok(());
    }
    let (value, ptype) = crate::sandbox::transport::http::parse_body(headers, body, method)?;
    let object = match (method, name) {
        (&Method::PATCH, Some(name)) => {
            // The object the patch would produce: a dry run of it (its own errors come from the real write).
            let opts = WriteOpts {
                dry_run: true,
                manager: "oplab-escalation-check".into(),
                validation: FieldValidation::Ignore,
                force: true,
            };
            match api.patch(
                rt,
                ns,
                name,
                ptype.unwrap_or(PatchType::Merge),
                value,
                &opts,
                None,
            ) {
                Ok(w) => w.object,
                Err(_) => return Ok(()),
            }
        }
        _ => value,
    };
    let name = object["metadata"]["name"]
        .as_str()
        .or(name)
        .unwrap_or_default()
        .to_string();
    let ns = if rt.namespaced { ns } else { "" };
    match rt.plural.as_str() {
        "roles" | "clusterroles" => check_role(api, user, rt, ns, &name, &object),
        "rolebindings" | "clusterrolebindings" => check_binding(api, user, rt, ns, &name, &object),
        _ => Ok(()),
    }
}

fn allowed(api: &Api, user: &User, a: &Attributes) -> bool {
    api.auth.rbac.authorize(api, user, a).allowed
}

fn check_role(
    api: &Api,
    user: &User,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    role: &Value,
) -> Result<(), ApiError> {
    let escalate = Attributes::resource("escalate", GROUP, &rt.plural, "", ns, name);
    if allowed(api, user, &escalate) {
        return Ok(());
    }
    if rt.plural == "clusterroles" && !role["aggregationRule"].is_null() {
        return Err(forbidden_status(
            GROUP,
            &rt.plural,
            name,
            "must have cluster-admin privileges to use the aggregationRule",
        ));
    }
    confirm_no_escalation(api, user, rt, ns, name, &Rule::all_of(role))
}

fn check_binding(
    api: &Api,
    user: &User,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    binding: &Value,
) -> Result<(), ApiError> {
    let role_ref = &binding["roleRef"];
    let role_plural = match role_ref["kind"].as_str() {
        Some("Role") => "roles",
        _ => "clusterroles",
    };
    let role_name = role_ref["name"].as_str().unwrap_or_default();
    let bind = Attributes::resource("bind", GROUP, role_plural, "", ns, role_name);
    if allowed(api, user, &bind) {
        return Ok(());
    }
    let rules =
        rbac::role_rules(api, role_ref, ns).map_err(|text| ApiError::new(404, "NotFound", text))?;
    confirm_no_escalation(api, user, rt, ns, name, &rules)
}

/// Forbidden unless every rule in `wanted` is covered by the rules the user holds in `ns`.
fn confirm_no_escalation(
    api: &Api,
    user: &User,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    wanted: &[Rule],
) -> Result<(), ApiError> {
    let (owned, errors) = rbac::all_rules(api, user, ns);
    let missing = rules::missing(&owned, wanted);
    if missing.is_empty() {
        return Ok(());
    }
    let mut lines: Vec<String> = missing.iter().map(Rule::compact_string).collect();
    lines.sort();
    let groups: Vec<String> = user.groups.iter().map(|g| format!("{g:?}")).collect();
    let mut msg = format!(
        "user {:?} (groups=[{}]) is attempting to grant RBAC permissions not currently held:\n{}",
        user.name,
        groups.join(" "),
        lines.join("\n")
    );
    if !errors.is_empty() {
        msg.push_str(&format!("; resolution errors: [{}]", errors.join(" ")));
    }
    Err(forbidden_status(GROUP, &rt.plural, name, &msg))
}
