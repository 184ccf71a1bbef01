//! The RBAC kinds (Role, ClusterRole, RoleBinding, ClusterRoleBinding): escalation prevention, as
//! Kubernetes' RBAC storage does it, on the object about to be written. A role may only grant what its
//! writer holds (or has `escalate`); a binding only to a role whose rules the writer holds (or has `bind`).

use crate::sandbox::auth::attributes::{Attributes, forbidden_status};
use crate::sandbox::auth::rules::{self, Rule};
use crate::sandbox::auth::user::User;
use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::kinds::{Ctx, Strategy};
use crate::sandbox::status::ApiError;
use serde_json::Value;

/// The RBAC API group.
pub const GROUP: &str = "rbac.authorization.k8s.io";

/// Roles and ClusterRoles.
#[derive(Debug)]
pub struct Role;

pub static ROLE: Role = Role;

/// RoleBindings and ClusterRoleBindings.
#[derive(Debug)]
pub struct Binding;

pub static BINDING: Binding = Binding;

impl Strategy for Role {
    fn admit_writer(
        &self,
        ctx: Ctx<'_>,
        rt: &ResourceType,
        ns: &str,
        role: &Value,
        user: &User,
    ) -> Result<(), ApiError> {
        let name = role["metadata"]["name"].as_str().unwrap_or_default();
        let escalate = Attributes::resource("escalate", GROUP, &rt.plural, "", ns, name);
        if ctx.authz.allowed(user, &escalate) {
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
        confirm_no_escalation(ctx, user, rt, ns, name, &Rule::all_of(role))
    }
}

impl Strategy for Binding {
    fn admit_writer(
        &self,
        ctx: Ctx<'_>,
        rt: &ResourceType,
        ns: &str,
        binding: &Value,
        user: &User,
    ) -> Result<(), ApiError> {
        let name = binding["metadata"]["name"].as_str().unwrap_or_default();
        let role_ref = &binding["roleRef"];
        let role_plural = match role_ref["kind"].as_str() {
            Some("Role") => "roles",
            _ => "clusterroles",
        };
        let role_name = role_ref["name"].as_str().unwrap_or_default();
        let bind = Attributes::resource("bind", GROUP, role_plural, "", ns, role_name);
        if ctx.authz.allowed(user, &bind) {
            return Ok(());
        }
        let rules = ctx
            .authz
            .role_rules(role_ref, ns)
            .map_err(|text| ApiError::new(404, "NotFound", text))?;
        confirm_no_escalation(ctx, user, rt, ns, name, &rules)
    }
}

/// Forbidden unless every rule in `wanted` is covered by the rules the user holds in `ns`.
fn confirm_no_escalation(
    ctx: Ctx<'_>,
    user: &User,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    wanted: &[Rule],
) -> Result<(), ApiError> {
    let (owned, errors) = ctx.authz.user_rules(user, ns);
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
