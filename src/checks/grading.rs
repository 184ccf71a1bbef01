//! What `oplab check` adds to the live verdicts: quizzes graded from the answers saved in the
//! progress file, tasks whose `needs` this cluster or machine cannot meet skipped with the reason
//! (as `oplab labs test` does), and `--strict`, which makes every skip a failure.

use super::{TaskVerdict, Verdict};
use crate::lab::{NeedKind, Quiz, Task};

/// A quiz's verdict from a saved answer (0-based choices). A wrong answer never says which
/// choices are right.
pub fn quiz_verdict(quiz: &Quiz, answer: Option<&[usize]>, source: &str) -> Verdict {
    match answer {
        None => Verdict::Skipped(format!(
            "a quiz not answered yet (answers are read from {source})"
        )),
        Some(a) if quiz.is_correct(a) => Verdict::Pass,
        Some(a) => {
            let mut picked: Vec<String> = a.iter().map(|i| (i + 1).to_string()).collect();
            picked.dedup();
            Verdict::Fail(format!(
                "the saved answer ({}) is not right; answer again in the TUI",
                if picked.is_empty() {
                    "nothing picked".to_string()
                } else {
                    format!("choice {}", picked.join(", "))
                }
            ))
        }
    }
}

/// What is known of the cluster and the machine `oplab check` runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// The cluster is oplab's sandbox (embedded, or `oplab sandbox`).
    pub sandbox: bool,
}

/// Whether a server's `/version` gitVersion is the sandbox's.
pub fn is_sandbox_version(git_version: &str) -> bool {
    git_version.contains("oplab-sandbox")
}

/// Why a task cannot be done here, when one of its `needs` is not met.
pub fn unmet_need(task: &Task, facts: Facts) -> Option<String> {
    for need in &task.needs {
        match &need.kind {
            NeedKind::RealCluster if facts.sandbox => {
                return Some(format!(
                    "needs a real cluster (this is oplab's sandbox): {}",
                    need.reason
                ));
            }
            NeedKind::Program(p) if !on_path(p) => {
                return Some(format!(
                    "needs the program {p}, which is not on PATH: {}",
                    need.reason
                ));
            }
            _ => {}
        }
    }
    None
}

/// Whether an executable of this name is on `PATH`.
pub fn on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(name))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// `--strict`: a task skipped or not checkable fails, with the reason it was skipped.
pub fn strict(vs: Vec<TaskVerdict>) -> Vec<TaskVerdict> {
    vs.into_iter()
        .map(|mut v| {
            if let Verdict::Skipped(r) | Verdict::CannotCheck(r) = &v.verdict {
                v.verdict = Verdict::Fail(format!("skipped, and --strict fails skips: {r}"));
            }
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quizzes_grade_from_saved_answers_without_telling_the_answer() {
        let set = crate::lab::load_embedded();
        let task = set
            .labs
            .iter()
            .flat_map(|l| l.tasks())
            .find(|t| t.id == "gordon-api-calls")
            .expect("quiz");
        let quiz = task.check.quiz().expect("a quiz");
        let right = quiz.correct();
        assert!(quiz_verdict(quiz, Some(&right), "p").is_pass());
        let wrong = quiz_verdict(quiz, Some(&right[..1]), "p");
        assert!(matches!(wrong, Verdict::Fail(_)), "{wrong}");
        assert!(!wrong.reason().contains("correct"), "{wrong}");
        assert!(matches!(quiz_verdict(quiz, None, "p"), Verdict::Skipped(_)));
        let s = strict(vec![TaskVerdict {
            lab: "l".into(),
            task: "t".into(),
            title: "t".into(),
            verdict: Verdict::Skipped("why".into()),
        }]);
        assert!(matches!(s[0].verdict, Verdict::Fail(_)));
        assert!(is_sandbox_version("v1.35.0+oplab-sandbox"));
        assert!(!is_sandbox_version("v1.35.0"));
    }
}
