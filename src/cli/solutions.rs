//! `oplab solutions list|show|write`: the labs' solution files and the exact command to run them.

use crate::lab::solutions::{SolutionFile, solutions};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SolutionsArgs {
    #[command(subcommand)]
    pub command: SolutionsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SolutionsCommand {
    /// List the solution files: lab, file, and the command that runs it.
    List,
    /// Print a lab's solution file (the first one, or FILE).
    Show {
        /// The lab (id), e.g. gordon-operator.
        lab: String,
        /// One file of the lab's solutions.
        file: Option<String>,
    },
    /// Write the solution files (of one lab, or of all) into DIR and print how to run them.
    Write {
        dir: PathBuf,
        /// Only this lab (id).
        lab: Option<String>,
        /// The namespace for the run command (default: the lab's, e.g. gordon).
        #[arg(short, long)]
        namespace: Option<String>,
        /// Replace files that exist with other content.
        #[arg(long)]
        force: bool,
    },
}

pub fn run(args: SolutionsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        SolutionsCommand::List => {
            println!("{:<16}  {:<24}  RUN", "LAB", "FILE");
            for s in solutions(None) {
                println!(
                    "{:<16}  {:<24}  {}",
                    s.lab,
                    s.file,
                    s.run_in(&namespace(s, None))
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SolutionsCommand::Show { lab, file } => {
            let s = pick(&lab, file.as_deref())?;
            print!("{}", s.text);
            Ok(ExitCode::SUCCESS)
        }
        SolutionsCommand::Write {
            dir,
            lab,
            namespace: ns,
            force,
        } => {
            let files = solutions(lab.as_deref());
            if files.is_empty() {
                bail!("{}", no_solution(lab.as_deref().unwrap_or_default()));
            }
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating directory {}", dir.display()))?;
            for s in &files {
                let path = dir.join(s.file);
                write_file(&path, s.text, force)?;
                println!("wrote {}  ({})", path.display(), s.about);
            }
            let main = files[0];
            println!();
            println!("to run it, in {}:", dir.display());
            println!("  {}", main.setup);
            println!("  {}", main.run_in(&namespace(main, ns.as_deref())));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn namespace(s: &SolutionFile, given: Option<&str>) -> String {
    if let Some(ns) = given {
        return ns.to_string();
    }
    crate::lab::load_embedded()
        .labs
        .iter()
        .find(|l| l.id == s.lab)
        .and_then(|l| l.default_vars().0.get("ns").cloned())
        .unwrap_or_else(|| "default".into())
}

fn no_solution(lab: &str) -> String {
    let with: Vec<&str> = solutions(None).iter().map(|s| s.lab).collect::<Vec<_>>();
    let mut with = with;
    with.dedup();
    format!(
        "lab {lab} has no solution files; labs with some: {} (`oplab solutions list`)",
        with.join(", ")
    )
}

fn pick(lab: &str, file: Option<&str>) -> anyhow::Result<&'static SolutionFile> {
    let files = solutions(Some(lab));
    if files.is_empty() {
        bail!("{}", no_solution(lab));
    }
    match file {
        None => Ok(files[0]),
        Some(f) => files.into_iter().find(|s| s.file == f).with_context(|| {
            let names: Vec<&str> = solutions(Some(lab)).iter().map(|s| s.file).collect();
            format!(
                "lab {lab} has no solution file {f}; it has {}",
                names.join(", ")
            )
        }),
    }
}

/// Writes a file, never over one with other content unless `force` (same content: left alone).
fn write_file(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    match std::fs::read(path) {
        Ok(old) if old == text.as_bytes() => return Ok(()),
        Ok(_) if !force => bail!(
            "{} exists with other content (your own work?); pass --force to replace it, or write to another directory",
            path.display()
        ),
        _ => {}
    }
    let mut f = if force {
        std::fs::File::create(path)
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
    }
    .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
