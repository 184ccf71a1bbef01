//! Every lab-file diagnostic: its code, and that it points at the right `file:line:col`.

use oplab::lab::{LabDiagnostic, load_dir, parse_lab};
use std::path::Path;

const FM: &str = "---\nid: demo\ntitle: Demo\norder: 1\nnamespaces:\n  ns: demo\n---\n";

/// Line and column (1-based) of the `nth` occurrence of `needle` in `text`.
fn pos_nth(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let mut from = 0;
    let mut at = 0;
    for _ in 0..=nth {
        at = from
            + text[from..]
                .find(needle)
                .unwrap_or_else(|| panic!("`{needle}` not in text"));
        from = at + 1;
    }
    let line = text[..at].matches('\n').count() + 1;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..at].chars().count() + 1)
}

fn pos(text: &str, needle: &str) -> (usize, usize) {
    pos_nth(text, needle, 0)
}

fn diags(text: &str) -> Vec<LabDiagnostic> {
    parse_lab(Path::new("labs/demo.md"), text).1
}

/// Asserts exactly one diagnostic with `code` exists, at the place of `needle`; returns it.
fn expect_one(text: &str, code: &str, needle: &str) -> LabDiagnostic {
    expect_at(text, code, pos(text, needle))
}

fn expect_at(text: &str, code: &str, at: (usize, usize)) -> LabDiagnostic {
    let all = diags(text);
    let found: Vec<&LabDiagnostic> = all.iter().filter(|d| d.code == code).collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {code}, got: {:#?}",
        all.iter()
            .map(|d| (d.code, d.location(), d.message.clone()))
            .collect::<Vec<_>>()
    );
    let d = found[0].clone();
    assert_eq!(
        d.line_col(),
        at,
        "{code}: {} at {}",
        d.message,
        d.location()
    );
    assert_eq!(d.location(), format!("labs/demo.md:{}:{}", at.0, at.1));
    let report = d.render(false);
    assert!(
        report.contains(&format!("demo.md:{}:{}", at.0, at.1)),
        "{report}"
    );
    d
}

fn task(yaml: &str) -> String {
    format!("{FM}# Demo\n\n## Step\n\nText.\n\n```task\n{yaml}```\n")
}

const GOOD_TASK: &str = "id: t1\ntitle: T\ncheck:\n  absent: {apiVersion: v1, kind: Pod, namespace: \"{{ns}}\", name: x}\nhints: [h]\nsolution: {text: s}\n";

#[test]
fn a_good_lab_has_no_diagnostics() {
    let text = task(GOOD_TASK);
    assert!(diags(&text).is_empty(), "{:?}", diags(&text));
}

#[test]
fn front_matter_missing() {
    let d = expect_at("# Just markdown\n\n## Step\n", "lab::front-matter", (1, 1));
    assert!(d.help.as_deref().unwrap_or("").contains("---"));
}

#[test]
fn front_matter_not_closed() {
    let d = expect_at(
        "---\nid: x\ntitle: y\n# body\n",
        "lab::front-matter",
        (1, 1),
    );
    assert!(d.message.contains("not closed"));
}

#[test]
fn front_matter_yaml_error_points_into_the_md() {
    let text = "---\nid: broken\ntitle: [unclosed\n---\n# x\n";
    let d = expect_one(text, "lab::yaml", "[unclosed");
    assert!(d.message.contains("front matter"));
}

#[test]
fn front_matter_unknown_key_suggests_the_right_one() {
    let text = FM.replace("title: Demo", "title: Demo\ntittle: Demo") + "## S\n";
    let d = expect_one(&text, "lab::front-matter", "tittle");
    assert!(d.message.contains("unknown key `tittle`"));
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `title`")
    );
}

