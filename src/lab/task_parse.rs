//! Parsing a ```` ```task ```` block (YAML) into a [`Task`] with its check, hints and solution.

use super::check_parse::{parse_action, parse_check};
use super::fields::Reader;
use super::model::{ManifestRef, Need, NeedKind, OperatorKind, OperatorRun, Solution, Task};
use super::yaml::Node;
use std::time::Duration;

const T: &str = "lab::task";
const TASK_KEYS: &[&str] = &[
    "id", "title", "check", "hints", "solution", "needs", "timeout",
];
const SOLUTION_KEYS: &[&str] = &["text", "apply", "sets", "operator", "actions"];
const NEED_KINDS: &[&str] = &["real-cluster", "cluster-admin", "network", "program"];

/// Default time `oplab labs test` waits for a task's check after its solution.
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether an id is kebab-case: lowercase letters, digits and single dashes.
pub fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
}

/// Parses the YAML of a task block; `line` is the line of its opening fence.
pub(crate) fn parse_task(r: &mut Reader, node: &Node, line: usize) -> Option<Task> {
    let f = r.fields(T, node, "a task", TASK_KEYS)?;
    let id = r.req_str(T, &f, "id", "the task");
    if let (Some(id), Some(n)) = (&id, f.get("id"))
        && !is_id(id)
    {
        r.error(
            T,
            n,
            format!("task id `{id}` is not kebab-case"),
            "use lowercase letters, digits and dashes, e.g. `crontab-crd`",
        );
        return None;
    }
    let title = r.req_str(T, &f, "title", "the task");
    let check = match f.get("check") {
        Some(c) => parse_check(r, c),
        None => {
            r.error(
                T,
                node,
                "the task has no `check`",
                "add `check:` (see labs/README.md for the check language)",
            );
            None
        }
    };
    let hints = match f.get("hints") {
        Some(h) => {
            let hints = r.str_list(T, h, "a hint");
            if hints.is_empty() {
                r.error(T, h, "`hints` is empty", "give at least one hint");
                return None;
            }
            Some(hints)
        }
        None => {
            r.error(
                T,
                node,
                "the task has no `hints`",
                "add `hints:` with at least one hint, most general first",
            );
            None
        }
    };
    let needs = match f.get("needs") {
        Some(n) => parse_needs(r, n)?,
        None => Vec::new(),
    };
    let timeout = match f.get("timeout") {
        Some(t) => r.duration(t, "`timeout`")?,
        None => DEFAULT_TASK_TIMEOUT,
    };
    let check = check?;
    let solution = match (f.get("solution"), check.quiz()) {
        (Some(s), _) => parse_solution(r, s)?,
        (None, Some(quiz)) => {
            let answers: Vec<String> = quiz
                .choices
                .iter()
                .filter(|c| c.correct)
                .map(|c| format!("- {}", c.text))
                .collect();
            Solution {
                text: format!("{}\n\n{}", answers.join("\n"), quiz.explanation),
                ..Solution::default()
            }
        }
        (None, None) => {
            r.error(T, node, "the task has no `solution`", "add `solution:` with `text:` and what `oplab labs test` should do (`apply`, `sets`, `operator`, `actions`)");
            return None;
        }
    };
    Some(Task {
        id: id?,
        title: title?,
        check,
        hints: hints?,
        solution,
        needs,
        timeout,
        line,
    })
}

fn parse_solution(r: &mut Reader, node: &Node) -> Option<Solution> {
    let f = r.fields(T, node, "`solution`", SOLUTION_KEYS)?;
    let text = r.req_str(T, &f, "text", "`solution`")?;
    let apply = f
        .get("apply")
        .map(|a| r.str_list(T, a, "`apply`"))
        .unwrap_or_default();
    let sets = f
        .get("sets")
        .map(|s| r.str_list(T, s, "`sets`"))
        .unwrap_or_default()
        .iter()
        .map(|s| ManifestRef::parse(s))
        .collect();
    let operator = match f.get("operator") {
        Some(o) => {
            let of = r.fields(T, o, "`operator`", &["run", "namespace"])?;
            let run = r.req_str(T, &of, "run", "`operator`")?;
            let kind = match run.as_str() {
                "builtin" => OperatorKind::Builtin,
                "python" => OperatorKind::ReferencePython,
                _ => {
                    r.error(T, of.get("run").unwrap_or(o), format!("unknown operator `{run}`"), "write `run: builtin` (oplab's Gordon operator) or `run: python` (labs/solutions/gordon_operator.py)");
                    return None;
                }
            };
            let namespace = r.req_str(T, &of, "namespace", "`operator`")?;
            Some(OperatorRun { kind, namespace })
        }
        None => None,
    };
    let actions = match f.get("actions") {
        Some(a) => {
            let Some(items) = a.as_seq() else {
                r.error(
                    T,
                    a,
                    "`actions` must be a list",
                    "write `- delete: …`, `- scale: …`, …",
                );
                return None;
            };
            let parsed: Option<Vec<_>> = items.iter().map(|i| parse_action(r, i)).collect();
            parsed?
        }
        None => Vec::new(),
    };
    Some(Solution {
        text,
        apply,
        sets,
        operator,
        actions,
    })
}

fn parse_needs(r: &mut Reader, node: &Node) -> Option<Vec<Need>> {
    let Some(items) = node.as_seq() else {
        r.error(
            T,
            node,
            "`needs` must be a list",
            "write `- real-cluster: why`",
        );
        return None;
    };
    let mut needs = Vec::new();
    for item in items {
        let f = r.fields(T, item, "a need", NEED_KINDS)?;
        for (key, _, value) in f.keys() {
            if key == "program" {
                let pf = r.fields(T, value, "`program`", &["name", "reason"])?;
                let name = r.req_str(T, &pf, "name", "`program`")?;
                let reason = r.req_str(T, &pf, "reason", "`program`")?;
                needs.push(Need {
                    kind: NeedKind::Program(name),
                    reason,
                });
                continue;
            }
            let reason = r.string(T, value, &format!("the reason for `{key}`"))?;
            let kind = match key {
                "real-cluster" => NeedKind::RealCluster,
                "cluster-admin" => NeedKind::ClusterAdmin,
                _ => NeedKind::Network,
            };
            needs.push(Need { kind, reason });
        }
    }
    Some(needs)
}
