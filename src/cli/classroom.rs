//! `oplab classroom`: the instructor's board (TUI or `--export`), `setup` and `teardown`.

use crate::classroom::export::{self, Format};
use crate::classroom::{Board, board, kubeconfig, setup, teardown};
use crate::cluster::connection::{Connection, Target};
use crate::lab::{self, Lab};
use anyhow::Context;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ClassroomArgs {
    #[command(subcommand)]
    pub command: Option<ClassroomCommand>,
    /// Only the tasks of this lab (id, see `oplab labs list`).
    #[arg(long)]
    pub lab: Option<String>,
    /// Print the board once (after the watches listed) instead of showing it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub export: Option<Format>,
    /// With --export: how long to wait for the watches to list (e.g. 30s, 2m).
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub wait: String,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The cluster and the labs, for the board and its subcommands.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// kubeconfig file (default: KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Read labs from this directory instead of the built-in ones.
    #[arg(long, global = true, value_name = "DIR")]
    pub labs: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ClassroomCommand {
    /// Create each attendee's namespaces, ServiceAccount, rights and kubeconfig (safe to repeat).
    Setup(SetupArgs),
    /// Remove everything setup created and the attendees' namespaces, and wait until they are gone.
    Teardown(TeardownArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["attendees", "names"])))]
pub struct SetupArgs {
    /// Set up attendee-1 ... attendee-N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=500))]
    pub attendees: Option<u32>,
    /// Attendee names, one a line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub names: Option<PathBuf>,
    /// Where to write the kubeconfigs (NAME.kubeconfig).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub out: PathBuf,
    /// How long the attendees' tokens last (at least 10m).
    #[arg(long, default_value = "12h", value_name = "DURATION")]
    pub duration: String,
}

#[derive(Debug, clap::Args)]
pub struct TeardownArgs {
    /// Do not ask (asked only when run in a terminal).
    #[arg(long, short)]
    pub yes: bool,
    /// How long to wait for the namespaces to be gone.
    #[arg(long, default_value = "2m", value_name = "DURATION")]
    pub timeout: String,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("starting the async runtime")
}

