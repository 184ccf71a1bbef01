//! Validation of objects: CRD structural schemas (validation, pruning, defaulting) and
//! strict field validation of built-in kinds.

pub mod builtin;
pub mod structural;

use serde_json::Value;
use std::fmt;

/// The kind of a field error, rendered as Kubernetes renders `field.Error`.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// `Required value`
    Required,
    /// `Required value: <detail>`
    RequiredDetail(String),
    /// `Invalid value: <value>: <detail>`
    Invalid {
        value: serde_json::Value,
        detail: String,
    },
    /// `Unsupported value: <value>: supported values: "a", "b"`
    NotSupported {
        value: serde_json::Value,
        supported: Vec<String>,
    },
    /// `Forbidden: <detail>`
    Forbidden(String),
    /// `Too long: may not be longer than <max>` (the value is not shown, as in Kubernetes)
    TooLong { max: usize },
    /// `Too many: <n>: must have at most <max> items`
    TooMany { actual: usize, max: usize },
}

/// One field error, e.g. `spec.replicas: Invalid value: 99: spec.replicas in body should be less than or equal to 9`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// Dotted field path with indices, e.g. `spec.containers[0].name`.
    pub path: String,
    pub kind: ErrorKind,
}

impl FieldError {
    /// `Required value` with an optional detail.
    pub fn required(path: impl Into<String>, detail: &str) -> Self {
        let kind = if detail.is_empty() {
            ErrorKind::Required
        } else {
            ErrorKind::RequiredDetail(detail.to_string())
        };
        FieldError {
            path: path.into(),
            kind,
        }
    }

    /// `Invalid value: <value>: <detail>`.
    pub fn invalid(path: impl Into<String>, value: Value, detail: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            kind: ErrorKind::Invalid {
                value,
                detail: detail.into(),
            },
        }
    }

    /// `Forbidden: <detail>`.
    pub fn forbidden(path: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            kind: ErrorKind::Forbidden(detail.into()),
        }
    }

    /// The message without the field path (Go's `ErrorBody`).
    pub fn body(&self) -> String {
        match &self.kind {
            ErrorKind::Required => "Required value".to_string(),
            ErrorKind::RequiredDetail(d) if d.is_empty() => "Required value".to_string(),
            ErrorKind::RequiredDetail(d) => format!("Required value: {d}"),
            ErrorKind::Invalid { value, detail } => {
                with_detail(format!("Invalid value: {}", go_bad_value(value)), detail)
            }
            ErrorKind::NotSupported { value, supported } => {
                let head = format!("Unsupported value: {}", go_bad_value(value));
                if supported.is_empty() {
                    head
                } else {
                    let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
                    format!("{head}: supported values: {}", quoted.join(", "))
                }
            }
            ErrorKind::Forbidden(d) => with_detail("Forbidden".to_string(), d),
            ErrorKind::TooLong { max } => format!("Too long: may not be longer than {max}"),
            ErrorKind::TooMany { actual, max } => {
                let items = if *max == 1 { "item" } else { "items" };
                format!("Too many: {actual}: must have at most {max} {items}")
            }
        }
    }
}

fn with_detail(head: String, detail: &str) -> String {
    if detail.is_empty() {
        head
    } else {
        format!("{head}: {detail}")
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.body())
        } else {
            write!(f, "{}: {}", self.path, self.body())
        }
    }
}

/// The message of a 422 Invalid Status, e.g.
/// `Widget.acc.example.com "w2" is invalid: spec.replicas: Invalid value: ...`
/// (several errors are joined as `[a, b]`, as Kubernetes does).
pub fn invalid_message(kind: &str, group: &str, name: &str, errors: &[FieldError]) -> String {
    let qualified = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    let mut msgs: Vec<String> = Vec::new();
    for e in errors {
        let m = e.to_string();
        if !msgs.contains(&m) {
            msgs.push(m);
        }
    }
    match msgs.len() {
        0 => format!("{qualified} {} is invalid", go_quote(name)),
        1 => format!("{qualified} {} is invalid: {}", go_quote(name), msgs[0]),
        _ => format!(
            "{qualified} {} is invalid: [{}]",
            go_quote(name),
            msgs.join(", ")
        ),
    }
}

/// Renders a bad value as Go's `field.Error` does: strings `%q`, numbers and booleans `%v`,
/// null as `"null"`, maps and slices as `%#v` of `map[string]interface {}` / `[]interface {}`.
pub fn go_bad_value(v: &Value) -> String {
    match v {
        Value::Null => go_quote("null"),
        Value::String(s) => go_quote(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        _ => go_sharp_v(v),
    }
}

/// Go `%v` of a JSON number as Kubernetes decodes it (int64 when integral, float64 otherwise).
pub fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        go_float(n.as_f64().unwrap_or(0.0))
    }
}