#[test]
fn front_matter_missing_field_and_bad_values() {
    let text = "---\nid: demo\norder: 1\n---\n## S\n";
    let d = expect_one(text, "lab::front-matter", "id: demo");
    assert!(d.message.contains("no `title`"));
    let text = "---\nid: Demo_Lab\ntitle: t\norder: 1\n---\n## S\n";
    expect_one(text, "lab::front-matter", "Demo_Lab");
    let text = "---\nid: demo\ntitle: t\norder: first\n---\n## S\n";
    expect_one(text, "lab::front-matter", "first");
    let text = "---\nid: demo\ntitle: t\norder: 1\nnamespaces:\n  ns: Not_A_Namespace\n---\n## S\n";
    expect_one(text, "lab::front-matter", "Not_A_Namespace");
}

#[test]
fn a_lab_without_steps() {
    let text = format!("{FM}# Title only\n\nSome text.\n");
    expect_at(&text, "lab::structure", pos(&text, "# Title"));
}

#[test]
fn a_second_title() {
    let text = format!("{FM}# One\n\n## Step\n\n# Two\n");
    let d = expect_one(&text, "lab::structure", "# Two");
    assert!(d.message.contains("second"));
}

#[test]
fn an_unclosed_code_block() {
    let text = format!("{FM}## Step\n\n```sh copy\nkubectl get pods\n");
    expect_one(&text, "lab::structure", "```sh");
}

#[test]
fn a_task_inside_a_list() {
    let text = format!("{FM}## Step\n\n- item\n\n  ```task\n  id: x\n  ```\n");
    expect_one(&text, "lab::structure", "```task");
}

#[test]
fn yaml_error_inside_a_task_block() {
    let text = task("id: t1\ntitle: [oops\n");
    let d = expect_one(&text, "lab::yaml", "[oops");
    assert!(d.message.contains("task block"));
}

#[test]
fn task_without_check_hints_or_solution() {
    let text = task("id: t1\ntitle: T\n");
    let all = diags(&text);
    let msgs: Vec<&str> = all
        .iter()
        .filter(|d| d.code == "lab::task")
        .map(|d| d.message.as_str())
        .collect();
    assert!(msgs.iter().any(|m| m.contains("no `check`")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("no `hints`")), "{msgs:?}");
    let (line, col) = pos(&text, "id: t1");
    assert!(all.iter().all(|d| d.line_col() == (line, col)));
    let text = task(&GOOD_TASK.replace("solution: {text: s}\n", ""));
    let d = expect_one(&text, "lab::task", "id: t1");
    assert!(d.message.contains("no `solution`"));
}

#[test]
fn task_unknown_key_and_bad_id() {
    let text = task(&GOOD_TASK.replace("hints: [h]", "hints: [h]\nhint: [x]"));
    let d = expect_one(&text, "lab::task", "hint: [x]");
    assert!(d.help.as_deref().unwrap_or("").contains("hints"));
    let text = task(&GOOD_TASK.replace("id: t1", "id: Task_1"));
    expect_one(&text, "lab::task", "Task_1");
}

#[test]
fn unknown_check_kind() {
    let text = task(&GOOD_TASK.replace("absent:", "asert:"));
    let d = expect_one(&text, "lab::check", "asert");
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `assert`")
    );
}

#[test]
fn bad_jsonpath_points_at_the_character() {
    let check = "check:\n  jsonpath:\n    apiVersion: v1\n    kind: Pod\n    namespace: \"{{ns}}\"\n    name: p\n    path: $.status..[\n    equals: 1\n";
    let text = task(&GOOD_TASK.replace(
        "check:\n  absent: {apiVersion: v1, kind: Pod, namespace: \"{{ns}}\", name: x}\n",
        check,
    ));
    let all = diags(&text);
    let d = all
        .iter()
        .find(|d| d.code == "lab::jsonpath")
        .expect("a jsonpath diagnostic");
    let (line, col) = pos(&text, "$.status..[");
    assert_eq!(d.line_col().0, line);
    assert!(
        d.line_col().1 >= col && d.line_col().1 < col + 11,
        "{}",
        d.location()
    );
}

#[test]
fn bad_label_selector() {
    let text = task(&GOOD_TASK.replace("name: x}", "selector: \"app in web\"}"));
    let d = expect_one(&text, "lab::selector", "\"app in web\"");
    assert!(d.message.contains("app in web"));
}