fn duration(flag: &str, text: &str) -> anyhow::Result<Duration> {
    lab::duration::parse(text).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

impl CommonArgs {
    fn target(&self) -> Target {
        Target {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            sandbox: false,
        }
    }

    async fn connect(&self) -> anyhow::Result<Connection> {
        self.target().connect().await
    }

    /// The labs; their problems are shown, and none at all is an error.
    fn labs(&self) -> anyhow::Result<Vec<Lab>> {
        let set = match &self.labs {
            Some(dir) => lab::load_dir(dir),
            None => lab::load_embedded(),
        };
        for d in &set.diagnostics {
            eprintln!("warning: {d}");
        }
        if set.labs.is_empty() {
            anyhow::bail!("no labs loaded (`oplab labs validate DIR` shows why)");
        }
        Ok(set.labs)
    }
}

pub fn run(args: ClassroomArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(ClassroomCommand::Setup(s)) => run_setup(&args.common, s),
        Some(ClassroomCommand::Teardown(t)) => run_teardown(&args.common, t),
        None => {
            let labs = board::select_labs(args.common.labs()?, args.lab.as_deref())
                .map_err(anyhow::Error::msg)?;
            match args.export {
                Some(format) => run_export(&args.common, labs, format, &args.wait),
                None => {
                    crate::classroom::view::run(args.common.target(), labs)?;
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
    }
}

fn run_export(
    common: &CommonArgs,
    labs: Vec<Lab>,
    format: Format,
    wait: &str,
) -> anyhow::Result<ExitCode> {
    let wait = duration("--wait", wait)?;
    let snapshot = runtime()?.block_on(async {
        let conn = common.connect().await?;
        let mut board = Board::new(conn.client.clone(), labs);
        board.settle(wait).await;
        anyhow::Ok(board.snapshot())
    })?;
    if snapshot.connection != crate::classroom::Connection::Live {
        eprintln!(
            "warning: the board is not complete ({}) after {}: cells marked unknown have no verdict",
            snapshot.connection,
            lab::duration::format(wait)
        );
    }
    let text = export::render(&snapshot, format).map_err(anyhow::Error::msg)?;
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

/// `alice-{crontabs,gordon}` for `alice-crontabs alice-gordon`.
fn short_namespaces(name: &str, namespaces: &[String]) -> String {
    let prefix = format!("{name}-");
    let rest: Option<Vec<&str>> = namespaces.iter().map(|n| n.strip_prefix(&prefix)).collect();
    match rest {
        Some(r) if r.len() > 1 => format!("{prefix}{{{}}}", r.join(",")),
        _ => namespaces.join(","),
    }
}

fn run_setup(common: &CommonArgs, args: SetupArgs) -> anyhow::Result<ExitCode> {
    let names = match (&args.names, args.attendees) {
        (Some(file), _) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading the names file {}", file.display()))?;
            setup::parse_names(&text).map_err(|e| anyhow::anyhow!("{}:\n{e}", file.display()))?
        }
        (None, Some(n)) => setup::numbered(n as usize),
        (None, None) => anyhow::bail!("pass --attendees N or --names FILE"),
    };
    let opts = setup::Options {
        names,
        out_dir: args.out.clone(),
        duration: duration("--duration", &args.duration)?,
        labs: common.labs()?,
    };
    let cluster =
        kubeconfig::instructor_cluster(common.kubeconfig.as_deref(), common.context.as_deref())?;
    let report = runtime()?.block_on(async {
        let conn = common.connect().await?;
        setup::run(&conn.client, &cluster, &opts).await
    })?;
    println!(
        "Set up {} attendees on {} ({} objects created, {} changed, {} unchanged).\n",
        report.attendees.len(),
        cluster.server,
        report.created,
        report.configured,
        report.unchanged
    );
    let rows: Vec<[String; 4]> = report
        .attendees
        .iter()
        .map(|a| {
            let file = a
                .kubeconfig
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            [
                a.name.clone(),
                short_namespaces(&a.name, &a.namespaces),
                a.kubeconfig.display().to_string(),
                format!("KUBECONFIG={file} oplab --attendee {}", a.name),
            ]
        })
        .collect();
    print_table(
        &["ATTENDEE", "NAMESPACES", "KUBECONFIG", "THE ATTENDEE RUNS"],
        &rows,
    );
    if let Some(exp) = report.attendees.first().and_then(|a| a.expires.clone()) {
        println!("\nThe tokens expire at {exp}; run setup again to issue fresh ones.");
    }
    for n in &report.notes {
        println!("note: {n}");
    }
    println!(
        "\nWatch everyone with `oplab classroom`; remove it all with `oplab classroom teardown`."
    );
    Ok(ExitCode::SUCCESS)
}

fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// Asks on the terminal; only called when stdin and stderr are terminals.
fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok()
        && matches!(answer.trim(), "y" | "Y" | "yes")
}

fn run_teardown(common: &CommonArgs, args: TeardownArgs) -> anyhow::Result<ExitCode> {
    let timeout = duration("--timeout", &args.timeout)?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    runtime()?.block_on(async {
        let conn = common.connect().await?;
        let plan = teardown::plan(&conn.client).await?;
        if plan.is_empty() {
            println!(
                "Nothing to remove: no classroom objects on {}.",
                conn.server
            );
            return Ok(ExitCode::SUCCESS);
        }
        if interactive && !args.yes {
            eprintln!(
                "This removes from {} (context {}):",
                conn.server, conn.context
            );
            for l in plan.describe() {
                eprintln!("  {l}");
            }
            if !confirm("Remove all of it?") {
                eprintln!("Nothing removed.");
                return Ok(ExitCode::FAILURE);
            }
        }
        let report = teardown::run(&conn.client, plan, timeout).await?;
        println!("Removed:");
        for l in report.removed.describe() {
            println!("  {l}");
        }
        if report.remaining.is_empty() {
            println!("All namespaces are gone.");
            Ok(ExitCode::SUCCESS)
        } else {
            println!(
                "Still there after {}: {}. Their finalizers are still running; check with \
                 `kubectl get namespace NAME -o yaml` and run teardown again.",
                lab::duration::format(timeout),
                report.remaining.join(", ")
            );
            Ok(ExitCode::FAILURE)
        }
    })
}
