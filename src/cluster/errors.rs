//! Apply failures as the user should read them: which document, which field, what the server said, what to do.

use std::fmt;

/// One failed document (or a failure of the whole run when `at` is empty).
#[derive(Debug, Clone, Default)]
pub struct DocError {
    /// `file:line` of the document.
    pub at: Option<String>,
    /// `Kind/name -n ns`.
    pub object: Option<String>,
    /// What went wrong, as the server (or the parser) said it.
    pub message: String,
    /// Field paths with their messages (422 causes) and field-manager conflicts (409 causes).
    pub details: Vec<Detail>,
    /// What to do about it.
    pub hint: String,
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(at) = &self.at {
            write!(f, "{at}: ")?;
        }
        if let Some(object) = &self.object {
            write!(f, "{object}: ")?;
        }
        write!(f, "{}", self.message)?;
        for d in &self.details {
            match d {
                Detail::Field(field) => write!(f, "\n    field {field}")?,
                Detail::Conflict { manager, field } => write!(
                    f,
                    "\n    conflict: field {field} is owned by field manager {manager:?}"
                )?,
            }
        }
        if !self.hint.is_empty() {
            write!(f, "\n    what to do: {}", self.hint)?;
        }
        Ok(())
    }
}

/// One cause of a [`DocError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    /// `path: message`, e.g. `spec.replicas: Invalid value: 50: ...`.
    Field(String),
    /// Another field manager owns `field`.
    Conflict { manager: String, field: String },
}

impl DocError {
    /// The `path: message` details.
    pub fn fields(&self) -> Vec<&str> {
        self.details
            .iter()
            .filter_map(|d| match d {
                Detail::Field(f) => Some(f.as_str()),
                Detail::Conflict { .. } => None,
            })
            .collect()
    }

    /// The `(manager, field)` conflicts.
    pub fn conflicts(&self) -> Vec<(&str, &str)> {
        self.details
            .iter()
            .filter_map(|d| match d {
                Detail::Conflict { manager, field } => Some((manager.as_str(), field.as_str())),
                Detail::Field(_) => None,
            })
            .collect()
    }
}

/// Everything that failed, and whether anything was written before.
#[derive(Debug, Clone)]
pub struct Failure {
    pub errors: Vec<DocError>,
    /// True when the failure happened before the first real write.
    pub nothing_applied: bool,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        if self.nothing_applied {
            write!(f, "\nnothing was applied")?;
        } else {
            write!(
                f,
                "\nthe set is PARTIALLY applied (the objects reported above as applied exist); fix the cause and apply again"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

impl Failure {
    pub fn before_writes(errors: Vec<DocError>) -> Self {
        Failure {
            errors,
            nothing_applied: true,
        }
    }
}

/// Turns a kube error into a [`DocError`] with the field paths, conflicts and a hint.
pub fn from_kube(err: &kube::Error, at: Option<String>, object: Option<String>) -> DocError {
    let mut out = DocError {
        at,
        object,
        ..Default::default()
    };
    match err {
        kube::Error::Api(status) => {
            out.message = if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            };
            let causes = status
                .details
                .as_ref()
                .map(|d| d.causes.clone())
                .unwrap_or_default();
            if status.code == 409 && causes.iter().any(|c| c.reason == "FieldManagerConflict") {
                out.message =
                    "field manager conflict: another manager owns fields this manifest sets".into();
                for c in &causes {
                    let manager = c
                        .message
                        .split('"')
                        .nth(1)
                        .unwrap_or(c.message.as_str())
                        .to_string();
                    out.details.push(Detail::Conflict {
                        manager,
                        field: c.field.trim_start_matches('.').to_string(),
                    });
                }
                out.hint = "rerun with --force-conflicts to take these fields over for oplab, or drop them from the manifest".into();
                return out;
            }
            for c in &causes {
                if c.field.is_empty() {
                    continue;
                }
                out.details
                    .push(Detail::Field(format!("{}: {}", c.field, c.message)));
            }
            out.hint = match status.code {
                422 | 400 => "fix the field(s) in that document and apply again".into(),
                403 => "your user lacks permission for this; check `kubectl auth can-i`, ask for RBAC, or use a cluster where you are admin (--sandbox)".into(),
                401 => "your credentials were refused; refresh the kubeconfig's login (or use --sandbox)".into(),
                404 => "the namespace or API it needs does not exist on this cluster; create it first or use -n".into(),
                409 => "the object changed meanwhile or already exists; apply again".into(),
                429 | 500..=599 => "the API server is overloaded or failing; wait and apply again".into(),
                _ => String::new(),
            };
        }
        other => {
            let said = crate::explain::explain(other);
            out.message = format!("cluster error: {}", said.because);
            out.hint = if said.hint.is_empty() {
                "check that the cluster is running and reachable (kubectl get ns), or use --sandbox"
                    .into()
            } else {
                said.hint
            };
        }
    }
    out
}
