//! `oplab bench tui` (hidden): time to first frame, lab parse time, idle CPU, peak memory.

use crate::tui::{self, Background, RecordingClipboard, Runner, Theme, TuiOptions};
use anyhow::Context;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::io::BufRead;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

fn options() -> anyhow::Result<TuiOptions> {
    // A private directory of its own, never the user's progress.
    let dir = crate::files::private_work_dir("oplab-bench-tui-")?;
    Ok(TuiOptions {
        progress: Some(dir.join("progress.json")),
        cluster: tui::ClusterOptions {
            sandbox_kubeconfig: Some(dir.join("kubeconfig")),
            ..Default::default()
        },
        ..Default::default()
    })
}

/// Does what `oplab` does up to its first frame (on a 120x40 in-memory terminal).
pub fn first_frame_child() -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let opts = options()?;
        let app = tui::build_app(&opts, Theme::from_env());
        let (bg, rx) = Background::new();
        let _w = tui::start_background(&opts, &bg);
        let terminal = Terminal::new(TestBackend::new(120, 40))?;
        let mut runner = Runner::new(terminal, app, bg.clone(), rx, RecordingClipboard::default());
        runner.draw()?;
        println!("frame {}", vm_kb("VmHWM:").unwrap_or(0));
        bg.shutdown();
        anyhow::Ok(())
    })?;
    rt.shutdown_background();
    Ok(ExitCode::SUCCESS)
}

pub fn bench_tui(seconds: u64, runs: usize) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("finding oplab's own binary")?;
    // 1. Process start to first frame.
    let mut firsts = Vec::new();
    let mut child_hwm = 0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let mut child = std::process::Command::new(&exe)
            .args(["bench", "first-frame"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting oplab")?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        firsts.push(start.elapsed());
        child.wait()?;
        child_hwm = child_hwm.max(
            line.trim()
                .strip_prefix("frame ")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0),
        );
    }
    firsts.sort();
    println!(
        "first frame (process start to frame, {} runs): median {:.1} ms, min {:.1} ms, max {:.1} ms; peak memory of that process {:.1} MB",
        firsts.len(),
        ms(firsts[firsts.len() / 2]),
        ms(firsts[0]),
        ms(firsts[firsts.len() - 1]),
        child_hwm as f64 / 1024.0
    );

    // 2. Parsing every bundled lab.
    let mut parses = Vec::new();
    let mut labs = 0;
    for _ in 0..100 {
        let start = Instant::now();
        let set = crate::lab::load_embedded();
        parses.push(start.elapsed());
        labs = set.labs.len();
    }
    parses.sort();
    println!(
        "parse all {labs} bundled labs (100 runs): median {:.2} ms, min {:.2} ms",
        ms(parses[50]),
        ms(parses[0])
    );

    // 3. Idle CPU: the real main loop waiting for input, without and with the sandbox.
    let rt = tokio::runtime::Runtime::new()?;
    for with_cluster in [false, true] {
        let (cpu, frames) = rt.block_on(idle(seconds, with_cluster))?;
        println!(
            "idle CPU over {seconds} s {}: {:.3} % of one core ({frames} frames drawn while idle)",
            if with_cluster {
                "with cluster discovery and the sandbox running in-process"
            } else {
                "(UI only)"
            },
            cpu
        );
    }
    rt.shutdown_timeout(Duration::from_secs(1));

    // 4. Peak memory of this process (which ran all of the above).
    println!(
        "peak memory (VmHWM) of the bench process: {:.1} MB",
        vm_kb("VmHWM:").unwrap_or(0) as f64 / 1024.0
    );
    Ok(ExitCode::SUCCESS)
}

async fn idle(seconds: u64, with_cluster: bool) -> anyhow::Result<(f64, u64)> {
    let opts = options()?;
    let set = tui::load_labs(&opts);
    let app = tui::build_app_with(set.clone(), &opts, Theme::from_env());
    let (bg, rx) = Background::new();
    let _w = if with_cluster {
        tui::start_background(&opts, &bg)
    } else {
        None
    };
    let terminal = Terminal::new(TestBackend::new(120, 40))?;
    let checks = tui::live_checks(set, &app);
    let mut runner = Runner::new(terminal, app, bg.clone(), rx, RecordingClipboard::default());
    if with_cluster {
        runner.services.push(Box::new(checks));
    }
    let mut events = futures::stream::pending::<std::io::Result<crossterm::event::Event>>();
    let settle = if with_cluster { 3 } else { 1 };
    {
        let run = runner.run(&mut events);
        tokio::pin!(run);
        tokio::select! {
            r = &mut run => r?,
            () = tokio::time::sleep(Duration::from_secs(settle)) => {}
        }
    }
    let before = (cpu_seconds(), runner.frames);
    {
        let run = runner.serve(&mut events);
        tokio::pin!(run);
        tokio::select! {
            r = &mut run => r?,
            () = tokio::time::sleep(Duration::from_secs(seconds)) => {}
        }
    }
    let cpu = (cpu_seconds() - before.0) / seconds as f64 * 100.0;
    let frames = runner.frames.saturating_sub(before.1);
    bg.shutdown();
    Ok((cpu, frames))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// User plus system CPU time of this process (getrusage).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// A `kB` field of /proc/self/status, e.g. `VmHWM:`.
pub(super) fn vm_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
