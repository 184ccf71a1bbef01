//! Loading labs: the embedded set or a directory; good labs plus diagnostics for the rest.

use super::diag::LabDiagnostic;
use super::embedded;
use super::model::Lab;
use super::parse::parse_lab;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The labs that loaded, in chapter order, and every problem found while loading.
#[derive(Debug, Clone, Default)]
pub struct LabSet {
    pub labs: Vec<Lab>,
    pub diagnostics: Vec<LabDiagnostic>,
}

/// The labs built into the binary.
pub fn load_embedded() -> LabSet {
    let files = embedded::LABS
        .iter()
        .map(|(name, text)| (Path::new("labs").join(name), Ok((*text).to_string())));
    LabSet::from_files(files)
}

/// The Python reference solution of the Gordon exercise, as embedded.
pub fn gordon_reference_solution() -> &'static str {
    embedded::GORDON_OPERATOR_PY
}

/// The controller-loop diagram (text art) of chapter 4.
pub fn controller_loop_diagram() -> &'static str {
    embedded::CONTROLLER_LOOP
}

/// Whether a file in a labs directory is a lab (`*.md`, not `README.md`).
pub fn is_lab_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "md")
        && path
            .file_name()
            .is_some_and(|n| !n.eq_ignore_ascii_case("README.md"))
}

/// The labs in a directory (`*.md` except `README.md`; subdirectories are not read).
pub fn load_dir(dir: &Path) -> LabSet {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(err) => {
            return LabSet {
                labs: Vec::new(),
                diagnostics: vec![LabDiagnostic::unreadable(
                    dir,
                    format!("cannot read the labs directory: {err}"),
                )],
            };
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| is_lab_file(p) && !p.is_dir())
        .collect();
    paths.sort();
    let mut set = LabSet::from_files(paths.into_iter().map(|p| {
        // A FIFO or a device named like a lab would hang the read: refused with a message.
        let text = crate::files::regular_file(&p)
            .map_err(|e| e.to_string())
            .and_then(|_| std::fs::read_to_string(&p).map_err(|e| crate::files::describe_io(&e)));
        (p, text)
    }));
    if set.labs.is_empty() && set.diagnostics.is_empty() {
        set.diagnostics.push(
            LabDiagnostic::unreadable(dir, "no lab files (*.md) in this directory")
                .with_help("a lab file is markdown with YAML front matter; see labs/README.md"),
        );
    }
    set
}

impl LabSet {
    fn from_files(files: impl Iterator<Item = (PathBuf, Result<String, String>)>) -> Self {
        let mut set = LabSet::default();
        for (path, text) in files {
            match text {
                Ok(text) => {
                    let (lab, diags) = parse_lab(&path, &text);
                    set.labs.extend(lab);
                    set.diagnostics.extend(diags);
                }
                Err(e) => set.diagnostics.push(LabDiagnostic::unreadable(
                    &path,
                    format!("cannot read: {e}"),
                )),
            }
        }
        set.labs
            .sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        set
    }

    /// Every problem: those found while loading plus checks across labs (duplicate lab ids,
    /// unknown required labs). `oplab labs validate` prints these.
    pub fn lint(&self) -> Vec<LabDiagnostic> {
        let mut out = self.diagnostics.clone();
        let mut ids: HashMap<&str, &Lab> = HashMap::new();
        for lab in &self.labs {
            if let Some(first) = ids.insert(lab.id.as_str(), lab) {
                out.push(
                    LabDiagnostic::error(
                        "lab::duplicate-id",
                        &lab.source,
                        lab.spans.id.clone(),
                        format!(
                            "lab id `{}` is also used by {}",
                            lab.id,
                            first.path.display()
                        ),
                    )
                    .with_help("give every lab its own id"),
                );
            }
        }
        for lab in &self.labs {
            for (req, span) in &lab.spans.requires_labs {
                if !ids.contains_key(req.as_str()) {
                    let known: Vec<&str> = self.labs.iter().map(|l| l.id.as_str()).collect();
                    out.push(
                        LabDiagnostic::error(
                            "lab::requires",
                            &lab.source,
                            span.clone(),
                            format!("requires unknown lab `{req}`"),
                        )
                        .with_help(format!("known labs: {}", known.join(", "))),
                    );
                }
            }
        }
        out
    }

    /// Whether any problem is an error (warnings do not count).
    pub fn has_errors(&self) -> bool {
        self.lint().iter().any(LabDiagnostic::is_error)
    }

    pub fn lab(&self, id: &str) -> Option<&Lab> {
        self.labs.iter().find(|l| l.id == id)
    }
}
