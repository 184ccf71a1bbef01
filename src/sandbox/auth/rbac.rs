//! The RBAC authorizer: rules from RoleBindings in the request's namespace and from ClusterRoleBindings,
//! resolved once per user and namespace and cached until an RBAC object changes.

use crate::sandbox::auth::attributes::Attributes;
use crate::sandbox::auth::rules::Rule;
use crate::sandbox::auth::user::User;
use crate::sandbox::controllers::key;
use crate::sandbox::kinds::Authorize;
use crate::sandbox::store::api::Api;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

pub use crate::sandbox::kinds::rbac::GROUP;
/// Cache entries kept before the cache starts over (bounds memory with many short-lived users).
const MAX_USERS: usize = 10_000;

/// One rule with where it came from (for review reasons).
#[derive(Debug, Clone)]
pub struct Granted {
    pub rule: Rule,
    /// `ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`.
    pub source: String,
}

/// Rules from one set of bindings, and the errors met resolving them (missing roles).
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Granted>,
    pub errors: Vec<String>,
}

#[derive(Default)]
struct UserRules {
    cluster: Arc<RuleSet>,
    namespaces: Mutex<HashMap<String, Arc<RuleSet>>>,
}

#[derive(Default)]
struct Cache {
    generation: u64,
    users: HashMap<(String, Vec<String>), Arc<UserRules>>,
}

/// Resolves and caches what users may do.
#[derive(Default)]
pub struct Authorizer {
    cache: RwLock<Cache>,
}

/// The verdict of an authorization.
#[derive(Debug, Clone)]
pub struct Decision {
    pub allowed: bool,
    /// Why (the granting binding), or the resolution errors when denied.
    pub reason: String,
}

