//! Progress files: save and restore, atomic writes, corrupt files set aside and reported.

use oplab::tui::progress::{LabProgress, Position, Progress, ProgressStore};
use oplab::tui::{App, AppConfig, Level, Theme};

fn sample() -> Progress {
    let mut p = Progress::new();
    p.current = Some(Position {
        lab: "gordon-operator".into(),
        step: 2,
    });
    let mut lab = LabProgress::default();
    lab.done.insert("gordon-crd".into());
    lab.hints.insert("three-gordons".into(), 2);
    lab.solutions.insert("three-gordons".into());
    p.labs.insert("gordon-operator".into(), lab);
    p
}

#[test]
fn saves_and_restores_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ProgressStore::at(dir.path().join("deep/dir/progress.json"));
    assert_eq!(
        store.load().progress,
        Progress::new(),
        "missing file: fresh start"
    );
    store.save(&sample()).expect("save");
    let loaded = store.load();
    assert!(loaded.note.is_none());
    assert_eq!(loaded.progress, sample());
    assert!(loaded.progress.is_done("gordon-operator", "gordon-crd"));
    assert_eq!(loaded.progress.hints("gordon-operator", "three-gordons"), 2);
    // Only the file itself is left: the temporary file was renamed over it.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("deep/dir"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["progress.json"]);
}

#[test]
fn a_corrupt_file_is_moved_aside_and_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("progress.json");
    std::fs::write(&path, b"{\"version\": 1, \"current\": [not json").expect("write");
    let loaded = ProgressStore::at(&path).load();
    assert_eq!(loaded.progress, Progress::new());
    let note = loaded.note.expect("a note for the log");
    assert!(note.contains("is corrupt"), "{note}");
    assert!(!path.exists(), "the corrupt file is moved away");
    let aside: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(aside.len(), 1);
    assert!(aside[0].starts_with("progress.json.corrupt-"), "{aside:?}");
    assert!(note.contains(&aside[0]), "{note}");
}

#[test]
fn an_unknown_version_is_set_aside_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("progress.json");
    std::fs::write(&path, b"{\"version\": 99}").expect("write");
    let loaded = ProgressStore::at(&path).load();
    assert!(
        loaded
            .note
            .is_some_and(|n| n.contains("unknown version 99"))
    );
}

#[test]
fn the_app_reports_a_corrupt_file_in_its_log_and_still_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("progress.json");
    std::fs::write(&path, b"\xff\xfe garbage").expect("write");
    let app = App::new(
        oplab::lab::load_embedded(),
        AppConfig {
            theme: Theme::plain(),
            store: ProgressStore::at(&path),
        },
    );
    assert_eq!((app.lab, app.step), (0, 0));
    assert!(
        app.log
            .iter()
            .any(|l| l.level == Level::Warn && l.text.contains("is corrupt")),
        "{:?}",
        app.log
    );
}

#[test]
fn restoring_clamps_a_step_that_no_longer_exists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ProgressStore::at(dir.path().join("progress.json"));
    let mut p = Progress::new();
    p.current = Some(Position {
        lab: "operator-sdk".into(),
        step: 999,
    });
    store.save(&p).expect("save");
    let app = App::new(
        oplab::lab::load_embedded(),
        AppConfig {
            theme: Theme::plain(),
            store,
        },
    );
    let lab = app.current_lab().expect("a lab");
    assert_eq!(lab.id, "operator-sdk");
    assert_eq!(app.step, lab.steps.len() - 1);
}

fn app_for(path: &std::path::Path, attendee: Option<&str>) -> App {
    App::with_attendee(
        oplab::lab::load_embedded(),
        AppConfig {
            theme: Theme::plain(),
            store: ProgressStore::at(path),
        },
        attendee,
    )
}

/// The text of every code block of a lab, joined.
fn lab_code(app: &App, id: &str) -> String {
    let lab = app.labs.iter().find(|l| l.id == id).expect("lab");
    lab.steps
        .iter()
        .flat_map(|s| s.blocks.iter())
        .filter_map(|b| match b {
            oplab::lab::Block::Code(c) => Some(c.text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_file_from_before_attendees_still_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("progress.json");
    std::fs::write(
        &path,
        br#"{"version": 1, "current": {"lab": "gordon-operator", "step": 1},
            "labs": {"gordon-operator": {"done": ["gordon-crd"]}}}"#,
    )
    .expect("write");
    let loaded = ProgressStore::at(&path).load();
    assert!(loaded.note.is_none(), "{:?}", loaded.note);
    assert_eq!(loaded.progress.attendee, None);
    assert!(loaded.progress.is_done("gordon-operator", "gordon-crd"));
    // Saving without an attendee writes no attendee field.
    ProgressStore::at(&path)
        .save(&loaded.progress)
        .expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(!text.contains("attendee"), "{text}");
}

#[test]
fn the_attendee_is_saved_replaced_and_forgotten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("progress.json");
    let app = app_for(&path, None);
    assert_eq!(app.attendee, None);
    assert!(lab_code(&app, "gordon-operator").contains("namespace: \"gordon\""));

    // --attendee alice: saved, and the labs use alice's namespaces.
    let app = app_for(&path, Some("alice"));
    assert_eq!(app.attendee.as_deref(), Some("alice"));
    let code = lab_code(&app, "gordon-operator");
    assert!(code.contains("namespace: \"alice-gordon\""), "{code}");
    assert!(!code.contains("namespace: \"gordon\""), "{code}");
    assert!(
        app.log
            .iter()
            .any(|l| l.text.contains("later runs need no --attendee"))
    );
    assert_eq!(
        ProgressStore::at(&path).load().progress.attendee.as_deref(),
        Some("alice")
    );

    // A later run without the flag is still alice, tasks' checks included.
    let app = app_for(&path, None);
    assert_eq!(app.attendee.as_deref(), Some("alice"));
    let lab = app
        .labs
        .iter()
        .find(|l| l.id == "olm-and-etcd")
        .expect("lab");
    let checks = format!("{:?}", lab.tasks().map(|t| &t.check).collect::<Vec<_>>());
    assert!(checks.contains("alice-etc2"), "{checks}");

    // Another name wins over the saved one and says so.
    let app = app_for(&path, Some("bob"));
    assert_eq!(app.attendee.as_deref(), Some("bob"));
    assert!(
        app.log
            .iter()
            .any(|l| l.text.contains("attendee bob replaces alice")),
        "{:?}",
        app.log
    );
    // A name that cannot prefix namespaces is refused; the saved one stays.
    let app = app_for(&path, Some("Not_OK"));
    assert_eq!(app.attendee.as_deref(), Some("bob"));
    assert!(
        app.log
            .iter()
            .any(|l| l.level == Level::Error && l.text.contains("not a usable attendee name"))
    );

    // An empty name forgets it.
    let app = app_for(&path, Some(""));
    assert_eq!(app.attendee, None);
    assert!(lab_code(&app, "gordon-operator").contains("namespace: \"gordon\""));
    assert_eq!(ProgressStore::at(&path).load().progress.attendee, None);
}
