//! One source of truth for manifests: the chapters' `file=` blocks and the bundled sets give the
//! same objects, the sets' examples carry the chapters' names, and the CRDs behave as the chapters say.

use crate::common;

use common::{BlockingCluster, ok, stdout};
use oplab::checks::bundled;
use oplab::lab::{Block, load_dir, load_embedded};
use std::path::Path;

#[test]
fn every_file_block_shows_its_bundled_file() {
    let set = load_embedded();
    let found: Vec<String> = set
        .labs
        .iter()
        .flat_map(|l| bundled::file_blocks(l).map(|(_, f)| f).collect::<Vec<_>>())
        .collect();
    for f in [
        "crontab/crd.yaml",
        "crontab/crontab.yaml",
        "crontab/namespace.yaml",
        "gordon/crd.yaml",
        "gordon/gordon.yaml",
        "gordon/namespace.yaml",
    ] {
        assert!(
            found.contains(&f.to_string()),
            "no chapter block shows {f}: {found:?}"
        );
    }
    let mismatches = bundled::mismatches(&set);
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn a_block_changed_alone_is_an_error_with_the_field_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs");
    let text = std::fs::read_to_string(root.join("03-gordon-operator.md")).expect("chapter 3");
    let changed = text.replacen("maximum: 50", "maximum: 40", 1);
    assert_ne!(changed, text);
    std::fs::write(dir.path().join("03-gordon-operator.md"), changed).expect("write");
    std::fs::write(
        dir.path().join("01-custom-resources.md"),
        std::fs::read_to_string(root.join("01-custom-resources.md")).expect("chapter 1"),
    )
    .expect("write");
    let set = load_dir(dir.path());
    let m = bundled::mismatches(&set);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0].file, "gordon/crd.yaml");
    assert!(
        m[0].what
            .contains("replicas.maximum: 40 in the block, 50 in the file"),
        "{}",
        m[0]
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oplab"))
        .args(["labs", "validate"])
        .arg(dir.path())
        .output()
        .expect("oplab");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("03-gordon-operator.md:32") && err.contains("gordon/crd.yaml"),
        "{err}"
    );
}

/// The text of a chapter's code block by id, with the chapter's default variables filled.
fn block(lab: &str, id: &str) -> String {
    let set = load_embedded();
    let lab = set.labs.iter().find(|l| l.id == lab).expect("lab");
    let lab = lab.render_vars(&lab.default_vars());
    lab.steps
        .iter()
        .flat_map(|s| s.blocks.iter())
        .find_map(|b| match b {
            Block::Code(c) if c.attrs.id.as_deref() == Some(id) => Some(c.text.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no block {id}"))
}

#[test]
fn apply_set_then_the_chapters_blocks_changes_nothing_and_the_crds_work() {
    let cluster = BlockingCluster::start();
    let out = ok(cluster.oplab(&["apply", "crontab", "gordon"]));
    assert!(out.contains("CronTab/nightly -n crontabs created"), "{out}");
    assert!(out.contains("Gordon/example -n gordon created"), "{out}");
    // the chapters' blocks, applied after the sets, find every object as the sets made it
    let dir = tempfile::tempdir().expect("tempdir");
    for (lab, ids) in [
        (
            "custom-resources",
            &["crontabs-namespace", "crontab-crd", "crontab-nightly"][..],
        ),
        (
            "gordon-operator",
            &["gordon-crd", "gordon-namespace", "gordon-example"][..],
        ),
    ] {
        for id in ids {
            let path = dir.path().join(format!("{id}.yaml"));
            std::fs::write(&path, block(lab, id)).expect("write");
            let out = ok(cluster.oplab(&["apply", path.to_str().expect("utf-8")]));
            assert!(out.contains("1 unchanged"), "{lab} block {id}: {out}");
        }
    }
    // chapter 3: the CRD has a scale subresource
    ok(cluster.kubectl(&[
        "-n",
        "gordon",
        "scale",
        "gordon",
        "example",
        "--replicas",
        "2",
    ]));
    let got = ok(cluster.kubectl(&[
        "-n",
        "gordon",
        "get",
        "gordon",
        "example",
        "-o",
        "jsonpath={.spec.gordon.replicas}",
    ]));
    assert_eq!(got.trim(), "2");
    // chapter 1: replicas defaults to 1, the Schedule column, the five-field pattern
    let tidy = dir.path().join("tidy.yaml");
    std::fs::write(&tidy, block("custom-resources", "crontab-pruned")).expect("write");
    ok(cluster.kubectl(&[
        "apply",
        "--validate=warn",
        "-f",
        tidy.to_str().expect("utf-8"),
    ]));
    let got = ok(cluster.kubectl(&[
        "-n",
        "crontabs",
        "get",
        "ct",
        "tidy",
        "-o",
        "jsonpath={.spec.replicas}",
    ]));
    assert_eq!(got.trim(), "1");
    let table = ok(cluster.kubectl(&["-n", "crontabs", "get", "ct"]));
    assert!(
        table
            .lines()
            .next()
            .unwrap_or_default()
            .contains("SCHEDULE"),
        "{table}"
    );
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, block("custom-resources", "crontab-invalid")).expect("write");
    let o = cluster.kubectl(&["apply", "-f", broken.to_str().expect("utf-8")]);
    assert!(!o.status.success(), "{}", stdout(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("spec.cronSpec") && err.contains("spec.replicas"),
        "{err}"
    );
}
