//! `oplab bench` (hidden): developer benchmarks that print their numbers.

pub mod apply;
pub mod chapter2;
pub mod checks;
pub mod classroom;
pub mod tui;

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchWhat {
    /// Apply a set (default olm) to fresh sandboxes, repeated, against kubectl apply --server-side.
    Apply {
        #[arg(default_value = "olm")]
        set: String,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        #[arg(long, default_value = "kubectl")]
        kubectl: String,
    },
    /// The TUI: first frame, parse time, idle CPU, peak memory.
    Tui {
        /// Seconds over which idle CPU is measured (each phase).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Runs of the first-frame measurement.
        #[arg(long, default_value_t = 10)]
        runs: usize,
    },
    /// Live checks: every task of all labs on a sandbox; change-to-verdict latency and watches open.
    Checks {
        #[arg(long, default_value_t = 200)]
        rounds: usize,
    },
    /// The classroom board: N attendees set up on a sandbox, every task of every lab; watches
    /// open, refresh latency after a change (p50/p99), memory.
    Classroom {
        #[arg(long, default_value_t = 100)]
        attendees: usize,
        #[arg(long, default_value_t = 300)]
        rounds: usize,
    },
    /// Chapter 2 on a sandbox: kubectl exec vs direct etcdctl, EtcdCluster 3 / 3 -> 5 to healthy,
    /// memory and disk per etcd member, Subscription -> InstallPlan, approval -> CSV Succeeded.
    Chapter2 {
        #[arg(long, default_value_t = 20)]
        rounds: usize,
    },
    /// Child process of the first-frame measurement: start, draw one frame, print, exit.
    #[command(hide = true)]
    FirstFrame,
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.what {
        BenchWhat::Apply {
            set,
            rounds,
            kubectl,
        } => apply::run(set, rounds, kubectl),
        BenchWhat::Tui { seconds, runs } => tui::bench_tui(seconds, runs),
        BenchWhat::Checks { rounds } => checks::run(rounds),
        BenchWhat::Classroom { attendees, rounds } => classroom::run(attendees, rounds),
        BenchWhat::Chapter2 { rounds } => chapter2::run(rounds),
        BenchWhat::FirstFrame => tui::first_frame_child(),
    }
}
