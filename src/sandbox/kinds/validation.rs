//! Validation every kind shares, worded as apimachinery words it
//! (staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go, .../api/validation/objectmeta.go,
//! pkg/apis/core/validation/validation.go): metadata types, label and annotation keys and values, finalizer
//! names, ports, config keys, quantities.

use crate::sandbox::schema::{ErrorKind, FieldError};
use regex::Regex;
use serde_json::{Value, json};
use std::sync::LazyLock;

const QUALIFIED_NAME: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const DNS1123_SUBDOMAIN: &str = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const CONFIG_KEY: &str = "[-._a-zA-Z0-9]+";
/// The total size of an object's annotations (`TotalAnnotationSizeLimitB`).
const ANNOTATIONS_MAX: usize = 256 * 1024;

fn full(re: &str) -> Regex {
    Regex::new(&format!("^(?:{re})$")).unwrap_or_else(|_| Regex::new("^$").expect("empty regex"))
}

static QUALIFIED: LazyLock<Regex> = LazyLock::new(|| full(QUALIFIED_NAME));
static VALUE: LazyLock<Regex> = LazyLock::new(|| full(LABEL_VALUE));
static SUBDOMAIN: LazyLock<Regex> = LazyLock::new(|| full(DNS1123_SUBDOMAIN));
static CONFIG: LazyLock<Regex> = LazyLock::new(|| full(CONFIG_KEY));
static QUANTITY: LazyLock<Regex> = LazyLock::new(|| {
    full(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?")
});

fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let e: Vec<String> = examples.iter().map(|x| format!("'{x}'")).collect();
    format!(
        "{msg} (e.g. {}, regex used for validation is '{fmt}')",
        e.join(",  or ")
    )
}

const QUALIFIED_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// `IsDNS1123Subdomain`.
pub fn dns1123_subdomain_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if !SUBDOMAIN.is_match(value) {
        errs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            DNS1123_SUBDOMAIN,
            &["example.com"],
        ));
    }
    errs
}

/// `IsQualifiedName`: `[prefix/]name`, as label keys, annotation keys and finalizers are.
pub fn qualified_name_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    dns1123_subdomain_errors(prefix)
                        .into_iter()
                        .map(|e| format!("prefix part {e}")),
                );
            }
            name
        }
        _ => {
            return vec![
                regex_error(
                    &format!("a qualified name {QUALIFIED_MSG}"),
                    QUALIFIED_NAME,
                    &["MyName", "my.name", "123-abc"],
                ) + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
            ];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push("name part must be no more than 63 characters".to_string());
    }
    if !name.is_empty() && !QUALIFIED.is_match(name) {
        errs.push(regex_error(
            &format!("name part {QUALIFIED_MSG}"),
            QUALIFIED_NAME,
            &["MyName", "my.name", "123-abc"],
        ));
    }
    errs
}

