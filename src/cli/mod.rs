//! The command line: one clap subcommand per file, each a thin layer over the library.

pub mod labs;
pub mod operator;
pub mod sandbox;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The Kubernetes Operators workshop in your terminal.
#[derive(Debug, Parser)]
#[command(name = "oplab", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the embedded sandbox cluster in the foreground.
    Sandbox(sandbox::SandboxArgs),
    /// List and validate lab files.
    Labs(labs::LabsArgs),
    /// Run the built-in Gordon operator in the foreground.
    Operator(operator::OperatorArgs),
}

/// Entry point used by `src/main.rs`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Some(Command::Sandbox(args)) => sandbox::run(args),
        Some(Command::Labs(args)) => labs::run(args),
        Some(Command::Operator(args)) => operator::run(args),
        None => {
            eprintln!("the TUI is not built yet; try `oplab --help`");
            Ok(ExitCode::FAILURE)
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPLAB_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
