//! `oplab classroom setup` and `teardown` through the CLI on the sandbox: kubeconfigs with mode
//! 0600 that work with kubectl and kube-rs, labelled objects, an idempotent re-run that refreshes
//! the tokens, a refusal that changes nothing, and a teardown that leaves nothing behind.

use crate::common;

use common::{BlockingCluster, ok, stdout};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use kube::api::{Api, ListParams};
use oplab::classroom::{ATTENDEE_LABEL, CLASSROOM_NAMESPACE, MANAGED_BY, MANAGED_BY_LABEL};

fn managed() -> ListParams {
    ListParams::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"))
}

/// The objects of kind `K`, in every namespace, that carry the classroom's managed-by label.
async fn managed_items<K>(c: &kube::Client, what: &str) -> Vec<K>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    Api::<K>::all(c.clone())
        .list(&managed())
        .await
        .expect(what)
        .items
}

#[test]
fn setup_three_attendees_then_teardown_leaves_nothing() {
    let bc = BlockingCluster::start();
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        work.path().join("class.txt"),
        "# Tuesday\nalice\nbob  # late\ncarol\n",
    )
    .expect("names");
    let out = ok(bc.oplab_in(
        work.path(),
        &["classroom", "setup", "--names", "class.txt", "--out", "kc"],
    ));
    assert!(
        out.contains("KUBECONFIG=alice.kubeconfig oplab --attendee alice"),
        "{out}"
    );
    assert!(out.contains("alice-{"), "{out}");

    for name in ["alice", "bob", "carol"] {
        let kc = work.path().join("kc").join(format!("{name}.kubeconfig"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&kc)
                .expect("kubeconfig")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{}", kc.display());
        }
        // kubectl with the attendee's kubeconfig: their own namespace is the default.
        let o = bc.kubectl_as(&kc, &["get", "pods"]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = bc.kubectl_as(
            &kc,
            &[
                "config",
                "view",
                "--minify",
                "-o",
                "jsonpath={.contexts[0].context.namespace}",
            ],
        );
        assert_eq!(stdout(&o), format!("{name}-gordon"));
        // kube-rs with the same file.
        let pods = bc.runtime.block_on(async {
            let client = oplab::cluster::connection::Target::kubeconfig(Some(kc.clone()), None)
                .client()
                .await
                .expect("a client from the attendee's kubeconfig");
            Api::<Pod>::namespaced(client, &format!("{name}-crontabs"))
                .list(&ListParams::default())
                .await
        });
        assert!(pods.is_ok(), "{name}: {pods:?}");
    }

    // The objects, labelled.
    let (nss, sas, rbs, crs, roster) = bc.runtime.block_on(async {
        let c = bc.client().await;
        let nss = Api::<Namespace>::all(c.clone())
            .list(&ListParams::default().labels(ATTENDEE_LABEL))
            .await
            .expect("namespaces");
        let sas = Api::<ServiceAccount>::namespaced(c.clone(), CLASSROOM_NAMESPACE)
            .list(&managed())
            .await
            .expect("service accounts");
        let rbs = Api::<RoleBinding>::namespaced(c.clone(), "bob-gordon")
            .list(&managed())
            .await
            .expect("role bindings");
        let crs = Api::<ClusterRole>::all(c.clone())
            .list(&managed())
            .await
            .expect("roles");
        let roster = Api::<ConfigMap>::namespaced(c.clone(), CLASSROOM_NAMESPACE)
            .get("roster")
            .await
            .expect("roster");
        (nss, sas, rbs, crs, roster)
    });
    let per = oplab::classroom::attendee_namespaces(&oplab::lab::load_embedded().labs, "x").len();
    assert_eq!(nss.items.len(), 3 * per);
    for ns in &nss.items {
        let labels = ns.metadata.labels.clone().unwrap_or_default();
        let name = ns.metadata.name.clone().unwrap_or_default();
        let who = labels.get(ATTENDEE_LABEL).expect("attendee label");
        assert!(
            name.starts_with(&format!("{who}-")),
            "{name} labelled {who}"
        );
        assert_eq!(
            labels.get(MANAGED_BY_LABEL).map(String::as_str),
            Some(MANAGED_BY)
        );
    }
    let mut sa_names: Vec<String> = sas
        .items
        .iter()
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    sa_names.sort();
    assert_eq!(sa_names, ["alice", "bob", "carol"]);
    assert_eq!(rbs.items.len(), 1);
    assert_eq!(
        rbs.items[0].subjects.as_ref().map(|s| s[0].name.clone()),
        Some("bob".into())
    );
    assert!(
        crs.items
            .iter()
            .any(|r| r.metadata.name.as_deref() == Some("oplab-attendee"))
    );
    let text = roster
        .data
        .unwrap_or_default()
        .remove("attendees.json")
        .unwrap_or_default();
    assert!(text.contains("carol.kubeconfig"), "{text}");

    // Again: nothing new, fresh tokens; a new attendee is added to the rest.
    let alice_kc = work.path().join("kc").join("alice.kubeconfig");
    let before = std::fs::read_to_string(&alice_kc).expect("kubeconfig");
    let out = ok(bc.oplab_in(
        work.path(),
        &["classroom", "setup", "--names", "class.txt", "--out", "kc"],
    ));
    assert!(out.contains("(0 objects created"), "{out}");
    assert_ne!(
        std::fs::read_to_string(&alice_kc).expect("kubeconfig"),
        before,
        "token refreshed"
    );
    std::fs::write(work.path().join("more.txt"), "dave\n").expect("names");
    ok(bc.oplab_in(
        work.path(),
        &["classroom", "setup", "--names", "more.txt", "--out", "kc"],
    ));
    assert!(work.path().join("kc/dave.kubeconfig").exists());

    // A name whose namespace belongs to someone else is refused before any write.
    let k = bc.kubectl(&["create", "namespace", "eve-gordon"]);
    assert!(k.status.success());
    std::fs::write(work.path().join("eve.txt"), "eve\nzoe\n").expect("names");
    let o = bc.oplab_in(work.path(), &["classroom", "setup", "--names", "eve.txt"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("eve-gordon") && err.contains("nothing was changed"),
        "{err}"
    );
    assert!(
        !bc.kubectl(&["get", "namespace", "zoe-gordon"])
            .status
            .success()
    );
    assert!(!work.path().join("zoe.kubeconfig").exists());

    // Teardown (no terminal: no question) removes it all, files included.
    let out = ok(bc.oplab_in(work.path(), &["classroom", "teardown"]));
    assert!(out.contains("All namespaces are gone"), "{out}");
    for name in ["alice", "bob", "carol", "dave"] {
        assert!(
            !work
                .path()
                .join("kc")
                .join(format!("{name}.kubeconfig"))
                .exists()
        );
    }
    bc.runtime.block_on(async {
        let c = bc.client().await;
        let left = Api::<Namespace>::all(c.clone())
            .list(&ListParams::default().labels(ATTENDEE_LABEL))
            .await
            .expect("namespaces");
        assert!(left.items.is_empty(), "{:?}", left.items);
        assert!(
            Api::<Namespace>::all(c.clone())
                .get_opt(CLASSROOM_NAMESPACE)
                .await
                .expect("get")
                .is_none()
        );
        assert!(managed_items::<ClusterRole>(&c, "roles").await.is_empty());
        assert!(
            managed_items::<ClusterRoleBinding>(&c, "bindings")
                .await
                .is_empty()
        );
        assert!(
            managed_items::<RoleBinding>(&c, "bindings")
                .await
                .is_empty()
        );
        assert!(managed_items::<ServiceAccount>(&c, "sas").await.is_empty());
    });
    // The unrelated namespace stays.
    assert!(
        bc.kubectl(&["get", "namespace", "eve-gordon"])
            .status
            .success()
    );
    let out = ok(bc.oplab_in(work.path(), &["classroom", "teardown"]));
    assert!(out.contains("Nothing to remove"), "{out}");
}
