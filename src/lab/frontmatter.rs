//! The YAML front matter of a lab file: id, title, order, namespace variables, requirements.

use super::diag::LabDiagnostic;
use super::fields::Reader;
use super::model::{ManifestRef, NamespaceVar, Requires};
use super::source::SourceFile;
use super::task_parse::is_id;
use std::ops::Range;
use std::sync::Arc;

const F: &str = "lab::front-matter";
const KEYS: &[&str] = &["id", "title", "order", "summary", "namespaces", "requires"];

/// The front matter, read.
#[derive(Debug, Clone)]
pub(crate) struct FrontMatter {
    pub id: String,
    pub id_span: Range<usize>,
    pub title: String,
    pub order: u32,
    pub summary: Option<String>,
    pub namespaces: Vec<NamespaceVar>,
    pub requires: Requires,
    /// File spans of required lab ids and sets, for cross-lab checks.
    pub requires_labs: Vec<(String, Range<usize>)>,
    pub requires_sets: Vec<(ManifestRef, Range<usize>)>,
}

/// Where the front matter's YAML is and where the markdown body starts.
pub(crate) fn split(file: &Arc<SourceFile>) -> Result<(Range<usize>, usize), Box<LabDiagnostic>> {
    let text = file.text();
    let first_end = text.find('\n').map_or(text.len(), |i| i + 1);
    if text[..first_end].trim_end() != "---" {
        return Err(Box::new(
            LabDiagnostic::error(
                F,
                file,
                0..first_end.max(1).min(text.len()),
                "a lab file starts with YAML front matter",
            )
            .with_label("expected `---` here")
            .with_help("begin the file with `---`, then `id:`, `title:`, `order:`, then `---`"),
        ));
    }
    let mut pos = first_end;
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
        let line = text[pos..end].trim_end();
        if line == "---" || line == "..." {
            return Ok((first_end..pos, end));
        }
        pos = end;
    }
    Err(Box::new(
        LabDiagnostic::error(
            F,
            file,
            0..3.min(text.len()),
            "the front matter is not closed",
        )
        .with_label("opened here")
        .with_help("end the front matter with a line `---`"),
    ))
}

/// Reads the front matter YAML at `range` of the file.
pub(crate) fn read(
    file: &Arc<SourceFile>,
    range: Range<usize>,
    diags: &mut Vec<LabDiagnostic>,
) -> Option<FrontMatter> {
    let yaml_text = &file.text()[range.clone()];
    let node = match super::yaml::parse(yaml_text) {
        Ok(n) => n,
        Err(e) => {
            let at = range.start + e.offset.unwrap_or(0).min(yaml_text.len());
            diags.push(
                LabDiagnostic::error("lab::yaml", file, at..at + 1, format!("the front matter is not valid YAML: {}", e.message))
                    .with_label("here")
                    .with_help("front matter is YAML: `id: …`, `title: …`, `order: N`, `namespaces: {var: default}`; quote values that contain `[`, `{`, `:` or `#`"),
            );
            return None;
        }
    };
    let mut r = Reader {
        file,
        base: range.start,
        diags,
    };
    let f = r.fields(F, &node, "the front matter", KEYS)?;
    let id = r.req_str(F, &f, "id", "the front matter");
    let id_span = f
        .get("id")
        .map_or(range.start..range.start + 1, |n| r.span(n));
    if let Some(id) = &id
        && !is_id(id)
    {
        r.error_at(
            F,
            id_span.clone(),
            format!("lab id `{id}` is not kebab-case"),
            "use lowercase letters, digits and dashes, e.g. `custom-resources`",
        );
    }
    let title = r.req_str(F, &f, "title", "the front matter");
    let order = match f.get("order") {
        Some(n) => r.uint(F, n, "`order`").and_then(|n| u32::try_from(n).ok()),
        None => {
            r.error(
                F,
                &node,
                "the front matter has no `order`",
                "add `order: N`, the chapter number",
            );
            None
        }
    };
    let summary = r.opt_str(F, &f, "summary", "the front matter");
    let mut namespaces = Vec::new();
    if let Some(ns) = f.get("namespaces")
        && let Some(nf) = r.fields_any(F, ns, "`namespaces`")
    {
        for (name, key, value) in nf.keys() {
            let valid_name = name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name {
                r.error(
                    F,
                    key,
                    format!("`{name}` is not a variable name"),
                    "use letters, digits and `_`, starting with a letter",
                );
                continue;
            }
            let Some(default) = r.string(F, value, &format!("the default of `{name}`")) else {
                continue;
            };
            if !is_id(&default) || default.len() > 40 {
                r.error(F, value, format!("`{default}` is not a usable namespace name"), "lowercase letters, digits and dashes, at most 40 characters (an attendee prefix is added in a classroom)");
                continue;
            }
            namespaces.push(NamespaceVar {
                name: name.to_string(),
                default,
            });
        }
    }
    let mut requires = Requires::default();
    let mut requires_labs = Vec::new();
    let mut requires_sets = Vec::new();
    if let Some(req) = f.get("requires")
        && let Some(rf) = r.fields(F, req, "`requires`", &["labs", "sets"])
    {
        for (key, _, value) in rf.keys() {
            let items: Vec<&super::yaml::Node> = match value.as_seq() {
                Some(items) => items.iter().collect(),
                None => vec![value],
            };
            for item in items {
                let Some(text) = r.string(F, item, &format!("an entry of `requires.{key}`")) else {
                    continue;
                };
                let span = r.span(item);
                if key == "labs" {
                    requires.labs.push(text.clone());
                    requires_labs.push((text, span));
                } else {
                    let m = ManifestRef::parse(&text);
                    requires.sets.push(m.clone());
                    requires_sets.push((m, span));
                }
            }
        }
    }
    Some(FrontMatter {
        id: id?,
        id_span,
        title: title?,
        order: order?,
        summary,
        namespaces,
        requires,
        requires_labs,
        requires_sets,
    })
}
