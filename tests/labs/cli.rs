//! `oplab labs list` and `oplab labs validate` as a user runs them.

use std::process::Command;

fn oplab(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run oplab");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn validate_reports_a_broken_lab_with_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("broken.md"),
        "---\nid: broken\ntitle: [unclosed\n---\n# x\n",
    )
    .expect("write");
    let (code, out) = oplab(&["labs", "validate", dir.path().to_str().expect("utf-8 path")]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("broken.md:3:8"), "{out}");
    assert!(out.contains("front matter is not valid YAML"), "{out}");
    assert!(out.contains("1 error"), "{out}");
}

#[test]
fn validate_of_the_embedded_labs_succeeds() {
    let (code, out) = oplab(&["labs", "validate"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("4 lab(s)") && out.contains("0 error(s)"),
        "{out}"
    );
}

#[test]
fn validate_of_a_missing_directory_fails() {
    let (code, out) = oplab(&["labs", "validate", "/nonexistent/labs"]);
    assert_ne!(code, 0);
    assert!(out.contains("/nonexistent/labs"), "{out}");
}

#[test]
fn list_names_the_four_chapters() {
    let (code, out) = oplab(&["labs", "list"]);
    assert_eq!(code, 0, "{out}");
    for word in ["Custom resources", "OLM", "etcd", "Gordon", "Operator SDK"] {
        assert!(out.contains(word), "{word} missing in {out}");
    }
    assert!(
        out.lines().filter(|l| l.contains("Chapter")).count() == 4,
        "{out}"
    );
}

#[test]
fn list_of_a_directory_shows_its_good_labs() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("mine.md"),
        "---\nid: mine\ntitle: My own lab\norder: 7\n---\n## One\ntext\n## Two\ntext\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("broken.md"), "no front matter\n").expect("write");
    let (code, out) = oplab(&[
        "labs",
        "list",
        "--labs",
        dir.path().to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("mine") && out.contains("My own lab"), "{out}");
    assert!(out.contains("1 problem"), "{out}");
}
