//! The terminal pane (issue 15): a scripted shell on a real PTY inside the whole app, kubectl against the
//! test sandbox, keys in and out (`t`, `ctrl-]`), resize, 80x24, paste without running, exit closes.

use crate::common::{self, TestCluster};
use common::tui::{TestRunner, log_text, logged, press, runner, screen};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use oplab::tui::keymap::Mode;
use oplab::tui::terminal::TerminalService;
use oplab::tui::{App, AppConfig, AppMessage, Background, ClusterState, ProgressStore, Theme};
use std::time::Duration;

/// `sh` with a fixed prompt, so screens are the same everywhere.
fn scripted_shell() -> TerminalService {
    TerminalService::with_program(vec![
        "/bin/sh".into(),
        "-c".into(),
        "PS1='$ ' exec /bin/sh -i".into(),
    ])
}

struct Pane {
    runner: TestRunner,
    bg: Background,
    _dir: tempfile::TempDir,
}

fn pane(width: u16, height: u16, cluster: &TestCluster) -> Pane {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::new(
        oplab::lab::load_embedded(),
        AppConfig {
            theme: Theme::plain(),
            store: ProgressStore::at(dir.path().join("progress.json")),
        },
    );
    let (mut runner, bg) = runner(app, width, height);
    runner.services.push(Box::new(scripted_shell()));
    bg.send(AppMessage::Cluster(ClusterState::Sandbox {
        url: cluster.sandbox.url.clone(),
        kubeconfig: Some(cluster.kubeconfig.clone()),
    }));
    Pane {
        runner,
        bg,
        _dir: dir,
    }
}

impl Pane {
    async fn keys(&mut self, keys: &str) {
        press(&mut self.runner, keys).await;
    }

