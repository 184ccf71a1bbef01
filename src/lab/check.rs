//! The check language: typed, validated checks that a task's `check:` block is parsed into.
//!
//! Evaluation lives in the checks engine; this module only says what each check means.

use super::selector::LabelSelector;
use serde_json_path::JsonPath;
use std::time::Duration;

/// A task's check. Reading checks (`Assert`, `Absent`, `Count`, `Owned`, `JsonPath`) are
/// re-evaluated whenever the cluster changes; `Exec` and `Probe` run only when asked and
/// always with a time limit; `Quiz` is answered by the attendee.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// A partial object: the live object must contain every field given. Lists of mappings
    /// match entry by entry on a key (`name`, `type`, …, see [`LIST_KEYS`]), not by position.
    Assert(ObjectAssert),
    /// No object matches the target.
    Absent(Target),
    /// The number of objects that match a target (and optionally a partial object).
    Count(CountCheck),
    /// Objects of a kind are controlled by an owner (through a controller ownerReference).
    Owned(OwnedCheck),
    /// A JSONPath into one object compared with a value.
    JsonPath(JsonPathCheck),
    /// A command run in a pod through the exec API, with expected output.
    Exec(ExecCheck),
    /// Changes the cluster (only when the attendee asks), then expects a check within a time.
    Probe(Probe),
    /// A question with choices.
    Quiz(Quiz),
    /// Every check passes.
    All(Vec<Check>),
    /// At least one check passes.
    Any(Vec<Check>),
}

/// Keys by which list entries of a partial object are matched, in order of preference.
pub const LIST_KEYS: &[&str] = &["name", "type", "key", "containerPort", "port", "uid"];

/// Which objects a check is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// One object by name, or…
    pub name: Option<String>,
    /// …all objects matching a label selector (no name and no selector: all of the kind).
    pub selector: Option<LabelSelector>,
}

impl std::fmt::Display for Target {
    /// `Kind name in ns`, `Kind with label a=b in ns` (`labels` for several), or `Kind in ns`:
    /// how checks, probes and solutions name the objects they are about.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.name, &self.selector) {
            (Some(n), _) => write!(f, "{} {n}", self.kind)?,
            (None, Some(s)) => {
                let word = if s.requirements.len() == 1 {
                    "label"
                } else {
                    "labels"
                };
                write!(f, "{} with {word} {s}", self.kind)?;
            }
            (None, None) => f.write_str(&self.kind)?,
        }
        match &self.namespace {
            Some(ns) => write!(f, " in {ns}"),
            None => Ok(()),
        }
    }
}

/// `assert:` a partial Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectAssert {
    /// From the object's apiVersion, kind and metadata (name, namespace, labels).
    pub target: Target,
    /// The whole partial object as written (apiVersion, kind, metadata, spec, status, …).
    /// With a name, that object must match; with labels only, at least one object must match.
    pub expect: serde_json::Value,
}

/// `count:` how many objects match.
#[derive(Debug, Clone, PartialEq)]
pub struct CountCheck {
    pub target: Target,
    /// A partial object each counted object must match (e.g. `status: {phase: Running}`).
    pub filter: Option<serde_json::Value>,
    pub expect: CountCmp,
}

/// A comparison of a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountCmp {
    Equals(u64),
    AtLeast(u64),
    AtMost(u64),
}

impl CountCmp {
    pub fn holds(&self, n: u64) -> bool {
        match *self {
            CountCmp::Equals(e) => n == e,
            CountCmp::AtLeast(e) => n >= e,
            CountCmp::AtMost(e) => n <= e,
        }
    }
}

impl std::fmt::Display for CountCmp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CountCmp::Equals(n) => write!(f, "exactly {n}"),
            CountCmp::AtLeast(n) => write!(f, "at least {n}"),
            CountCmp::AtMost(n) => write!(f, "at most {n}"),
        }
    }
}

/// `owned:` objects of a kind controlled by an owner.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedCheck {
    /// The owner: apiVersion, kind, namespace and name.
    pub owner: Target,
    /// The owned objects: apiVersion and kind, in the owner's namespace, optionally a selector.
    pub owned: Target,
    /// How many owned objects (default: at least one).
    pub expect: CountCmp,
    /// Only controller references count (default true).
    pub controller: bool,
    /// The owned objects must not have been written by this field manager (`notMadeBy:`), e.g.
    /// `oplab-gordon-operator`: "your own operator" tasks refuse pods the built-in operator made.
    pub not_made_by: Option<String>,
}

/// `jsonpath:` one value of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPathCheck {
    /// Must name one object.
    pub target: Target,
    /// The expression as written, e.g. `$.status.readyReplicas`.
    pub path_text: String,
    /// Parsed at load time (RFC 9535).
    pub path: JsonPath,
    pub compare: Compare,
}

/// How a JSONPath result is compared. The path's first node is compared; `Exists` tests for any node.
#[derive(Debug, Clone, PartialEq)]
pub enum Compare {
    Equals(serde_json::Value),
    NotEquals(serde_json::Value),
    AtLeast(f64),
    AtMost(f64),
    GreaterThan(f64),
    LessThan(f64),
    /// A string containing, or a list having an element equal to, the value.
    Contains(serde_json::Value),
    Exists(bool),
}

/// Which pod a command runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodRef {
    Name(String),
    /// The first Running pod that matches.
    Selector(LabelSelector),
}

/// `exec:` run a command in a pod and look at its output. Needs a real cluster (the sandbox
/// has no exec and says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCheck {
    pub exec: ExecSpec,
    pub expect: OutputExpect,
}

