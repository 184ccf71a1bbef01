//! Printing verdicts: text for people, JSON for scripts, JUnit XML (quick-junit) for CI.

use super::{TaskVerdict, Verdict};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

/// Output formats of `oplab check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
}

/// Whether a set of verdicts is a success: nothing failed or disconnected, and something passed
/// or was only skipped / not checkable.
pub fn success(vs: &[TaskVerdict]) -> bool {
    !vs.iter()
        .any(|v| matches!(v.verdict, Verdict::Fail(_) | Verdict::Disconnected(_)))
}

/// `N passed, M failed, K skipped` (cannot-check counts as skipped, disconnected as failed).
pub fn summary(vs: &[TaskVerdict]) -> String {
    let passed = vs.iter().filter(|v| v.verdict.is_pass()).count();
    let failed = vs
        .iter()
        .filter(|v| matches!(v.verdict, Verdict::Fail(_) | Verdict::Disconnected(_)))
        .count();
    format!(
        "{passed} passed, {failed} failed, {} skipped",
        vs.len() - passed - failed
    )
}

/// When a task was done (from the progress records), for the `done` column of the reports.
pub type DoneOf<'a> = &'a dyn Fn(&TaskVerdict) -> Option<String>;

pub fn text(vs: &[TaskVerdict]) -> String {
    text_with_done(vs, &|_| None)
}

/// [`text`], with a `done ...` line under each task the records say was done.
pub fn text_with_done(vs: &[TaskVerdict], done: DoneOf<'_>) -> String {
    let mut out = String::new();
    let mut lab = "";
    for v in vs {
        if v.lab != lab {
            lab = &v.lab;
            out.push_str(&format!("{lab}\n"));
        }
        let mark = match v.verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail(_) => "FAIL",
            Verdict::CannotCheck(_) => "CANNOT CHECK",
            Verdict::Skipped(_) => "SKIP",
            Verdict::Disconnected(_) => "DISCONNECTED",
        };
        out.push_str(&format!("  {mark:<12} {}  {}\n", v.task, v.title));
        for line in v.verdict.reason().lines() {
            out.push_str(&format!("               {line}\n"));
        }
        if let Some(d) = done(v) {
            out.push_str(&format!("               done {d}\n"));
        }
    }
    out.push_str(&summary(vs));
    out.push('\n');
    out
}

pub fn json(vs: &[TaskVerdict]) -> String {
    json_with_done(vs, &|_| None)
}

/// [`json`] with a `done` field per task: when it was done, or null.
pub fn json_with_done(vs: &[TaskVerdict], done: DoneOf<'_>) -> String {
    let items: Vec<serde_json::Value> = vs
        .iter()
        .map(|v| {
            serde_json::json!({
                "lab": v.lab,
                "task": v.task,
                "title": v.title,
                "status": v.verdict.status(),
                "reason": v.verdict.reason(),
                "done": done(v),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "success": success(vs),
        "summary": summary(vs),
        "tasks": items,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
}

pub fn junit(vs: &[TaskVerdict]) -> String {
    let mut report = Report::new("oplab check");
    let mut suites: Vec<TestSuite> = Vec::new();
    for v in vs {
        if suites.last().is_none_or(|s| s.name.as_str() != v.lab) {
            suites.push(TestSuite::new(v.lab.clone()));
        }
        let status = match &v.verdict {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::Fail(r) | Verdict::Disconnected(r) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(first_line(r));
                s.set_description(r.clone());
                s.set_type(v.verdict.status());
                s
            }
            Verdict::CannotCheck(r) | Verdict::Skipped(r) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(first_line(r));
                s
            }
        };
        let mut case = TestCase::new(v.task.clone(), status);
        case.set_classname(v.lab.clone());
        if let Some(s) = suites.last_mut() {
            s.add_test_case(case);
        }
    }
    report.add_test_suites(suites);
    report
        .to_string()
        .unwrap_or_else(|e| format!("<testsuites><!-- {e} --></testsuites>"))
}

fn first_line(r: &str) -> String {
    r.lines().next().unwrap_or_default().to_string()
}