#[test]
fn bad_duration() {
    let check = "check:\n  exec:\n    namespace: \"{{ns}}\"\n    pod: p\n    command: [date]\n    timeout: 5 parsecs\n    expect: {contains: x}\n";
    let text = task(&GOOD_TASK.replace(
        "check:\n  absent: {apiVersion: v1, kind: Pod, namespace: \"{{ns}}\", name: x}\n",
        check,
    ));
    expect_one(&text, "lab::duration", "5 parsecs");
}

#[test]
fn exec_needs_a_real_cluster() {
    let check = "check:\n  exec:\n    namespace: \"{{ns}}\"\n    pod: p\n    command: [date]\n    expect: {contains: x}\n";
    let text = task(&GOOD_TASK.replace(
        "check:\n  absent: {apiVersion: v1, kind: Pod, namespace: \"{{ns}}\", name: x}\n",
        check,
    ));
    let d = expect_one(&text, "lab::task", "id: t1");
    assert!(
        d.message.contains("does not say what they need"),
        "{}",
        d.message
    );
    assert!(d.help.as_deref().unwrap_or("").contains("real-cluster"));
    for need in [
        "  - real-cluster: exec\n",
        "  - program: {name: etcd, reason: etcd pods}\n",
    ] {
        let fixed = text.replace(
            "solution: {text: s}\n",
            &format!("solution: {{text: s}}\nneeds:\n{need}"),
        );
        assert!(diags(&fixed).is_empty(), "{:?}", diags(&fixed));
    }
}

#[test]
fn probe_without_within() {
    let check = "check:\n  probe:\n    description: d\n    action: {delete: {apiVersion: v1, kind: Pod, namespace: \"{{ns}}\", name: p}}\n    expect: {absent: {apiVersion: v1, kind: Pod, namespace: \"{{ns}}\", name: p}}\n";
    let text = task(&GOOD_TASK.replace(
        "check:\n  absent: {apiVersion: v1, kind: Pod, namespace: \"{{ns}}\", name: x}\n",
        check,
    ));
    let d = expect_one(&text, "lab::check", "description: d");
    assert!(d.message.contains("within"));
}

#[test]
fn quiz_without_a_correct_answer() {
    let check = "check:\n  quiz:\n    question: q\n    choices:\n      - text: a\n      - text: b\n    explanation: e\n";
    let text = task(&GOOD_TASK.replace(
        "check:\n  absent: {apiVersion: v1, kind: Pod, namespace: \"{{ns}}\", name: x}\n",
        check,
    ));
    let d = expect_one(&text, "lab::quiz", "- text: a");
    assert!(d.message.contains("correct"));
}

#[test]
fn unknown_variable() {
    let text = task(GOOD_TASK) + "\nRun `kubectl -n {{nss}} get pods`.\n";
    let d = expect_one(&text, "lab::unknown-var", "{{nss}}");
    assert!(d.help.as_deref().unwrap_or("").contains("ns"));
}

#[test]
fn unquoted_variable_in_yaml() {
    let text = task(&GOOD_TASK.replace("namespace: \"{{ns}}\"", "namespace: {{ns}}"));
    let all = diags(&text);
    let d = all
        .iter()
        .find(|d| d.code == "lab::check")
        .expect("a check diagnostic");
    assert!(d.help.as_deref().unwrap_or("").contains("quotes"), "{d:?}");
}

#[test]
fn duplicate_task_and_block_ids() {
    let text = format!(
        "{FM}## S\n\n```task\n{GOOD_TASK}```\n\n```task\n{GOOD_TASK}```\n\n```yaml apply id=m\na: 1\n```\n\n```yaml apply id=m\na: 2\n```\n"
    );
    let all = diags(&text);
    let dup: Vec<_> = all
        .iter()
        .filter(|d| d.code == "lab::duplicate-id")
        .collect();
    assert_eq!(dup.len(), 2, "{dup:?}");
    assert_eq!(dup[0].line_col(), pos_nth(&text, "```task", 1));
    assert_eq!(dup[1].line_col(), pos_nth(&text, "```yaml apply id=m", 1));
}

