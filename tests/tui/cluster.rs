//! Cluster discovery in the background: an unreachable kubeconfig cluster or `--sandbox` leads to
//! the in-process sandbox, its kubeconfig written 0600, and the log line telling how to use it.

use oplab::tui::cluster::{ClusterOptions, spawn_discovery};
use oplab::tui::{AppMessage, Background, ClusterState};
use std::time::{Duration, Instant};

async fn until_sandbox(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<AppMessage>,
) -> (ClusterState, Vec<String>) {
    let mut logs = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut state = None;
    while state.is_none()
        || !logs
            .iter()
            .any(|l: &String| l.contains("export KUBECONFIG"))
    {
        let msg = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("discovery took too long")
            .expect("channel open");
        match msg {
            AppMessage::Cluster(s @ ClusterState::Sandbox { .. }) => state = Some(s),
            AppMessage::Cluster(other) => panic!("unexpected cluster state {other:?}"),
            AppMessage::Log(l) => logs.push(l.text),
            _ => {}
        }
    }
    (state.unwrap_or_default(), logs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_sandbox_writes_its_kubeconfig_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sandbox/kubeconfig");
    let (bg, mut rx) = Background::new();
    spawn_discovery(
        &bg,
        ClusterOptions {
            force_sandbox: true,
            sandbox_kubeconfig: Some(path.clone()),
            ..Default::default()
        },
    );
    let (state, logs) = until_sandbox(&mut rx).await;
    assert!(
        matches!(&state, ClusterState::Sandbox { kubeconfig: Some(p), .. } if *p == path),
        "{state:?}"
    );
    let expected = format!(
        "No cluster reachable: running the oplab sandbox; export KUBECONFIG={} to use kubectl with it",
        path.display()
    );
    assert!(logs.contains(&expected), "{logs:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("kubeconfig")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The client works against the sandbox.
    let client = loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(AppMessage::Client(c))) => break c,
            Ok(Some(_)) => continue,
            other => panic!("no client: {other:?}"),
        }
    };
    let version = client.apiserver_version().await.expect("version");
    assert!(!version.git_version.is_empty());
    bg.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_cluster_falls_back_to_the_sandbox_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A kubeconfig pointing at a port where nothing listens.
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster: {server: 'https://127.0.0.1:9'}\n\
         contexts:\n- name: gone\n  context: {cluster: gone, user: u}\ncurrent-context: gone\n\
         users:\n- name: u\n  user: {token: x}\n",
    )
    .expect("write");
    // SAFETY: this test binary's other test does not read KUBECONFIG; set before any thread reads it.
    unsafe { std::env::set_var("KUBECONFIG", &kubeconfig) };
    let (bg, mut rx) = Background::new();
    let start = Instant::now();
    spawn_discovery(
        &bg,
        ClusterOptions {
            sandbox_kubeconfig: Some(dir.path().join("sandbox-kubeconfig")),
            context: Some("gone".into()),
            probe_timeout: Duration::from_secs(2),
            ..Default::default()
        },
    );
    assert!(
        start.elapsed() < Duration::from_millis(50),
        "spawning must not wait"
    );
    let (_, logs) = until_sandbox(&mut rx).await;
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(
        logs.iter()
            .any(|l| l.starts_with("No cluster from the kubeconfig: gone did not answer")),
        "{logs:?}"
    );
    bg.shutdown();
}

/// `oplab --kubeconfig FILE` reaches the TUI's discovery through the one connector every command
/// uses: it connects to that file's cluster, whatever `KUBECONFIG` says (another test of this
/// binary points it at a dead server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tui_honours_kubeconfig() {
    use clap::Parser;
    let c = crate::common::TestCluster::start().await;
    let cli = oplab::cli::Cli::try_parse_from([
        "oplab".as_ref(),
        "--kubeconfig".as_ref(),
        c.kubeconfig.as_os_str(),
    ])
    .expect("flags parse");
    let opts = cli.tui.options().cluster;
    assert_eq!(opts.kubeconfig.as_deref(), Some(c.kubeconfig.as_path()));
    let (bg, mut rx) = Background::new();
    spawn_discovery(
        &bg,
        ClusterOptions {
            sandbox_kubeconfig: Some(c.dir.path().join("unused-sandbox-kubeconfig")),
            probe_timeout: Duration::from_secs(10),
            ..opts
        },
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let (state, client) = {
        let mut state = None;
        let mut client = None;
        while state.is_none() || client.is_none() {
            match tokio::time::timeout_at(deadline, rx.recv())
                .await
                .expect("discovery took too long")
                .expect("channel open")
            {
                AppMessage::Cluster(s) => state = Some(s),
                AppMessage::Client(k) => client = Some(k),
                _ => {}
            }
        }
        (state.unwrap_or_default(), client)
    };
    let ClusterState::Connected { context, .. } = &state else {
        panic!("not connected to the --kubeconfig cluster: {state:?}");
    };
    let expected = kube::config::Kubeconfig::read_from(&c.kubeconfig)
        .expect("kubeconfig")
        .current_context
        .expect("a current context");
    assert_eq!(context, &expected);
    // The client talks to the sandbox of that file: an object made there is seen through it.
    c.kubectl(&["create", "namespace", "through-kubeconfig"]);
    let ns: kube::Api<k8s_openapi::api::core::v1::Namespace> =
        kube::Api::all(client.expect("client"));
    ns.get("through-kubeconfig")
        .await
        .expect("the namespace, through the TUI's client");
    assert!(
        !c.dir.path().join("unused-sandbox-kubeconfig").exists(),
        "no sandbox was started"
    );
    bg.shutdown();
}
