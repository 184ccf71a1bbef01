//! The Python `kubernetes` client (default settings) against the sandbox over HTTPS.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

/// The Python with the `kubernetes` package: `OPLAB_PYTHON`, else `target/pyenv` (created on first use).
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("OPLAB_PYTHON") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target").join("pyenv");
    let py = venv.join("bin").join("python");
    let has_client = |py: &PathBuf| {
        Command::new(py)
            .args(["-c", "import kubernetes"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_client(&py) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 must be installed");
        assert!(made.success(), "could not create {}", venv.display());
        let pip = Command::new(venv.join("bin").join("pip"))
            .args(["install", "-q", "kubernetes==37.0.2"])
            .status()
            .expect("pip");
        assert!(
            pip.success(),
            "could not install the kubernetes package into {}",
            venv.display()
        );
    }
    assert!(
        has_client(&py),
        "the kubernetes package is missing from {}",
        py.display()
    );
    py
}

#[test]
fn python_client_creates_lists_watches_and_patches() {
    let py = python();
    let c = BlockingCluster::start();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_check.py");
    let out = Command::new(py)
        .arg(script)
        .env("KUBECONFIG", &c.kubeconfig)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python client checks failed:\n{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("all checks passed"));
}
