//! `oplab labs test --in-order`: a finished walk passes. Every lab's solutions are carried out in
//! order on ONE sandbox, as an attendee works through the workshop: each task must pass once on
//! the way (done), and at the end every task must still pass (now). Probes run on the way; at the
//! end their expectation is read again without repeating the action.

use super::selftest::{Operators, SETTLE, carry_out, skip_reason};
use super::{Engine, TaskVerdict, Verdict};
use crate::lab::{Check, Lab};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long the end-of-walk reading of a task may wait for its watches.
const AT_THE_END: Duration = Duration::from_secs(20);

/// The outcome of a walk: one verdict per task of every lab, and notes.
#[derive(Debug, Clone, Default)]
pub struct WalkReport {
    pub verdicts: Vec<TaskVerdict>,
    pub notes: Vec<String>,
}

/// Walks `labs` in order on one fresh sandbox. `print` gets each task's walk verdict as it comes
/// (`on the way`) and the end verdicts are returned.
pub async fn walk(
    labs: &[&Lab],
    print: &mut dyn FnMut(&str, &TaskVerdict),
) -> anyhow::Result<WalkReport> {
    let labs: Vec<Lab> = labs
        .iter()
        .map(|l| l.render_vars(&l.default_vars()))
        .collect();
    let mut options = crate::sandbox::Options::default();
    options.config.pod_start_delay = Duration::from_millis(50);
    let sandbox = crate::sandbox::Sandbox::start(options).await?;
    let client = sandbox.client().await?;
    let dir = private_dir()?;
    let kubeconfig = dir.join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig)?;
    let (mut children, mut builtin, mut running) = (Vec::new(), Vec::new(), Vec::new());
    let stop = CancellationToken::new();
    let mut engine = Engine::new(client.clone());
    let mut report = WalkReport::default();
    // (lab, task index in its lab, what happened on the way: None = done)
    let mut walked: Vec<(usize, usize, Option<String>)> = Vec::new();
    for (li, lab) in labs.iter().enumerate() {
        for (ti, task) in lab.tasks().enumerate() {
            if let Some(why) = skip_reason(task) {
                let v = verdict(lab, task, Verdict::Skipped(why));
                print("skip", &v);
                report.verdicts.push(v);
                continue;
            }
            let mut ops = Operators {
                kubeconfig: &kubeconfig,
                children: &mut children,
                builtin: &mut builtin,
                running: &mut running,
            };
            let i = engine.add(&lab.id, task);
            engine.settle(SETTLE).await;
            let on_the_way = match carry_out(&client, lab, task, &stop, &mut ops).await {
                Err(e) => Verdict::Fail(format!("carrying out the solution: {e}")),
                Ok(()) => {
                    engine.stores().rediscover();
                    if task.check.changes_cluster() {
                        engine.wait_pass_probe(i).await.verdict
                    } else if task.check.uses_exec() {
                        engine.wait_pass_exec(i, task.timeout).await.verdict
                    } else {
                        engine.wait_pass(i, task.timeout).await.verdict
                    }
                }
            };
            let failed = (!on_the_way.is_pass()).then(|| on_the_way.reason().to_string());
            print(
                "walk",
                &verdict(
                    lab,
                    task,
                    match &failed {
                        None => Verdict::Pass,
                        Some(r) => Verdict::Fail(r.clone()),
                    },
                ),
            );
            walked.push((li, ti, failed));
            report.verdicts.push(verdict(lab, task, Verdict::Pass));
        }
    }
    // At the end: every task done on the way must still pass.
    for (li, ti, failed) in walked {
        let lab = &labs[li];
        let Some(task) = lab.tasks().nth(ti) else {
            continue;
        };
        let check = match &task.check {
            Check::Probe(p) => p.expect.as_ref().clone(),
            other => other.clone(),
        };
        let exec = check.uses_exec();
        let i = engine.add_check(&lab.id, &task.id, &task.title, check);
        engine.settle(SETTLE).await;
        let now = if exec {
            engine.wait_pass_exec(i, AT_THE_END).await.verdict
        } else {
            engine.wait_pass(i, AT_THE_END).await.verdict
        };
        let end = match (failed, now) {
            (None, Verdict::Pass) => Verdict::Pass,
            (Some(r), Verdict::Pass) => Verdict::Fail(format!("never passed on the way: {r}")),
            (None, now) => Verdict::Fail(format!(
                "passed on the way, fails at the end of the walk: {}",
                now.reason()
            )),
            (Some(r), now) => Verdict::Fail(format!(
                "never passed on the way ({r}), and fails at the end: {}",
                now.reason()
            )),
        };
        let v = verdict(lab, task, end);
        print("end", &v);
        if let Some(slot) = report
            .verdicts
            .iter_mut()
            .find(|x| x.lab == v.lab && x.task == v.task)
        {
            *slot = v;
        }
    }
    stop.cancel();
    drop(children);
    drop(engine);
    sandbox.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

/// A new directory only this user can enter, created exclusively (never one that existed).
fn private_dir() -> std::io::Result<std::path::PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir =
        std::env::temp_dir().join(format!("oplab-labs-walk-{}-{nanos:09}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

fn verdict(lab: &Lab, task: &crate::lab::Task, verdict: Verdict) -> TaskVerdict {
    TaskVerdict {
        lab: lab.id.clone(),
        task: task.id.clone(),
        title: task.title.clone(),
        verdict,
    }
}
