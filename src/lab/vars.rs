//! Namespace variables: `{{ns}}` in a lab is filled in with a namespace (per attendee in a classroom).

use super::check::{Action, Check, ExecSpec, PodRef, Target};
use super::model::{Block, CodeBlock, Lab, Solution, Step, Task};
use std::collections::BTreeMap;
use std::ops::Range;

/// Variable values, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars(pub BTreeMap<String, String>);

impl Vars {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }
}

/// A `{{name}}` reference found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub name: String,
    /// Byte range of the whole `{{…}}`.
    pub span: Range<usize>,
}

/// Every `{{ name }}` in a text whose content is an identifier (ASCII letters, digits and `_`,
/// not starting with a digit; spaces around it allowed) on one line. Anything else between braces
/// (`{{.metadata.name}}`, `{{ .Values.x }}`, `{{my-var}}`, a reference split over lines, an
/// unclosed `{{`) is not a variable and is left as written. The one variable syntax of oplab: lab
/// files and manifests both use it.
pub fn find_refs(text: &str) -> Vec<VarRef> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| i + from) {
        let Some(close) = text[open + 2..].find("}}").map(|i| i + open + 2) else {
            break;
        };
        let inner = text[open + 2..close].trim();
        let is_ident = !text[open + 2..close].contains('\n')
            && inner.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_ident {
            out.push(VarRef {
                name: inner.to_string(),
                span: open..close + 2,
            });
            from = close + 2;
        } else {
            from = open + 2;
        }
    }
    out
}

