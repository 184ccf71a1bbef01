//! Kubernetes label selectors (`app=x,tier!=db,env in (a,b),!legacy`), parsed and validated: the
//! one parser of oplab, for lab files' `labels:`/selectors and the sandbox's `labelSelector=`.

use std::collections::BTreeMap;
use std::fmt;

/// A parsed label selector; `Display` gives the form the API's `labelSelector` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelector {
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub op: SelectorOp,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectorOp {
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// Parses the string form. Errors say what is wrong in plain words.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(text)? {
            let part = part.trim();
            if part.is_empty() {
                return Err("an empty requirement (two commas, or a trailing comma)".into());
            }
            requirements.push(parse_requirement(part)?);
        }
        if requirements.is_empty() {
            return Err("an empty selector".into());
        }
        Ok(Self { requirements })
    }

    /// An equality selector from labels.
    pub fn from_labels(labels: &BTreeMap<String, String>) -> Self {
        Self {
            requirements: labels
                .iter()
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    op: SelectorOp::Equals,
                    values: vec![v.clone()],
                })
                .collect(),
        }
    }

    /// Whether an object with these labels is selected.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| {
            let v = labels.get(&r.key);
            match r.op {
                SelectorOp::Equals | SelectorOp::In => v.is_some_and(|v| r.values.contains(v)),
                SelectorOp::NotEquals | SelectorOp::NotIn => {
                    v.is_none_or(|v| !r.values.contains(v))
                }
                SelectorOp::Exists => v.is_some(),
                SelectorOp::DoesNotExist => v.is_none(),
            }
        })
    }
}

fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("a `)` without `(`".into());
                }
            }
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("a `(` without `)`".into());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

/// Parses one requirement (`app=x`, `env in (a,b)`, `!legacy`, ...): keys and values validated as
/// the API server does; the error says what is wrong.
pub fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement {
            key: check_key(key.trim())?,
            op: SelectorOp::DoesNotExist,
            values: vec![],
        });
    }
    for (token, op) in [
        ("!=", SelectorOp::NotEquals),
        ("==", SelectorOp::Equals),
        ("=", SelectorOp::Equals),
    ] {
        if let Some((k, v)) = part.split_once(token) {
            return Ok(Requirement {
                key: check_key(k.trim())?,
                op,
                values: vec![check_value(v.trim())?],
            });
        }
    }
    for (token, op) in [(" notin ", SelectorOp::NotIn), (" in ", SelectorOp::In)] {
        if let Some((k, v)) = part.split_once(token) {
            let v = v.trim();
            let inner = v
                .strip_prefix('(')
                .and_then(|v| v.strip_suffix(')'))
                .ok_or_else(|| {
                    format!(
                        "`{}` needs a list in parentheses, e.g. `(a,b)`",
                        token.trim()
                    )
                })?;
            let values = inner
                .split(',')
                .map(|s| check_value(s.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Requirement {
                key: check_key(k.trim())?,
                op,
                values,
            });
        }
    }
    Ok(Requirement {
        key: check_key(part)?,
        op: SelectorOp::Exists,
        values: vec![],
    })
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn check_key(key: &str) -> Result<String, String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        let ok = !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if !ok {
            return Err(format!(
                "`{p}` is not a valid label key prefix (a DNS subdomain)"
            ));
        }
    }
    if !is_name(name) {
        return Err(format!(
            "`{key}` is not a valid label key (up to 63 letters, digits, `-`, `_`, `.`, starting and ending alphanumeric)"
        ));
    }
    Ok(key.to_string())
}

fn check_value(v: &str) -> Result<String, String> {
    if v.is_empty() || is_name(v) {
        Ok(v.to_string())
    } else {
        Err(format!(
            "`{v}` is not a valid label value (up to 63 letters, digits, `-`, `_`, `.`)"
        ))
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| match r.op {
                SelectorOp::Equals => format!("{}={}", r.key, r.values.join("")),
                SelectorOp::NotEquals => format!("{}!={}", r.key, r.values.join("")),
                SelectorOp::In => format!("{} in ({})", r.key, r.values.join(",")),
                SelectorOp::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
                SelectorOp::Exists => r.key.clone(),
                SelectorOp::DoesNotExist => format!("!{}", r.key),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_and_matches_all_operators() {
        let s = LabelSelector::parse(
            "operator.prgcont.cz/gordon=example,tier!=db,env in (a, b),!legacy,app",
        )
        .expect("valid");
        assert_eq!(s.requirements.len(), 5);
        assert!(s.matches(&labels(&[
            ("operator.prgcont.cz/gordon", "example"),
            ("env", "b"),
            ("app", "x")
        ])));
        assert!(!s.matches(&labels(&[
            ("operator.prgcont.cz/gordon", "example"),
            ("env", "c"),
            ("app", "x")
        ])));
        assert_eq!(
            s.to_string(),
            "operator.prgcont.cz/gordon=example,tier!=db,env in (a,b),!legacy,app"
        );
    }

    #[test]
    fn rejects_bad_selectors() {
        assert!(LabelSelector::parse("").is_err());
        assert!(LabelSelector::parse("a=b,").is_err());
        assert!(LabelSelector::parse("a=b c").is_err());
        assert!(LabelSelector::parse("env in a,b").is_err());
        assert!(LabelSelector::parse("Bad_Prefix/x=1").is_err());
        assert!(LabelSelector::parse("x=(y").is_err());
    }
}