/// Go `%v` of a float64 (shortest representation, exponent when exp < -4 or >= 21).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".to_string()
        } else {
            "-Inf".to_string()
        };
    }
    if f == 0.0 {
        return "0".to_string();
    }
    // Shortest round-trip digits via the `{:e}` formatting: d.ddddde<exp>
    let e = format!("{:e}", f);
    let (mant, exp) = match e.split_once('e') {
        Some((m, x)) => (m.to_string(), x.parse::<i32>().unwrap_or(0)),
        None => (e.clone(), 0),
    };
    if !(-4..21).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        let a = exp.abs();
        return format!("{mant}e{sign}{a:02}");
    }
    let s = format!("{}", f);
    s
}

fn go_sharp_v(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".to_string(),
        Value::String(s) => go_quote(s),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(go_sharp_v).collect();
            format!("[]interface {{}}{{{}}}", parts.join(", "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", go_quote(k), go_sharp_v(&m[k.as_str()])))
                .collect();
            format!("map[string]interface {{}}{{{}}}", parts.join(", "))
        }
    }
}

/// Go `%v` of a decoded JSON value (`map[a:b]`, `[a b]`, bare strings), as JSONPath printing shows it.
pub fn go_plain_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(go_plain_v).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", k, go_plain_v(&m[k.as_str()])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_like_field_errors_go() {
        let e = FieldError::invalid(
            "spec.replicas",
            json!(99),
            "spec.replicas in body should be less than or equal to 9",
        );
        assert_eq!(
            e.to_string(),
            "spec.replicas: Invalid value: 99: spec.replicas in body should be less than or equal to 9"
        );
        assert_eq!(
            FieldError::required("spec.cronSpec", "").to_string(),
            "spec.cronSpec: Required value"
        );
        let ns = FieldError {
            path: "spec.x".into(),
            kind: ErrorKind::NotSupported {
                value: json!("z"),
                supported: vec!["a".into(), "b".into()],
            },
        };
        assert_eq!(
            ns.to_string(),
            r#"spec.x: Unsupported value: "z": supported values: "a", "b""#
        );
        let t = FieldError::invalid(
            "spec.replicas",
            json!("string"),
            r#"spec.replicas in body must be of type integer: "string""#,
        );
        assert_eq!(
            t.to_string(),
            r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#
        );
        let tm = FieldError {
            path: "spec.l".into(),
            kind: ErrorKind::TooMany { actual: 5, max: 3 },
        };
        assert_eq!(
            tm.to_string(),
            "spec.l: Too many: 5: must have at most 3 items"
        );
        let tl = FieldError {
            path: "spec.s".into(),
            kind: ErrorKind::TooLong { max: 3 },
        };
        assert_eq!(tl.to_string(), "spec.s: Too long: may not be longer than 3");
        assert_eq!(
            FieldError::forbidden("a", "no").to_string(),
            "a: Forbidden: no"
        );
    }

    #[test]
    fn go_values() {
        assert_eq!(go_bad_value(&json!(null)), "\"null\"");
        assert_eq!(go_bad_value(&json!(1.5)), "1.5");
        assert_eq!(go_bad_value(&json!(2.0)), "2");
        assert_eq!(go_bad_value(&json!(1e21)), "1e+21");
        assert_eq!(go_bad_value(&json!(0.00001)), "1e-05");
        assert_eq!(go_bad_value(&json!(true)), "true");
        assert_eq!(go_bad_value(&json!("a\"b")), r#""a\"b""#);
        assert_eq!(go_bad_value(&json!(["a", 1])), r#"[]interface {}{"a", 1}"#);
        assert_eq!(
            go_bad_value(&json!({"b": 1, "a": "x"})),
            r#"map[string]interface {}{"a":"x", "b":1}"#
        );
        assert_eq!(
            go_plain_v(&json!({"b": 1, "a": ["x", "y"]})),
            "map[a:[x y] b:1]"
        );
    }

    #[test]
    fn invalid_messages() {
        let e1 = FieldError::required("spec.a", "");
        let e2 = FieldError::required("spec.b", "");
        assert_eq!(
            invalid_message(
                "CronTab",
                "stable.example.com",
                "my-cron",
                std::slice::from_ref(&e1)
            ),
            r#"CronTab.stable.example.com "my-cron" is invalid: spec.a: Required value"#
        );
        assert_eq!(
            invalid_message("Pod", "", "p", &[e1.clone(), e2, e1]),
            r#"Pod "p" is invalid: [spec.a: Required value, spec.b: Required value]"#
        );
    }
}