/// `IsValidLabelValue`.
pub fn label_value_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !VALUE.is_match(value) {
        errs.push(regex_error(
            &format!("a valid label must be an empty string or {QUALIFIED_MSG}"),
            LABEL_VALUE,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// `IsConfigMapKey` (ConfigMap and Secret data keys).
pub fn config_key_errors(key: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if key.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if !CONFIG.is_match(key) {
        errs.push(regex_error(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            CONFIG_KEY,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if key == "." {
        errs.push("must not be '.'".to_string());
    } else if key == ".." {
        errs.push("must not be '..'".to_string());
    } else if key.starts_with("..") {
        errs.push("must not start with '..'".to_string());
    }
    errs
}

/// A port number field: 1 to 65535.
pub fn port(value: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if let Some(n) = value.as_i64()
        && !(1..=65535).contains(&n)
    {
        errs.push(FieldError::invalid(
            path,
            json!(n),
            "must be between 1 and 65535, inclusive",
        ));
    }
}

/// Whether a string is a resource quantity (`resource.ParseQuantity`).
pub fn is_quantity(s: &str) -> bool {
    QUANTITY.is_match(s)
}

/// Checks the quantities of a `resources` block (`limits`, `requests`) at `path`.
pub fn resources(resources: &Value, path: &str, errs: &mut Vec<FieldError>) {
    for part in ["limits", "requests"] {
        for (name, q) in resources[part].as_object().into_iter().flatten() {
            let ok = match q {
                Value::String(s) => is_quantity(s),
                Value::Number(_) => true,
                _ => false,
            };
            if !ok {
                errs.push(FieldError::invalid(
                    format!("{path}.{part}[{name}]"),
                    q.clone(),
                    "must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$",
                ));
            }
        }
    }
}

fn type_error(path: &str, value: &Value, want: &str) -> FieldError {
    FieldError {
        path: path.into(),
        kind: ErrorKind::Invalid {
            value: value.clone(),
            detail: format!("must be {want}"),
        },
    }
}

/// The shared metadata rules of every object: field types (a custom resource's metadata is only
/// checked here), label and annotation keys and values, annotation size, finalizer names.
pub fn object_meta(obj: &Value) -> Vec<FieldError> {
    let meta = &obj["metadata"];
    let mut errs = Vec::new();
    for field in ["labels", "annotations"] {
        let v = &meta[field];
        if v.is_null() {
            continue;
        }
        let Some(map) = v.as_object() else {
            errs.push(type_error(
                &format!("metadata.{field}"),
                v,
                "an object of strings",
            ));
            continue;
        };
        let mut size = 0;
        for (k, val) in map {
            let Some(s) = val.as_str() else {
                errs.push(type_error(
                    &format!("metadata.{field}[{k}]"),
                    val,
                    "a string",
                ));
                continue;
            };
            size += k.len() + s.len();
            let key_errors = if field == "annotations" {
                qualified_name_errors(&k.to_lowercase())
            } else {
                qualified_name_errors(k)
            };
            for e in key_errors {
                errs.push(FieldError::invalid(
                    format!("metadata.{field}"),
                    json!(k),
                    e,
                ));
            }
            if field == "labels" {
                for e in label_value_errors(s) {
                    errs.push(FieldError::invalid("metadata.labels", json!(s), e));
                }
            }
        }
        if field == "annotations" && size > ANNOTATIONS_MAX {
            errs.push(FieldError {
                path: "metadata.annotations".into(),
                kind: ErrorKind::TooLong {
                    max: ANNOTATIONS_MAX,
                },
            });
        }
    }
    match &meta["finalizers"] {
        Value::Null => {}
        Value::Array(items) => {
            for (i, f) in items.iter().enumerate() {
                match f.as_str() {
                    Some(name) => {
                        for e in qualified_name_errors(name) {
                            errs.push(FieldError::invalid("metadata.finalizers", json!(name), e));
                        }
                    }
                    None => errs.push(type_error(
                        &format!("metadata.finalizers[{i}]"),
                        f,
                        "a string",
                    )),
                }
            }
        }
        other => errs.push(type_error(
            "metadata.finalizers",
            other,
            "an array of strings",
        )),
    }
    match &meta["ownerReferences"] {
        Value::Null => {}
        Value::Array(items) => {
            for (i, r) in items.iter().enumerate() {
                if !r.is_object() {
                    errs.push(type_error(
                        &format!("metadata.ownerReferences[{i}]"),
                        r,
                        "an object",
                    ));
                }
            }
        }
        other => errs.push(type_error(
            "metadata.ownerReferences",
            other,
            "an array of objects",
        )),
    }
    for field in ["generateName", "name", "namespace"] {
        let v = &meta[field];
        if !v.is_null() && !v.is_string() {
            errs.push(type_error(&format!("metadata.{field}"), v, "a string"));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_values_and_quantities_as_apimachinery() {
        assert!(qualified_name_errors("app.kubernetes.io/name").is_empty());
        assert!(!qualified_name_errors("bad key!").is_empty());
        assert!(!qualified_name_errors("a/b/c").is_empty());
        assert!(!qualified_name_errors("Example.com/x").is_empty());
        assert!(label_value_errors("").is_empty());
        assert!(!label_value_errors("-x").is_empty());
        assert!(config_key_errors("key.name").is_empty());
        assert!(!config_key_errors("a b").is_empty());
        assert!(!config_key_errors("..x").is_empty());
        assert!(is_quantity("500m") && is_quantity("1.5Gi") && is_quantity("2"));
        assert!(!is_quantity("lots"));
        let bad = json!({"metadata": {"name": "x", "finalizers": "x"}});
        assert_eq!(object_meta(&bad)[0].path, "metadata.finalizers");
    }
}
