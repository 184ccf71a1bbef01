//! Talking to a cluster with kube-rs: connection, discovery, applying manifests.

pub mod access;
pub mod apply;
pub mod connection;
pub mod diff;
pub mod documents;
pub mod errors;
pub mod manifests;
pub mod plan;
pub mod resolve;

pub use apply::{ApplyEvent, Checked, Outcome, Report, Settings, Validation};
pub use documents::Document;
pub use errors::{Detail, DocError, Failure};
pub use manifests::Vars;

/// Loads every `SET|FILE|DIR`, fills the variables and parses all documents.
/// Every file is parsed before any error is returned, so all broken documents are named at once.
pub fn load_documents(args: &[String], vars: &Vars) -> Result<Vec<Document>, Failure> {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        let sources = match manifests::load(arg) {
            Ok(s) => s,
            Err(e) => {
                errors.push(DocError {
                    message: format!("{e:#}"),
                    hint: "`oplab manifests list` shows the bundled sets".into(),
                    ..Default::default()
                });
                continue;
            }
        };
        for source in sources {
            let text = match manifests::substitute(&source, vars) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(DocError {
                        message: format!("{e:#}"),
                        ..Default::default()
                    });
                    continue;
                }
            };
            match documents::parse(&source.name, &text) {
                Ok(d) => docs.extend(d),
                Err(e) => errors.push(DocError {
                    at: Some(format!("{}:{}", e.file, e.line)),
                    message: e.message,
                    hint: "fix the YAML of that document and apply again".into(),
                    ..Default::default()
                }),
            }
        }
    }
    if errors.is_empty() {
        Ok(docs)
    } else {
        Err(Failure::before_writes(errors))
    }
}

/// The filled YAML of `args`, as `oplab manifests show` prints it (for piping to kubectl).
pub fn render(args: &[String], vars: &Vars) -> anyhow::Result<String> {
    let mut out = String::new();
    for arg in args {
        for source in manifests::load(arg)? {
            if !out.is_empty() {
                out.push_str("---\n");
            }
            out.push_str(&format!("# Source: {}\n", source.name));
            let text = manifests::substitute(&source, vars)?;
            out.push_str(&text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    Ok(out)
}