/// Replaces every `{{name}}` whose name has a value; unknown ones stay as written.
pub fn fill(text: &str, vars: &Vars) -> String {
    let refs = find_refs(text);
    if refs.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in refs {
        if let Some(value) = vars.get(&r.name) {
            out.push_str(&text[last..r.span.start]);
            out.push_str(value);
            last = r.span.end;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// A `{{name}}` that has no value, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVar {
    pub name: String,
    pub line: usize,
}

/// Like [`fill`], but a reference without a value is an error, except on lines `keep` accepts
/// (a comment in a manifest documents a variable; it stays as written there).
pub fn fill_strict(
    text: &str,
    values: &BTreeMap<String, String>,
    keep: impl Fn(&str) -> bool,
) -> Result<String, UnknownVar> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in find_refs(text) {
        match values.get(&r.name) {
            Some(value) => {
                out.push_str(&text[last..r.span.start]);
                out.push_str(value);
                last = r.span.end;
            }
            None => {
                let line_start = text[..r.span.start].rfind('\n').map_or(0, |i| i + 1);
                let line_end = text[r.span.end..]
                    .find('\n')
                    .map_or(text.len(), |i| i + r.span.end);
                if !keep(&text[line_start..line_end]) {
                    return Err(UnknownVar {
                        name: r.name,
                        line: text[..r.span.start].matches('\n').count() + 1,
                    });
                }
            }
        }
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// Filling variables into a part of the model.
pub trait Fill {
    fn fill(&mut self, vars: &Vars);
}

impl Fill for String {
    fn fill(&mut self, vars: &Vars) {
        if self.contains("{{") {
            *self = fill(self, vars);
        }
    }
}

impl<T: Fill> Fill for Option<T> {
    fn fill(&mut self, vars: &Vars) {
        if let Some(v) = self {
            v.fill(vars);
        }
    }
}

impl<T: Fill> Fill for Vec<T> {
    fn fill(&mut self, vars: &Vars) {
        self.iter_mut().for_each(|v| v.fill(vars));
    }
}

impl<T: Fill> Fill for Box<T> {
    fn fill(&mut self, vars: &Vars) {
        (**self).fill(vars);
    }
}

impl Fill for serde_json::Value {
    fn fill(&mut self, vars: &Vars) {
        match self {
            serde_json::Value::String(s) => s.fill(vars),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| v.fill(vars)),
            serde_json::Value::Object(map) => {
                let filled: serde_json::Map<String, serde_json::Value> = std::mem::take(map)
                    .into_iter()
                    .map(|(mut k, mut v)| {
                        k.fill(vars);
                        v.fill(vars);
                        (k, v)
                    })
                    .collect();
                *map = filled;
            }
            _ => {}
        }
    }
}

impl Fill for Target {
    fn fill(&mut self, vars: &Vars) {
        self.namespace.fill(vars);
        self.name.fill(vars);
    }
}

impl Fill for ExecSpec {
    fn fill(&mut self, vars: &Vars) {
        self.namespace.fill(vars);
        if let PodRef::Name(n) = &mut self.pod {
            n.fill(vars);
        }
        self.container.fill(vars);
        self.command.fill(vars);
    }
}

impl Fill for Action {
    fn fill(&mut self, vars: &Vars) {
        match self {
            Action::Delete(t) | Action::DeleteOne(t) => t.fill(vars),
            Action::Scale { target, .. } => target.fill(vars),
            Action::Patch { target, patch } => {
                target.fill(vars);
                patch.fill(vars);
            }
            Action::Exec(e) => e.fill(vars),
            Action::Apply(yaml) => yaml.fill(vars),
            Action::Wait(_) => {}
        }
    }
}

impl Fill for Check {
    fn fill(&mut self, vars: &Vars) {
        match self {
            Check::Assert(a) => {
                a.target.fill(vars);
                a.expect.fill(vars);
            }
            Check::Absent(t) => t.fill(vars),
            Check::Count(c) => {
                c.target.fill(vars);
                c.filter.fill(vars);
            }
            Check::Owned(o) => {
                o.owner.fill(vars);
                o.owned.fill(vars);
            }
            Check::JsonPath(j) => {
                j.target.fill(vars);
                if let super::check::Compare::Equals(v)
                | super::check::Compare::NotEquals(v)
                | super::check::Compare::Contains(v) = &mut j.compare
                {
                    v.fill(vars);
                }
            }
            Check::Exec(e) => {
                e.exec.fill(vars);
                e.expect.contains.fill(vars);
                e.expect.not_contains.fill(vars);
                e.expect.equals.fill(vars);
            }
            Check::Probe(p) => {
                p.description.fill(vars);
                p.action.fill(vars);
                p.expect.fill(vars);
            }
            Check::Quiz(q) => {
                q.question.fill(vars);
                q.explanation.fill(vars);
                q.choices.iter_mut().for_each(|c| c.text.fill(vars));
            }
            Check::All(cs) | Check::Any(cs) => cs.fill(vars),
        }
    }
}

impl Fill for Solution {
    fn fill(&mut self, vars: &Vars) {
        self.text.fill(vars);
        if let Some(op) = &mut self.operator {
            op.namespace.fill(vars);
        }
        self.actions.fill(vars);
    }
}

impl Fill for Task {
    fn fill(&mut self, vars: &Vars) {
        self.title.fill(vars);
        self.check.fill(vars);
        self.hints.fill(vars);
        self.solution.fill(vars);
    }
}

impl Fill for CodeBlock {
    fn fill(&mut self, vars: &Vars) {
        self.text.fill(vars);
        self.attrs.namespace.fill(vars);
    }
}

impl Fill for Block {
    fn fill(&mut self, vars: &Vars) {
        match self {
            Block::Markdown(m) => m.text.fill(vars),
            Block::Code(c) => c.fill(vars),
            Block::Task(t) => t.fill(vars),
        }
    }
}

impl Fill for Step {
    fn fill(&mut self, vars: &Vars) {
        self.title.fill(vars);
        self.blocks.fill(vars);
    }
}

impl Lab {
    /// The defaults of the lab's namespace variables.
    pub fn default_vars(&self) -> Vars {
        Vars(
            self.namespaces
                .iter()
                .map(|v| (v.name.clone(), v.default.clone()))
                .collect(),
        )
    }

    /// The variables for a classroom attendee: `alice` gets `alice-gordon` for `ns: gordon`.
    pub fn attendee_vars(&self, attendee: &str) -> Vars {
        Vars(
            self.namespaces
                .iter()
                .map(|v| (v.name.clone(), format!("{attendee}-{}", v.default)))
                .collect(),
        )
    }

    /// The variables of a session: the attendee's namespaces when one is set, else the defaults.
    pub fn vars_for(&self, attendee: Option<&str>) -> Vars {
        match attendee {
            Some(name) => self.attendee_vars(name),
            None => self.default_vars(),
        }
    }

    /// A copy of the lab with `{{var}}` filled in everywhere: markdown, code blocks, tasks and
    /// their checks. Variables missing from `vars` take the lab's defaults.
    pub fn render_vars(&self, vars: &Vars) -> Lab {
        let mut all = self.default_vars();
        for (k, v) in &vars.0 {
            all.set(k.clone(), v.clone());
        }
        let mut lab = self.clone();
        lab.title.fill(&all);
        lab.intro.fill(&all);
        lab.steps.fill(&all);
        lab
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_identifiers_only() {
        let refs = find_refs("a {{ns}} b {{ etc2 }} {{.metadata.name}} {{");
        let names: Vec<_> = refs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["ns", "etc2"]);
        assert_eq!(refs[0].span, 2..8);
    }

    #[test]
    fn edge_cases_of_the_syntax() {
        let mut vars = Vars::default();
        vars.set("ns", "team");
        vars.set("_x1", "y");
        // Spaces inside the braces, underscores and digits after the first character.
        assert_eq!(fill("{{  ns  }}/{{_x1}}", &vars), "team/y");
        // Not identifiers: Go templates, jsonpath, hyphens, a leading digit, empty braces.
        for text in [
            "{{.ns}}",
            "{{ .Values.ns }}",
            "{{my-ns}}",
            "{{1ns}}",
            "{{}}",
            "{{ }}",
        ] {
            assert_eq!(fill(text, &vars), text);
        }
        // A reference split over lines is not one; an unclosed one is text.
        assert_eq!(fill("{{\nns}}", &vars), "{{\nns}}");
        assert_eq!(fill("a {{ns", &vars), "a {{ns");
        // Extra braces around a reference stay around its value.
        assert_eq!(fill("{{{{ns}}}}", &vars), "{{team}}");
        // Adjacent references, and values that look like references are not filled again.
        vars.set("loop", "{{ns}}");
        assert_eq!(fill("{{ns}}{{ns}} {{loop}}", &vars), "teamteam {{ns}}");
    }

    #[test]
    fn strict_filling_names_the_line_of_an_unknown_variable() {
        let mut vars = Vars::default();
        vars.set("ns", "team");
        let comment = |l: &str| l.trim_start().starts_with('#');
        assert_eq!(
            fill_strict("# {{doc}}\nn: {{ns}}\nx: {{.go}}\n", &vars.0, comment),
            Ok("# {{doc}}\nn: team\nx: {{.go}}\n".to_string())
        );
        assert_eq!(
            fill_strict("a: 1\nb: {{ns}} {{ nope }}\n", &vars.0, comment),
            Err(UnknownVar {
                name: "nope".into(),
                line: 2
            })
        );
    }

    #[test]
    fn fills_known_and_keeps_unknown() {
        let mut vars = Vars::default();
        vars.set("ns", "alice-gordon");
        assert_eq!(
            fill("-n {{ns}} {{other}} {{ ns }}", &vars),
            "-n alice-gordon {{other}} alice-gordon"
        );
    }
}