    async fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        let ev = Ok(Event::Key(KeyEvent::new(code, modifiers)));
        self.runner
            .run(&mut futures::stream::iter(vec![ev]))
            .await
            .expect("main loop");
    }

    async fn resize(&mut self, w: u16, h: u16) {
        self.runner.terminal.backend_mut().resize(w, h);
        let ev = Ok(Event::Resize(w, h));
        self.runner
            .run(&mut futures::stream::iter(vec![ev]))
            .await
            .expect("main loop");
    }

    /// Runs the loop until the screen shows `text` (at most 20 s).
    async fn until_screen(&mut self, text: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            press(&mut self.runner, "").await;
            if screen(&self.runner).contains(text) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the screen never showed {text:?}:\n{}\nlog: {}",
                screen(&self.runner),
                log_text(&self.runner.app)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the shell has printed its next prompt after the last command's output.
    async fn until_prompt(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            press(&mut self.runner, "").await;
            if self.shell_text().trim_end().ends_with('$') {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the shell never showed its prompt again:\n{}",
                self.shell_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        assert!(
            common::tui::wait_for(&mut self.runner, done).await,
            "{what} never happened:\n{}",
            screen(&self.runner)
        );
    }

    /// The shell's screen only (the tests' view of what the shell printed).
    fn shell_text(&self) -> String {
        self.runner
            .app
            .term
            .active_tab()
            .map(|t| t.screen().contents())
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t_opens_a_shell_wired_to_the_sandbox_and_ctrl_bracket_returns_to_the_lab() {
    let cluster = TestCluster::start().await;
    let mut p = pane(110, 32, &cluster);
    p.keys("t").await;
    assert_eq!(p.runner.app.mode(), Mode::Terminal);
    p.until_screen("$ ").await;
    // Every key goes to the shell, the lab's keys too (q does not quit, n does not move).
    p.keys("echo qn-$((40+2))<enter>").await;
    p.until_screen("qn-42").await;
    assert!(!p.runner.app.should_quit);
    assert_eq!(p.runner.app.step, 0);
    p.keys("kubectl get ns -o name<enter>").await;
    p.until_screen("namespace/kube-system").await;
    p.until_prompt().await;
    let text = p.shell_text();
    assert!(text.contains("namespace/default"), "{text}");
    insta::assert_snapshot!("terminal_kubectl", screen(&p.runner));

    p.key(KeyCode::Char(']'), KeyModifiers::CONTROL).await;
    assert_eq!(p.runner.app.mode(), Mode::Normal);
    assert!(screen(&p.runner).contains("t to type here"));
    // Back in the lab: n is the next step again, and nothing reached the shell.
    p.keys("n").await;
    assert_eq!(p.runner.app.step, 1);
    assert!(!p.shell_text().contains("$ n"), "{}", p.shell_text());
    // ctrl-5 is what terminals sending the raw 0x1d byte report for ctrl-].
    p.keys("t").await;
    assert_eq!(p.runner.app.mode(), Mode::Terminal);
    p.key(KeyCode::Char('5'), KeyModifiers::CONTROL).await;
    assert_eq!(p.runner.app.mode(), Mode::Normal);
    p.bg.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_follows_the_pane_size_and_80x24_opens_full_screen() {
    let cluster = TestCluster::start().await;
    let mut p = pane(130, 40, &cluster);
    p.keys("t").await;
    p.until_screen("$ ").await;
    let (rows, cols) = p.runner.app.term.size.expect("laid out");
    p.keys("stty size<enter>").await;
    p.until_screen(&format!("{rows} {cols}")).await;
    // Beside the lab at 130 columns.
    assert!(cols < 70, "{cols}");

    p.resize(80, 24).await;
    p.key(KeyCode::Char(']'), KeyModifiers::CONTROL).await;
    p.keys("t").await;
    assert!(p.runner.app.term.full, "80x24 shows the shell full-screen");
    p.keys("clear; stty size<enter>").await;
    p.until_screen("21 78").await;
    p.until_prompt().await;
    insta::assert_snapshot!("terminal_80x24", screen(&p.runner));
    assert!(screen(&p.runner).contains("TERMINAL"));

    // Leaving the shell shows the lab again.
    p.key(KeyCode::Char(']'), KeyModifiers::CONTROL).await;
    assert!(!p.runner.app.term.full);
    assert!(screen(&p.runner).contains("step 1/"));
    p.bg.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p_on_a_code_block_pastes_it_at_the_prompt_without_running_it() {
    let cluster = TestCluster::start().await;
    let mut p = pane(110, 32, &cluster);
    p.keys("t").await;
    p.until_screen("$ ").await;
    p.key(KeyCode::Char(']'), KeyModifiers::CONTROL).await;
    // The first single-line code block of the workshop.
    let (lab, step, block) = {
        let app = &p.runner.app;
        app.labs
            .iter()
            .enumerate()
            .flat_map(|(li, l)| {
                l.steps.iter().enumerate().flat_map(move |(si, s)| {
                    s.blocks.iter().filter_map(move |b| match b {
                        oplab::lab::Block::Code(c)
                            if c.text.trim_end().lines().count() == 1 && !c.attrs.apply =>
                        {
                            Some((li, si, c.text.trim_end().to_string()))
                        }
                        _ => None,
                    })
                })
            })
            .next()
            .expect("a one-line code block")
    };
    p.runner
        .app
        .command(&format!("lab {}", p.runner.app.labs[lab].id));
    p.runner.app.command(&format!("step {}", step + 1));
    p.keys("]").await;
    // Go to the block that is this text.
    for _ in 0..30 {
        let sel = p
            .runner
            .app
            .code_sel
            .and_then(|i| p.runner.app.view.codes.get(i));
        if sel.is_some_and(|c| c.block.text.trim_end() == block) {
            break;
        }
        p.keys("]").await;
    }
    p.keys("p").await;
    assert!(
        logged(&p.runner.app, "press Enter"),
        "{}",
        log_text(&p.runner.app)
    );
    assert_eq!(
        p.runner.app.mode(),
        Mode::Terminal,
        "the paste focuses the shell"
    );
    p.until_screen(&format!("$ {block}")).await;
    // Not run: the line after the prompt stays empty until Enter.
    let shell = p.shell_text();
    let after: Vec<&str> = shell
        .lines()
        .skip_while(|l| !l.contains(&block))
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(after.is_empty(), "the paste ran: {shell}");
    p.bg.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shells_exit_closes_the_pane_and_returns_the_keys() {
    let cluster = TestCluster::start().await;
    let mut p = pane(110, 32, &cluster);
    p.keys("t").await;
    p.until_screen("$ ").await;
    p.keys("exit 3<enter>").await;
    p.until("the pane closing", |app| !app.term.is_open()).await;
    assert_eq!(p.runner.app.mode(), Mode::Normal);
    assert!(
        logged(&p.runner.app, "Shell 1 exited with status 3"),
        "{}",
        log_text(&p.runner.app)
    );
    p.bg.shutdown();
}
