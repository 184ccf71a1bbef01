//! Paths oplab reads and writes that are not what they should be: a FIFO as the progress file or as a lab
//! file is refused with a message (never a hang), and with no usable HOME oplab says so and exits unless
//! the paths are given.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_string_lossy().as_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Runs oplab with a deadline: a hang is a failure, not a stuck test.
fn run(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("oplab starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("oplab hung: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn oplab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_oplab"))
}

#[test]
fn a_fifo_as_the_progress_file_is_refused_with_a_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("progress.json");
    mkfifo(&fifo);
    let out = run(oplab().arg("--progress").arg(&fifo).env("HOME", dir.path()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("named pipe (FIFO)") && err.contains("progress.json"),
        "{err}"
    );
}

#[test]
fn a_fifo_as_a_lab_file_is_reported_not_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    mkfifo(&dir.path().join("01-pipe.md"));
    let out = run(oplab().args(["labs", "validate"]).arg(dir.path()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("01-pipe.md") && text.contains("FIFO"),
        "{text}"
    );
}

#[test]
fn without_a_usable_home_oplab_says_so_unless_the_paths_are_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    for home in [
        None,
        Some(""),
        Some("relative/home"),
        Some("/nonexistent/oplab-home"),
    ] {
        let mut cmd = oplab();
        cmd.args(["sandbox", "--addr", "127.0.0.1:0"])
            .env_remove("OPLAB_SANDBOX_KUBECONFIG");
        match home {
            Some(h) => cmd.env("HOME", h),
            None => cmd.env_remove("HOME"),
        };
        let out = run(&mut cmd);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "HOME={home:?}");
        assert!(
            err.contains("HOME") && err.contains("--kubeconfig"),
            "HOME={home:?}: {err}"
        );
        let mut tui = oplab();
        tui.env_remove("HOME");
        let out = run(&mut tui);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("HOME is not set") && err.contains("--progress"),
            "{err}"
        );
    }
    // With the path given, the sandbox needs no HOME.
    let kc = dir.path().join("kubeconfig");
    let mut child = oplab()
        .args(["sandbox", "--addr", "127.0.0.1:0", "--kubeconfig"])
        .arg(&kc)
        .env_remove("HOME")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !kc.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        kc.exists(),
        "the sandbox wrote the kubeconfig it was given without HOME"
    );
}
