//! Partial-object matching (kuttl/Chainsaw semantics) with reasons and a short expected/actual diff.
//!
//! Maps match as subsets, lists of mappings match entry by entry on a key from
//! [`LIST_KEYS`](crate::lab::check::LIST_KEYS) (never by position), lists of scalars must contain
//! every item given, and scalars must be equal (numbers by value, so `2` equals `2.0`).

use crate::lab::check::LIST_KEYS;
use serde_json::{Map, Value};

/// Every place where `actual` differs from the partial object `expected`, as `path: what` lines.
pub fn mismatches(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(expected, actual, "", &mut out);
    out
}

/// Whether `actual` contains everything `expected` gives.
pub fn matches(expected: &Value, actual: &Value) -> bool {
    mismatches(expected, actual).is_empty()
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The key a list entry of `expected` is matched by: the first of [`LIST_KEYS`] it has.
fn list_key(entry: &Map<String, Value>) -> Option<&'static str> {
    LIST_KEYS.iter().copied().find(|k| entry.contains_key(*k))
}

fn walk(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            for (k, v) in want {
                let p = join(path, k);
                match have.get(k) {
                    Some(a) => walk(v, a, &p, out),
                    None if v.is_null() => {}
                    None => out.push(format!("{p}: missing, want {}", short(v))),
                }
            }
        }
        (Value::Array(want), Value::Array(have)) => {
            for (i, w) in want.iter().enumerate() {
                match w {
                    Value::Object(entry) => match list_key(entry) {
                        Some(key) => {
                            let id = &entry[key];
                            let p = format!("{path}[{key}={}]", plain(id));
                            match have.iter().find(|a| a.get(key).is_some_and(|v| eq(v, id))) {
                                Some(a) => walk(w, a, &p, out),
                                None => out.push(format!("{p}: missing")),
                            }
                        }
                        None => {
                            if !have.iter().any(|a| matches(w, a)) {
                                out.push(format!("{path}[{i}]: no entry matches {}", short(w)));
                            }
                        }
                    },
                    scalar => {
                        if !have.iter().any(|a| eq(a, scalar)) {
                            out.push(format!("{path}: does not contain {}", short(scalar)));
                        }
                    }
                }
            }
        }
        (w, a) if eq(w, a) => {}
        (w, a) => out.push(format!("{path}: is {}, want {}", short(a), short(w))),
    }
}

/// Scalars equal by value: numbers numerically, everything else structurally.
fn eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value in one short line.
pub fn short(v: &Value) -> String {
    let text = match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// `actual` cut down to the shape of `expected` (the fields it names, list entries by key), so a
/// diff of the two shows only what the assertion is about.
pub fn project(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            let mut m = Map::new();
            for (k, v) in want {
                if let Some(a) = have.get(k) {
                    m.insert(k.clone(), project(v, a));
                }
            }
            Value::Object(m)
        }
        (Value::Array(want), Value::Array(have)) => {
            let mut items = Vec::new();
            for w in want {
                let found = match w {
                    Value::Object(entry) => match list_key(entry) {
                        Some(key) => have
                            .iter()
                            .find(|a| a.get(key).is_some_and(|v| eq(v, &entry[key]))),
                        None => have.iter().find(|a| matches(w, a)),
                    },
                    scalar => have.iter().find(|a| eq(a, scalar)),
                };
                if let Some(a) = found {
                    items.push(project(w, a));
                }
            }
            Value::Array(items)
        }
        (_, a) => a.clone(),
    }
}

fn yaml(v: &Value) -> String {
    serde_saphyr::to_string(v)
        .unwrap_or_else(|_| serde_json::to_string_pretty(v).unwrap_or_default())
}

/// A short unified diff of the expected partial object against the matching part of the live one.
pub fn diff(expected: &Value, actual: &Value) -> String {
    let want = yaml(expected);
    let have = yaml(&project(expected, actual));
    similar::TextDiff::from_lines(&want, &have)
        .unified_diff()
        .context_radius(2)
        .header("expected", "actual")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_match_by_type_not_position() {
        let want = json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}});
        let have = json!({"status": {"conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "x"},
            {"type": "Established", "status": "True"}
        ]}});
        assert!(matches(&want, &have));
        let bad = json!({"status": {"conditions": [{"type": "Established", "status": "False"}]}});
        assert_eq!(
            mismatches(&want, &bad),
            ["status.conditions[type=Established].status: is \"False\", want \"True\""]
        );
    }

    #[test]
    fn scalar_lists_contain_and_numbers_compare_by_value() {
        let want = json!({"names": {"shortNames": ["ct"]}, "replicas": 2});
        assert!(matches(
            &want,
            &json!({"names": {"shortNames": ["x", "ct"]}, "replicas": 2.0})
        ));
        let m = mismatches(&want, &json!({"names": {"shortNames": []}}));
        assert_eq!(
            m,
            [
                "names.shortNames: does not contain \"ct\"",
                "replicas: missing, want 2"
            ]
        );
    }

    #[test]
    fn diff_shows_only_asserted_fields() {
        let want = json!({"spec": {"replicas": 2}});
        let have = json!({"spec": {"replicas": 3, "image": "busybox"}, "status": {}});
        let d = diff(&want, &have);
        assert!(d.contains("-  replicas: 2"), "{d}");
        assert!(d.contains("+  replicas: 3"), "{d}");
        assert!(!d.contains("busybox"), "{d}");
    }
}
