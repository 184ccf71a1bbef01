//! The app's side of the terminal pane: actions and shell messages change the pane's state; shells are
//! started, fed and resized through [`Request::Terminal`] effects.

use super::{App, Effect, TextOverlay};
use crate::tui::action::Action;
use crate::tui::background::Request;
use crate::tui::layout::TermLayout;
use crate::tui::message::{ClusterState, LogLine};
use crate::tui::terminal::{self, Placement, ShellRequest, TermEvent, keys};

/// Below this width the pane opens full-screen (`z` toggles).
const FULL_BELOW_WIDTH: u16 = 100;

impl App {
    /// Where the terminal pane goes for the layout.
    pub fn term_layout(&self) -> TermLayout {
        TermLayout {
            open: self.term.is_open(),
            placement: self.term.placement,
            full: self.term.full,
        }
    }

    /// Whether the built-in operator should run (the kept preference; on by default).
    pub fn operator_wanted(&self) -> bool {
        self.progress.preferences.operator != Some(false)
    }

    /// How another terminal reaches the cluster: the `export KUBECONFIG=...` line, when there is one.
    pub fn kubeconfig_line(&self) -> Option<String> {
        terminal::env::kubeconfig(&self.cluster)
            .map(|k| format!("export KUBECONFIG={}", crate::cli::env::shell_quote(&k)))
    }

    fn shell_namespace(&self) -> Option<String> {
        self.attendee.as_ref()?;
        let mut ns = self.attendee_namespaces();
        ns.sort();
        ns.into_iter().next()
    }

    /// Starts another shell in a new tab and focuses it.
    pub fn open_shell(&mut self) {
        let env = terminal::env::shell_env(
            &self.cluster,
            self.context.as_deref(),
            self.shell_namespace().as_deref(),
        );
        let first = !self.term.is_open();
        let (id, rows, cols) = self.term.add_tab();
        self.term.focused = true;
        if first && self.screen.width < FULL_BELOW_WIDTH {
            self.term.full = true;
        }
        self.effects
            .push(Effect::Request(Request::Terminal(ShellRequest::Open {
                id,
                rows,
                cols,
                env,
            })));
        if first {
            let mut line =
                "Terminal open: keys go to the shell; ctrl-] back to the lab, t to return."
                    .to_string();
            if std::env::var_os("TMUX").is_some() {
                line.push_str(" In tmux, :split opens the shell as a tmux split instead.");
            } else if std::env::var_os("ZELLIJ").is_some() {
                line.push_str(" In zellij, :split opens the shell as a zellij pane instead.");
            }
            self.info(line);
        }
    }

    pub(super) fn terminal_action(&mut self, action: Action) {
        match action {
            Action::Terminal => {
                if self.term.is_open() {
                    self.term.focused = true;
                    if self.screen.width < FULL_BELOW_WIDTH {
                        self.term.full = true;
                    }
                } else {
                    self.open_shell();
                }
            }
            Action::TermLeave => {
                self.term.focused = false;
                self.term.full = false;
            }
            Action::TermKey(key) => {
                let Some(tab) = self.term.active_tab() else {
                    return;
                };
                let (id, app_cursor) = (tab.id, tab.screen().application_cursor());
                let bytes = keys::encode(&key, app_cursor);
                self.term.scroll(isize::MIN / 2);
                self.shell_input(id, bytes);
            }
            Action::TermPaste(text) => {
                let Some(tab) = self.term.active_tab() else {
                    return;
                };
                let (id, bracketed) = (tab.id, tab.screen().bracketed_paste());
                self.shell_input(id, keys::paste(&text, bracketed));
            }
            Action::TermScroll(delta) => {
                self.term.scroll(delta);
            }
            Action::TermZoom => {
                if self.term.is_open() {
                    self.term.full = !self.term.full;
                } else {
                    self.info("No terminal open: t opens one.");
                }
            }
            Action::TermPlacement => {
                self.term.placement = match self.term.placement {
                    Placement::Side => Placement::Below,
                    Placement::Below => Placement::Side,
                };
                self.term.full = false;
                self.progress.preferences.terminal = Some(self.term.placement.name().to_string());
                self.save();
                self.info(format!(
                    "Terminal pane {} the lab (kept for next time).",
                    match self.term.placement {
                        Placement::Side => "beside",
                        Placement::Below => "below",
                    }
                ));
            }
            Action::LogFull => self.log_full = !self.log_full,
            _ => {}
        }
    }

