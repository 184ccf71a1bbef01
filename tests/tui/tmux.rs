//! End-to-end test of the built binary in tmux: start, navigate, help, quit, terminal restored.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    /// A tmux server of its own (socket `name-PID`) with a 100x30 session `e2e` running the oplab
    /// binary with `args` and with its state in `home`; the shell prints `EXITED status` when it ends.
    fn start(name: &str, home: &Path, args: &str) -> Self {
        let exe = env!("CARGO_BIN_EXE_oplab");
        let script = format!(
            "env HOME={h} XDG_STATE_HOME={h}/state XDG_DATA_HOME={h}/data XDG_CONFIG_HOME={h}/config \
             KUBECONFIG={h}/no-such-kubeconfig TERM=xterm-256color {exe}{args}; echo EXITED $?; sleep 60",
            h = quote(home),
            exe = quote(Path::new(exe)),
        );
        let tmux = Tmux {
            socket: format!("{name}-{}", std::process::id()),
        };
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            "100",
            "-y",
            "30",
            "sh",
            "-c",
            &script,
        ]);
        tmux.run(&["set-option", "-s", "escape-time", "0"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited 20 s for {text:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends keys in one go: the terminal delivers them in order. (An `Escape` followed at once
    /// by a key would read as Alt+key: send it alone and wait for its effect before the next.)
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Waits (at most 20 s) until the screen no longer shows `text`; returns the screen.
    fn wait_for_gone(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if !screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited 20 s for {text:?} to go; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

#[test]
fn the_binary_starts_navigates_and_restores_the_terminal() {
    let version = Command::new("tmux").arg("-V").output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "tmux is required for this test and was not found on PATH (install it: apt-get install tmux)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let tmux = Tmux::start("oplab-e2e", home, "");

    let screen = tmux.wait_for("Custom resources");
    assert!(screen.contains("Chapters"), "{screen}");
    // The status bar says the sandbox is in use (the log's longer note may have scrolled by then).
    let screen = tmux.wait_for("● sandbox");
    assert!(screen.contains("sandbox"), "{screen}");
    let kubeconfig = home.join("data/oplab/sandbox/kubeconfig");
    assert!(
        kubeconfig.exists(),
        "the sandbox kubeconfig was not written"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kubeconfig)
            .expect("kubeconfig")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    tmux.keys(&["n"]);
    tmux.wait_for("step 2/7");
    tmux.keys(&["?"]);
    tmux.wait_for("copy the selected code block");
    tmux.keys(&["Escape"]);
    let screen = tmux.wait_for_gone("copy the selected code block");
    assert!(!screen.contains("copy the selected code block"), "{screen}");
    // Still the workshop, one step on: esc closed the help and nothing else.
    assert!(screen.contains("step 2/7"), "{screen}");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXITED");
    assert!(screen.contains("EXITED 0"), "{screen}");
    // Back on the normal screen: none of the TUI is left.
    assert!(!screen.contains("Chapters"), "{screen}");
    assert!(!screen.contains("step 2/7"), "{screen}");
    // Progress was saved where the state directory is.
    let progress =
        std::fs::read_to_string(home.join("state/oplab/progress.json")).expect("progress saved");
    assert!(progress.contains("\"step\": 1"), "{progress}");
}

/// `oplab --attendee alice`: alice's namespaces appear on the sandbox, labelled as hers, the labs
/// show them, and the progress file remembers her.
#[test]
fn the_binary_runs_for_an_attendee() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path();
    let tmux = Tmux::start("oplab-e2e-attendee", home, " --sandbox --attendee alice");
    tmux.wait_for("attendee alice");
    tmux.wait_for("● sandbox");

    // kubectl on the sandbox sees alice's namespaces with her label.
    let kubeconfig = home.join("data/oplab/sandbox/kubeconfig");
    let kubectl = common::which("kubectl").expect("kubectl must be on PATH for this test");
    let deadline = Instant::now() + Duration::from_secs(20);
    let names = loop {
        let out = Command::new(&kubectl)
            .args([
                "get",
                "namespaces",
                "-l",
                "oplab.dev/attendee=alice",
                "-o",
                "name",
            ])
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", home)
            .output()
            .expect("kubectl runs");
        let names = String::from_utf8_lossy(&out.stdout).into_owned();
        if names.contains("namespace/alice-gordon") || Instant::now() > deadline {
            break names;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    for ns in ["alice-crontabs", "alice-gordon", "alice-etc", "alice-etc2"] {
        assert!(names.contains(&format!("namespace/{ns}")), "{names}");
    }

    // Chapter 3's manifests name alice-gordon.
    tmux.keys(&[":", "l", "a", "b", " ", "3", "Enter", "n"]);
    let screen = tmux.wait_for("alice-gordon\"");
    assert!(screen.contains("step 2/7"), "{screen}");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("EXITED");
    assert!(screen.contains("EXITED 0"), "{screen}");
    let progress =
        std::fs::read_to_string(home.join("state/oplab/progress.json")).expect("progress saved");
    assert!(progress.contains("\"attendee\": \"alice\""), "{progress}");
}
