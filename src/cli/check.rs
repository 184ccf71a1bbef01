//! `oplab check`: grades tasks against a cluster once (or until they pass), as text, JSON or JUnit.

use super::apply::ClusterArgs;
use crate::checks::report::{self, Format};
use crate::checks::{Engine, TaskVerdict};
use crate::lab::{self, Vars};
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
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub cluster: ClusterArgs,
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
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let verdicts = rt.block_on(async {
        let conn = args.cluster.target().connect().await?;
        if let Some(note) = conn.sandbox_note() {
            eprintln!("note: {note}");
        }
        let mut engine = Engine::new(conn.client.clone());
        let ids: Vec<usize> = selected.iter().map(|(l, t)| engine.add(l, t)).collect();
        engine.settle(Duration::from_secs(15)).await;
        engine.run_execs(&ids).await;
        let mut vs = match wait {
            Some(d) => engine.wait_all(&ids, d).await,
            None => engine.evaluate_all(),
        };
        if args.probe {
            for (k, &i) in ids.iter().enumerate() {
                if selected[k].1.check.changes_cluster() {
                    vs[k] = engine.run_probe(i).await;
                }
            }
        }
        anyhow::Ok(vs)
    })?;
    print(&verdicts, args.format);
    Ok(if report::success(&verdicts) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print(vs: &[TaskVerdict], format: Format) {
    match format {
        Format::Text => print!("{}", report::text(vs)),
        Format::Json => println!("{}", report::json(vs)),
        Format::Junit => println!("{}", report::junit(vs)),
    }
}