    fn shell_input(&mut self, id: u32, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.effects
                .push(Effect::Request(Request::Terminal(ShellRequest::Input {
                    id,
                    bytes,
                })));
        }
    }

    /// `p` on a selected code block: its text at the shell's prompt, not run (no Enter is sent).
    pub(super) fn paste_code(&mut self) {
        let Some(text) = self
            .code_sel
            .and_then(|i| self.view.codes.get(i))
            .map(|c| c.block.text.trim_end_matches('\n').to_string())
        else {
            return;
        };
        if !self.term.is_open() {
            self.open_shell();
            self.term.pending_paste = Some(text);
            return;
        }
        self.term.focused = true;
        self.paste_now(text);
    }

    fn paste_now(&mut self, text: String) {
        let Some(tab) = self.term.active_tab() else {
            return;
        };
        let (id, bracketed) = (tab.id, tab.screen().bracketed_paste());
        if text.contains('\n') && !bracketed {
            self.push_log(LogLine::warn(
                "terminal",
                "This shell does not take a multi-line paste safely (no bracketed paste): \
                 the lines would run. c copies the block instead.",
            ));
            return;
        }
        self.shell_input(id, keys::paste(&text, bracketed));
        self.info("Pasted at the shell's prompt: check it, then press Enter to run it.");
    }

    pub(super) fn terminal_event(&mut self, ev: TermEvent) {
        match ev {
            TermEvent::Output { id, bytes } => {
                self.term.output(id, &bytes);
                let ready = self.term.active_tab().is_some_and(|t| t.id == id);
                if ready && let Some(text) = self.term.pending_paste.take() {
                    self.paste_now(text);
                }
                if ready && let Some(cmd) = self.term.pending_command.take() {
                    self.shell_input(id, cmd.into_bytes());
                }
            }
            TermEvent::Exited { id, status } => {
                if self.term.remove(id).is_some() {
                    let rest = if self.term.is_open() {
                        String::new()
                    } else {
                        " The terminal pane is closed; t opens a new shell.".to_string()
                    };
                    self.info(format!("Shell {id} {status}.{rest}"));
                }
            }
        }
    }

    /// `:kubeconfig`: the export line, shown and copied (OSC 52).
    pub(super) fn show_kubeconfig(&mut self) {
        let Some(line) = self.kubeconfig_line() else {
            let what = match &self.cluster {
                ClusterState::Connecting => "oplab is still looking for a cluster".to_string(),
                ClusterState::Disconnected { reason } => format!("no cluster: {reason}"),
                _ => "kubectl uses your own kubeconfig (~/.kube/config)".to_string(),
            };
            self.info(format!("No KUBECONFIG to show: {what}."));
            return;
        };
        let mut text = format!(
            "From another terminal, kubectl reaches the cluster oplab uses with:\n\n  {line}\n"
        );
        if let Some(ctx) = &self.context {
            text.push_str(&format!(
                "  kubectl config use-context {ctx}   # or --context {ctx}\n"
            ));
        }
        if let Some(ns) = self.shell_namespace() {
            text.push_str(&format!(
                "  kubectl config set-context --current --namespace {ns}\n"
            ));
        }
        text.push_str(
            "\nor: eval \"$(oplab env)\"\n\nCopied to the clipboard (OSC 52). esc closes.",
        );
        self.overlay = Some(TextOverlay {
            title: "kubeconfig".into(),
            text,
            scroll: 0,
        });
        self.effects.push(Effect::Copy {
            text: line,
            label: "the export KUBECONFIG line".into(),
        });
    }

    /// `:split`: the shell as a split of tmux or zellij, with the pane's environment.
    pub(super) fn multiplexer_split(&mut self) {
        let env = terminal::env::shell_env(
            &self.cluster,
            self.context.as_deref(),
            self.shell_namespace().as_deref(),
        );
        let shell = std::env::var("SHELL").unwrap_or_else(|_| "/bin/sh".into());
        let mut cmd = if std::env::var_os("TMUX").is_some() {
            let mut c = std::process::Command::new("tmux");
            c.args(["split-window", "-h"]);
            for (k, v) in &env {
                c.arg("-e").arg(format!("{k}={v}"));
            }
            c.arg(&shell);
            c
        } else if std::env::var_os("ZELLIJ").is_some() {
            let mut c = std::process::Command::new("zellij");
            c.args(["run", "--", "env"]);
            for (k, v) in &env {
                c.arg(format!("{k}={v}"));
            }
            c.arg(&shell);
            c
        } else {
            self.info("Not inside tmux or zellij: t opens the terminal pane.");
            return;
        };
        match cmd
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            Ok(_) => {
                self.info("Opened a shell in a split of your multiplexer, pointed at the cluster.")
            }
            Err(e) => self.push_log(LogLine::error("terminal", format!("split failed: {e}"))),
        }
    }

    /// `:python`: runs `oplab python` in the pane (a venv with the kubernetes client, on the pane's PATH).
    pub(super) fn python_venv(&mut self) {
        let exe = std::env::current_exe()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "oplab".into());
        self.open_shell();
        self.term.pending_command =
            Some(format!("{} python\r", crate::cli::env::shell_quote(&exe)));
    }
}
