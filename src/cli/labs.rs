//! `oplab labs list` and `oplab labs validate [DIR]`: the lab files seen from the command line.

use crate::lab::{self, LabSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct LabsArgs {
    #[command(subcommand)]
    pub command: LabsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LabsCommand {
    /// List the labs: id, title, steps and tasks.
    List {
        /// Read the labs from this directory instead of the built-in ones.
        #[arg(long)]
        labs: Option<PathBuf>,
    },
    /// The author's self-test: on a fresh sandbox per lab, every task's check fails before and
    /// passes after its solution; prints `N passed, M failed, K skipped` last.
    Test {
        /// Only this lab (id).
        #[arg(long)]
        lab: Option<String>,
        /// A finished walk: every lab's solutions in order on ONE sandbox; each task must pass on
        /// the way and every task must still pass at the end.
        #[arg(long)]
        in_order: bool,
        /// Read the labs from this directory instead of the built-in ones.
        #[arg(long)]
        labs: Option<PathBuf>,
    },
    /// Check lab files and print every problem with file:line:col; exits non-zero on any error.
    Validate {
        /// Directory of lab files (default: the built-in labs).
        dir: Option<PathBuf>,
    },
}

pub fn run(args: LabsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        LabsCommand::List { labs } => list(&load(labs.as_ref())),
        LabsCommand::Validate { dir } => validate(&load(dir.as_ref())),
        LabsCommand::Test {
            lab,
            labs,
            in_order: true,
        } => test_in_order(&load(labs.as_ref()), lab.as_deref()),
        LabsCommand::Test { lab, labs, .. } => test(&load(labs.as_ref()), lab.as_deref()),
    }
}

fn load(dir: Option<&PathBuf>) -> LabSet {
    match dir {
        Some(d) => lab::load_dir(d),
        None => lab::load_embedded(),
    }
}

fn list(set: &LabSet) -> anyhow::Result<ExitCode> {
    let id_w = set
        .labs
        .iter()
        .map(|l| l.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    println!(
        "{:>2}  {:<id_w$}  {:>5}  {:>5}  TITLE",
        "#", "ID", "STEPS", "TASKS"
    );
    for l in &set.labs {
        println!(
            "{:>2}  {:<id_w$}  {:>5}  {:>5}  {}",
            l.order,
            l.id,
            l.steps.len(),
            l.tasks().count(),
            l.title
        );
    }
    let errors = set.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        eprintln!("{errors} problem(s) in the lab files: run `oplab labs validate` to see them");
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(set: &LabSet) -> anyhow::Result<ExitCode> {
    let diags = set.lint();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for d in &diags {
        eprint!("{}", d.render(color));
        eprintln!();
    }
    let mismatches = crate::checks::bundled::mismatches(set);
    for m in &mismatches {
        eprintln!("error: {m}");
        eprintln!();
    }
    let errors = diags.iter().filter(|d| d.is_error()).count() + mismatches.len();
    let warnings = diags.len() + mismatches.len() - errors;
    let tasks: usize = set.labs.iter().map(|l| l.tasks().count()).sum();
    println!(
        "{} lab(s), {tasks} task(s): {errors} error(s), {warnings} warning(s)",
        set.labs.len()
    );
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn test(set: &LabSet, only: Option<&str>) -> anyhow::Result<ExitCode> {
    use crate::checks::{Verdict, report, selftest};
    let labs: Vec<&lab::Lab> = set
        .labs
        .iter()
        .filter(|l| only.is_none_or(|id| id == l.id))
        .collect();
    if labs.is_empty() {
        anyhow::bail!("no lab {}", only.unwrap_or_default());
    }
    let rt = tokio::runtime::Runtime::new()?;
    let mut all = Vec::new();
    for l in labs {
        println!("{} ({})", l.id, l.title);
        let started = std::time::Instant::now();
        let mut print = |v: &crate::checks::TaskVerdict| {
            let mark = match v.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail(_) | Verdict::Disconnected(_) => "FAIL",
                _ => "SKIP",
            };
            println!("  {mark} {}", v.task);
            for line in v.verdict.reason().lines() {
                println!("       {line}");
            }
        };
        let results = rt.block_on(selftest::test_lab(l, &mut print))?;
        for n in &results.notes {
            println!("  note: {n}");
        }
        println!("  ({:.1}s)", started.elapsed().as_secs_f64());
        all.extend(results.verdicts);
    }
    println!("{}", report::summary(&all));
    Ok(if report::success(&all) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn test_in_order(set: &LabSet, only: Option<&str>) -> anyhow::Result<ExitCode> {
    use crate::checks::{Verdict, report, walk};
    let labs: Vec<&lab::Lab> = set
        .labs
        .iter()
        .filter(|l| only.is_none_or(|id| id == l.id))
        .collect();
    if labs.is_empty() {
        anyhow::bail!("no lab {}", only.unwrap_or_default());
    }
    println!(
        "a walk through {} lab(s) in order on one sandbox",
        labs.len()
    );
    let rt = tokio::runtime::Runtime::new()?;
    let started = std::time::Instant::now();
    let mut print = |phase: &str, v: &crate::checks::TaskVerdict| {
        let mark = match v.verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail(_) | Verdict::Disconnected(_) => "FAIL",
            _ => "SKIP",
        };
        println!("  {phase:<4} {mark} {}/{}", v.lab, v.task);
        for line in v.verdict.reason().lines() {
            println!("            {line}");
        }
    };
    let results = rt.block_on(walk::walk(&labs, &mut print))?;
    for n in &results.notes {
        println!("  note: {n}");
    }
    println!("  ({:.1}s)", started.elapsed().as_secs_f64());
    println!(
        "at the end of the walk: {}",
        report::summary(&results.verdicts)
    );
    Ok(if report::success(&results.verdicts) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
