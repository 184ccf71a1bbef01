//! Issue 18: what `oplab labs` says is true and located.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const PY_LAB: &str = r#"---
id: py
title: Python
order: 1
---
# Python

## A Python task

```task
id: py-task
title: Something a Python operator does
check:
  absent: {apiVersion: v1, kind: ConfigMap, namespace: default, name: never-made}
hints: [Write the operator.]
solution: {text: Run it.}
needs:
  - program: {name: python3, reason: "The exercise is a Python operator using the kubernetes package."}
```
"#;

/// A python3 that runs but has no `kubernetes` package: `labs test` says exactly that and how to
/// get it, not "needs the program python3".
#[test]
fn labs_test_says_python3_lacks_the_kubernetes_package() {
    let dir = tempfile::tempdir().expect("tempdir");
    let labs = dir.path().join("labs");
    std::fs::create_dir(&labs).expect("labs dir");
    std::fs::write(labs.join("py.md"), PY_LAB).expect("lab");
    // a python3 that starts, and fails every import
    let python = dir.path().join("python3");
    std::fs::write(&python, "#!/bin/sh\n[ \"$2\" = pass ] && exit 0\nexit 1\n").expect("python");
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["labs", "test", "--labs"])
        .arg(&labs)
        .env("OPLAB_PYTHON", &python)
        .env("HOME", dir.path())
        .env("NO_COLOR", "1")
        .env_remove("OPLAB_LOG")
        .output()
        .expect("run oplab");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("lacks the kubernetes package"), "{text}");
    assert!(
        text.contains("pip install kubernetes"),
        "how to get it: {text}"
    );
    assert!(!text.contains("needs the program python3"), "{text}");
}

/// A bad `validate=` value is a diagnostic at its file:line:col with "did you mean".
#[test]
fn a_bad_validate_value_is_located_with_did_you_mean() {
    let md = "---\nid: v\ntitle: V\norder: 1\n---\n# V\n\n## S\n\n```yaml apply validate=wran\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n```\n";
    let (_, diags) = oplab::lab::parse_lab(std::path::Path::new("v.md"), md);
    let text: Vec<String> = diags.iter().map(|d| d.render(false)).collect();
    let all = text.join("\n");
    assert!(all.contains("v.md:10:15"), "{all}");
    assert!(all.contains("validate=wran"), "{all}");
    assert!(all.contains("did you mean `validate=warn`?"), "{all}");
    // and a good one parses into the block
    let good = md.replace("wran", "ignore");
    let (lab, diags) = oplab::lab::parse_lab(std::path::Path::new("v.md"), &good);
    assert!(diags.is_empty(), "{diags:?}");
    let lab = lab.expect("lab");
    let block = lab.code_blocks().find(|b| b.attrs.apply).expect("block");
    assert_eq!(block.attrs.validate, oplab::cluster::Validation::Ignore);
}
