//! `oplab manifests list|show`: the bundled manifest sets.

use crate::cluster::{Vars, manifests, render};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ManifestsArgs {
    #[command(subcommand)]
    pub command: ManifestsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ManifestsCommand {
    /// List the bundled sets and their files.
    List,
    /// Print a set's YAML with the variables filled (pipe it to `kubectl apply --server-side -f -`).
    Show {
        #[arg(required = true, value_name = "SET|FILE|DIR")]
        sources: Vec<String>,
        /// Fills the `{{ns}}` variable.
        #[arg(short, long)]
        namespace: Option<String>,
        /// Other variables, e.g. --set etc=my-etcd.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        vars: Vec<String>,
    },
}

pub fn run(args: ManifestsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        ManifestsCommand::List => {
            for set in manifests::bundled_sets() {
                println!("{:<14} {}", set.name, set.about);
                for f in &set.files {
                    println!("{:<14}   {f}", "");
                }
            }
            println!();
            println!(
                "variables: {}",
                manifests::VAR_DEFAULTS
                    .iter()
                    .map(|(k, v)| format!("{{{{{k}}}}}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for (set, k, v) in manifests::SET_VAR_DEFAULTS {
                println!("  in {set}: {{{{{k}}}}}={v}");
            }
            Ok(ExitCode::SUCCESS)
        }
        ManifestsCommand::Show {
            sources,
            namespace,
            vars,
        } => {
            let vars = Vars::from_args(namespace.as_deref(), &vars)?;
            print!("{}", render(&sources, &vars)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
