//! Shared by the integration tests: an in-process sandbox over real HTTPS, a kubeconfig, real clients.
#![allow(dead_code)]

pub mod operator;
pub mod tui;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

pub use oplab::sandbox::{Options, Sandbox};

/// A sandbox with its kubeconfig written to a temporary directory.
pub struct TestCluster {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

impl TestCluster {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(mut options: Options) -> Self {
        options.config.pod_start_delay = Duration::from_millis(50);
        let sandbox = Sandbox::start(options).await.expect("sandbox starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        sandbox
            .write_kubeconfig(&kubeconfig)
            .expect("kubeconfig written");
        Self {
            sandbox,
            dir,
            kubeconfig,
        }
    }

    pub async fn client(&self) -> kube::Client {
        self.sandbox.client().await.expect("client")
    }

    /// Runs kubectl (the given binary) against this sandbox.
    pub fn kubectl_with(&self, bin: &Path, args: &[&str]) -> Output {
        Command::new(bin)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()))
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with(&kubectl_default(), args)
    }

    /// Runs kubectl with stdin.
    pub fn kubectl_stdin(&self, bin: &Path, args: &[&str], stdin: &str) -> Output {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path());
        with_stdin(cmd, stdin)
    }

    /// Runs kubectl with another kubeconfig (an attendee's, a ServiceAccount's).
    pub fn kubectl_as(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        self.kubectl_as_command(kubeconfig, args)
            .output()
            .expect("kubectl runs")
    }

    /// Runs kubectl with another kubeconfig and stdin.
    pub fn kubectl_stdin_as(&self, kubeconfig: &Path, args: &[&str], stdin: &str) -> Output {
        with_stdin(self.kubectl_as_command(kubeconfig, args), stdin)
    }

    fn kubectl_as_command(&self, kubeconfig: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(kubectl_default());
        cmd.arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .env("HOME", self.dir.path());
        cmd
    }

    /// Runs the oplab binary against this cluster.
    pub fn oplab(&self, args: &[&str]) -> Output {
        self.oplab_command(args).output().expect("oplab runs")
    }

    /// Runs the oplab binary in `dir` against this cluster, with no stdin.
    pub fn oplab_in(&self, dir: &Path, args: &[&str]) -> Output {
        self.oplab_command(args)
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("oplab runs")
    }

    fn oplab_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oplab"));
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path());
        cmd
    }
}

/// Runs `cmd` with `stdin` written to it, and collects its output.
fn with_stdin(mut cmd: Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {:?}: {e}", cmd.get_program()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("kubectl output")
}

/// The kubectl on PATH; the tests fail (not skip) without one.
pub fn kubectl_default() -> PathBuf {
    if let Ok(list) = std::env::var("OPLAB_KUBECTL_VERSIONS")
        && let Some(first) = list.split(',').next()
    {
        return PathBuf::from(first);
    }
    which("kubectl").expect(
        "kubectl must be installed for the sandbox tests (it is on every oplab dev and CI machine)",
    )
}

/// Every kubectl binary to test: the one on PATH and every `kubectl.1.XX` beside its real path.
/// `OPLAB_KUBECTL_VERSIONS=/path/a,/path/b` picks the binaries instead.
pub fn kubectl_versions() -> Vec<PathBuf> {
    if let Ok(list) = std::env::var("OPLAB_KUBECTL_VERSIONS") {
        return list
            .split(',')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect();
    }
    let main = kubectl_default();
    let mut out = vec![main.clone()];
    let real = std::fs::canonicalize(&main).unwrap_or(main);
    if let Some(dir) = real.parent()
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        let mut versions: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("kubectl.1."))
            })
            .collect();
        versions.sort();
        out.extend(versions);
    }
    out
}

pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
#[track_caller]
pub fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "command failed: {}\nstdout: {}",
        stderr(&o),
        stdout(&o)
    );
    stdout(&o)
}

/// Polls `f` until it returns true or `timeout` passes.
pub async fn eventually<F: FnMut() -> bool>(timeout: Duration, mut f: F) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A sandbox on its own runtime, for synchronous tests that drive kubectl.
pub struct BlockingCluster {
    pub cluster: TestCluster,
    pub runtime: tokio::runtime::Runtime,
}

impl BlockingCluster {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let cluster = runtime.block_on(TestCluster::start());
        Self { cluster, runtime }
    }
}

impl std::ops::Deref for BlockingCluster {
    type Target = TestCluster;
    fn deref(&self) -> &TestCluster {
        &self.cluster
    }
}

/// Polls a synchronous condition.
pub fn wait_until<F: FnMut() -> bool>(timeout: Duration, mut f: F) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A CRD with status and scale subresources and a printer column, for kubectl tests.
pub const WIDGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.test.oplab.dev}
spec:
  group: test.oplab.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer, minimum: 0, maximum: 9}
              color: {type: string, enum: [red, blue]}
          status:
            type: object
            properties: {replicas: {type: integer}}
"#;

/// The Python with the `kubernetes` package: `OPLAB_PYTHON`, else `target/pyenv` (created on first use).
pub fn python_with_client() -> PathBuf {
    if let Ok(p) = std::env::var("OPLAB_PYTHON") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target").join("pyenv");
    let py = venv.join("bin").join("python");
    let has_client = |py: &PathBuf| {
        std::process::Command::new(py)
            .args(["-c", "import kubernetes"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_client(&py) {
        let made = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 must be installed");
        assert!(made.success(), "could not create {}", venv.display());
        let pip = std::process::Command::new(venv.join("bin").join("pip"))
            .args(["install", "-q", "kubernetes==37.0.2"])
            .status()
            .expect("pip");
        assert!(
            pip.success(),
            "could not install the kubernetes package into {}",
            venv.display()
        );
    }
    assert!(
        has_client(&py),
        "the kubernetes package is missing from {}",
        py.display()
    );
    py
}
