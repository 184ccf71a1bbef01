//! The bundled labs: all validate, cover the workshop, and every task can be checked, hinted and solved.

use crate::common;

use oplab::lab::{
    Block, Check, Fill, NeedKind, OperatorKind, Vars, gordon_reference_solution, load_dir,
    load_embedded,
};
use std::path::Path;
use std::time::Instant;

#[test]
fn every_bundled_lab_validates() {
    let set = load_embedded();
    let lint = set.lint();
    assert!(
        lint.is_empty(),
        "{}",
        lint.iter().map(|d| d.render(false)).collect::<String>()
    );
    assert_eq!(set.labs.len(), 4);
}

#[test]
fn the_embedded_labs_are_the_files_in_labs() {
    let on_disk = load_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("labs").as_path());
    let embedded = load_embedded();
    let ids = |s: &oplab::lab::LabSet| {
        s.labs
            .iter()
            .map(|l| (l.id.clone(), l.source_text().len()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&on_disk),
        ids(&embedded),
        "a labs/*.md file is missing from src/lab/embedded.rs"
    );
}

#[test]
fn four_chapters_in_order() {
    let set = load_embedded();
    let titles: Vec<&str> = set.labs.iter().map(|l| l.title.as_str()).collect();
    assert!(titles[0].contains("Custom resources"), "{titles:?}");
    assert!(
        titles[1].contains("OLM") && titles[1].contains("etcd"),
        "{titles:?}"
    );
    assert!(titles[2].contains("Gordon"), "{titles:?}");
    assert!(titles[3].contains("Operator SDK"), "{titles:?}");
    let orders: Vec<u32> = set.labs.iter().map(|l| l.order).collect();
    assert_eq!(orders, [1, 2, 3, 4]);
}

#[test]
fn every_task_has_a_check_a_hint_and_a_solution() {
    let set = load_embedded();
    let mut n = 0;
    for lab in &set.labs {
        for task in lab.tasks() {
            n += 1;
            assert!(!task.hints.is_empty(), "{}/{} has no hint", lab.id, task.id);
            assert!(task.hints.iter().all(|h| !h.trim().is_empty()));
            assert!(
                !task.solution.text.trim().is_empty(),
                "{}/{} has no solution",
                lab.id,
                task.id
            );
            assert!(!task.title.trim().is_empty());
            // Every machine-applied block exists and is a manifest.
            for id in &task.solution.apply {
                let block = lab
                    .code_block(id)
                    .unwrap_or_else(|| panic!("{}: no block {id}", task.id));
                assert!(block.attrs.apply);
            }
            if task.check.uses_exec() {
                // Exec runs in the sandbox's etcd pods (program etcd) or needs a real cluster.
                assert!(
                    task.needs.iter().any(|n| n.kind == NeedKind::RealCluster
                        || n.kind == NeedKind::Program("etcd".into())),
                    "{}",
                    task.id
                );
            }
            if let Check::Probe(p) = &task.check {
                assert!(!p.description.is_empty() && !p.within.is_zero());
            }
        }
    }
    assert!(n >= 30, "only {n} tasks");
}

#[test]
fn the_seed_tasks_are_all_there() {
    let set = load_embedded();
    let has = |lab: &str, task: &str| {
        set.lab(lab)
            .and_then(|l| l.task(task))
            .unwrap_or_else(|| panic!("missing {lab}/{task}"))
    };
    // Chapter 2: OLM and etcd, including the seed's scale/second cluster/independence tasks.
    for t in [
        "olm-installed",
        "olm-subscription",
        "olm-approve",
        "etcd-operator-installed",
        "etcd-cluster",
        "etcd-members",
        "etcd-put-get",
        "etcd-scale",
        "etcd-second-cluster",
        "operator-scope",
    ] {
        has("olm-and-etcd", t);
    }
    // Chapter 3: explain (a quiz), delete, self-healing checker, own operator.
    assert!(
        has("gordon-operator", "gordon-api-calls")
            .check
            .quiz()
            .is_some()
    );
    assert!(
        has("gordon-operator", "gordon-self-heal")
            .check
            .changes_cluster()
    );
    assert!(
        has("gordon-operator", "gordon-delete")
            .check
            .changes_cluster()
    );
    let py = has("gordon-operator", "python-operator-creates");
    assert_eq!(
        py.solution.operator.as_ref().map(|o| o.kind),
        Some(OperatorKind::ReferencePython)
    );
    // Chapter 4: the memcached tutorial as the advanced task.
    has("operator-sdk", "memcached-deployment");
    assert!(
        has("operator-sdk", "capability-levels")
            .check
            .quiz()
            .is_some()
    );
}

