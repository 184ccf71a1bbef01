//! The board as JSON, CSV (one line per attendee and task) or JUnit XML (a test suite per attendee).

use super::snapshot::{Cell, Column, Snapshot, TaskKind};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;

/// Export formats of `oplab classroom --export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
    Junit,
}

/// The board in `format`.
pub fn render(s: &Snapshot, format: Format) -> Result<String, String> {
    match format {
        Format::Json => Ok(json(s)),
        Format::Csv => csv(s),
        Format::Junit => junit(s),
    }
}

fn kind(c: &Column) -> &'static str {
    match c.kind {
        TaskKind::Attendee => "attendee",
        TaskKind::Quiz => "quiz",
        TaskKind::Shared => "shared",
    }
}

/// Attendees with every task's status and reason, a summary per task, the shared tasks.
pub fn json(s: &Snapshot) -> String {
    let done = s.done();
    let gradable = s.gradable();
    let attendees: Vec<_> = s
        .rows
        .iter()
        .map(|r| {
            let tasks: Vec<_> = s
                .tasks
                .iter()
                .zip(&r.cells)
                .map(|(c, cell)| {
                    json!({"lab": c.lab, "task": c.task, "status": cell.status(), "reason": cell.reason()})
                })
                .collect();
            json!({"name": r.name, "passed": r.passed(), "gradable": gradable, "tasks": tasks})
        })
        .collect();
    let tasks: Vec<_> = s
        .tasks
        .iter()
        .zip(&done)
        .map(|(c, n)| {
            json!({"lab": c.lab, "task": c.task, "title": c.title, "kind": kind(c),
                   "done": n, "attendees": s.rows.len()})
        })
        .collect();
    let shared: Vec<_> = s
        .shared
        .iter()
        .map(|(c, cell)| {
            json!({"lab": c.lab, "task": c.task, "title": c.title, "instructor": c.instructor,
                   "status": cell.status(), "reason": cell.reason()})
        })
        .collect();
    let doc = json!({
        "connection": s.connection.to_string(),
        "attendees": attendees,
        "tasks": tasks,
        "shared": shared,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into())
}

/// `attendee,lab,task,title,status,reason`: a line per attendee and task; shared tasks (instructor
/// steps, the same for everyone) once, with an empty attendee.
pub fn csv(s: &Snapshot) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| format!("writing CSV: {e}");
    w.write_record(["attendee", "lab", "task", "title", "status", "reason"])
        .map_err(err)?;
    for (c, cell) in &s.shared {
        w.write_record(["", &c.lab, &c.task, &c.title, cell.status(), cell.reason()])
            .map_err(err)?;
    }
    for r in &s.rows {
        for (c, cell) in s.tasks.iter().zip(&r.cells) {
            w.write_record([
                r.name.as_str(),
                &c.lab,
                &c.task,
                &c.title,
                cell.status(),
                cell.reason(),
            ])
            .map_err(err)?;
        }
    }
    let bytes = w.into_inner().map_err(|e| format!("writing CSV: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("writing CSV: {e}"))
}

fn case(c: &Column, cell: &Cell) -> TestCase {
    let status = match cell {
        Cell::Pass => TestCaseStatus::success(),
        Cell::Fail(r) | Cell::NotStarted(r) | Cell::Unknown(r) => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(r.lines().next().unwrap_or_default().to_string());
            st.set_description(r.to_string());
            st.set_type(cell.status());
            st
        }
        Cell::NotGradable(r) => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(r.lines().next().unwrap_or_default().to_string());
            st
        }
    };
    let mut case = TestCase::new(c.task.clone(), status);
    case.set_classname(c.lab.clone());
    case
}

/// A test suite per attendee (a test case per task, classname the lab), and one `shared` suite.
pub fn junit(s: &Snapshot) -> Result<String, String> {
    let mut report = Report::new("oplab classroom");
    let mut shared = TestSuite::new("shared");
    for (c, cell) in &s.shared {
        shared.add_test_case(case(c, cell));
    }
    report.add_test_suite(shared);
    for r in &s.rows {
        let mut suite = TestSuite::new(r.name.clone());
        for (c, cell) in s.tasks.iter().zip(&r.cells) {
            suite.add_test_case(case(c, cell));
        }
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .map_err(|e| format!("writing JUnit XML: {e}"))
}
