//! The lab model and the markdown lab-file parser: chapters, steps, code blocks, tasks.
//!
//! Lab files are markdown with YAML front matter (format: `labs/README.md`). [`load_embedded`]
//! reads the labs built into the binary, [`load_dir`] an instructor's directory; both return
//! every lab that parsed plus diagnostics for the rest, so one broken file never hides the others.

pub mod check;
mod check_parse;
pub mod diag;
pub mod duration;
mod embedded;
mod fields;
mod frontmatter;
pub mod info;
mod load;
pub mod model;
pub mod parse;
/// Label selectors are the crate's one parser ([`crate::selector`]), shared with the sandbox.
pub use crate::selector;
pub mod solutions;
pub mod source;
mod task_parse;
pub mod vars;
pub mod watch;
pub mod yaml;

pub use check::{
    Action, Check, Choice, Compare, CountCheck, CountCmp, ExecCheck, ExecSpec, JsonPathCheck,
    ObjectAssert, OutputExpect, OwnedCheck, PodRef, Probe, Quiz, Target,
};
pub use check_parse::{CHECK_KINDS, DEFAULT_EXEC_TIMEOUT};
pub use diag::LabDiagnostic;
pub use load::{
    LabSet, controller_loop_diagram, gordon_reference_solution, is_lab_file, load_dir,
    load_embedded,
};
pub use model::{
    Block, CodeAttrs, CodeBlock, Lab, ManifestRef, Markdown, NamespaceVar, Need, NeedKind,
    OperatorKind, OperatorRun, Requires, Solution, Step, Task,
};
pub use parse::parse_lab;
pub use selector::LabelSelector;
pub use task_parse::DEFAULT_TASK_TIMEOUT;
pub use vars::{Fill, Vars};

/// The bundled manifest sets (`manifests/<set>/`) a lab may refer to.
pub const MANIFEST_SETS: &[&str] = &["crontab", "gordon", "olm", "etcd"];

/// Path of the Python reference solution of the Gordon exercise, relative to the labs directory.
pub const GORDON_REFERENCE_SOLUTION: &str = "solutions/gordon_operator.py";
