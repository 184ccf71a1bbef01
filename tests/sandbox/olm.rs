//! OLM v0 simulated by the sandbox, step by step with kubectl: Subscription -> InstallPlan waiting for
//! approval -> approval by patch -> CSV phases -> the operator's Deployment; packagemanifests.

use crate::common;

use common::*;
use std::time::Duration;

const SUBSCRIPTION: &str = r#"
apiVersion: operators.coreos.com/v1
kind: OperatorGroup
metadata: {name: demo-group, namespace: olm-demo}
spec: {targetNamespaces: [olm-demo]}
---
apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata: {name: prometheus, namespace: olm-demo}
spec: {name: prometheus, channel: beta, source: operatorhubio-catalog, sourceNamespace: olm, installPlanApproval: Manual}
"#;

fn get(c: &TestCluster, args: &[&str]) -> String {
    stdout(&c.kubectl(args)).trim().to_string()
}

#[test]
fn olm_flow_with_manual_approval() {
    let c = BlockingCluster::start();
    let o = c.oplab(&["apply", "olm"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // The catalog, as the packageserver lists it.
    assert!(
        wait_until(Duration::from_secs(20), || get(
            &c,
            &["-n", "olm", "get", "packagemanifests"]
        )
        .contains("prometheus")),
        "no packagemanifests"
    );
    let pm = get(&c, &["-n", "olm", "get", "packagemanifests"]);
    assert!(
        pm.starts_with("NAME") && pm.contains("CATALOG") && pm.contains("Community Operators"),
        "{pm}"
    );
    let channel = get(
        &c,
        &[
            "-n",
            "olm",
            "get",
            "packagemanifest",
            "prometheus",
            "-o",
            "jsonpath={.status.channels[0].name}",
        ],
    );
    assert_eq!(channel, "beta");

    ok(c.kubectl(&["create", "namespace", "olm-demo"]));
    ok(c.kubectl_stdin(&kubectl_default(), &["apply", "-f", "-"], SUBSCRIPTION));
    let phase = |c: &TestCluster| {
        get(
            c,
            &[
                "-n",
                "olm-demo",
                "get",
                "installplans",
                "-o",
                "jsonpath={.items[0].status.phase}",
            ],
        )
    };
    assert!(
        wait_until(Duration::from_secs(10), || phase(&c) == "RequiresApproval"),
        "plan: {}",
        phase(&c)
    );
    let ip = get(
        &c,
        &[
            "-n",
            "olm-demo",
            "get",
            "installplans",
            "-o",
            "jsonpath={.items[0].metadata.name}",
        ],
    );
    assert!(ip.starts_with("install-"), "{ip}");
    // Upstream's columns.
    let table = get(&c, &["-n", "olm-demo", "get", "sub,ip"]);
    for col in [
        "PACKAGE", "SOURCE", "CHANNEL", "CSV", "APPROVAL", "APPROVED",
    ] {
        assert!(table.contains(col), "{col}: {table}");
    }
    assert!(
        table.contains("prometheusoperator.0.47.0")
            && table.contains("Manual")
            && table.contains("false"),
        "{table}"
    );
    let sub = |c: &TestCluster, path: &str| {
        get(
            c,
            &[
                "-n",
                "olm-demo",
                "get",
                "sub",
                "prometheus",
                "-o",
                &format!("jsonpath={path}"),
            ],
        )
    };
    assert_eq!(sub(&c, "{.status.state}"), "UpgradePending");
    assert_eq!(sub(&c, "{.status.currentCSV}"), "prometheusoperator.0.47.0");
    assert_eq!(sub(&c, "{.status.installPlanRef.name}"), ip);
    assert_eq!(
        sub(
            &c,
            "{.status.conditions[0].type} {.status.conditions[0].reason}"
        ),
        "InstallPlanPending RequiresApproval"
    );
    assert_eq!(
        get(&c, &["-n", "olm-demo", "get", "csv", "-o", "name"]),
        "",
        "nothing installed before approval"
    );

    // Approve.
    ok(c.kubectl(&[
        "-n",
        "olm-demo",
        "patch",
        "installplan",
        &ip,
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"approved":true}}"#,
    ]));
    let csv_phase = |c: &TestCluster| {
        get(
            c,
            &[
                "-n",
                "olm-demo",
                "get",
                "csv",
                "prometheusoperator.0.47.0",
                "-o",
                "jsonpath={.status.phase}",
            ],
        )
    };
    assert!(
        wait_until(Duration::from_secs(15), || csv_phase(&c) == "Succeeded"),
        "csv: {}",
        csv_phase(&c)
    );
    assert_eq!(phase(&c), "Complete");
    let steps = get(
        &c,
        &[
            "-n",
            "olm-demo",
            "get",
            "installplan",
            &ip,
            "-o",
            "jsonpath={.status.plan[*].status}",
        ],
    );
    assert!(steps.split(' ').all(|s| s == "Created"), "{steps}");
    let history = get(
        &c,
        &[
            "-n",
            "olm-demo",
            "get",
            "csv",
            "prometheusoperator.0.47.0",
            "-o",
            "jsonpath={.status.conditions[*].phase}",
        ],
    );
    assert_eq!(history, "Pending InstallReady Installing Succeeded");
    let reasons = get(
        &c,
        &[
            "-n",
            "olm-demo",
            "get",
            "csv",
            "prometheusoperator.0.47.0",
            "-o",
            "jsonpath={.status.conditions[*].reason}",
        ],
    );
    assert_eq!(
        reasons,
        "RequirementsUnknown AllRequirementsMet InstallSucceeded InstallSucceeded"
    );
    let csv_table = get(&c, &["-n", "olm-demo", "get", "csv"]);
    for col in [
        "DISPLAY",
        "VERSION",
        "REPLACES",
        "PHASE",
        "Prometheus Operator",
        "0.47.0",
        "Succeeded",
    ] {
        assert!(csv_table.contains(col), "{col}: {csv_table}");
    }
    // The install strategy's Deployment, and the CRDs of the plan.
    let ready = get(
        &c,
        &[
            "-n",
            "olm-demo",
            "get",
            "deployment",
            "prometheus-operator",
            "-o",
            "jsonpath={.status.availableReplicas}",
        ],
    );
    assert_eq!(ready, "1");
    ok(c.kubectl(&["get", "crd", "prometheuses.monitoring.coreos.com"]));
    assert!(wait_until(Duration::from_secs(10), || sub(
        &c,
        "{.status.state}"
    ) == "AtLatestKnown"));
    assert_eq!(
        sub(&c, "{.status.installedCSV}"),
        "prometheusoperator.0.47.0"
    );
    // It says it is simulated.
    let note = get(
        &c,
        &[
            "-n",
            "olm-demo",
            "get",
            "installplan",
            &ip,
            "-o",
            "jsonpath={.metadata.annotations.oplab\\.dev/simulated}",
        ],
    );
    assert!(note.contains("simulated by the oplab sandbox"), "{note}");
    let events = get(&c, &["-n", "olm-demo", "get", "events"]);
    assert!(
        events.contains("simulated by the oplab sandbox"),
        "{events}"
    );
}
