//! The labs' solution files (chapter 3's Python operator), embedded in the binary, with the exact
//! command that runs each.

/// One solution file of a lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SolutionFile {
    /// The lab it solves.
    pub lab: &'static str,
    /// The file name it is written as.
    pub file: &'static str,
    pub text: &'static str,
    /// What it needs before it runs, as one line.
    pub setup: &'static str,
    /// The command that runs it from the directory it was written to; `{{ns}}` is the lab's namespace.
    pub run: &'static str,
    /// One sentence: what it is.
    pub about: &'static str,
}

/// Every solution file, in lab order.
pub const SOLUTIONS: &[SolutionFile] = &[SolutionFile {
    lab: "gordon-operator",
    file: "gordon_operator.py",
    text: super::embedded::GORDON_OPERATOR_PY,
    setup: "python3 -m venv .venv && . .venv/bin/activate && pip install kubernetes",
    run: "python3 gordon_operator.py --namespace {{ns}}",
    about: "chapter 3's reference Gordon operator in Python (the kubernetes client)",
}];

/// The solution files of a lab (all labs with `None`).
pub fn solutions(lab: Option<&str>) -> Vec<&'static SolutionFile> {
    SOLUTIONS
        .iter()
        .filter(|s| lab.is_none_or(|l| l == s.lab))
        .collect()
}

impl SolutionFile {
    /// The run command with the namespace filled in.
    pub fn run_in(&self, namespace: &str) -> String {
        self.run.replace("{{ns}}", namespace)
    }
}
