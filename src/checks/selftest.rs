//! `oplab labs test`: the author's self-test. On a fresh in-process sandbox per lab, every task's
//! check must fail before and pass after its solution is carried out; tasks that need what the
//! sandbox cannot give (a real cluster, exec, a program, a quiz answer) are listed with the reason.

use super::{Engine, TaskVerdict, Verdict, actions};
use crate::cluster::apply::{self, Settings};
use crate::cluster::{Vars as SetVars, load_documents};
use crate::lab::{CodeBlock, Lab, NeedKind, OperatorKind, Task};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a fresh sandbox's watches may take to list.
pub(super) const SETTLE: Duration = Duration::from_secs(10);

/// Starts oplab's built-in Gordon operator for a namespace until `stop`; its log is discarded.
fn start_builtin_operator(
    client: &kube::Client,
    ns: &str,
    stop: CancellationToken,
) -> Result<(), String> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let scope = crate::operator::Scope::Namespace(ns.to_string());
    let client = client.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::operator::run(client, scope, tx, stop).await {
            tracing::warn!(
                "labs test: the built-in operator stopped: {}",
                crate::explain::anyhow_text(&e)
            );
        }
    });
    Ok(())
}

/// Whether the built-in operator can run in this build.
pub fn builtin_operator_available() -> bool {
    true
}

