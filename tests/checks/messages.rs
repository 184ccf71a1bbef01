//! Issue 18: what the check engine says when a library call fails is a sentence, never a dump.

use crate::common;

use common::TestCluster;
use oplab::checks::{Engine, Verdict};

/// A probe whose action the server refuses (404: the object is not there) says so in words with
/// what to do, not kube's `ApiError: ... (Status { status: Some(Failure), ... })`.
#[tokio::test]
async fn a_failed_probe_action_is_a_sentence_not_a_debug_dump() {
    let c = TestCluster::start().await;
    let client = c.client().await;
    let md = r#"---
id: probes
title: Probes
order: 9
---
# Probes

## Gone

```task
id: gone
title: Deleting what is not there
check:
  probe:
    description: Deletes a ConfigMap that does not exist.
    action:
      delete: {apiVersion: v1, kind: ConfigMap, namespace: default, name: not-there}
    expect:
      absent: {apiVersion: v1, kind: ConfigMap, namespace: default, name: not-there}
    within: 2s
hints: [Run the probe.]
solution: {text: Nothing to do.}
```
"#;
    let (lab, diags) = oplab::lab::parse_lab(std::path::Path::new("probes.md"), md);
    let lab = lab.unwrap_or_else(|| panic!("lab parses: {diags:?}"));
    let task = lab.tasks().next().expect("task").clone();
    let mut engine = Engine::new(client.clone());
    engine.add("probes", &task);
    let v = engine.run_probe(0).await;
    let Verdict::Fail(reason) = &v.verdict else {
        panic!("the probe should fail: {:?}", v.verdict)
    };
    assert!(!reason.contains("Status {"), "a Debug dump: {reason}");
    assert!(!reason.contains("Some("), "a Debug dump: {reason}");
    assert!(!reason.contains("ApiError"), "kube's type name: {reason}");
    assert!(reason.contains("404"), "{reason}");
    assert!(reason.contains("not-there"), "where: {reason}");
    assert!(reason.contains("what to do:"), "{reason}");
}
