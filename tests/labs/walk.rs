//! A finished walk passes: `oplab labs test --in-order` carries out every lab's solutions in order on
//! one sandbox; each task passes on the way (done) and every one still passes at the end (now).

use crate::common;

use std::process::Command;

#[test]
fn a_finished_walk_passes_every_task_done_and_now() {
    let out = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["labs", "test", "--in-order"])
        .env("OPLAB_PYTHON", common::python_with_client())
        .output()
        .expect("oplab runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // the tasks that used to ask contradictory states of one object
    for task in [
        "gordon-operator/gordon-example",
        "gordon-operator/gordon-scale",
        "gordon-operator/python-operator-creates",
        "gordon-operator/python-operator-scales-down",
        "gordon-operator/python-operator-heals",
        "custom-resources/crontab-object",
    ] {
        assert!(
            text.contains(&format!("walk PASS {task}")),
            "{task} not done on the way:\n{text}"
        );
        assert!(
            text.contains(&format!("end  PASS {task}")),
            "{task} fails at the end:\n{text}"
        );
    }
    let walked = text
        .lines()
        .filter(|l| l.trim_start().starts_with("walk "))
        .count();
    let ended = text
        .lines()
        .filter(|l| l.trim_start().starts_with("end  PASS"))
        .count();
    assert!(walked >= 10, "{text}");
    assert_eq!(
        walked, ended,
        "every task done on the way must pass at the end:\n{text}"
    );
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("at the end of the walk: ") && last.contains(" 0 failed"),
        "{last}"
    );
}
