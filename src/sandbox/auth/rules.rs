//! RBAC policy rules: matching a request against a rule, and whether rules cover others (escalation checks).

use crate::sandbox::auth::attributes::Attributes;
use serde_json::{Value, json};

/// One `PolicyRule` of a Role or ClusterRole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

/// The strings of a JSON array; nothing for anything else.
pub(crate) fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(String::from))
        .collect()
}

fn has(set: &[String], item: &str) -> bool {
    set.iter().any(|s| s == item)
}

fn has_all(set: &[String], items: &[String]) -> bool {
    items.iter().all(|i| has(set, i))
}

impl Rule {
    pub fn from_value(v: &Value) -> Self {
        Self {
            verbs: strings(&v["verbs"]),
            api_groups: strings(&v["apiGroups"]),
            resources: strings(&v["resources"]),
            resource_names: strings(&v["resourceNames"]),
            non_resource_urls: strings(&v["nonResourceURLs"]),
        }
    }

    /// The rules of a Role or ClusterRole object.
    pub fn all_of(role: &Value) -> Vec<Rule> {
        role["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .map(Rule::from_value)
            .collect()
    }

    pub fn to_value(&self) -> Value {
        let mut v = json!({"verbs": self.verbs});
        if !self.api_groups.is_empty() || !self.resources.is_empty() {
            v["apiGroups"] = json!(self.api_groups);
            v["resources"] = json!(self.resources);
        }
        if !self.resource_names.is_empty() {
            v["resourceNames"] = json!(self.resource_names);
        }
        if !self.non_resource_urls.is_empty() {
            v["nonResourceURLs"] = json!(self.non_resource_urls);
        }
        v
    }

    /// Whether this rule allows the request (kube-apiserver's `RuleAllows`).
    pub fn allows(&self, a: &Attributes) -> bool {
        let verb = has(&self.verbs, "*") || has(&self.verbs, &a.verb);
        if !verb {
            return false;
        }
        if !a.resource_request {
            return self.non_resource_urls.iter().any(|u| {
                u == "*"
                    || *u == a.path
                    || (u.ends_with('*') && a.path.starts_with(u.trim_end_matches('*')))
            });
        }
        let group = has(&self.api_groups, "*") || has(&self.api_groups, &a.api_group);
        let combined = a.combined_resource();
        let resource = self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!a.subresource.is_empty()
                    && r.strip_prefix("*/") == Some(a.subresource.as_str()))
        });
        let name = self.resource_names.is_empty() || has(&self.resource_names, &a.name);
        group && resource && name
    }

    /// Whether this rule grants everything `sub` grants (kube-apiserver's `ruleCovers`).
    pub fn covers(&self, sub: &Rule) -> bool {
        let verbs = has(&self.verbs, "*") || has_all(&self.verbs, &sub.verbs);
        let groups = has(&self.api_groups, "*") || has_all(&self.api_groups, &sub.api_groups);
        let resources = has(&self.resources, "*")
            || sub.resources.iter().all(|r| {
                has(&self.resources, r)
                    || r.split_once('/')
                        .is_some_and(|(_, s)| has(&self.resources, &format!("*/{s}")))
            });
        let urls = sub.non_resource_urls.iter().all(|u| {
            self.non_resource_urls
                .iter()
                .any(|o| o == u || (o.ends_with('*') && u.starts_with(o.trim_end_matches('*'))))
        });
        let names = self.resource_names.is_empty()
            || (!sub.resource_names.is_empty()
                && has_all(&self.resource_names, &sub.resource_names));
        verbs && groups && resources && urls && names
    }

    /// The rule split into one rule per group, resource, verb and name (kube-apiserver's `BreakdownRule`).
    pub fn breakdown(&self) -> Vec<Rule> {
        let mut out = Vec::new();
        for group in &self.api_groups {
            for resource in &self.resources {
                for verb in &self.verbs {
                    if self.resource_names.is_empty() {
                        out.push(Rule {
                            verbs: vec![verb.clone()],
                            api_groups: vec![group.clone()],
                            resources: vec![resource.clone()],
                            ..Rule::default()
                        });
                    }
                    for name in &self.resource_names {
                        out.push(Rule {
                            verbs: vec![verb.clone()],
                            api_groups: vec![group.clone()],
                            resources: vec![resource.clone()],
                            resource_names: vec![name.clone()],
                            ..Rule::default()
                        });
                    }
                }
            }
        }
        for url in &self.non_resource_urls {
            for verb in &self.verbs {
                out.push(Rule {
                    verbs: vec![verb.clone()],
                    non_resource_urls: vec![url.clone()],
                    ..Rule::default()
                });
            }
        }
        out
    }

    /// `{APIGroups:[""], Resources:["pods"], Verbs:["create"]}`: how Kubernetes prints a rule in errors.
    pub fn compact_string(&self) -> String {
        let q = |v: &[String]| {
            let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", items.join(" "))
        };
        let mut parts = Vec::new();
        for (label, values) in [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ] {
            if !values.is_empty() {
                parts.push(format!("{label}:{}", q(values)));
            }
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// Rules of `wanted` that no rule of `owned` covers, broken down and merged by verb as Kubernetes reports them.
pub fn missing(owned: &[Rule], wanted: &[Rule]) -> Vec<Rule> {
    let mut missing: Vec<Rule> = Vec::new();
    for r in wanted.iter().flat_map(Rule::breakdown) {
        if owned.iter().any(|o| o.covers(&r)) {
            continue;
        }
        // Compact: rules of one group and resource (no names) that differ only by verb become one.
        let mergeable = r.non_resource_urls.is_empty() && r.resource_names.is_empty();
        match missing.iter_mut().find(|m| {
            mergeable
                && m.non_resource_urls.is_empty()
                && m.resource_names.is_empty()
                && m.api_groups == r.api_groups
                && m.resources == r.resources
        }) {
            Some(m) => {
                if !has(&m.verbs, &r.verbs[0]) {
                    m.verbs.extend(r.verbs);
                }
            }
            None => missing.push(r),
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Rule {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        Rule {
            verbs: v(verbs),
            api_groups: v(groups),
            resources: v(resources),
            ..Rule::default()
        }
    }

    #[test]
    fn star_subresources_and_names_cover_as_kubernetes() {
        let owner = rule(&[""], &["pods", "*/status"], &["get", "list"]);
        assert!(owner.covers(&rule(&[""], &["pods/status"], &["get"])));
        assert!(!owner.covers(&rule(&[""], &["pods/log"], &["get"])));
        assert!(!owner.covers(&rule(&[""], &["pods"], &["create"])));
        let mut named = rule(&[""], &["pods"], &["get"]);
        named.resource_names = vec!["a".into()];
        assert!(owner.covers(&named));
        assert!(!named.covers(&rule(&[""], &["pods"], &["get"])));
    }

    #[test]
    fn missing_rules_merge_verbs_and_print_like_kubernetes() {
        let owned = [rule(&[""], &["pods"], &["get"])];
        let wanted = [rule(
            &[""],
            &["pods", "secrets"],
            &["get", "create", "delete"],
        )];
        let m: Vec<String> = missing(&owned, &wanted)
            .iter()
            .map(Rule::compact_string)
            .collect();
        assert_eq!(
            m,
            [
                r#"{APIGroups:[""], Resources:["pods"], Verbs:["create" "delete"]}"#,
                r#"{APIGroups:[""], Resources:["secrets"], Verbs:["get" "create" "delete"]}"#
            ]
        );
    }
}
