//! The real TUI main loop on a `TestBackend`, driven by scripted keys, with services on a real client.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use oplab::tui::attendee::AttendeeService;
use oplab::tui::services::ApplyService;
use oplab::tui::{
    App, AppConfig, AppMessage, Background, ProgressStore, RecordingClipboard, Runner, Theme,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use std::path::Path;
use std::time::Duration;

pub type TestRunner = Runner<TestBackend, RecordingClipboard>;

/// Keys as text: every character is a key; `<esc>`, `<tab>`, `<enter>`, `<bs>`, `<down>` and `<c-s>`
/// (ctrl-s) are special.
pub fn events(keys: &str) -> Vec<std::io::Result<Event>> {
    let mut out = Vec::new();
    let mut rest = keys;
    while let Some(c) = rest.chars().next() {
        let (code, modifiers) = if c == '<'
            && let Some(end) = rest.find('>')
        {
            let name = &rest[1..end];
            rest = &rest[end + 1..];
            match name {
                "esc" => (KeyCode::Esc, KeyModifiers::NONE),
                "tab" => (KeyCode::Tab, KeyModifiers::NONE),
                "enter" => (KeyCode::Enter, KeyModifiers::NONE),
                "bs" => (KeyCode::Backspace, KeyModifiers::NONE),
                "down" => (KeyCode::Down, KeyModifiers::NONE),
                "c-s" => (KeyCode::Char('s'), KeyModifiers::CONTROL),
                other => panic!("unknown key <{other}>"),
            }
        } else {
            rest = &rest[c.len_utf8()..];
            (KeyCode::Char(c), KeyModifiers::NONE)
        };
        out.push(Ok(Event::Key(KeyEvent::new(code, modifiers))));
    }
    out
}

/// An app for `attendee` (as `--attendee` gives it) with progress in `progress`.
pub fn attendee_app(progress: &Path, attendee: Option<&str>) -> App {
    App::with_attendee(
        oplab::lab::load_embedded(),
        AppConfig {
            theme: Theme::colored(),
            store: ProgressStore::at(progress),
        },
        attendee,
    )
}

/// The main loop over `app` on a test terminal; nothing is connected yet.
pub fn runner(app: App, width: u16, height: u16) -> (TestRunner, Background) {
    let (bg, rx) = Background::new();
    let terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    let runner = Runner::new(terminal, app, bg.clone(), rx, RecordingClipboard::default());
    (runner, bg)
}

/// The main loop over an attendee's `app` with the services the real TUI runs for them: apply, the
/// built-in operator in their namespaces (started at once) and the classroom service.
pub fn attendee_runner(app: App, width: u16, height: u16) -> (TestRunner, Background) {
    let operator = oplab::tui::operator_service(&app);
    let name = app.attendee.clone().expect("an attendee's app");
    let classroom = AttendeeService::new(&name, &app.labs);
    let (mut runner, bg) = runner(app, width, height);
    runner.services.push(Box::new(ApplyService));
    runner.services.push(Box::new(operator));
    runner.services.push(Box::new(classroom));
    runner.autostart_operator = true;
    (runner, bg)
}

/// Sends the client to the loop and lets it handle it (services hear about the connection).
pub async fn connect(runner: &mut TestRunner, bg: &Background, client: kube::Client) {
    bg.send(AppMessage::Client(client));
    press(runner, "").await;
}

pub async fn press(runner: &mut TestRunner, keys: &str) {
    runner
        .run(&mut futures::stream::iter(events(keys)))
        .await
        .expect("main loop");
}

/// The screen as text, one line per row.
pub fn screen(runner: &TestRunner) -> String {
    buffer_text(runner.terminal.backend().buffer(), "\n")
}

/// A test terminal's buffer as text, each row followed by `line_end`; a wide symbol covers the
/// cells after it.
pub fn buffer_text(buf: &Buffer, line_end: &str) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut skip = 0;
        for x in 0..buf.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, y)].symbol();
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
            out.push_str(sym);
        }
        out.push_str(line_end);
    }
    out
}

/// Runs the loop on no input until `done` holds for the app (background messages arrive), at most 10 s.
pub async fn wait_for(runner: &mut TestRunner, done: impl Fn(&App) -> bool) -> bool {
    for _ in 0..400 {
        press(runner, "").await;
        if done(&runner.app) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

/// Whether some log line contains `text`.
pub fn logged(app: &App, text: &str) -> bool {
    app.log.iter().any(|l| l.text.contains(text))
}

/// The log, for assertion messages.
pub fn log_text(app: &App) -> String {
    app.log
        .iter()
        .map(|l| format!("{}: {}", l.source, l.text))
        .collect::<Vec<_>>()
        .join("\n")
}
