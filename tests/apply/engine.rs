//! The apply engine against the sandbox over HTTPS: bundled sets, atomicity, idempotence, delete, namespaces, conflicts.

use crate::common;

use common::{TestCluster, eventually, stdout};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use oplab::cluster::{
    ApplyEvent, Document, Failure, Outcome, Report, Settings, Vars, apply, load_documents,
};
use std::time::Duration;

fn docs(sources: &[&str], vars: &Vars) -> Vec<Document> {
    let args: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
    load_documents(&args, vars).unwrap_or_else(|f| panic!("loading {sources:?}: {f}"))
}

async fn apply_set(c: &kube::Client, set: &str) -> Result<Report, Failure> {
    apply::apply(
        c,
        docs(&[set], &Vars::default()),
        &Settings::default(),
        None,
    )
    .await
}

fn outcomes(r: &Report) -> Vec<Outcome> {
    r.results.iter().map(|(_, o)| *o).collect()
}

async fn is_established(c: &kube::Client, name: &str) -> bool {
    let api: Api<CustomResourceDefinition> = Api::all(c.clone());
    api.get(name).await.ok().is_some_and(|crd| {
        crd.status
            .and_then(|s| s.conditions)
            .into_iter()
            .flatten()
            .any(|c| c.type_ == "Established" && c.status == "True")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bundled_set_applies_and_reapplies_unchanged() {
    let cluster = TestCluster::start().await;
    let c = cluster.client().await;
    for set in ["crontab", "gordon", "olm", "etcd", "etcd/clusters"] {
        let report = apply_set(&c, set)
            .await
            .unwrap_or_else(|f| panic!("{set}: {f}"));
        assert!(!report.results.is_empty(), "{set} applied nothing");
        for (object, outcome) in &report.results {
            // every set brings its own namespace (crontab's is crontabs, gordon's gordon)
            let expected = Outcome::Created;
            assert_eq!(*outcome, expected, "{set}: {object}");
        }
    }
    for crd in [
        "crontabs.stable.example.com",
        "gordons.operator.prgcont.cz",
        "etcdclusters.operator.etcd.io",
        "subscriptions.operators.coreos.com",
        "clusterserviceversions.operators.coreos.com",
        "catalogsources.operators.coreos.com",
    ] {
        assert!(is_established(&c, crd).await, "{crd} not Established");
    }
    // kubectl sees them
    let out = stdout(&cluster.kubectl(&["get", "gn", "-n", "gordon", "-o", "name"]));
    assert_eq!(out.trim(), "gordon.operator.prgcont.cz/example");
    let out = stdout(&cluster.kubectl(&["get", "etcdclusters", "-A", "--no-headers"]));
    assert_eq!(out.lines().count(), 2, "{out}");
    let out = stdout(&cluster.kubectl(&["get", "catsrc", "-n", "olm", "-o", "name"]));
    assert!(out.contains("operatorhubio-catalog"), "{out}");
    let out = stdout(&cluster.kubectl(&["get", "deploy", "-n", "olm", "-o", "name"]));
    assert_eq!(out.lines().count(), 3, "{out}");
    // a second apply changes nothing and says so
    for set in ["crontab", "gordon", "olm", "etcd", "etcd/clusters"] {
        let report = apply_set(&c, set).await.expect("re-apply");
        assert!(
            outcomes(&report).iter().all(|o| *o == Outcome::Unchanged),
            "{set}: {:?}",
            report.results
        );
    }
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.display().to_string()
}

const GOOD_CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first-ok, namespace: default}\ndata: {a: b}\n";

async fn configmap_exists(c: &kube::Client, name: &str) -> bool {
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    api.get_opt(name).await.expect("get").is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_broken_document_applies_nothing_and_is_named() {
    let cluster = TestCluster::start().await;
    let c = cluster.client().await;
    let dir = tempfile::tempdir().expect("tmp");

    // bad YAML: refused while loading, before any request
    let bad_yaml = write(
        dir.path(),
        "bad-yaml.yaml",
        &format!(
            "{GOOD_CM}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   oops: [\n"
        ),
    );
    let f =
        load_documents(std::slice::from_ref(&bad_yaml), &Vars::default()).expect_err("bad yaml");
    let text = f.to_string();
    assert!(text.contains(&format!("{bad_yaml}:")), "{text}");
    assert!(text.contains("invalid YAML"), "{text}");
    let line: usize = f.errors[0]
        .at
        .as_deref()
        .and_then(|a| a.rsplit(':').next())
        .and_then(|l| l.parse().ok())
        .expect("line");
    assert!(
        line >= 6,
        "line {line} should be inside the second document"
    );

    // unknown kind in the second document
    let unknown = write(
        dir.path(),
        "unknown.yaml",
        &format!("{GOOD_CM}---\napiVersion: v1\nkind: NoSuchKind\nmetadata: {{name: bad}}\n"),
    );
    let f = apply::apply(
        &c,
        docs(&[&unknown], &Vars::default()),
        &Settings::default(),
        None,
    )
    .await
    .expect_err("unknown kind");
    assert!(f.nothing_applied);
    assert_eq!(
        f.errors[0].at.as_deref(),
        Some(format!("{unknown}:6").as_str())
    );
    assert!(f.to_string().contains("NoSuchKind"), "{f}");
    assert!(!configmap_exists(&c, "first-ok").await, "half-applied");

    // schema violation of a built-in kind: the server's dry run names the field
    let bad_deploy = write(
        dir.path(),
        "deploy.yaml",
        &format!(
            "{GOOD_CM}---\n# a comment\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: default}}\nspec:\n  replicas: -1\n  selector: {{matchLabels: {{app: d}}}}\n  template:\n    metadata: {{labels: {{app: d}}}}\n    spec: {{containers: [{{name: c, image: nginx}}]}}\n"
        ),
    );
    let f = apply::apply(
        &c,
        docs(&[&bad_deploy], &Vars::default()),
        &Settings::default(),
        None,
    )
    .await
    .expect_err("invalid deployment");
    assert!(f.nothing_applied);
    assert_eq!(
        f.errors[0].at.as_deref(),
        Some(format!("{bad_deploy}:7").as_str())
    );
    assert!(
        f.errors[0]
            .fields()
            .iter()
            .any(|x| x.starts_with("spec.replicas")),
        "{f}"
    );
    assert!(!configmap_exists(&c, "first-ok").await, "half-applied");

    // schema violation of a CR whose CRD is in the same set (checked locally): the crontab set plus
    // its invalid example; nothing of the set may exist afterwards
    let set_dir = dir.path().join("crontab");
    std::fs::create_dir(&set_dir).expect("mkdir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/crontab");
    for f in ["namespace.yaml", "crd.yaml", "crontab.yaml"] {
        std::fs::copy(root.join(f), set_dir.join(f)).expect("copy");
    }
    std::fs::copy(
        root.join("invalid-crontab.yaml"),
        set_dir.join("zz-bad.yaml"),
    )
    .expect("copy");
    let set_arg = set_dir.display().to_string();
    let f = apply::apply(
        &c,
        docs(&[&set_arg], &Vars::default()),
        &Settings::default(),
        None,
    )
    .await
    .expect_err("schema violation");
    assert!(f.nothing_applied);
    let at = f.errors[0].at.clone().expect("at");
    assert!(at.ends_with("zz-bad.yaml:5"), "{at}");
    assert!(
        f.errors[0]
            .fields()
            .iter()
            .any(|x| x.starts_with("spec.replicas")),
        "{f}"
    );
    let ns: Api<Namespace> = Api::all(c.clone());
    assert!(
        ns.get_opt("gordon").await.expect("get").is_none(),
        "namespace applied"
    );
    let crds: Api<CustomResourceDefinition> = Api::all(c.clone());
    assert!(
        crds.get_opt("crontabs.stable.example.com")
            .await
            .expect("get")
            .is_none(),
        "CRD applied"
    );

    // once the CRD exists, the same invalid CronTab is refused by the server's dry run
    apply_set(&c, "crontab").await.expect("crontab");
    let f = apply_set(&c, "crontab/invalid-crontab.yaml")
        .await
        .expect_err("invalid");
    assert!(
        f.errors[0]
            .fields()
            .iter()
            .any(|x| x.starts_with("spec.replicas")),
        "{f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_the_set_and_namespaces_follow_dash_n() {
    let cluster = TestCluster::start().await;
    let c = cluster.client().await;
    let vars = Vars::from_args(Some("team1"), &[]).expect("vars");
    let settings = Settings {
        namespace: "team1".into(),
        ..Default::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let report = apply::apply(&c, docs(&["gordon"], &vars), &settings, Some(&tx))
        .await
        .expect("gordon in team1");
    drop(tx);
    let mut done = 0;
    while let Some(e) = rx.recv().await {
        if matches!(e, ApplyEvent::Done { .. }) {
            done += 1;
        }
    }
    assert_eq!(done, report.results.len(), "one event per object");
    let out = stdout(&cluster.kubectl(&["get", "gn", "-A", "--no-headers"]));
    assert!(out.starts_with("team1 "), "{out}");
    let out = stdout(&cluster.kubectl(&["get", "rolebinding", "-n", "team1", "-o", "name"]));
    assert!(out.contains("gordon-operator"), "{out}");

    let report = apply::delete(&c, docs(&["gordon"], &vars), &settings, None)
        .await
        .expect("delete");
    assert!(outcomes(&report).iter().all(|o| *o == Outcome::Deleted));
    // reverse order: the Gordon first, the namespace last
    assert_eq!(report.results[0].0.kind, "Gordon");
    assert_eq!(
        report.results.last().map(|r| r.0.kind.as_str()),
        Some("Namespace")
    );
    let crds: Api<CustomResourceDefinition> = Api::all(c.clone());
    let ns: Api<Namespace> = Api::all(c.clone());
    let gone = eventually(Duration::from_secs(10), || {
        let out = stdout(&cluster.kubectl(&[
            "get",
            "ns",
            "team1",
            "crd",
            "--ignore-not-found",
            "-o",
            "name",
        ]));
        !out.contains("team1") && !out.contains("gordons")
    })
    .await;
    assert!(gone, "set still there");
    assert!(
        crds.get_opt("gordons.operator.prgcont.cz")
            .await
            .expect("get")
            .is_none()
    );
    assert!(ns.get_opt("team1").await.expect("get").is_none());
    // deleting again: everything not found, no error
    let report = apply::delete(&c, docs(&["gordon"], &vars), &settings, None)
        .await
        .expect("delete again");
    assert!(outcomes(&report).iter().all(|o| *o == Outcome::NotFound));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_are_reported_and_forced_on_request() {
    let cluster = TestCluster::start().await;
    let c = cluster.client().await;
    let dir = tempfile::tempdir().expect("tmp");
    let cm = write(dir.path(), "cm.yaml", GOOD_CM);
    let report = apply::apply(
        &c,
        docs(&[&cm], &Vars::default()),
        &Settings::default(),
        None,
    )
    .await
    .expect("first apply");
    assert_eq!(outcomes(&report), vec![Outcome::Created]);
    // another field manager takes data.a
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let other = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first-ok"}, "data": {"a": "theirs"}});
    api.patch(
        "first-ok",
        &PatchParams::apply("other-team").force(),
        &Patch::Apply(&other),
    )
    .await
    .expect("other manager");
    // unforced: refused before any write, naming the manager and the field
    let f = apply::apply(
        &c,
        docs(&[&cm], &Vars::default()),
        &Settings::default(),
        None,
    )
    .await
    .expect_err("conflict");
    assert!(f.nothing_applied);
    assert_eq!(f.errors[0].conflicts(), vec![("other-team", "data.a")]);
    assert!(f.to_string().contains("--force-conflicts"), "{f}");
    assert_eq!(
        api.get("first-ok")
            .await
            .expect("get")
            .data
            .unwrap_or_default()["a"],
        "theirs"
    );
    // forced: oplab takes the field back
    let settings = Settings {
        force_conflicts: true,
        ..Default::default()
    };
    let report = apply::apply(&c, docs(&[&cm], &Vars::default()), &settings, None)
        .await
        .expect("forced");
    assert_eq!(outcomes(&report), vec![Outcome::Configured]);
    assert_eq!(
        api.get("first-ok")
            .await
            .expect("get")
            .data
            .unwrap_or_default()["a"],
        "b"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_and_diff_write_nothing() {
    let cluster = TestCluster::start().await;
    let c = cluster.client().await;
    let settings = Settings {
        dry_run: true,
        ..Default::default()
    };
    let report = apply::apply(&c, docs(&["etcd"], &Vars::default()), &settings, None)
        .await
        .expect("dry run");
    assert!(outcomes(&report).iter().all(|o| *o == Outcome::Created));
    let ns: Api<Namespace> = Api::all(c.clone());
    assert!(
        ns.get_opt("etcd-operator-system")
            .await
            .expect("get")
            .is_none()
    );
    apply_set(&c, "etcd").await.expect("etcd");
    let checked = apply::check(
        &c,
        docs(&["etcd"], &Vars::default()),
        &Settings::default(),
        None,
    )
    .await
    .expect("check");
    assert_eq!(checked.diff(), "", "no diff right after applying");
    let out = cluster.kubectl(&[
        "-n",
        "etcd-operator-system",
        "label",
        "deploy",
        "etcd-operator-controller-manager",
        "extra=1",
    ]);
    assert!(out.status.success());
    let out = cluster.kubectl(&[
        "-n",
        "etcd-operator-system",
        "scale",
        "deploy",
        "etcd-operator-controller-manager",
        "--replicas=2",
    ]);
    assert!(out.status.success());
    let checked = apply::check(
        &c,
        docs(&["etcd"], &Vars::default()),
        &Settings {
            force_conflicts: true,
            ..Default::default()
        },
        None,
    )
    .await
    .expect("check");
    let diff = checked.diff();
    assert!(
        diff.contains("-  replicas: 2") && diff.contains("+  replicas: 1"),
        "{diff}"
    );
    assert!(
        !diff.contains("managedFields") && !diff.contains("resourceVersion"),
        "{diff}"
    );
}