/// A Python that can run the reference operator: `OPLAB_PYTHON`, else `python3` if it has the
/// `kubernetes` package.
pub fn reference_python() -> Option<std::path::PathBuf> {
    let candidate = python_candidate();
    let ok = std::process::Command::new(&candidate)
        .args(["-c", "import kubernetes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(candidate)
}

/// The Python `reference_python` tries: `OPLAB_PYTHON`, else `python3`.
fn python_candidate() -> std::path::PathBuf {
    std::env::var_os("OPLAB_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "python3".into())
}

/// Whether that Python starts at all (it may still lack the `kubernetes` package).
fn python_candidate_runs() -> bool {
    std::process::Command::new(python_candidate())
        .args(["-c", "pass"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The skip reason when python3 is there but cannot `import kubernetes`, with how to get it.
fn python_lacks_kubernetes() -> String {
    let python = python_candidate();
    let shown = python.display();
    let via = if std::env::var_os("OPLAB_PYTHON").is_some() {
        format!("{shown} (OPLAB_PYTHON)")
    } else {
        shown.to_string()
    };
    format!(
        "{via} lacks the kubernetes package: install it (`python3 -m venv .venv && .venv/bin/pip install kubernetes`) and set OPLAB_PYTHON=.venv/bin/python3, or `pip install kubernetes` for that python3"
    )
}

/// Starts the chapter's reference Python operator for a namespace; it stops when `children` is dropped.
fn start_python_operator(
    kubeconfig: &std::path::Path,
    ns: &str,
    children: &mut Vec<tokio::process::Child>,
) -> Result<(), String> {
    let python = reference_python().ok_or("no python3 with the kubernetes package")?;
    let dir = kubeconfig
        .parent()
        .ok_or("no directory for the operator script")?;
    let script = dir.join("gordon_operator.py");
    crate::files::write_new(
        &script,
        crate::lab::gordon_reference_solution().as_bytes(),
        crate::files::PRIVATE,
    )
    .map_err(|e| format!("{e:#}"))?;
    let child = tokio::process::Command::new(python)
        .arg(&script)
        .args(["-n", ns, "--kubeconfig"])
        .arg(kubeconfig)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting the reference Python operator: {e}"))?;
    children.push(child);
    Ok(())
}

/// Why a task cannot be proven on the sandbox, if so.
pub fn skip_reason(task: &Task) -> Option<String> {
    if task.check.quiz().is_some() {
        return Some("a quiz: answered by the attendee".into());
    }
    for need in &task.needs {
        match &need.kind {
            NeedKind::RealCluster => return Some(format!("needs a real cluster: {}", need.reason)),
            NeedKind::Program(p) if p == "python3" && reference_python().is_some() => {}
            // etcd runs for real in the sandbox's etcd pods when it is installed.
            NeedKind::Program(p)
                if p == "etcd" && crate::sandbox::controllers::procs::etcd_available() => {}
            NeedKind::Program(p) if p == "etcd" => {
                return Some(format!(
                    "needs the program etcd: {} ({})",
                    need.reason,
                    crate::sandbox::controllers::procs::ETCD_INSTALL_HINT
                ));
            }
            NeedKind::Program(p) if p == "python3" && python_candidate_runs() => {
                return Some(python_lacks_kubernetes());
            }
            NeedKind::Program(p) => return Some(format!("needs the program {p}: {}", need.reason)),
            NeedKind::Network => return Some(format!("needs network access: {}", need.reason)),
            NeedKind::ClusterAdmin => {}
        }
    }
    // Exec checks run against the sandbox's process-backed pods (etcd); their `needs` say what they need.
    if let Some(op) = &task.solution.operator {
        match op.kind {
            OperatorKind::ReferencePython if reference_python().is_none() => {
                return Some(if python_candidate_runs() {
                    format!(
                        "needs the Python reference operator: {}",
                        python_lacks_kubernetes()
                    )
                } else {
                    "needs the Python reference operator: a python3 with the kubernetes package (set OPLAB_PYTHON to one)"
                        .into()
                });
            }
            OperatorKind::ReferencePython => {}
            OperatorKind::Builtin if !builtin_operator_available() => {
                return Some(
                    "needs operator: the built-in Gordon operator is not part of this build yet"
                        .into(),
                );
            }
            OperatorKind::Builtin => {}
        }
    }
    if task.solution.apply.is_empty()
        && task.solution.sets.is_empty()
        && task.solution.actions.is_empty()
        && task.solution.operator.is_none()
    {
        return Some("the solution has nothing a machine can carry out".into());
    }
    None
}

fn set_vars(lab: &Lab) -> SetVars {
    SetVars(lab.default_vars().0)
}

/// Applies a code block with the apply engine exactly as the TUI's `a` does (its `validate=` too).
async fn apply_block(client: &kube::Client, lab: &Lab, block: &CodeBlock) -> Result<(), String> {
    let namespace = block
        .attrs
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    if let Some(m) = &block.attrs.manifest
        && (m.file.is_none() || block.text.trim().is_empty())
    {
        return apply_sets(client, lab, &[m.to_string()], &namespace).await;
    }
    let name = format!("{}:{}", lab.path.display(), block.line);
    // the block's own field validation, as the TUI's `a` applies it
    actions::apply_yaml_validated(
        client,
        &name,
        &block.text,
        &namespace,
        true,
        block.attrs.validate,
    )
    .await
    .map(|_| ())
}

async fn apply_sets(
    client: &kube::Client,
    lab: &Lab,
    sets: &[String],
    namespace: &str,
) -> Result<(), String> {
    let docs = load_documents(sets, &set_vars(lab)).map_err(|f| f.to_string())?;
    // A solution is authoritative: it takes over fields an earlier task's actions changed
    // (e.g. replicas scaled by a probe), as an attendee re-applying it with --force-conflicts would.
    let settings = Settings {
        namespace: namespace.to_string(),
        force_conflicts: true,
        ..Default::default()
    };
    apply::apply(client, docs, &settings, None)
        .await
        .map(|_| ())
        .map_err(|f| f.to_string())
}

/// Carries out a task's solution: sets, code blocks, the operator, then the actions.
/// What carrying out solutions needs besides the client: the sandbox's kubeconfig (for the Python
/// operator) and the operator processes started so far.
pub(super) struct Operators<'a> {
    pub(super) kubeconfig: &'a std::path::Path,
    pub(super) children: &'a mut Vec<tokio::process::Child>,
    /// Stops the built-in operators started so far.
    pub(super) builtin: &'a mut Vec<CancellationToken>,
    /// The operators running: (kind, namespace); one of each is enough (two would fight).
    pub(super) running: &'a mut Vec<(OperatorKind, String)>,
}

pub(super) async fn carry_out(
    client: &kube::Client,
    lab: &Lab,
    task: &Task,
    stop: &CancellationToken,
    ops: &mut Operators<'_>,
) -> Result<(), String> {
    let s = &task.solution;
    if !s.sets.is_empty() {
        let sets: Vec<String> = s.sets.iter().map(ToString::to_string).collect();
        apply_sets(client, lab, &sets, "default").await?;
    }
    for id in &s.apply {
        let block = lab.code_block(id).ok_or_else(|| {
            format!("the solution names code block {id}, which the lab does not have")
        })?;
        apply_block(client, lab, block)
            .await
            .map_err(|e| format!("applying block {id}: {e}"))?;
    }
    if let Some(op) = &s.operator
        && !ops
            .running
            .iter()
            .any(|(k, ns)| *k == op.kind && *ns == op.namespace)
    {
        ops.running.push((op.kind, op.namespace.clone()));
        match op.kind {
            OperatorKind::Builtin => {
                let token = stop.child_token();
                ops.builtin.push(token.clone());
                start_builtin_operator(client, &op.namespace, token)?;
            }
            OperatorKind::ReferencePython => {
                // The exercise is graded with the built-in operator switched off.
                for token in ops.builtin.drain(..) {
                    token.cancel();
                }
                ops.running.retain(|(k, _)| *k != OperatorKind::Builtin);
                start_python_operator(ops.kubeconfig, &op.namespace, ops.children)?;
            }
        }
    }
    for a in &s.actions {
        actions::run(client, a).await?;
    }
    Ok(())
}

/// The outcome of one lab's self-test.
#[derive(Debug, Clone, Default)]
pub struct LabReport {
    pub verdicts: Vec<TaskVerdict>,
    /// Things found on the way that did not fail a task (`task: note`).
    pub notes: Vec<String>,
}

/// Tests one lab on a fresh sandbox; each result is printed through `print` as it comes.
pub async fn test_lab(lab: &Lab, print: &mut dyn FnMut(&TaskVerdict)) -> anyhow::Result<LabReport> {
    let lab = lab.render_vars(&lab.default_vars());
    let mut options = crate::sandbox::Options::default();
    options.config.pod_start_delay = Duration::from_millis(50);
    let sandbox = crate::sandbox::Sandbox::start(options).await?;
    let client = sandbox.client().await?;
    // A fresh private directory (0700, unpredictable name): the kubeconfig holds the test sandbox's admin
    // token and the reference operator is run from there.
    let dir = crate::files::private_temp_dir(&format!("oplab-labs-test-{}-", lab.id))?;
    let kubeconfig = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kubeconfig)?;
    let mut children = Vec::new();
    let mut builtin = Vec::new();
    let mut running = Vec::new();
    let mut engine = Engine::new(client.clone());
    let stop = CancellationToken::new();
    let mut out = Vec::new();
    let mut all_notes = Vec::new();
    for task in lab.tasks() {
        let mut notes = Vec::new();
        let verdict = match skip_reason(task) {
            Some(why) => Verdict::Skipped(why),
            None => {
                let mut ops = Operators {
                    kubeconfig: &kubeconfig,
                    children: &mut children,
                    builtin: &mut builtin,
                    running: &mut running,
                };
                prove(
                    &mut engine,
                    &client,
                    &lab,
                    task,
                    &stop,
                    &mut notes,
                    &mut ops,
                )
                .await
            }
        };
        all_notes.extend(notes.into_iter().map(|n| format!("{}: {n}", task.id)));
        let v = TaskVerdict {
            lab: lab.id.clone(),
            task: task.id.clone(),
            title: task.title.clone(),
            verdict,
        };
        print(&v);
        out.push(v);
    }
    stop.cancel();
    drop(children);
    drop(engine);
    sandbox.shutdown();
    drop(dir);
    Ok(LabReport {
        verdicts: out,
        notes: all_notes,
    })
}

async fn prove(
    engine: &mut Engine,
    client: &kube::Client,
    lab: &Lab,
    task: &Task,
    stop: &CancellationToken,
    // for what a proof finds on the way without failing (none since blocks carry `validate=`)
    _notes: &mut Vec<String>,
    ops: &mut Operators<'_>,
) -> Verdict {
    let i = engine.add(&lab.id, task);
    engine.settle(SETTLE).await;
    let probe = task.check.changes_cluster();
    let exec = task.check.uses_exec();
    if !probe {
        if exec {
            engine.run_execs(&[i]).await;
        }
        let before = engine.evaluate(i);
        match before.verdict {
            Verdict::Pass => {
                return Verdict::Fail("the check passes before the solution is carried out".into());
            }
            Verdict::Disconnected(r) => {
                return Verdict::Fail(format!("before the solution: disconnected: {r}"));
            }
            _ => {}
        }
    }
    if let Err(e) = carry_out(client, lab, task, stop, ops).await {
        return Verdict::Fail(format!("carrying out the solution: {e}"));
    }
    engine.stores().rediscover();
    let after = if probe {
        engine.wait_pass_probe(i).await
    } else if exec {
        engine.wait_pass_exec(i, task.timeout).await
    } else {
        engine.wait_pass(i, task.timeout).await
    };
    match after.verdict {
        Verdict::Pass => Verdict::Pass,
        other => Verdict::Fail(format!(
            "after the solution, within {}: {}",
            crate::lab::duration::format(task.timeout),
            other.reason()
        )),
    }
}
