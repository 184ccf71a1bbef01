//! The main loop, generic over the ratatui backend and the event stream: wait for a terminal
//! event or a background message, update, draw. No event, no redraw.

use super::app::{App, Effect};
use super::background::{Background, Service};
use super::keymap;
use super::message::{AppMessage, LogLine};
use super::ui;
use crossterm::clipboard::CopyToClipboard;
use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::io::Write;
use tokio::sync::mpsc::UnboundedReceiver;

/// Where `c` sends text: the terminal, through an OSC 52 escape sequence.
pub trait Clipboard {
    /// Copies `text`; returns the escape sequence written (for the log and tests).
    fn copy(&mut self, text: &str) -> std::io::Result<String>;
}

/// The OSC 52 request for `text`, as crossterm writes it.
pub fn osc52(text: &str) -> String {
    let mut out = String::new();
    let cmd = CopyToClipboard::to_clipboard_from(text.as_bytes());
    // Writing into a String cannot fail.
    let _ = crossterm::Command::write_ansi(&cmd, &mut out);
    out
}

/// Writes OSC 52 to the terminal on stdout.
#[derive(Debug, Default)]
pub struct Osc52Stdout;

impl Clipboard for Osc52Stdout {
    fn copy(&mut self, text: &str) -> std::io::Result<String> {
        let seq = osc52(text);
        let mut out = std::io::stdout().lock();
        out.write_all(seq.as_bytes())?;
        out.flush()?;
        Ok(seq)
    }
}

/// Keeps the requests in memory (tests, benchmarks).
#[derive(Debug, Default, Clone)]
pub struct RecordingClipboard {
    pub requests: Vec<String>,
}

impl Clipboard for RecordingClipboard {
    fn copy(&mut self, text: &str) -> std::io::Result<String> {
        let seq = osc52(text);
        self.requests.push(seq.clone());
        Ok(seq)
    }
}

/// The UI with everything it talks to.
pub struct Runner<B: Backend, C: Clipboard> {
    pub terminal: Terminal<B>,
    pub app: App,
    pub messages: UnboundedReceiver<AppMessage>,
    pub background: Background,
    pub clipboard: C,
    pub services: Vec<Box<dyn Service>>,
    /// Frames drawn so far.
    pub frames: u64,
    /// Start the built-in operator once a cluster client arrives.
    pub autostart_operator: bool,
}

enum Input {
    Term(Event),
    Message(AppMessage),
}

impl<B: Backend, C: Clipboard> Runner<B, C> {
    pub fn new(
        terminal: Terminal<B>,
        app: App,
        background: Background,
        messages: UnboundedReceiver<AppMessage>,
        clipboard: C,
    ) -> Self {
        Self {
            terminal,
            app,
            messages,
            background,
            clipboard,
            services: Vec::new(),
            frames: 0,
            autostart_operator: false,
        }
    }

    /// Draws one frame of the current state.
    pub fn draw(&mut self) -> Result<(), B::Error> {
        let size = self.terminal.size()?;
        self.app.prepare(size);
        // Layout may resize the pane's shells.
        self.run_effects();
        let app = &self.app;
        self.terminal.draw(|f| ui::draw(f, app))?;
        self.frames += 1;
        Ok(())
    }

    /// Runs until the app quits or `events` ends. Draws first, then once per event or batch of
    /// messages; waits (no polling) in between.
    pub async fn run<S>(&mut self, events: &mut S) -> Result<(), B::Error>
    where
        S: Stream<Item = std::io::Result<Event>> + Unpin,
    {
        self.draw()?;
        self.serve(events).await
    }

    /// The loop of [`Runner::run`] without the first draw.
    pub async fn serve<S>(&mut self, events: &mut S) -> Result<(), B::Error>
    where
        S: Stream<Item = std::io::Result<Event>> + Unpin,
    {
        while !self.app.should_quit {
            let input = tokio::select! {
                biased;
                Some(msg) = self.messages.recv() => Input::Message(msg),
                ev = events.next() => match ev {
                    Some(Ok(ev)) => Input::Term(ev),
                    Some(Err(e)) => {
                        self.app.push_log(LogLine::error("oplab", format!("terminal input: {e}")));
                        continue;
                    }
                    None => break,
                },
            };
            let resized = matches!(input, Input::Term(Event::Resize(..)));
            match input {
                Input::Term(ev) => self.handle_event(&ev),
                Input::Message(msg) => self.message(msg),
            }
            // Take whatever else is already waiting before drawing once.
            while let Ok(msg) = self.messages.try_recv() {
                self.message(msg);
            }
            self.run_effects();
            if self.app.should_quit {
                break;
            }
            if resized {
                self.terminal.autoresize()?;
            }
            self.draw()?;
        }
        Ok(())
    }

    fn message(&mut self, msg: AppMessage) {
        let connected = matches!(msg, AppMessage::Client(_));
        if let AppMessage::Client(client) = &msg {
            for service in &mut self.services {
                service.connected(&self.background, client);
            }
        }
        if let AppMessage::LabsReloaded(set) = &msg {
            for service in &mut self.services {
                service.labs_reloaded(&self.background, set);
            }
        }
        self.app.handle(msg);
        if connected && self.autostart_operator && !self.app.operator_wanted() {
            self.app.push_log(LogLine::info(
                "operator",
                "The built-in operator stays off, as you left it: o starts it.",
            ));
        }
        if connected
            && self.autostart_operator
            && self.app.operator_wanted()
            && !self.app.own_operator_step()
        {
            self.app.effects.push(super::app::Effect::Request(
                super::background::Request::StartOperator,
            ));
        }
    }

    fn handle_event(&mut self, ev: &Event) {
        if let Some(action) = keymap::map_event(ev, self.app.mode()) {
            self.app.update(action);
        }
    }

    fn run_effects(&mut self) {
        for effect in std::mem::take(&mut self.app.effects) {
            match effect {
                Effect::Copy { text, label } => match self.clipboard.copy(&text) {
                    Ok(seq) => self.app.push_log(LogLine::info(
                        "oplab",
                        format!(
                            "Copied {label} to the clipboard (OSC 52, {} bytes; the terminal must allow it).",
                            seq.len()
                        ),
                    )),
                    Err(e) => self
                        .app
                        .push_log(LogLine::error("oplab", format!("copy failed: {e}"))),
                },
                Effect::Request(mut req) => {
                    let what = req.describe();
                    let mut handled = false;
                    for service in &mut self.services {
                        match service.handle(req, &self.background, self.app.client.as_ref()) {
                            None => {
                                handled = true;
                                break;
                            }
                            Some(back) => req = back,
                        }
                    }
                    if !handled {
                        self.app.push_log(LogLine::warn(
                            "oplab",
                            format!("{what} is not available yet"),
                        ));
                    }
                }
            }
        }
    }
}
