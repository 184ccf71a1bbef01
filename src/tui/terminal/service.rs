//! The shells behind the terminal pane: PTYs from portable-pty, one reader thread per shell sending its
//! output to the UI as messages. Dropping the service (quitting oplab) ends every shell.

use super::{ShellRequest, TermEvent};
use crate::tui::background::{Background, Request, Service};
use crate::tui::message::{AppMessage, LogLine};
use portable_pty::{ChildKiller, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

struct Shell {
    /// Set once the shell has been waited for: its pid may be reused, so it is never killed after.
    ended: Arc<AtomicBool>,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    killer: Box<dyn ChildKiller + Send + Sync>,
}

/// Runs the pane's shells.
#[derive(Default)]
pub struct TerminalService {
    shells: HashMap<u32, Shell>,
    /// The program to run (`$SHELL`, else `/bin/sh`) and its arguments; tests script it.
    pub program: Option<Vec<String>>,
}

impl TerminalService {
    /// A service running `argv` instead of the user's shell (tests, benchmarks).
    pub fn with_program(argv: Vec<String>) -> Self {
        Self {
            shells: HashMap::new(),
            program: Some(argv),
        }
    }

    fn argv(&self) -> Vec<String> {
        match &self.program {
            Some(p) if !p.is_empty() => p.clone(),
            _ => vec![
                std::env::var("SHELL")
                    .ok()
                    .filter(|s| !s.is_empty() && std::path::Path::new(s).exists())
                    .unwrap_or_else(|| "/bin/sh".to_string()),
            ],
        }
    }

    fn open(
        &mut self,
        bg: &Background,
        id: u32,
        size: PtySize,
        env: Vec<(String, String)>,
    ) -> anyhow::Result<()> {
        let pair = native_pty_system().openpty(size)?;
        let argv = self.argv();
        let mut cmd = CommandBuilder::new(&argv[0]);
        cmd.args(&argv[1..]);
        if let Ok(cwd) = std::env::current_dir() {
            cmd.cwd(cwd);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("OPLAB_TERMINAL", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = pair.slave.spawn_command(cmd)?;
        drop(pair.slave);
        let killer = child.clone_killer();
        let mut reader = pair.master.try_clone_reader()?;
        let writer = pair.master.take_writer()?;
        let tx = bg.clone();
        let ended = Arc::new(AtomicBool::new(false));
        let ended_t = ended.clone();
        std::thread::Builder::new()
            .name(format!("oplab-pty-{id}"))
            .spawn(move || {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let bytes = buf[..n].to_vec();
                            if !tx.send(AppMessage::Terminal(TermEvent::Output { id, bytes })) {
                                break;
                            }
                        }
                    }
                }
                let waited = child.wait();
                ended_t.store(true, Ordering::SeqCst);
                let status = match waited {
                    Ok(s) if s.success() => "exited".to_string(),
                    Ok(s) => match s.signal() {
                        Some(sig) => format!("ended by {sig}"),
                        None => format!("exited with status {}", s.exit_code()),
                    },
                    Err(e) => format!("ended ({e})"),
                };
                tx.send(AppMessage::Terminal(TermEvent::Exited { id, status }));
            })?;
        self.shells.insert(
            id,
            Shell {
                ended,
                master: pair.master,
                writer,
                killer,
            },
        );
        Ok(())
    }

    fn request(&mut self, req: ShellRequest, bg: &Background) {
        match req {
            ShellRequest::Open {
                id,
                rows,
                cols,
                env,
            } => {
                let size = PtySize {
                    rows,
                    cols,
                    pixel_width: 0,
                    pixel_height: 0,
                };
                if let Err(e) = self.open(bg, id, size, env) {
                    bg.log(LogLine::error(
                        "terminal",
                        format!("could not start a shell: {e:#}"),
                    ));
                    bg.send(AppMessage::Terminal(TermEvent::Exited {
                        id,
                        status: format!("could not start: {e:#}"),
                    }));
                }
            }
            ShellRequest::Input { id, bytes } => {
                if let Some(s) = self.shells.get_mut(&id)
                    && (s.writer.write_all(&bytes).is_err() || s.writer.flush().is_err())
                {
                    self.shells.remove(&id);
                }
            }
            ShellRequest::Resize { id, rows, cols } => {
                if let Some(s) = self.shells.get(&id) {
                    let _ = s.master.resize(PtySize {
                        rows,
                        cols,
                        pixel_width: 0,
                        pixel_height: 0,
                    });
                }
            }
        }
    }
}

impl Service for TerminalService {
    fn handle(
        &mut self,
        request: Request,
        background: &Background,
        _client: Option<&kube::Client>,
    ) -> Option<Request> {
        match request {
            Request::Terminal(req) => {
                self.request(req, background);
                None
            }
            other => Some(other),
        }
    }
}

impl Drop for TerminalService {
    fn drop(&mut self) {
        for (_, mut s) in self.shells.drain() {
            if !s.ended.load(Ordering::SeqCst) {
                let _ = s.killer.kill();
            }
        }
    }
}
