//! Object metadata rules: names, timestamps, uids, label and field selectors.

use crate::sandbox::status::ApiError;
use rand::Rng;
use serde_json::Value;

/// Now, as Kubernetes writes timestamps (RFC 3339, seconds precision, UTC).
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Now with microseconds, as MicroTime fields (events.k8s.io eventTime, Lease renewTime).
pub fn now_micro() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
        .to_string()
}

pub fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The 5-character suffix Kubernetes appends to generateName.
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Checks a DNS-1123 subdomain (most object names); returns Kubernetes' messages.
pub fn dns1123_subdomain_errors(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    let ok = !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    if !ok {
        errs.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string());
    }
    errs
}

/// Checks a DNS-1123 label (namespaces, services).
pub fn dns1123_label_errors(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        errs.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_string());
    }
    errs
}

/// A parsed label selector requirement.
#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    /// `key>N`: the label's value is an integer greater than N.
    Gt(String, i64),
    /// `key<N`: the label's value is an integer less than N.
    Lt(String, i64),
}

/// A label selector (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(pub Vec<Requirement>);

impl LabelSelector {
    /// Parses `labelSelector=`: each requirement with oplab's one selector parser
    /// ([`crate::selector::parse_requirement`]); empty parts are skipped.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        use crate::selector::SelectorOp;
        let mut reqs = Vec::new();
        for part in split_top_level(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            // `key>N` and `key<N` (apimachinery's Gt/Lt: one integer value) are for servers only; the
            // shared parser knows the operators clients write.
            if let Some((k, v, gt)) = part
                .split_once('>')
                .map(|(k, v)| (k, v, true))
                .or_else(|| part.split_once('<').map(|(k, v)| (k, v, false)))
            {
                let key = crate::selector::parse_requirement(k.trim())
                    .ok()
                    .filter(|r| r.op == SelectorOp::Exists)
                    .map(|r| r.key)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "unable to parse requirement: found '{part}', expected: identifier"
                        ))
                    })?;
                let n: i64 = v.trim().parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "unable to parse requirement: values[0]: Invalid value: {:?}: for 'Gt', 'Lt' operators, the value must be an integer",
                        v.trim()
                    ))
                })?;
                reqs.push(if gt {
                    Requirement::Gt(key, n)
                } else {
                    Requirement::Lt(key, n)
                });
                continue;
            }
            let r = crate::selector::parse_requirement(part).map_err(|why| {
                ApiError::bad_request(format!(
                    "unable to parse requirement: found '{part}', expected: identifier ({why})"
                ))
            })?;
            let first = || r.values.first().cloned().unwrap_or_default();
            reqs.push(match r.op {
                SelectorOp::Equals => Requirement::Eq(r.key.clone(), first()),
                SelectorOp::NotEquals => Requirement::NotEq(r.key.clone(), first()),
                SelectorOp::In => Requirement::In(r.key.clone(), r.values.clone()),
                SelectorOp::NotIn => Requirement::NotIn(r.key.clone(), r.values.clone()),
                SelectorOp::Exists => Requirement::Exists(r.key.clone()),
                SelectorOp::DoesNotExist => Requirement::NotExists(r.key.clone()),
            });
        }
        Ok(Self(reqs))
    }

    /// Whether labels (a JSON object or null) match.
    pub fn matches(&self, labels: &Value) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Eq(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEq(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::Gt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            Requirement::Lt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }

    /// Builds a selector from a `metav1.LabelSelector` object (matchLabels, matchExpressions).
    pub fn from_object(sel: &Value) -> Self {
        let mut reqs = Vec::new();
        if let Some(m) = sel["matchLabels"].as_object() {
            for (k, v) in m {
                reqs.push(Requirement::Eq(
                    k.clone(),
                    v.as_str().unwrap_or_default().to_string(),
                ));
            }
        }
        for e in sel["matchExpressions"].as_array().into_iter().flatten() {
            let key = e["key"].as_str().unwrap_or_default().to_string();
            let values: Vec<String> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            match e["operator"].as_str() {
                Some("In") => reqs.push(Requirement::In(key, values)),
                Some("NotIn") => reqs.push(Requirement::NotIn(key, values)),
                Some("Exists") => reqs.push(Requirement::Exists(key)),
                Some("DoesNotExist") => reqs.push(Requirement::NotExists(key)),
                _ => {}
            }
        }
        Self(reqs)
    }

    /// The selector as a string (`app=web,tier in (a,b)`), as Scale.status.selector shows it.
    pub fn to_string_form(&self) -> String {
        self.0
            .iter()
            .map(|r| match r {
                Requirement::Eq(k, v) => format!("{k}={v}"),
                Requirement::NotEq(k, v) => format!("{k}!={v}"),
                Requirement::In(k, vs) => format!("{k} in ({})", vs.join(",")),
                Requirement::NotIn(k, vs) => format!("{k} notin ({})", vs.join(",")),
                Requirement::Exists(k) => k.clone(),
                Requirement::NotExists(k) => format!("!{k}"),
                Requirement::Gt(k, n) => format!("{k}>{n}"),
                Requirement::Lt(k, n) => format!("{k}<{n}"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Splits on commas outside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Field labels of boolean fields: kube-apiserver's field sets print them with `fmt.Sprint`, so unset is "false"
/// (pkg/registry/core/node/strategy.go, pkg/registry/core/pod/strategy.go).
const BOOLEAN_FIELDS: &[&str] = &["spec.unschedulable", "spec.hostNetwork"];

/// A field selector: `metadata.name=x,status.phase!=Running`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(pub Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses and checks each field label against those the kind supports.
    pub fn parse(s: &str, supported: &[&str]) -> Result<Self, ApiError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if field != "metadata.name"
                && field != "metadata.namespace"
                && !supported.contains(&field)
            {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            out.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(Self(out))
    }

    /// A selector without requirements matches everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(field, eq, want)| {
            let path = if field == "source" {
                "source.component"
            } else {
                field.as_str()
            };
            let actual = path.split('.').try_fold(obj, |v, seg| v.get(seg));
            let actual = match actual {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                // Boolean fields the server selects on print Go's zero value when unset.
                _ if BOOLEAN_FIELDS.contains(&path) => "false".to_string(),
                _ => String::new(),
            };
            (actual == *want) == *eq
        })
    }

    /// The value of `metadata.name=` if the selector pins one name.
    pub fn pinned_name(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, eq, _)| f == "metadata.name" && *eq)
            .map(|(_, _, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let labels = json!({"app": "web", "tier": "front"});
        let ok = |s: &str| LabelSelector::parse(s).unwrap().matches(&labels);
        assert!(ok("app=web"));
        assert!(ok("app==web,tier"));
        assert!(!ok("app!=web"));
        assert!(ok("!missing"));
        assert!(!ok("!app"));
        assert!(ok("tier in (back, front)"));
        assert!(!ok("tier notin (back,front)"));
        assert!(ok("missing notin (x)"));
        assert!(LabelSelector::parse("a=b,,").unwrap().0.len() == 1);
        assert!(LabelSelector::parse("a b c").is_err());
        // The requirement grammar is the crate's one selector parser: values are validated.
        let err = LabelSelector::parse("app=not/a value").unwrap_err();
        assert!(
            err.message.contains("is not a valid label value"),
            "{}",
            err.message
        );
        assert_eq!(
            LabelSelector::parse("tier notin (a, b)").unwrap().0,
            [Requirement::NotIn(
                "tier".into(),
                vec!["a".into(), "b".into()]
            )]
        );
    }

    #[test]
    fn field_selectors() {
        let pod =
            json!({"metadata": {"name": "p", "namespace": "n"}, "status": {"phase": "Running"}});
        let sel = FieldSelector::parse("metadata.name=p,status.phase!=Pending", &["status.phase"])
            .unwrap();
        assert!(sel.matches(&pod));
        assert_eq!(sel.pinned_name(), Some("p"));
        let err = FieldSelector::parse("spec.foo=x", &[]).unwrap_err();
        assert_eq!(err.message, "field label not supported: spec.foo");
    }

    #[test]
    fn names() {
        assert!(dns1123_subdomain_errors("my-app.example").is_empty());
        assert!(!dns1123_subdomain_errors("My_App").is_empty());
        assert!(!dns1123_label_errors("a.b").is_empty());
        assert_eq!(random_suffix().len(), 5);
    }
}
