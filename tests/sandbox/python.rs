//! The Python `kubernetes` client (default settings) against the sandbox over HTTPS.

use crate::common;

use common::*;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn python_client_creates_lists_watches_and_patches() {
    let py = python_with_client();
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