#[test]
fn instructor_steps_are_marked() {
    let set = load_embedded();
    let instructor: Vec<String> = set
        .labs
        .iter()
        .flat_map(|l| {
            l.steps
                .iter()
                .filter(|s| s.instructor_only)
                .map(|s| s.title.clone())
        })
        .collect();
    assert!(
        instructor.iter().any(|t| t.contains("OLM")),
        "{instructor:?}"
    );
    assert!(
        instructor.iter().any(|t| t.contains("Gordon kind")),
        "{instructor:?}"
    );
    assert!(instructor.iter().all(|t| !t.contains("(instructor)")));
}

#[test]
fn attendee_namespaces_fill_text_code_and_checks() {
    let set = load_embedded();
    let lab = set.lab("gordon-operator").expect("gordon lab");
    let vars = lab.attendee_vars("alice");
    assert_eq!(vars.get("ns"), Some("alice-gordon"));
    let rendered = lab.render_vars(&vars);
    let mut saw_code = false;
    for step in &rendered.steps {
        for block in &step.blocks {
            match block {
                Block::Markdown(m) => assert!(!m.text.contains("{{ns}}"), "{}", m.text),
                Block::Code(c) => {
                    assert!(!c.text.contains("{{ns}}"));
                    saw_code |= c.text.contains("namespace: \"alice-gordon\"");
                }
                Block::Task(t) => {
                    let dbg = format!("{:?}", t.check);
                    assert!(!dbg.contains("{{"), "{dbg}");
                    if let Some(op) = &t.solution.operator {
                        assert_eq!(op.namespace, "alice-gordon");
                    }
                }
            }
        }
    }
    assert!(saw_code);
    let example = rendered.task("gordon-example").expect("task");
    let Check::All(parts) = &example.check else {
        panic!("all")
    };
    let Check::Owned(owned) = &parts[0] else {
        panic!("owned")
    };
    assert_eq!(owned.owner.namespace.as_deref(), Some("alice-gordon"));
    assert_eq!(owned.owned.namespace.as_deref(), Some("alice-gordon"));
    // Variables not given take the defaults.
    let two = set.lab("olm-and-etcd").expect("lab 2");
    let mut partial = Vars::default();
    partial.set("etc", "bob-etc");
    let r = two.render_vars(&partial);
    let dbg = format!("{:?}", r.task("etcd-second-cluster").expect("task").check);
    assert!(dbg.contains("\"etc2\"") && !dbg.contains("{{"), "{dbg}");
    let dbg = format!("{:?}", r.task("etcd-cluster").expect("task").check);
    assert!(dbg.contains("bob-etc"));
}

#[test]
fn fill_reaches_nested_checks() {
    let set = load_embedded();
    let lab = set.lab("gordon-operator").expect("lab");
    let mut check = lab.task("gordon-self-heal").expect("task").check.clone();
    let mut vars = Vars::default();
    vars.set("ns", "x-gordon");
    check.fill(&vars);
    let Check::Probe(p) = check else {
        panic!("probe")
    };
    assert!(p.description.contains("x-gordon"));
    let Check::Count(c) = *p.expect else {
        panic!("count")
    };
    assert_eq!(c.target.namespace.as_deref(), Some("x-gordon"));
    assert_eq!(
        c.target.selector.map(|s| s.to_string()).as_deref(),
        Some("operator.prgcont.cz/gordon=example")
    );
}

#[test]
fn parsing_all_bundled_labs_is_fast() {
    load_embedded();
    let start = Instant::now();
    for _ in 0..10 {
        load_embedded();
    }
    let each = start.elapsed() / 10;
    // 5 ms in release; debug builds of the test are several times slower.
    assert!(each.as_millis() < 100, "parsing took {each:?}");
}

#[test]
fn the_reference_solution_is_embedded_and_python_compiles_it() {
    let py = gordon_reference_solution();
    assert!(py.contains("patch_namespaced_custom_object_status"));
    assert!(py.contains("ownerReferences"));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs/solutions/gordon_operator.py");
    let status = std::process::Command::new(common::python_with_client())
        .arg("-m")
        .arg("py_compile")
        .arg(&path)
        .status()
        .expect("python runs");
    assert!(
        status.success(),
        "python could not compile the reference solution"
    );
}

#[test]
fn the_reference_solution_passes_its_python_unit_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs/solutions");
    // The environment has the kubernetes package, so none of these tests is skipped.
    let out = std::process::Command::new(common::python_with_client())
        .args(["-B", "-m", "unittest", "-v", "test_gordon_operator"])
        .current_dir(&dir)
        .output()
        .expect("python runs");
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{report}");
    assert!(
        !report.contains("skipped"),
        "a reference-solution test was skipped:\n{report}"
    );
}
