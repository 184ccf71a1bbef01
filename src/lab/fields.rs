//! Reading typed fields out of a spanned YAML node, reporting mistakes at the right line.

use super::diag::LabDiagnostic;
use super::source::SourceFile;
use super::yaml::{Node, Value};
use std::ops::Range;
use std::sync::Arc;

/// Where a YAML text sits in its lab file, and the diagnostics found so far.
pub(crate) struct Reader<'a> {
    pub file: &'a Arc<SourceFile>,
    /// Byte offset of the YAML text in the file.
    pub base: usize,
    pub diags: &'a mut Vec<LabDiagnostic>,
}

/// The entries of a YAML mapping whose keys were checked.
pub(crate) struct Fields<'n> {
    pub node: &'n Node,
    entries: &'n [(Node, Node)],
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The keys present, as written.
    pub fn keys(&self) -> impl Iterator<Item = (&'n str, &'n Node, &'n Node)> {
        self.entries
            .iter()
            .filter_map(|(k, v)| k.as_str().map(|s| (s, k, v)))
    }
}

impl Reader<'_> {
    /// The file span of a node (an empty node points at one character).
    pub fn span(&self, node: &Node) -> Range<usize> {
        let start = self.base + node.span.start;
        let end = self.base + node.span.end.max(node.span.start + 1);
        start..end
    }

    pub fn error(
        &mut self,
        code: &'static str,
        node: &Node,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let span = self.span(node);
        self.error_at(code, span, message, help);
    }

    pub fn error_at(
        &mut self,
        code: &'static str,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let help = help.into();
        let mut d = LabDiagnostic::error(code, self.file, span, message);
        if !help.is_empty() {
            d = d.with_help(help);
        }
        self.diags.push(d);
    }

    /// Checks that `node` is a mapping with only `allowed` keys (unknown keys are reported
    /// but do not stop reading).
    pub fn fields<'n>(
        &mut self,
        code: &'static str,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Option<Fields<'n>> {
        let Some(entries) = node.as_map() else {
            self.error(
                code,
                node,
                format!("{what} must be a mapping, found {}", node.type_name()),
                format!("expected keys: {}", allowed.join(", ")),
            );
            return None;
        };
        for (k, _) in entries {
            match k.as_str() {
                Some(key) if allowed.contains(&key) => {}
                _ => {
                    let name = k.scalar_text().unwrap_or_else(|| "?".into());
                    let suggestion = closest(&name, allowed)
                        .map(|s| format!("did you mean `{s}`? "))
                        .unwrap_or_default();
                    self.error(
                        code,
                        k,
                        format!("unknown key `{name}` in {what}"),
                        format!("{suggestion}expected one of: {}", allowed.join(", ")),
                    );
                }
            }
        }
        Some(Fields { node, entries })
    }

    /// Checks only that `node` is a mapping (any keys).
    pub fn fields_any<'n>(
        &mut self,
        code: &'static str,
        node: &'n Node,
        what: &str,
    ) -> Option<Fields<'n>> {
        let Some(entries) = node.as_map() else {
            self.error(
                code,
                node,
                format!("{what} must be a mapping, found {}", node.type_name()),
                "",
            );
            return None;
        };
        Some(Fields { node, entries })
    }

    /// A required text field.
    pub fn req_str(
        &mut self,
        code: &'static str,
        f: &Fields,
        key: &str,
        what: &str,
    ) -> Option<String> {
        match f.get(key) {
            Some(v) => self.string(code, v, &format!("`{key}` of {what}")),
            None => {
                self.error(
                    code,
                    f.node,
                    format!("{what} has no `{key}`"),
                    format!("add `{key}: …`"),
                );
                None
            }
        }
    }

    /// An optional text field.
    pub fn opt_str(
        &mut self,
        code: &'static str,
        f: &Fields,
        key: &str,
        what: &str,
    ) -> Option<String> {
        f.get(key)
            .and_then(|v| self.string(code, v, &format!("`{key}` of {what}")))
    }

    /// A scalar as text; a mapping that came from an unquoted `{{var}}` gets a helpful message.
    pub fn string(&mut self, code: &'static str, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => node.scalar_text(),
            _ => {
                let text = self.file.text();
                let start = self.base + node.span.start;
                let unquoted_var = text.get(start..).is_some_and(|t| t.starts_with("{{"));
                let help = if unquoted_var {
                    "YAML reads an unquoted `{{var}}` as a mapping: write it in quotes, e.g. \"{{ns}}\""
                } else if matches!(node.value, Value::Map(_)) {
                    "unquoted text containing `: ` is read as a mapping: put the text in quotes"
                } else {
                    "write it as text"
                };
                self.error(
                    code,
                    node,
                    format!("{what} must be text, found {}", node.type_name()),
                    help,
                );
                None
            }
        }
    }

    /// A list of text items (a single text is taken as a list of one).
    pub fn str_list(&mut self, code: &'static str, node: &Node, what: &str) -> Vec<String> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(|i| self.string(code, i, what))
                .collect(),
            Value::Null => Vec::new(),
            _ => self.string(code, node, what).into_iter().collect(),
        }
    }

    /// A non-negative integer.
    pub fn uint(&mut self, code: &'static str, node: &Node, what: &str) -> Option<u64> {
        match node.value {
            Value::Int(i) if i >= 0 => u64::try_from(i).ok(),
            _ => {
                self.error(
                    code,
                    node,
                    format!(
                        "{what} must be a whole number ≥ 0, found {}",
                        node.type_name()
                    ),
                    "write a number, e.g. 3",
                );
                None
            }
        }
    }

    /// A boolean.
    pub fn boolean(&mut self, code: &'static str, node: &Node, what: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.error(
                    code,
                    node,
                    format!("{what} must be true or false, found {}", node.type_name()),
                    "write true or false",
                );
                None
            }
        }
    }

    /// A duration like `30s`.
    pub fn duration(&mut self, node: &Node, what: &str) -> Option<std::time::Duration> {
        let text = match &node.value {
            Value::Int(i) => i.to_string(),
            Value::Str(s) => s.clone(),
            _ => String::new(),
        };
        match super::duration::parse(&text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(
                    "lab::duration",
                    node,
                    format!("{what} is not a duration: {e}"),
                    "write e.g. 500ms, 30s, 2m or 1m30s",
                );
                None
            }
        }
    }
}

/// The allowed word closest to a misspelt one, if any is close.
pub(crate) fn closest<'a>(word: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (edit_distance(word, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