/// A command in a pod (no shell is involved: the command is an argument vector).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSpec {
    pub namespace: String,
    pub pod: PodRef,
    pub container: Option<String>,
    pub command: Vec<String>,
    pub timeout: Duration,
}

/// What the output of a command must look like (all given parts must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputExpect {
    pub contains: Vec<String>,
    pub not_contains: Vec<String>,
    /// The whole output, trimmed.
    pub equals: Option<String>,
    /// Number of non-empty lines.
    pub lines: Option<usize>,
}

/// `probe:` change the cluster, then expect a check to pass within a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Shown to the attendee before they confirm: what will be changed and what is expected.
    pub description: String,
    pub action: Action,
    pub expect: Box<Check>,
    pub within: Duration,
}

/// Something done to the cluster by a probe or by a solution.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Delete the named object.
    Delete(Target),
    /// Delete one object (the first by name) among those that match.
    DeleteOne(Target),
    /// Set an integer field (dotted path, e.g. `spec.gordon.replicas`) of one object.
    Scale {
        target: Target,
        field: String,
        replicas: i64,
    },
    /// A JSON merge patch on one object.
    Patch {
        target: Target,
        patch: serde_json::Value,
    },
    /// Run a command in a pod (its output is ignored).
    Exec(ExecSpec),
    /// Apply inline YAML manifests (may be several documents).
    Apply(String),
    /// Wait a while.
    Wait(Duration),
}

impl Action {
    /// One line saying what the action does, for confirmations and logs.
    pub fn describe(&self) -> String {
        match self {
            Action::Delete(t) => format!("delete {t}"),
            Action::DeleteOne(t) => format!("delete one {t}"),
            Action::Scale {
                target,
                field,
                replicas,
            } => format!("set {field} of {target} to {replicas}"),
            Action::Patch { target, .. } => format!("patch {target}"),
            Action::Exec(e) => format!("run `{}` in a pod in {}", e.command.join(" "), e.namespace),
            Action::Apply(_) => "apply inline manifests".to_string(),
            Action::Wait(d) => format!("wait {}", super::duration::format(*d)),
        }
    }
}

/// `quiz:` a question answered in the TUI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quiz {
    pub question: String,
    pub choices: Vec<Choice>,
    /// Shown after answering (and as the solution).
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub text: String,
    pub correct: bool,
}

impl Quiz {
    /// Several choices are correct: the attendee picks all of them.
    pub fn multiple(&self) -> bool {
        self.choices.iter().filter(|c| c.correct).count() > 1
    }

    /// 0-based indices of the correct choices.
    pub fn correct(&self) -> Vec<usize> {
        self.choices
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.correct.then_some(i))
            .collect()
    }

    /// Whether a set of picked choices (0-based) is exactly the correct set.
    pub fn is_correct(&self, picked: &[usize]) -> bool {
        let mut picked = picked.to_vec();
        picked.sort_unstable();
        picked.dedup();
        picked == self.correct()
    }
}

impl Check {
    /// Short name of the check kind, as written in lab files.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::Assert(_) => "assert",
            Check::Absent(_) => "absent",
            Check::Count(_) => "count",
            Check::Owned(_) => "owned",
            Check::JsonPath(_) => "jsonpath",
            Check::Exec(_) => "exec",
            Check::Probe(_) => "probe",
            Check::Quiz(_) => "quiz",
            Check::All(_) => "all",
            Check::Any(_) => "any",
        }
    }

    /// Whether evaluating the check changes the cluster (it then runs only on request).
    pub fn changes_cluster(&self) -> bool {
        match self {
            Check::Probe(_) => true,
            Check::All(cs) | Check::Any(cs) => cs.iter().any(Check::changes_cluster),
            _ => false,
        }
    }

    /// Whether the check runs commands in pods (needs a real cluster's exec API).
    pub fn uses_exec(&self) -> bool {
        match self {
            Check::Exec(_) => true,
            Check::Probe(p) => matches!(p.action, Action::Exec(_)) || p.expect.uses_exec(),
            Check::All(cs) | Check::Any(cs) => cs.iter().any(Check::uses_exec),
            _ => false,
        }
    }

    /// This check and all checks nested in it, depth first.
    pub fn walk(&self) -> Vec<&Check> {
        let mut out = vec![self];
        match self {
            Check::All(cs) | Check::Any(cs) => cs.iter().for_each(|c| out.extend(c.walk())),
            Check::Probe(p) => out.extend(p.expect.walk()),
            _ => {}
        }
        out
    }

    /// The quiz, if this is one.
    pub fn quiz(&self) -> Option<&Quiz> {
        match self {
            Check::Quiz(q) => Some(q),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: Option<&str>, selector: Option<&str>, ns: Option<&str>) -> Target {
        Target {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: ns.map(str::to_string),
            name: name.map(str::to_string),
            selector: selector.map(|s| LabelSelector::parse(s).expect("selector")),
        }
    }

    #[test]
    fn targets_read_the_same_in_checks_and_actions() {
        let one = target(Some("web-1"), None, Some("default"));
        assert_eq!(one.to_string(), "Pod web-1 in default");
        let label = target(None, Some("app=web"), Some("default"));
        assert_eq!(label.to_string(), "Pod with label app=web in default");
        let labels = target(None, Some("app=web,tier!=db"), None);
        assert_eq!(labels.to_string(), "Pod with labels app=web,tier!=db");
        assert_eq!(target(None, None, Some("x")).to_string(), "Pod in x");
        assert_eq!(
            Action::DeleteOne(label).describe(),
            "delete one Pod with label app=web in default"
        );
    }
}
