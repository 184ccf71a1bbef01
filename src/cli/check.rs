//! `oplab check`: grades tasks against a cluster once (or until they pass), as text, JSON or JUnit.

use super::apply::ClusterArgs;
use crate::checks::report::{self, Format};
use crate::checks::{Engine, TaskVerdict, Verdict, grading};
use crate::lab::{self, Vars};
use crate::tui::progress::{Progress, ProgressStore};
use anyhow::Context;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Only this lab (id).
    #[arg(long)]
    pub lab: Option<String>,
    /// Only this task (id; with --lab when ids repeat).
    #[arg(long)]
    pub task: Option<String>,
    /// The namespace for the `{{ns}}` variable of the labs.
    #[arg(short, long, conflicts_with = "attendee")]
    pub namespace: Option<String>,
    /// Grade a classroom attendee: the labs' namespace variables become theirs (NAME-gordon, ...).
    #[arg(long, value_name = "NAME")]
    pub attendee: Option<String>,
    /// Wait until every selected task passes, watch-driven, at most this long (e.g. 30s, 2m).
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
    /// Run probes too (they change the cluster: delete a pod, scale, ...).
    #[arg(long)]
    pub probe: bool,
    /// The progress file that quiz answers and done records are read from (default: the user's,
    /// `~/.local/state/oplab/progress.json`).
    #[arg(long, value_name = "FILE")]
    pub progress: Option<std::path::PathBuf>,
    /// Report from the records instead of the cluster: which tasks were done (passed at least
    /// once), when and for whom. Without it, tasks are graded now, live.
    #[arg(long, conflicts_with_all = ["wait", "probe"])]
    pub done: bool,
    /// Skipped tasks (needs this cluster or machine cannot meet, unanswered quizzes) fail too.
    #[arg(long)]
    pub strict: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// The progress file to read: `--progress`, else the user's.
fn progress(args: &CheckArgs) -> anyhow::Result<(String, Option<Progress>)> {
    let path = match &args.progress {
        Some(p) => p.clone(),
        None => match ProgressStore::default_path() {
            Some(p) => p,
            None => return Ok(("no progress file (no state directory)".into(), None)),
        },
    };
    let p = Progress::read_only(&path).map_err(|e| anyhow::anyhow!("--progress: {e}"))?;
    if p.is_none() && args.progress.is_some() {
        anyhow::bail!("--progress: {} does not exist", path.display());
    }
    Ok((path.display().to_string(), p))
}

/// `done 2026-12-04T10:42:00Z (for alice)`, from the records.
fn done_text(progress: Option<&Progress>, v: &TaskVerdict) -> Option<String> {
    let r = progress?.done_record(&v.lab, &v.task)?;
    Some(match &r.by {
        Some(by) => format!("{} for {by}", r.at),
        None => r.at.clone(),
    })
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let wait = args
        .wait
        .as_deref()
        .map(lab::duration::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--wait: {e}"))?;
    if let Some(name) = &args.attendee {
        crate::classroom::validate_attendee_name(name)
            .map_err(|e| anyhow::anyhow!("--attendee: {e}"))?;
    }
    let set = lab::load_embedded();
    let mut selected = Vec::new();
    for l in &set.labs {
        if args.lab.as_ref().is_some_and(|id| *id != l.id) {
            continue;
        }
        let mut vars = match &args.attendee {
            Some(name) => l.attendee_vars(name),
            None => Vars::default(),
        };
        if let Some(ns) = &args.namespace {
            vars.set("ns", ns.clone());
        }
        let l = l.render_vars(&vars);
        for t in l.tasks() {
            if args.task.as_ref().is_none_or(|id| *id == t.id) {
                selected.push((l.id.clone(), t.clone()));
            }
        }
    }
    if selected.is_empty() {
        anyhow::bail!("no task matches --lab/--task (`oplab labs list` shows them)");
    }
    let (source, progress) = progress(&args)?;
    let verdict_of = |lab: &str, t: &lab::Task, verdict: Verdict| TaskVerdict {
        lab: lab.to_string(),
        task: t.id.clone(),
        title: t.title.clone(),
        verdict,
    };
    let verdicts = if args.done {
        selected
            .iter()
            .map(|(l, t)| {
                let done = progress.as_ref().is_some_and(|p| p.is_done(l, &t.id));
                let v = if done {
                    Verdict::Pass
                } else {
                    Verdict::Fail(format!("not done yet (according to {source})"))
                };
                verdict_of(l, t, v)
            })
            .collect()
    } else {
        let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
        rt.block_on(async {
            let conn = args.cluster.target().connect().await?;
            if let Some(note) = conn.sandbox_note() {
                eprintln!("note: {note}");
            }
            let version = conn.client.apiserver_version().await.ok();
            let facts = grading::Facts {
                sandbox: conn.sandbox.is_some()
                    || version.is_some_and(|v| grading::is_sandbox_version(&v.git_version)),
            };
            // Quizzes from the progress file, unmet needs skipped; the rest from the cluster.
            let mut vs: Vec<Option<TaskVerdict>> = selected
                .iter()
                .map(|(l, t)| {
                    let v = match t.check.quiz() {
                        Some(q) => Some(grading::quiz_verdict(
                            q,
                            progress.as_ref().and_then(|p| p.answer(l, &t.id)),
                            &source,
                        )),
                        None => grading::unmet_need(t, facts).map(Verdict::Skipped),
                    };
                    v.map(|v| verdict_of(l, t, v))
                })
                .collect();
            let mut engine = Engine::new(conn.client.clone());
            let live: Vec<(usize, usize)> = selected
                .iter()
                .enumerate()
                .filter(|(k, _)| vs[*k].is_none())
                .map(|(k, (l, t))| (k, engine.add(l, t)))
                .collect();
            let ids: Vec<usize> = live.iter().map(|(_, i)| *i).collect();
            engine.settle(Duration::from_secs(15)).await;
            engine.run_execs(&ids).await;
            let mut got = match wait {
                Some(d) => engine.wait_all(&ids, d).await,
                None => ids.iter().map(|&i| engine.evaluate(i)).collect(),
            };
            if args.probe {
                for (n, &(k, i)) in live.iter().enumerate() {
                    if selected[k].1.check.changes_cluster() {
                        got[n] = engine.run_probe(i).await;
                    }
                }
            }
            for (&(k, _), v) in live.iter().zip(got) {
                vs[k] = Some(v);
            }
            anyhow::Ok(vs.into_iter().flatten().collect::<Vec<_>>())
        })?
    };
    let verdicts = if args.strict {
        grading::strict(verdicts)
    } else {
        verdicts
    };
    let done = |v: &TaskVerdict| done_text(progress.as_ref(), v);
    match args.format {
        Format::Text => print!("{}", report::text_with_done(&verdicts, &done)),
        Format::Json => println!("{}", report::json_with_done(&verdicts, &done)),
        Format::Junit => println!("{}", report::junit(&verdicts)),
    }
    Ok(if report::success(&verdicts) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