#[test]
fn unknown_code_block_attribute() {
    let text = format!("{FM}## S\n\n```sh cpy\nls\n```\n");
    let d = expect_one(&text, "lab::code-attr", "cpy");
    assert!(d.help.as_deref().unwrap_or("").contains("copy"));
    let text = format!("{FM}## S\n\n```sh run=yes\nls\n```\n");
    expect_one(&text, "lab::code-attr", "run=yes");
}

#[test]
fn unknown_manifest_sets() {
    let text = format!("{FM}## S\n\n```text apply set=nope\nx\n```\n");
    expect_one(&text, "lab::manifest-set", "nope");
    let text = task(&GOOD_TASK.replace(
        "solution: {text: s}",
        "solution: {text: s, sets: [gordon, nope/a.yaml]}",
    ));
    expect_one(&text, "lab::manifest-set", "nope/a.yaml");
    let text = FM
        .replace("---\n# ", "")
        .replace("namespaces:", "requires:\n  sets: [missing]\nnamespaces:")
        + "## S\n";
    expect_one(&text, "lab::manifest-set", "missing");
}

#[test]
fn solution_refers_to_unknown_or_unappliable_blocks() {
    let text = format!(
        "{FM}## S\n\n```sh copy id=cmd\nls\n```\n\n```task\n{}```\n",
        GOOD_TASK.replace(
            "solution: {text: s}",
            "solution: {text: s, apply: [cmd, ghost]}"
        )
    );
    let all = diags(&text);
    let refs: Vec<_> = all
        .iter()
        .filter(|d| d.code == "lab::solution-ref")
        .collect();
    assert_eq!(refs.len(), 2, "{all:?}");
    assert_eq!(refs[0].line_col(), pos(&text, "cmd, ghost"));
    assert_eq!(refs[1].line_col(), pos(&text, "ghost"));
}

#[test]
fn lint_finds_unknown_required_labs_and_duplicate_lab_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = FM.replace("namespaces:", "requires:\n  labs: [nowhere]\nnamespaces:") + "## S\n";
    std::fs::write(dir.path().join("a.md"), &a).expect("write");
    std::fs::write(dir.path().join("b.md"), format!("{FM}## S\n")).expect("write");
    let set = load_dir(dir.path());
    assert_eq!(set.labs.len(), 2);
    let lint = set.lint();
    let req = lint
        .iter()
        .find(|d| d.code == "lab::requires")
        .expect("requires");
    assert_eq!(req.line_col(), pos(&a, "nowhere"));
    let dup = lint
        .iter()
        .find(|d| d.code == "lab::duplicate-id")
        .expect("duplicate lab id");
    assert_eq!(dup.line_col(), pos(FM, "demo"));
    assert!(set.has_errors());
}

#[test]
fn one_broken_file_does_not_stop_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("good.md"), task(GOOD_TASK)).expect("write");
    std::fs::write(
        dir.path().join("broken.md"),
        "---\nid: broken\ntitle: [unclosed\n---\n# x\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("README.md"), "# not a lab\n").expect("write");
    let set = load_dir(dir.path());
    assert_eq!(set.labs.len(), 1);
    assert_eq!(set.labs[0].id, "demo");
    assert_eq!(set.diagnostics.len(), 1);
    assert!(
        set.diagnostics[0].location().ends_with("broken.md:3:8"),
        "{}",
        set.diagnostics[0].location()
    );
}

#[test]
fn a_broken_task_drops_only_that_task() {
    let text = format!(
        "{FM}## S\n\n```task\n{GOOD_TASK}```\n\n```task\n{}```\n",
        GOOD_TASK
            .replace("id: t1", "id: t2")
            .replace("absent:", "asert:")
    );
    let (lab, diags) = parse_lab(Path::new("x.md"), &text);
    let lab = lab.expect("the lab still loads");
    assert_eq!(
        lab.tasks().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["t1"]
    );
    assert_eq!(diags.len(), 1);
}
