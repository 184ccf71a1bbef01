//! One source of truth for manifests: a lab's `file=SET/PATH` code blocks show the bundled file's
//! text. [`mismatches`] finds every block whose objects differ from its file's, so neither can
//! change alone (`oplab labs validate` and the tests run it).

use crate::cluster::{Vars, documents, load_documents};
use crate::lab::{Block, CodeBlock, Lab, LabSet};

/// A `file=` block whose objects are not its bundled file's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// `labs/03-gordon-operator.md:32`
    pub at: String,
    pub file: String,
    /// What differs, with the field path.
    pub what: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: the block differs from the bundled file {}: {}; make them the same (the block shows the file)",
            self.at, self.file, self.what
        )
    }
}

/// The `file=` blocks of a lab that show text (blocks without text apply the file itself).
pub fn file_blocks(lab: &Lab) -> impl Iterator<Item = (&CodeBlock, String)> {
    lab.intro
        .iter()
        .chain(lab.steps.iter().flat_map(|s| s.blocks.iter()))
        .filter_map(|b| match b {
            Block::Code(c) => Some(c),
            _ => None,
        })
        .filter_map(|c| {
            let m = c.attrs.manifest.as_ref()?;
            let file = m.file.as_ref()?;
            (!c.text.trim().is_empty()).then(|| (c, format!("{}/{file}", m.set)))
        })
}

/// Every `file=` block of the labs (with their default variables) whose objects differ from its file's.
pub fn mismatches(set: &LabSet) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for lab in &set.labs {
        let vars = lab.default_vars();
        let rendered = lab.render_vars(&vars);
        let set_vars = Vars(vars.0.clone());
        for (block, file) in file_blocks(&rendered) {
            let at = format!("{}:{}", lab.path.display(), block.line);
            if let Some(what) = compare(block, &file, &set_vars) {
                out.push(Mismatch { at, file, what });
            }
        }
    }
    out
}

fn compare(block: &CodeBlock, file: &str, vars: &Vars) -> Option<String> {
    let from_file = match load_documents(&[file.to_string()], vars) {
        Ok(d) => d,
        Err(e) => return Some(format!("the file does not load: {e}")),
    };
    let from_block = match documents::parse("block", &block.text) {
        Ok(d) => d,
        Err(e) => return Some(format!("the block is not valid YAML: {e}")),
    };
    if from_file.len() != from_block.len() {
        return Some(format!(
            "{} object(s) in the block, {} in the file",
            from_block.len(),
            from_file.len()
        ));
    }
    from_block
        .iter()
        .zip(&from_file)
        .find_map(|(b, f)| first_difference(&b.object, &f.object, ""))
}

/// The path of the first field where two values differ, with both values.
pub fn first_difference(
    a: &serde_json::Value,
    b: &serde_json::Value,
    path: &str,
) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(v), Some(w)) => first_difference(v, w, &p),
                    (Some(_), None) => Some(format!("{p} is only in the block")),
                    (None, _) => Some(format!("{p} is only in the file")),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a} in the block, {b} in the file")),
    }
}
