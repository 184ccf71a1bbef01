//! The terminal UI: `Event -> keymap -> Action -> App::update`, pure rendering, channels for background work.
//!
//! [`runner::Runner`] is the main loop, generic over the ratatui backend and the event stream so
//! tests drive it with `TestBackend` and scripted keys. Background work (cluster discovery, lab
//! reload, later apply, checks and the operator) reaches the UI only as [`AppMessage`]s.

pub mod action;
pub mod app;
pub mod attendee;
pub mod background;
pub mod checks;
pub mod cluster;
pub mod content;
pub mod highlight;
pub mod keymap;
pub mod layout;
pub mod markdown;
pub mod message;
pub mod progress;
pub mod runner;
pub mod search;
pub mod services;
pub mod status;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod wrap;

pub use action::Action;
pub use app::{App, AppConfig, Effect, Focus};
pub use background::{Background, Request, Service};
pub use cluster::ClusterOptions;
pub use message::{AppMessage, ClusterState, Level, LogLine, Verdict};
pub use progress::{Progress, ProgressStore};
pub use runner::{Clipboard, Osc52Stdout, RecordingClipboard, Runner};
pub use theme::Theme;

use crate::lab::watch::LabWatcher;
use std::path::PathBuf;
use std::sync::Arc;

/// What `oplab` (no subcommand) starts with.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    /// Read labs from this directory (reloaded live) instead of the embedded ones.
    pub labs_dir: Option<PathBuf>,
    pub cluster: ClusterOptions,
    /// Progress file; default `<state dir>/oplab/progress.json`.
    pub progress: Option<PathBuf>,
    /// `--attendee` as given: `None` uses the one saved in the progress file, empty forgets it.
    pub attendee: Option<String>,
}

/// The labs of a session: `--labs DIR`, else the built-in ones. Parsed once per session: the app
/// and the live checks share this copy (and later the watcher's reloads).
pub fn load_labs(opts: &TuiOptions) -> crate::lab::LabSet {
    match &opts.labs_dir {
        Some(dir) => crate::lab::load_dir(dir),
        None => crate::lab::load_embedded(),
    }
}

/// Loads labs, restores progress and builds the app; no I/O beyond the labs and progress files.
pub fn build_app(opts: &TuiOptions, theme: Theme) -> App {
    build_app_with(load_labs(opts), opts, theme)
}

/// [`build_app`] over labs already loaded.
pub fn build_app_with(set: crate::lab::LabSet, opts: &TuiOptions, theme: Theme) -> App {
    let store = match opts.progress.clone().or_else(ProgressStore::default_path) {
        Some(p) => ProgressStore::at(p),
        None => ProgressStore::in_memory(),
    };
    App::with_attendee(set, AppConfig { theme, store }, opts.attendee.as_deref())
}

/// Starts the background work of a real session: cluster discovery, syntax highlighting, and
/// the lab watcher for `--labs DIR` (kept alive by the returned handle). The live checks are the
/// [`live_checks`] service of the runner: they start with each client and each lab reload.
pub fn start_background(opts: &TuiOptions, bg: &Background) -> Option<LabWatcher> {
    cluster::spawn_discovery(bg, opts.cluster.clone());
    start_watchers(opts, bg)
}

/// The live checks of `set` (the copy parsed at start; reloads reach the service through the
/// runner), in the namespaces of `app`'s attendee when it has one.
pub fn live_checks(set: crate::lab::LabSet, app: &App) -> checks::LiveChecks {
    checks::LiveChecks::new(set, app.attendee.clone())
}

fn start_watchers(opts: &TuiOptions, bg: &Background) -> Option<LabWatcher> {
    let hl = bg.clone();
    tokio::task::spawn_blocking(move || {
        if let Some(h) = highlight::Highlighter::load() {
            hl.send(AppMessage::Highlighter(Arc::new(h)));
        }
    });
    let dir = opts.labs_dir.as_ref()?;
    let tx = bg.clone();
    match crate::lab::watch::watch_dir(dir, move |set| {
        tx.send(AppMessage::LabsReloaded(set));
    }) {
        Ok(w) => {
            bg.log(LogLine::info(
                "labs",
                format!("Watching {} for changes.", dir.display()),
            ));
            Some(w)
        }
        Err(e) => {
            bg.log(LogLine::warn(
                "labs",
                format!("cannot watch {}: {e}", dir.display()),
            ));
            None
        }
    }
}

/// The built-in operator of a session: for an attendee, scoped to the namespaces where their
/// labs run Gordons (`alice-gordon`); else in every namespace.
pub fn operator_service(app: &App) -> services::OperatorService {
    match &app.attendee {
        Some(name) => {
            let all = crate::classroom::attendee_namespaces(&app.labs, name);
            services::OperatorService::scoped(attendee::operator_namespaces(&app.labs, &all))
        }
        None => services::OperatorService::default(),
    }
}

/// Runs the TUI on the real terminal until the attendee quits. The terminal is restored on
/// every exit path (ratatui's panic hook covers panics).
pub fn run(opts: TuiOptions) -> anyhow::Result<()> {
    // No usable HOME and no --progress: say so rather than guess; a FIFO as the progress file would hang.
    let progress = match &opts.progress {
        Some(p) => p.clone(),
        None => crate::files::state_home()?
            .join("oplab")
            .join("progress.json"),
    };
    crate::files::regular_file(&progress)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let set = load_labs(&opts);
    let mut app = build_app_with(set.clone(), &opts, Theme::from_env());
    let checks = live_checks(set, &app);
    app.context = opts.cluster.context.clone();
    on_terminal(runtime, |terminal| async {
        let (bg, rx) = Background::new();
        let _watcher = start_background(&opts, &bg);
        let classroom = app
            .attendee
            .as_deref()
            .map(|name| attendee::AttendeeService::new(name, &app.labs));
        let operator = operator_service(&app);
        let mut runner = Runner::new(terminal, app, bg.clone(), rx, Osc52Stdout);
        runner.services.push(Box::new(services::ApplyService));
        runner.services.push(Box::new(operator));
        if let Some(c) = classroom {
            runner.services.push(Box::new(c));
        }
        runner.services.push(Box::new(checks));
        runner
            .services
            .push(Box::new(terminal::TerminalService::default()));
        runner.autostart_operator = true;
        let mut events = crossterm::event::EventStream::new();
        let result = runner.run(&mut events).await;
        bg.shutdown();
        result
    })
}

/// Takes the real terminal and runs `body` on it in `runtime`; the terminal is restored on every
/// exit path (ratatui's panic hook covers panics), then the runtime gets half a second to stop.
pub fn on_terminal<F, Fut>(runtime: tokio::runtime::Runtime, body: F) -> anyhow::Result<()>
where
    F: FnOnce(ratatui::DefaultTerminal) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<()>>,
{
    let terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            return Err(e.into());
        }
    };
    // Pastes arrive whole (for the terminal pane); the wheel scrolls.
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::EnableBracketedPaste,
        crossterm::event::EnableMouseCapture
    );
    let result = runtime.block_on(body(terminal));
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableBracketedPaste,
        crossterm::event::DisableMouseCapture
    );
    ratatui::restore();
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    Ok(result?)
}
