//! The lab model: a lab is front matter plus `##` steps of markdown, code blocks and tasks.

use super::check::{Action, Check};
use super::source::SourceFile;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// One lab file: a chapter of the workshop.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Stable id from the front matter, e.g. `custom-resources`.
    pub id: String,
    /// Chapter title from the front matter.
    pub title: String,
    /// Chapter number; labs are listed in this order.
    pub order: u32,
    /// One sentence on what the chapter teaches.
    pub summary: Option<String>,
    /// Namespace variables with their defaults, in front-matter order.
    pub namespaces: Vec<NamespaceVar>,
    /// Labs and manifest sets this lab builds on.
    pub requires: Requires,
    /// Markdown before the first `##` step (the `#` title line excluded).
    pub intro: Vec<Block>,
    pub steps: Vec<Step>,
    /// The file the lab came from (`labs/…` for the embedded ones).
    pub path: PathBuf,
    pub(crate) source: Arc<SourceFile>,
    pub(crate) spans: LabSpans,
}

/// Where things sit in the file, for checks across labs.
#[derive(Debug, Clone, Default)]
pub(crate) struct LabSpans {
    pub id: std::ops::Range<usize>,
    pub requires_labs: Vec<(String, std::ops::Range<usize>)>,
}

/// A namespace variable: `{{name}}` in the lab is replaced by a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceVar {
    pub name: String,
    pub default: String,
}

/// What a lab builds on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requires {
    /// Ids of labs that should be done first.
    pub labs: Vec<String>,
    /// Bundled manifest sets that must be applied (by the instructor or the attendee).
    pub sets: Vec<ManifestRef>,
}

/// A `##` step: a heading and what follows it up to the next `##`.
#[derive(Debug, Clone)]
pub struct Step {
    pub title: String,
    /// Marked `(instructor)` in the heading: cluster-wide work, done by the instructor in a classroom.
    pub instructor_only: bool,
    pub blocks: Vec<Block>,
    /// 1-based line of the heading.
    pub line: usize,
}

/// A piece of a step, in document order.
#[derive(Debug, Clone)]
pub enum Block {
    /// Markdown text as written (CommonMark + GFM tables), for the TUI's renderer.
    Markdown(Markdown),
    /// A fenced code block that is not a task.
    Code(CodeBlock),
    /// A ```` ```task ```` block.
    Task(Box<Task>),
}

/// A segment of raw markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markdown {
    pub text: String,
    /// 1-based line where the segment starts.
    pub line: usize,
}

/// A fenced code block. Its text is inert data: nothing in a lab ever runs as a shell command; the
/// TUI may copy it (`copy`) or, after the user confirms, apply it as a manifest (`apply`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// The first word of the info string (`yaml`, `sh`, `text`, …), may be empty.
    pub lang: String,
    pub attrs: CodeAttrs,
    pub text: String,
    /// 1-based line of the opening fence.
    pub line: usize,
}

/// Attributes after the language in a code block's info string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeAttrs {
    /// A manifest the TUI can apply (the block's text, or the referenced bundled manifests).
    pub apply: bool,
    /// A command or snippet to copy to the clipboard.
    pub copy: bool,
    /// The attendee may edit the manifest before applying it.
    pub editable: bool,
    /// Id, so a task's solution can name this block (`solution.apply`).
    pub id: Option<String>,
    /// A bundled manifest set, or one file of it (`set=gordon`, `file=gordon/crd.yaml`).
    pub manifest: Option<ManifestRef>,
    /// The namespace to apply into (may use `{{var}}`).
    pub namespace: Option<String>,
    /// Field validation of the apply (`validate=warn|ignore`; default strict).
    pub validate: crate::cluster::Validation,
}

/// A bundled manifest set, or one file inside it: `gordon` or `gordon/crd.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRef {
    pub set: String,
    pub file: Option<String>,
}

impl ManifestRef {
    pub fn parse(text: &str) -> Self {
        match text.split_once('/') {
            Some((set, file)) => Self {
                set: set.to_string(),
                file: Some(file.to_string()),
            },
            None => Self {
                set: text.to_string(),
                file: None,
            },
        }
    }
}

impl std::fmt::Display for ManifestRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}/{file}", self.set),
            None => f.write_str(&self.set),
        }
    }
}

/// A task: something to do, checked live against the cluster.
#[derive(Debug, Clone)]
pub struct Task {
    /// Unique within the lab (kebab-case).
    pub id: String,
    pub title: String,
    pub check: Check,
    /// Revealed one at a time, in order.
    pub hints: Vec<String>,
    pub solution: Solution,
    /// What the task needs beyond the sandbox.
    pub needs: Vec<Need>,
    /// How long `oplab labs test` waits for the check to pass after the solution.
    pub timeout: Duration,
    /// 1-based line of the task's opening fence.
    pub line: usize,
}

/// How to do a task: text for people, and the parts a machine can carry out.
#[derive(Debug, Clone, Default)]
pub struct Solution {
    /// Markdown shown when the attendee asks for the solution.
    pub text: String,
    /// Ids of code blocks of this lab to apply, in order.
    pub apply: Vec<String>,
    /// Bundled manifest sets (or files of them) to apply, in order.
    pub sets: Vec<ManifestRef>,
    /// An operator to run while checking.
    pub operator: Option<OperatorRun>,
    /// Scripted actions after applying, in order.
    pub actions: Vec<Action>,
}

/// Which operator `oplab labs test` runs for a solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRun {
    pub kind: OperatorKind,
    pub namespace: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorKind {
    /// oplab's built-in Gordon operator.
    Builtin,
    /// The Python reference solution, `labs/solutions/gordon_operator.py`.
    ReferencePython,
}

/// Something a task needs that the sandbox cannot give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub kind: NeedKind,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedKind {
    /// A real cluster: exec into pods, images actually pulled and run.
    RealCluster,
    /// Cluster-wide rights (CRDs, OLM).
    ClusterAdmin,
    /// Network access beyond the cluster (downloads).
    Network,
    /// A program on the attendee's machine, e.g. `python3`, `go`.
    Program(String),
}

impl NeedKind {
    pub fn name(&self) -> String {
        match self {
            NeedKind::RealCluster => "real-cluster".into(),
            NeedKind::ClusterAdmin => "cluster-admin".into(),
            NeedKind::Network => "network".into(),
            NeedKind::Program(p) => format!("program:{p}"),
        }
    }
}

impl Lab {
    /// All tasks of the lab in document order.
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.steps.iter().flat_map(Step::tasks)
    }

    /// All code blocks of the lab in document order.
    pub fn code_blocks(&self) -> impl Iterator<Item = &CodeBlock> {
        self.intro
            .iter()
            .chain(self.steps.iter().flat_map(|s| s.blocks.iter()))
            .filter_map(|b| match b {
                Block::Code(c) => Some(c),
                _ => None,
            })
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks().find(|t| t.id == id)
    }

    /// The code block with this `id=` attribute.
    pub fn code_block(&self, id: &str) -> Option<&CodeBlock> {
        self.code_blocks()
            .find(|c| c.attrs.id.as_deref() == Some(id))
    }

    /// The text the lab was parsed from.
    pub fn source_text(&self) -> &str {
        self.source.text()
    }
}

impl Step {
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Task(t) => Some(&**t),
            _ => None,
        })
    }
}
