//! A classroom attendee with rights in their own namespaces only (a ServiceAccount token, RBAC
//! enforced by the sandbox): instructor steps read "done by the instructor", `a` does not apply
//! them, their checks turn green once the admin has done them, forbidden reads say so, and a
//! namespace the attendee may not create is reported, not a crash.

use crate::common;

use common::TestCluster;
use common::tui::*;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, RoleBinding, RoleRef, Subject,
};
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use oplab::classroom::{ATTENDEE_LABEL, CLASSROOM_NAMESPACE};
use oplab::tui::Verdict;
use std::time::Duration;

fn meta(name: &str, ns: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: ns.map(str::to_string),
        ..Default::default()
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let v = |xs: &[&str]| Some(xs.iter().map(|s| s.to_string()).collect());
    PolicyRule {
        api_groups: v(groups),
        resources: v(resources),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// What `oplab classroom setup` gives an attendee, made by the admin here: their namespaces
/// (all but `skip`), a ServiceAccount bound in each of them to a ClusterRole with every right, and
/// read access to CRDs; returns a client with the ServiceAccount's token (TokenRequest).
async fn attendee_client(
    c: &TestCluster,
    admin: &kube::Client,
    name: &str,
    skip: &str,
) -> kube::Client {
    let pp = PostParams::default();
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    namespaces
        .create(
            &pp,
            &Namespace {
                metadata: meta(CLASSROOM_NAMESPACE, None),
                ..Default::default()
            },
        )
        .await
        .expect("classroom namespace");
    let sas: Api<ServiceAccount> = Api::namespaced(admin.clone(), CLASSROOM_NAMESPACE);
    sas.create(
        &pp,
        &ServiceAccount {
            metadata: meta(name, None),
            ..Default::default()
        },
    )
    .await
    .expect("service account");
    let roles: Api<ClusterRole> = Api::all(admin.clone());
    for (role, rules) in [
        ("test-attendee", vec![rule(&["*"], &["*"], &["*"])]),
        (
            "test-crd-reader",
            vec![rule(
                &["apiextensions.k8s.io"],
                &["customresourcedefinitions"],
                &["get", "list", "watch"],
            )],
        ),
    ] {
        roles
            .create(
                &pp,
                &ClusterRole {
                    metadata: meta(role, None),
                    rules: Some(rules),
                    ..Default::default()
                },
            )
            .await
            .expect("cluster role");
    }
    let subject = Subject {
        kind: "ServiceAccount".into(),
        name: name.into(),
        namespace: Some(CLASSROOM_NAMESPACE.into()),
        ..Default::default()
    };
    let role_ref = |role: &str| RoleRef {
        api_group: "rbac.authorization.k8s.io".into(),
        kind: "ClusterRole".into(),
        name: role.into(),
    };
    let bindings: Api<ClusterRoleBinding> = Api::all(admin.clone());
    bindings
        .create(
            &pp,
            &ClusterRoleBinding {
                metadata: meta(&format!("{name}-crd-reader"), None),
                role_ref: role_ref("test-crd-reader"),
                subjects: Some(vec![subject.clone()]),
            },
        )
        .await
        .expect("cluster role binding");
    let set = oplab::lab::load_embedded();
    for ns in oplab::classroom::attendee_namespaces(set.labs.iter(), name) {
        if ns == skip {
            continue;
        }
        let mut m = meta(&ns, None);
        m.labels = Some([(ATTENDEE_LABEL.to_string(), name.to_string())].into());
        namespaces
            .create(
                &pp,
                &Namespace {
                    metadata: m,
                    ..Default::default()
                },
            )
            .await
            .expect("attendee namespace");
        let rb: Api<RoleBinding> = Api::namespaced(admin.clone(), &ns);
        rb.create(
            &pp,
            &RoleBinding {
                metadata: meta(name, Some(&ns)),
                role_ref: role_ref("test-attendee"),
                subjects: Some(vec![subject.clone()]),
            },
        )
        .await
        .expect("role binding");
    }
    let token = sas
        .create_token_request(
            name,
            &pp,
            &TokenRequest {
                spec: TokenRequestSpec {
                    audiences: Vec::new(),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .expect("token request")
        .status
        .expect("token status")
        .token;
    let yaml = c.sandbox.kubeconfig().replace(&c.sandbox.token, &token);
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    kube::Client::try_from(config).expect("client")
}

fn verdict(app: &oplab::tui::App, lab: &str, task: &str) -> Verdict {
    app.verdicts
        .get(&(lab.to_string(), task.to_string()))
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_attendee_without_cluster_rights_reads_instructor_steps_as_done_by_the_instructor() {
    let c = TestCluster::start().await;
    let admin = c.client().await;
    let alice = attendee_client(&c, &admin, "alice", "alice-etc2").await;
    // The token really is limited: no namespaces cluster-wide.
    let forbidden = Api::<Namespace>::all(alice.clone())
        .list(&ListParams::default())
        .await;
    assert!(
        matches!(&forbidden, Err(kube::Error::Api(s)) if s.code == 403),
        "{forbidden:?}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let app = attendee_app(&dir.path().join("progress.json"), Some("alice"));
    let (mut runner, bg) = attendee_runner(app, 140, 45);
    let requests = Recorder::install(&mut runner);
    runner
        .services
        .push(Box::new(oplab::tui::checks::LiveChecks::new(
            oplab::lab::load_embedded(),
            Some("alice".into()),
        )));
    connect(&mut runner, &bg, alice.clone()).await;

    // The instructor steps are the instructor's; the missing namespace is reported once.
    assert!(
        wait_for(&mut runner, |a| a
            .done_by_instructor("gordon-operator", 0)
            .is_some())
        .await,
        "{}",
        log_text(&runner.app)
    );
    assert!(runner.app.done_by_instructor("olm-and-etcd", 1).is_some());
    assert!(
        runner
            .app
            .done_by_instructor("gordon-operator", 1)
            .is_none()
    );
    assert!(
        wait_for(&mut runner, |a| logged(
            a,
            "namespaces alice-etc2 do not exist and you may not create them; the instructor creates \
             them with `oplab classroom setup`"
        ))
        .await,
        "{}",
        log_text(&runner.app)
    );

    // Chapter 3, step 1: the badge, and `a` does not apply.
    press(&mut runner, ":lab 3<enter>").await;
    let shown = screen(&runner);
    assert!(shown.contains("done by the instructor"), "{shown}");
    let asked = requests.lock().expect("requests").len();
    press(&mut runner, "a").await;
    assert!(runner.app.confirm.is_none());
    assert!(logged(&runner.app, "This step is done by the instructor"));
    // An apply would have been asked of the services within that same key press: none was.
    assert_eq!(
        requests.lock().expect("requests")[asked..],
        [] as [oplab::tui::Request; 0],
        "a request went out for the instructor step"
    );
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(admin.clone());
    assert!(
        crds.get_opt("gordons.operator.prgcont.cz")
            .await
            .expect("get")
            .is_none()
    );

    // Its check is live: not yet, then green once the instructor has applied the CRD.
    assert!(
        wait_for(&mut runner, |a| matches!(
            verdict(a, "gordon-operator", "gordon-crd"),
            Verdict::Fail(_)
        ))
        .await,
        "{:?}",
        verdict(&runner.app, "gordon-operator", "gordon-crd")
    );
    let vars = oplab::cluster::Vars::default();
    oplab::cluster::apply::apply(
        &admin,
        oplab::cluster::load_documents(&["gordon/crd.yaml".to_string()], &vars).expect("crd"),
        &Default::default(),
        None,
    )
    .await
    .expect("the instructor applies the CRD");
    assert!(
        wait_for(&mut runner, |a| verdict(a, "gordon-operator", "gordon-crd")
            == Verdict::Pass)
        .await,
        "{:?}",
        verdict(&runner.app, "gordon-operator", "gordon-crd")
    );

    // A check that reads outside alice's rights (deployments in olm) says so, never a pass.
    assert!(
        wait_for(&mut runner, |a| matches!(
            verdict(a, "olm-and-etcd", "olm-installed"),
            Verdict::CannotCheck(ref why) | Verdict::Fail(ref why) if why.contains("forbidden")
        ))
        .await,
        "{:?}",
        verdict(&runner.app, "olm-and-etcd", "olm-installed")
    );

    // Her own step: `a` applies the Gordon with her token, her operator makes its pods.
    press(&mut runner, "n]]a").await;
    assert!(runner.app.confirm.is_some(), "{}", screen(&runner));
    press(&mut runner, "y").await;
    let pods: Api<Pod> = Api::namespaced(admin.clone(), "alice-gordon");
    let mut three = false;
    for _ in 0..400 {
        let n = pods
            .list(&ListParams::default().labels("operator.prgcont.cz/gordon=example"))
            .await
            .expect("pods")
            .items
            .len();
        if n == 3 {
            three = true;
            break;
        }
        press(&mut runner, "").await;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(three, "{}", log_text(&runner.app));
    assert!(
        wait_for(&mut runner, |a| verdict(
            a,
            "gordon-operator",
            "gordon-example"
        ) == Verdict::Pass)
        .await,
        "{:?}",
        verdict(&runner.app, "gordon-operator", "gordon-example")
    );
    bg.shutdown();
}

/// Sees every request the UI sends to its services (first in line), and passes it on.
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<oplab::tui::Request>>>);

impl Recorder {
    fn install(
        runner: &mut crate::common::tui::TestRunner,
    ) -> std::sync::Arc<std::sync::Mutex<Vec<oplab::tui::Request>>> {
        let seen = std::sync::Arc::default();
        runner
            .services
            .insert(0, Box::new(Recorder(std::sync::Arc::clone(&seen))));
        seen
    }
}

impl oplab::tui::Service for Recorder {
    fn handle(
        &mut self,
        request: oplab::tui::Request,
        _background: &oplab::tui::Background,
        _client: Option<&kube::Client>,
    ) -> Option<oplab::tui::Request> {
        self.0.lock().expect("requests").push(request.clone());
        Some(request)
    }
}
