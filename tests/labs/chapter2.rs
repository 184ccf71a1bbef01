//! Chapter 2 on a machine without etcd: `oplab labs test` skips the etcd tasks naming what to install.

use std::process::Command;

#[test]
fn labs_test_without_etcd_skips_with_the_install_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["labs", "test", "--lab", "olm-and-etcd"])
        .env("HOME", dir.path())
        .env("OPLAB_ETCD", dir.path().join("no-such-etcd"))
        .output()
        .expect("oplab runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("PASS olm-approve"), "{text}");
    for task in [
        "etcd-cluster",
        "etcd-put-get",
        "etcd-scale",
        "etcd-second-cluster",
    ] {
        assert!(text.contains(&format!("SKIP {task}")), "{task}:\n{text}");
    }
    assert!(
        text.contains("needs the program etcd")
            && text.contains("apt install etcd-server etcd-client"),
        "{text}"
    );
    assert!(!text.contains("real cluster"), "{text}");
}