impl Authorizer {
    /// Forgets every resolved rule: called on every write to an RBAC object.
    pub fn invalidate(&self) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        cache.generation += 1;
        cache.users.clear();
    }

    fn user_rules(&self, api: &Api, user: &User) -> Arc<UserRules> {
        let id = (user.name.clone(), user.groups.clone());
        let generation = {
            let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = cache.users.get(&id) {
                return found.clone();
            }
            cache.generation
        };
        let fresh = Arc::new(UserRules {
            cluster: Arc::new(resolve(api, user, None)),
            namespaces: Mutex::default(),
        });
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.generation == generation {
            if cache.users.len() >= MAX_USERS {
                cache.users.clear();
            }
            cache.users.insert(id, fresh.clone());
        }
        fresh
    }

    /// The rule sets that apply to `user` in `namespace` ("" for cluster scope): cluster-wide first.
    pub fn rules_for(&self, api: &Api, user: &User, namespace: &str) -> Vec<Arc<RuleSet>> {
        let rules = self.user_rules(api, user);
        let mut out = vec![rules.cluster.clone()];
        if !namespace.is_empty() {
            let mut by_ns = rules.namespaces.lock().unwrap_or_else(|e| e.into_inner());
            let set = by_ns
                .entry(namespace.to_string())
                .or_insert_with(|| Arc::new(resolve(api, user, Some(namespace))))
                .clone();
            out.push(set);
        }
        out
    }

    /// Whether RBAC allows the request; members of `system:masters` are always allowed.
    pub fn authorize(&self, api: &Api, user: &User, a: &Attributes) -> Decision {
        if user.is_master() {
            return Decision {
                allowed: true,
                reason: String::new(),
            };
        }
        let sets = self.rules_for(api, user, &a.namespace);
        for set in &sets {
            if let Some(g) = set.rules.iter().find(|g| g.rule.allows(a)) {
                return Decision {
                    allowed: true,
                    reason: format!("RBAC: allowed by {}", g.source),
                };
            }
        }
        let errors: Vec<&String> = sets.iter().flat_map(|s| &s.errors).collect();
        let reason = match errors.as_slice() {
            [] => String::new(),
            [one] => format!("RBAC: {one}"),
            many => format!(
                "RBAC: [{}]",
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Decision {
            allowed: false,
            reason,
        }
    }
}

/// Whether a binding's subject is this user (a ServiceAccount subject without namespace means the binding's).
pub fn subject_matches(subject: &Value, user: &User, binding_ns: &str) -> bool {
    let name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str() {
        Some("User") => user.name == name,
        Some("Group") => user.groups.iter().any(|g| g == name),
        Some("ServiceAccount") => {
            let ns = subject["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_ns);
            !ns.is_empty() && user.name == crate::sandbox::auth::tokens::sa_username(ns, name)
        }
        _ => false,
    }
}

/// `ServiceAccount "name/ns"` or `Group "g"`, as RBAC reasons name a subject.
fn describe_subject(subject: &Value, binding_ns: &str) -> String {
    let kind = subject["kind"].as_str().unwrap_or_default();
    let name = subject["name"].as_str().unwrap_or_default();
    if kind == "ServiceAccount" {
        let ns = subject["namespace"]
            .as_str()
            .filter(|n| !n.is_empty())
            .unwrap_or(binding_ns);
        return format!("{kind} {:?}", format!("{name}/{ns}"));
    }
    format!("{kind} {name:?}")
}

/// Rules of ClusterRoleBindings (`ns = None`) or of the RoleBindings in one namespace.
fn resolve(api: &Api, user: &User, ns: Option<&str>) -> RuleSet {
    let mut set = RuleSet::default();
    let plural = if ns.is_some() {
        "rolebindings"
    } else {
        "clusterrolebindings"
    };
    let (bindings, _) = api.store.list(&key(GROUP, plural), ns);
    let binding_ns = ns.unwrap_or("");
    for b in bindings {
        let Some(subject) = b["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| subject_matches(s, user, binding_ns))
        else {
            continue;
        };
        let role_ref = &b["roleRef"];
        match role_rules(api, role_ref, binding_ns) {
            Ok(rules) => {
                let binding_name = b["metadata"]["name"].as_str().unwrap_or_default();
                let source = format!(
                    "{} {:?} of {} {:?} to {}",
                    if ns.is_some() {
                        "RoleBinding"
                    } else {
                        "ClusterRoleBinding"
                    },
                    if ns.is_some() {
                        format!("{binding_name}/{binding_ns}")
                    } else {
                        binding_name.to_string()
                    },
                    role_ref["kind"].as_str().unwrap_or_default(),
                    role_ref["name"].as_str().unwrap_or_default(),
                    describe_subject(subject, binding_ns),
                );
                set.rules.extend(rules.into_iter().map(|rule| Granted {
                    rule,
                    source: source.clone(),
                }));
            }
            Err(e) => set.errors.push(e),
        }
    }
    set
}

/// The rules of the role a binding refers to, or the NotFound text a real server reports.
pub fn role_rules(api: &Api, role_ref: &Value, binding_ns: &str) -> Result<Vec<Rule>, String> {
    let name = role_ref["name"].as_str().unwrap_or_default();
    let (plural, ns) = match role_ref["kind"].as_str() {
        Some("Role") => ("roles", binding_ns),
        Some("ClusterRole") => ("clusterroles", ""),
        other => {
            return Err(format!(
                "unsupported role reference kind: {:?}",
                other.unwrap_or_default()
            ));
        }
    };
    match api.store.get(&key(GROUP, plural), ns, name) {
        Some(role) => Ok(Rule::all_of(&role)),
        None => Err(format!(
            "{}.{GROUP} {name:?} not found",
            plural.trim_end_matches('s')
        )),
    }
}

/// Every rule that applies to `user` in `namespace`, flattened (for escalation checks and rules reviews).
pub fn all_rules(api: &Api, user: &User, namespace: &str) -> (Vec<Rule>, Vec<String>) {
    let sets = api.auth.rbac.rules_for(api, user, namespace);
    let rules = sets
        .iter()
        .flat_map(|s| s.rules.iter().map(|g| g.rule.clone()))
        .collect();
    let errors = sets.iter().flat_map(|s| s.errors.clone()).collect();
    (rules, errors)
}

/// The authorizer as strategies see it.
impl Authorize for Api {
    fn allowed(&self, user: &User, attrs: &Attributes) -> bool {
        self.auth.rbac.authorize(self, user, attrs).allowed
    }

    fn role_rules(&self, role_ref: &Value, ns: &str) -> Result<Vec<Rule>, String> {
        role_rules(self, role_ref, ns)
    }

    fn user_rules(&self, user: &User, ns: &str) -> (Vec<Rule>, Vec<String>) {
        all_rules(self, user, ns)
    }
}
