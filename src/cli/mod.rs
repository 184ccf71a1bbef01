//! The command line: one clap subcommand per file, each a thin layer over the library.

pub mod apply;
pub mod bench;
pub mod check;
pub mod classroom;
pub mod env;
pub mod labs;
pub mod manifests;
pub mod operator;
pub mod sandbox;
pub mod solutions;
pub mod tui;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The Kubernetes Operators workshop in your terminal.
#[derive(Debug, Parser)]
#[command(name = "oplab", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub tui: tui::TuiArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the embedded sandbox cluster in the foreground.
    Sandbox(sandbox::SandboxArgs),
    /// List and validate lab files.
    Labs(labs::LabsArgs),
    /// Apply bundled sets, files or directories: checked on the server first, then applied in order.
    Apply(apply::ApplyArgs),
    /// Check tasks against the cluster; exits 0 only when none fails (text, JSON or JUnit).
    Check(check::CheckArgs),
    /// The instructor's board of every attendee's tasks, live; `setup` and `teardown` of a classroom.
    Classroom(classroom::ClassroomArgs),
    /// Delete what a set, file or directory applied, in reverse order.
    Delete(apply::DeleteArgs),
    /// List the bundled manifest sets or print one with its variables filled.
    Manifests(manifests::ManifestsArgs),
    /// Measure oplab's own performance (for developers).
    #[command(hide = true)]
    Bench(bench::BenchArgs),
    /// Print the shell lines that point kubectl at oplab's cluster: eval "$(oplab env)".
    Env(env::EnvArgs),
    /// Run the built-in Gordon operator in the foreground.
    Operator(operator::OperatorArgs),
    /// The labs' solution files (chapter 3's Python operator): list, show, write DIR [LAB].
    Solutions(solutions::SolutionsArgs),
}

/// Entry point used by `src/main.rs`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The TUI owns the terminal: log lines on stderr would tear its screen.
    if cli.command.is_some() {
        init_logging();
    }
    let result = match cli.command {
        Some(Command::Sandbox(args)) => sandbox::run(args),
        Some(Command::Labs(args)) => labs::run(args),
        Some(Command::Apply(args)) => apply::run_apply(args),
        Some(Command::Delete(args)) => apply::run_delete(args),
        Some(Command::Check(args)) => check::run(args),
        Some(Command::Classroom(args)) => classroom::run(args),
        Some(Command::Manifests(args)) => manifests::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Operator(args)) => operator::run(args),
        Some(Command::Env(args)) => env::run(args),
        Some(Command::Solutions(args)) => solutions::run(args),
        None => tui::run(&cli.tui),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", crate::explain::anyhow_text(&err));
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, `OPLAB_LOG` as the filter. kube's own client and watcher logs are off by default:
/// the checks and the operator report watch errors themselves, in words (`OPLAB_LOG=debug` shows all).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPLAB_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,kube_client=off,kube_runtime::watcher=off")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
