//! The application state and `App::update`: every action and message changes state only here.

use super::action::Action;
use super::background::Request;
use super::content::{self, StepView, ViewOptions};
use super::highlight::Highlighter;
use super::keymap::Mode;
use super::layout;
use super::message::{AppMessage, ClusterState, LogLine, Verdict};
use super::progress::{Position, Progress, ProgressStore};
use super::search::{self, Search};
use super::theme::Theme;
use crate::lab::{Check, Lab, LabSet, Step, Task};
use ratatui::layout::Size;
use std::collections::HashMap;
use std::sync::Arc;

mod terminal;

/// The pane keys go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Nav,
    Content,
    Tasks,
    Log,
}

impl Focus {
    const ORDER: [Focus; 4] = [Focus::Nav, Focus::Content, Focus::Tasks, Focus::Log];

    fn cycle(self, forward: bool) -> Self {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        let n = Self::ORDER.len();
        Self::ORDER[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

/// The line being typed at the bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    Search(String),
    Command(String),
}

/// A question waiting for y/n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    Solution {
        task: String,
        title: String,
    },
    Reset {
        step_title: String,
    },
    /// Apply a manifest code block; `objects` lists what it creates or changes.
    Apply {
        lab: String,
        block: crate::lab::CodeBlock,
        objects: Vec<String>,
    },
}

/// The key an edit of a code block is saved under: its id, or `line N`.
pub fn block_key(block: &crate::lab::CodeBlock) -> String {
    match &block.attrs.id {
        Some(id) => id.clone(),
        None => format!("line {}", block.line),
    }
}

/// The manifest editor overlay over one editable code block.
pub struct Editor {
    pub lab: String,
    /// [`block_key`] of the block.
    pub key: String,
    pub textarea: ratatui_textarea::TextArea<'static>,
    /// The first YAML problem of the text: (line in the block, 1-based; message).
    pub error: Option<(usize, String)>,
}

impl Editor {
    pub fn text(&self) -> String {
        let mut t = self.textarea.lines().join("\n");
        t.push('\n');
        t
    }

    /// Parses the text again and keeps the first error.
    fn validate(&mut self) {
        self.error = crate::cluster::documents::parse("edit", &self.text())
            .err()
            .map(|e| match e.column {
                Some(c) => (e.line, format!("{} (column {c})", e.message)),
                None => (e.line, e.message),
            });
    }
}

/// A read-only scrollable overlay (the diff of a manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextOverlay {
    pub title: String,
    pub text: String,
    pub scroll: usize,
}

/// Side effects the main loop carries out after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Copy text to the clipboard with OSC 52; `label` names it in the log.
    Copy { text: String, label: String },
    /// Hand a request to background services.
    Request(Request),
}

/// Startup settings of the app.
pub struct AppConfig {
    pub theme: Theme,
    pub store: ProgressStore,
}

/// Everything the UI shows; rendering is a pure function of it.
pub struct App {
    pub labs: Vec<Lab>,
    /// Current lab and step (indices).
    pub lab: usize,
    pub step: usize,
    pub focus: Focus,
    /// First visible row of the content.
    pub scroll: usize,
    /// Selected task of the current step.
    pub task_sel: usize,
    /// Selected code block of the current step.
    pub code_sel: Option<usize>,
    /// Rows scrolled up from the end of the log.
    pub log_scroll: usize,
    pub prompt: Option<Prompt>,
    pub search: Option<Search>,
    pub help: bool,
    pub confirm: Option<Confirm>,
    pub editor: Option<Editor>,
    pub overlay: Option<TextOverlay>,
    pub log: Vec<LogLine>,
    pub cluster: ClusterState,
    /// The built-in operator's state, as the status bar shows it.
    pub operator: super::status::OperatorState,
    /// The cluster client, once one is connected (for apply, checks, the operator).
    pub client: Option<kube::Client>,
    pub verdicts: HashMap<(String, String), Verdict>,
    /// Choices picked so far on multiple-answer quizzes.
    pub quiz_picks: HashMap<(String, String), Vec<usize>>,
    pub progress: Progress,
    store: ProgressStore,
    /// The classroom attendee whose namespaces fill the labs' variables.
    pub attendee: Option<String>,
    /// Instructor steps the attendee may not do, by (lab id, step index): the rights they lack.
    pub by_instructor: HashMap<(String, usize), Vec<String>>,
    pub theme: Theme,
    pub highlighter: Option<Arc<Highlighter>>,
    /// The current step rendered for the current content width.
    pub view: StepView,
    view_key: Option<ViewKey>,
    revision: u64,
    pending_code_jump: bool,
    /// Rows of content visible at the last layout.
    pub content_height: usize,
    pub effects: Vec<Effect>,
    pub should_quit: bool,
    /// The terminal pane's shells (issue 15).
    pub term: super::terminal::Pane,
    /// The log fills the screen (`L`).
    pub log_full: bool,
    /// `--context` as given: the pane's shells use it too.
    pub context: Option<String>,
    /// The last screen size laid out.
    pub screen: Size,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ViewKey {
    lab: usize,
    step: usize,
    width: usize,
    code: Option<usize>,
    revision: u64,
}

/// Keeps at most this many log lines.
const LOG_LIMIT: usize = 2000;

impl App {
    /// An app over a set of labs (with `{{ns}}` variables filled with their defaults), its
    /// diagnostics in the log, and progress restored from `config.store`.
    pub fn new(set: LabSet, config: AppConfig) -> Self {
        Self::with_attendee(set, config, None)
    }

    /// [`App::new`] for a classroom attendee: `attendee` is `--attendee` as given (`None`: the
    /// one saved in the progress file, if any; empty: forget the saved one). A name given is
    /// saved, replacing a different saved one.
    pub fn with_attendee(set: LabSet, config: AppConfig, attendee: Option<&str>) -> Self {
        let loaded = config.store.load();
        let mut app = Self {
            labs: Vec::new(),
            lab: 0,
            step: 0,
            focus: Focus::Content,
            scroll: 0,
            task_sel: 0,
            code_sel: None,
            log_scroll: 0,
            prompt: None,
            search: None,
            help: false,
            confirm: None,
            editor: None,
            overlay: None,
            log: Vec::new(),
            cluster: ClusterState::Connecting,
            operator: Default::default(),
            client: None,
            verdicts: HashMap::new(),
            quiz_picks: HashMap::new(),
            progress: loaded.progress,
            store: config.store,
            attendee: None,
            by_instructor: HashMap::new(),
            theme: config.theme,
            highlighter: None,
            view: StepView::default(),
            view_key: None,
            revision: 0,
            pending_code_jump: false,
            content_height: 0,
            effects: Vec::new(),
            should_quit: false,
            term: super::terminal::Pane::default(),
            log_full: false,
            context: None,
            screen: Size::new(80, 24),
        };
        if let Some(p) = app
            .progress
            .preferences
            .terminal
            .as_deref()
            .and_then(super::terminal::Placement::parse)
        {
            app.term.placement = p;
        }
        if let Some(note) = loaded.note {
            app.push_log(LogLine::warn("progress", note));
        }
        app.choose_attendee(attendee);
        app.set_labs(set);
        if let Some(pos) = app.progress.current.clone()
            && let Some(l) = app.labs.iter().position(|l| l.id == pos.lab)
        {
            app.lab = l;
            app.step = pos.step.min(app.labs[l].steps.len().saturating_sub(1));
        }
        app
    }

    /// Settles who the attendee is from `--attendee` and the progress file, saving a change.
    fn choose_attendee(&mut self, flag: Option<&str>) {
        let saved = self.progress.attendee.clone();
        match flag {
            None => {
                let Some(name) = saved else {
                    return;
                };
                match crate::classroom::validate_attendee_name(&name) {
                    Ok(()) => {
                        self.push_log(LogLine::info(
                            "classroom",
                            format!(
                                "attendee {name} (saved in the progress file; `oplab --attendee ''` \
                                 forgets it)"
                            ),
                        ));
                        self.attendee = Some(name);
                    }
                    Err(e) => self.push_log(LogLine::warn(
                        "classroom",
                        format!("the progress file names an attendee that is ignored: {e}"),
                    )),
                }
            }
            Some("") => {
                if let Some(old) = saved {
                    self.progress.attendee = None;
                    self.save();
                    self.push_log(LogLine::info(
                        "classroom",
                        format!(
                            "attendee {old} forgotten: the labs use their default namespaces again"
                        ),
                    ));
                }
            }
            Some(name) => {
                if let Err(e) = crate::classroom::validate_attendee_name(name) {
                    self.push_log(LogLine::error("classroom", e));
                    return self.choose_attendee(None);
                }
                let line = match saved.as_deref() {
                    Some(old) if old == name => format!("attendee {name}"),
                    Some(old) => format!(
                        "attendee {name} replaces {old} in the progress file (--attendee wins); \
                         progress stays per lab"
                    ),
                    None => format!(
                        "attendee {name}, saved in the progress file: later runs need no --attendee"
                    ),
                };
                self.attendee = Some(name.to_string());
                if saved.as_deref() != Some(name) {
                    self.progress.attendee = Some(name.to_string());
                    self.save();
                }
                self.push_log(LogLine::info("classroom", line));
            }
        }
    }

    /// The namespaces of the current lab (`alice-gordon`), when an attendee is set.
    pub fn attendee_namespaces(&self) -> Vec<String> {
        match (&self.attendee, self.current_lab()) {
            (Some(name), Some(lab)) => lab.attendee_vars(name).0.into_values().collect(),
            _ => Vec::new(),
        }
    }

    /// The rights the attendee lacks for a step the instructor does, when that is so.
    pub fn done_by_instructor(&self, lab: &str, step: usize) -> Option<&[String]> {
        self.by_instructor
            .get(&(lab.to_string(), step))
            .map(Vec::as_slice)
    }

    /// The same for the current step.
    pub fn current_by_instructor(&self) -> Option<&[String]> {
        let lab = self.current_lab()?;
        self.done_by_instructor(&lab.id, self.step)
    }

    /// Replaces the labs (start, live reload); diagnostics go to the log.
    pub fn set_labs(&mut self, set: LabSet) {
        let current = self.current_lab().map(|l| l.id.clone());
        for d in set.lint() {
            let line = format!("{}: {}", d.location(), d.message);
            let line = match &d.help {
                Some(h) => format!("{line} ({h})"),
                None => line,
            };
            self.push_log(if d.is_error() {
                LogLine::error("labs", line)
            } else {
                LogLine::warn("labs", line)
            });
        }
        self.labs = set
            .labs
            .iter()
            .map(|l| l.render_vars(&l.vars_for(self.attendee.as_deref())))
            .collect();
        if self.labs.is_empty() {
            self.push_log(LogLine::error("labs", "no lab could be loaded"));
        }
        self.lab = current
            .and_then(|id| self.labs.iter().position(|l| l.id == id))
            .unwrap_or(0)
            .min(self.labs.len().saturating_sub(1));
        let steps = self.current_lab().map_or(0, |l| l.steps.len());
        self.step = self.step.min(steps.saturating_sub(1));
        self.revision += 1;
    }

    pub fn current_lab(&self) -> Option<&Lab> {
        self.labs.get(self.lab)
    }

    pub fn current_step(&self) -> Option<&Step> {
        self.current_lab().and_then(|l| l.steps.get(self.step))
    }

    pub fn step_tasks(&self) -> Vec<&Task> {
        self.current_step()
            .map(|s| s.tasks().collect())
            .unwrap_or_default()
    }

    pub fn selected_task(&self) -> Option<&Task> {
        self.step_tasks().get(self.task_sel).copied()
    }

    /// The keymap's mode.
    pub fn mode(&self) -> Mode {
        if self.editor.is_some() {
            Mode::Editor
        } else if self.overlay.is_some() {
            Mode::Overlay
        } else if self.confirm.is_some() {
            Mode::Confirm
        } else if self.help {
            Mode::Help
        } else if self.prompt.is_some() {
            Mode::Prompt
        } else if self.term.focused && self.term.is_open() {
            Mode::Terminal
        } else if self.search.as_ref().is_some_and(|s| !s.query.is_empty()) {
            Mode::Searching
        } else {
            Mode::Normal
        }
    }

    pub fn push_log(&mut self, line: LogLine) {
        self.log.push(line);
        if self.log.len() > LOG_LIMIT {
            let extra = self.log.len() - LOG_LIMIT;
            self.log.drain(..extra);
        }
    }

    fn info(&mut self, text: impl Into<String>) {
        self.push_log(LogLine::info("oplab", text));
    }

    /// A notice that says the same as the last log line is not logged again (a key pressed
    /// repeatedly at the first or last step says so once).
    fn notice(&mut self, text: &str) {
        let repeated = self
            .log
            .last()
            .is_some_and(|l| l.source == "oplab" && l.text == text);
        if !repeated {
            self.info(text);
        }
    }

    /// The verdict of a task of the current lab.
    pub fn verdict(&self, task: &str) -> Verdict {
        let lab = self.current_lab().map(|l| l.id.clone()).unwrap_or_default();
        self.verdicts
            .get(&(lab, task.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    /// Done and total tasks of a step.
    pub fn step_progress(&self, lab: &Lab, step: &Step) -> (usize, usize) {
        let total = step.tasks().count();
        let done = step
            .tasks()
            .filter(|t| self.progress.is_done(&lab.id, &t.id))
            .count();
        (done, total)
    }

    fn save(&mut self) {
        if let Err(e) = self.store.save(&self.progress) {
            self.push_log(LogLine::error(
                "progress",
                format!("could not save progress: {e}"),
            ));
        }
    }

    fn go_to(&mut self, lab: usize, step: usize) {
        if lab >= self.labs.len() {
            return;
        }
        self.lab = lab;
        self.step = step.min(self.labs[lab].steps.len().saturating_sub(1));
        self.scroll = 0;
        self.task_sel = 0;
        self.code_sel = None;
        if let Some(s) = self.search.as_mut() {
            s.current = 0;
            s.jump = true;
        }
        self.progress.current = Some(Position {
            lab: self.labs[lab].id.clone(),
            step: self.step,
        });
        self.save();
        self.own_operator_off();
    }

    /// Whether the current step grades the attendee's own operator (a task whose solution runs
    /// the Python operator): the built-in one must be off there.
    pub fn own_operator_step(&self) -> bool {
        self.step_tasks().iter().any(|t| {
            t.solution
                .operator
                .as_ref()
                .is_some_and(|o| o.kind == crate::lab::OperatorKind::ReferencePython)
        })
    }

    /// Opening a step that grades the attendee's own operator switches the built-in one off.
    fn own_operator_off(&mut self) {
        if !self.own_operator_step() {
            return;
        }
        self.effects.push(Effect::Request(Request::StopOperator));
        if !matches!(self.operator, super::status::OperatorState::Off) {
            self.push_log(LogLine::info(
                "operator",
                "This step grades your own operator: oplab switched its built-in operator off \
                 (o switches it on again, but then the pods are not yours)",
            ));
        }
    }

    fn next_step(&mut self, forward: bool) {
        let Some(lab) = self.current_lab() else {
            return;
        };
        let steps = lab.steps.len();
        if forward {
            if self.step + 1 < steps {
                self.go_to(self.lab, self.step + 1);
            } else if self.lab + 1 < self.labs.len() {
                self.go_to(self.lab + 1, 0);
            } else {
                self.notice("This is the last step of the workshop.");
            }
        } else if self.step > 0 {
            self.go_to(self.lab, self.step - 1);
        } else if self.lab > 0 {
            let last = self.labs[self.lab - 1].steps.len().saturating_sub(1);
            self.go_to(self.lab - 1, last);
        } else {
            self.notice("This is the first step.");
        }
    }

    fn next_chapter(&mut self, forward: bool) {
        if forward && self.lab + 1 < self.labs.len() {
            self.go_to(self.lab + 1, 0);
        } else if !forward && self.lab > 0 {
            self.go_to(self.lab - 1, 0);
        } else if !forward && self.step > 0 {
            self.go_to(self.lab, 0);
        }
    }

    /// The selected code block, or the first one at or below the top of the view.
    fn target_code(&self) -> Option<(usize, &content::CodeRef)> {
        match self.code_sel {
            Some(i) => self.view.codes.get(i).map(|c| (i, c)),
            None => self
                .view
                .codes
                .iter()
                .enumerate()
                .find(|(_, c)| c.row + c.rows > self.scroll)
                .or_else(|| self.view.codes.iter().enumerate().next_back()),
        }
    }

    fn scroll_by(&mut self, delta: isize) {
        match self.focus {
            Focus::Log => {
                self.log_scroll = self.log_scroll.saturating_add_signed(-delta);
                self.log_scroll = self.log_scroll.min(self.log.len().saturating_sub(1));
            }
            _ => self.scroll = self.scroll.saturating_add_signed(delta),
        }
    }

    /// Applies one action.
    pub fn update(&mut self, action: Action) {
        if self.overlay.is_some() {
            self.overlay_action(action);
            return;
        }
        match action {
            Action::Quit => {
                self.progress.current = self.current_lab().map(|l| Position {
                    lab: l.id.clone(),
                    step: self.step,
                });
                self.save();
                self.should_quit = true;
            }
            Action::Help => self.help = true,
            Action::Back => self.back(),
            Action::FocusNext => self.focus = self.focus.cycle(true),
            Action::FocusPrev => self.focus = self.focus.cycle(false),
            Action::Up | Action::Down => {
                let down = action == Action::Down;
                match self.focus {
                    Focus::Nav => self.next_step(down),
                    Focus::Tasks => {
                        let n = self.step_tasks().len();
                        if down && self.task_sel + 1 < n {
                            self.task_sel += 1;
                        } else if !down && self.task_sel > 0 {
                            self.task_sel -= 1;
                        }
                    }
                    _ => self.scroll_by(if down { 1 } else { -1 }),
                }
            }
            Action::PageUp | Action::PageDown => {
                let page = self.content_height.saturating_sub(2).max(1) as isize;
                self.scroll_by(if action == Action::PageDown {
                    page
                } else {
                    -page
                });
            }
            Action::Top => match self.focus {
                Focus::Log => self.log_scroll = self.log.len().saturating_sub(1),
                _ => self.scroll = 0,
            },
            Action::Bottom => match self.focus {
                Focus::Log => self.log_scroll = 0,
                _ => self.scroll = usize::MAX,
            },
            Action::Enter => self.enter(),
            Action::NextStep => self.next_step(true),
            // `p` on a selected code block pastes it into the shell.
            Action::PrevStep if self.code_sel.is_some() => self.paste_code(),
            Action::PrevStep => self.next_step(false),
            Action::NextChapter => self.next_chapter(true),
            Action::PrevChapter => self.next_chapter(false),
            Action::NextCode | Action::PrevCode => {
                let n = self.view.codes.len();
                if n == 0 {
                    self.info("This step has no code blocks.");
                } else {
                    let fwd = action == Action::NextCode;
                    self.code_sel = Some(match self.code_sel {
                        None if fwd => self.target_code().map_or(0, |(i, _)| i),
                        None => n - 1,
                        Some(i) if fwd => (i + 1) % n,
                        Some(i) => (i + n - 1) % n,
                    });
                    self.pending_code_jump = true;
                }
            }
            Action::Copy => self.copy(),
            Action::Hint => self.hint(),
            Action::Solution => match self.selected_task() {
                Some(t) => {
                    self.confirm = Some(Confirm::Solution {
                        task: t.id.clone(),
                        title: t.title.clone(),
                    })
                }
                None => self.info("This step has no tasks."),
            },
            Action::Reset => match self.current_step() {
                Some(s) => {
                    self.confirm = Some(Confirm::Reset {
                        step_title: s.title.clone(),
                    })
                }
                None => self.info("Nothing to reset."),
            },
            Action::StartSearch => {
                self.prompt = Some(Prompt::Search(String::new()));
                self.search = Some(Search::default());
            }
            Action::StartCommand => self.prompt = Some(Prompt::Command(String::new())),
            Action::SearchNext | Action::SearchPrev => {
                if let Some(s) = self.search.as_mut() {
                    let n = s.matches.len();
                    if n > 0 {
                        s.current = if action == Action::SearchNext {
                            (s.current + 1) % n
                        } else {
                            (s.current + n - 1) % n
                        };
                        s.jump = true;
                    }
                }
            }
            Action::Input(c) => match self.prompt.as_mut() {
                Some(Prompt::Search(q)) => {
                    q.push(c);
                    let q = q.clone();
                    self.set_query(q);
                }
                Some(Prompt::Command(q)) => q.push(c),
                None => {}
            },
            Action::Backspace => self.backspace(),
            Action::Confirm(yes) => self.confirmed(yes),
            Action::EditorKey(key) => {
                if let Some(ed) = self.editor.as_mut()
                    && ed.textarea.input(key)
                {
                    ed.validate();
                }
            }
            Action::EditorSave => self.save_edit(),
            Action::Answer(n) => self.answer(n),
            Action::Apply | Action::Edit | Action::Diff => {
                if let Some(denied) = self.current_by_instructor() {
                    let why = denied.first().cloned().unwrap_or_default();
                    self.info(format!(
                        "This step is done by the instructor (you may not {why}); its checks turn \
                         green once it is done."
                    ));
                    return;
                }
                let lab = self.current_lab().map(|l| l.id.clone()).unwrap_or_default();
                match self.target_code().map(|(_, c)| c.block.clone()) {
                    Some(block) => {
                        if action == Action::Edit {
                            self.open_editor(lab, &block);
                            return;
                        }
                        if !block.attrs.apply {
                            self.info(
                                "This code block is not a manifest to apply; press c to copy it.",
                            );
                            return;
                        }
                        let req = match action {
                            Action::Apply => {
                                match crate::tui::services::describe_objects(&block) {
                                    Ok(objects) => {
                                        self.confirm = Some(Confirm::Apply {
                                            lab,
                                            block,
                                            objects,
                                        })
                                    }
                                    // nothing to confirm: say what is wrong and how to fix it
                                    Err(why) => {
                                        let fix = if block.attrs.editable {
                                            "press e to fix the manifest (or :reset the step for the lab's text)"
                                        } else {
                                            "the lab file's block is broken; fix the lab (oplab labs validate)"
                                        };
                                        self.push_log(LogLine::error(
                                            "apply",
                                            format!("cannot apply: {why}\n    what to do: {fix}"),
                                        ))
                                    }
                                }
                                return;
                            }
                            _ => Request::Diff { lab, block },
                        };
                        self.effects.push(Effect::Request(req));
                    }
                    None => self.info("This step has no code block."),
                }
            }
            Action::Probe => {
                let lab = self.current_lab().map(|l| l.id.clone()).unwrap_or_default();
                match self.selected_task().map(|t| t.id.clone()) {
                    Some(task) => self
                        .effects
                        .push(Effect::Request(Request::Probe { lab, task })),
                    None => self.info("This step has no tasks."),
                }
            }
            Action::ToggleOperator => {
                let on = !self.operator_wanted();
                self.progress.preferences.operator = Some(on);
                self.save();
                self.effects.push(Effect::Request(Request::ToggleOperator))
            }
            Action::Resize(..) => {}
            Action::Terminal
            | Action::TermLeave
            | Action::TermKey(_)
            | Action::TermPaste(_)
            | Action::TermScroll(_)
            | Action::TermZoom
            | Action::TermPlacement
            | Action::LogFull => self.terminal_action(action),
        }
    }

    fn overlay_action(&mut self, action: Action) {
        let page = self.content_height.saturating_sub(2).max(1);
        let Some(o) = self.overlay.as_mut() else {
            return;
        };
        let max = o.text.lines().count().saturating_sub(1);
        match action {
            Action::Back => self.overlay = None,
            Action::Quit => self.update_quit(),
            Action::Down => o.scroll = (o.scroll + 1).min(max),
            Action::Up => o.scroll = o.scroll.saturating_sub(1),
            Action::PageDown => o.scroll = (o.scroll + page).min(max),
            Action::PageUp => o.scroll = o.scroll.saturating_sub(page),
            Action::Top => o.scroll = 0,
            Action::Bottom => o.scroll = max,
            _ => {}
        }
    }

    fn update_quit(&mut self) {
        self.overlay = None;
        self.editor = None;
        self.update(Action::Quit);
    }

    fn open_editor(&mut self, lab: String, block: &crate::lab::CodeBlock) {
        if !block.attrs.editable {
            self.info("This block is not editable; a applies it as it is.");
            return;
        }
        if block
            .attrs
            .manifest
            .as_ref()
            .is_some_and(|m| m.file.is_none())
        {
            self.info("This block names a bundled manifest set; it is not editable here.");
            return;
        }
        let lines: Vec<String> = block.text.lines().map(str::to_string).collect();
        let mut textarea = ratatui_textarea::TextArea::new(lines);
        textarea.set_cursor_line_style(ratatui::style::Style::default());
        let mut ed = Editor {
            lab,
            key: block_key(block),
            textarea,
            error: None,
        };
        ed.validate();
        self.editor = Some(ed);
    }

    fn save_edit(&mut self) {
        let Some(ed) = self.editor.take() else {
            return;
        };
        let text = ed.text();
        let original = self
            .labs
            .iter()
            .find(|l| l.id == ed.lab)
            .and_then(|l| find_block(l, &ed.key))
            .map(|b| b.text.clone());
        let edits = &mut self.progress.lab_mut(&ed.lab).edits;
        if original.as_deref() == Some(text.as_str()) {
            edits.remove(&ed.key);
            self.info(format!("Edit of {} saved: same as the lab's text.", ed.key));
        } else {
            edits.insert(ed.key.clone(), text);
            let note = match &ed.error {
                Some((line, msg)) => format!(" It has a YAML error at line {line}: {msg}."),
                None => String::new(),
            };
            self.info(format!(
                "Edit of {} saved; a applies the edited text.{note}",
                ed.key
            ));
        }
        self.revision += 1;
        self.save();
    }

    fn answer(&mut self, n: usize) {
        let Some(lab) = self.current_lab().map(|l| l.id.clone()) else {
            return;
        };
        let Some(task) = self.selected_task().cloned() else {
            return;
        };
        let Check::Quiz(quiz) = &task.check else {
            if self.focus == Focus::Tasks {
                self.info("The selected task is not a quiz.");
            }
            return;
        };
        if self.focus != Focus::Tasks {
            self.info("Answer a quiz in the tasks pane: tab to it, then press 1-9.");
            return;
        }
        if n == 0 || n > quiz.choices.len() {
            self.info(format!(
                "\"{}\" has choices 1 to {}.",
                task.title,
                quiz.choices.len()
            ));
            return;
        }
        if quiz.multiple() {
            // Pick-all: numbers toggle picks, enter submits them; nothing tells how many are right.
            let saved = self.picks(&lab, &task.id);
            let picks = self
                .quiz_picks
                .entry((lab.clone(), task.id.clone()))
                .or_insert(saved);
            if let Some(i) = picks.iter().position(|p| *p == n - 1) {
                picks.remove(i);
            } else {
                picks.push(n - 1);
                picks.sort_unstable();
            }
            let shown = picks
                .iter()
                .map(|p| (p + 1).to_string())
                .collect::<Vec<_>>()
                .join(", ");
            self.revision += 1;
            self.info(if shown.is_empty() {
                "Nothing picked; pick every right choice with 1-9, then press enter.".to_string()
            } else {
                format!("Picked {shown}; press enter to submit, a number again to unpick.")
            });
            return;
        }
        self.submit_answer(&lab, &task, vec![n - 1]);
    }

    /// The picks of a pick-all quiz: those of this session, else the last answer saved.
    pub fn picks(&self, lab: &str, task: &str) -> Vec<usize> {
        self.quiz_picks
            .get(&(lab.to_string(), task.to_string()))
            .cloned()
            .or_else(|| self.progress.answer(lab, task).map(<[usize]>::to_vec))
            .unwrap_or_default()
    }

    /// Submits the picks of the selected pick-all quiz (enter in the tasks pane).
    fn submit_picks(&mut self) -> bool {
        let Some(lab) = self.current_lab().map(|l| l.id.clone()) else {
            return false;
        };
        let Some(task) = self.selected_task().cloned() else {
            return false;
        };
        let Check::Quiz(quiz) = &task.check else {
            return false;
        };
        if !quiz.multiple() {
            return false;
        }
        let picks = self.picks(&lab, &task.id);
        if picks.is_empty() {
            self.info("Pick every right choice with 1-9 first, then press enter.");
            return true;
        }
        self.submit_answer(&lab, &task, picks);
        true
    }

    /// Grades an answer (0-based choices), saves it in the progress file for `oplab check`, and
    /// passes the task when it is right. A wrong pick-all answer keeps its picks.
    fn submit_answer(&mut self, lab: &str, task: &Task, picked: Vec<usize>) {
        let Check::Quiz(quiz) = &task.check else {
            return;
        };
        let right = quiz.is_correct(&picked);
        self.progress
            .lab_mut(lab)
            .answers
            .insert(task.id.clone(), picked);
        self.save();
        self.revision += 1;
        if right {
            self.quiz_picks.remove(&(lab.to_string(), task.id.clone()));
            self.info(format!("Correct! {}", quiz.explanation.trim()));
            self.handle(AppMessage::Verdict {
                lab: lab.to_string(),
                task: task.id.clone(),
                verdict: Verdict::Pass,
            });
        } else {
            self.push_log(LogLine::warn(
                "quiz",
                format!("Not quite; try again (h for a hint) on \"{}\".", task.title),
            ));
        }
    }

    fn backspace(&mut self) {
        let close = match self.prompt.as_mut() {
            Some(Prompt::Search(q)) => {
                q.pop();
                let q = q.clone();
                self.set_query(q);
                false
            }
            Some(Prompt::Command(q)) => q.pop().is_none(),
            None => false,
        };
        if close {
            self.prompt = None;
        }
    }

    fn set_query(&mut self, q: String) {
        let s = self.search.get_or_insert_with(Search::default);
        s.query = q;
        s.current = 0;
        s.jump = true;
        // matches are found at the next layout, against the rendered rows
        s.matches.clear();
        self.view_key = None;
    }

    fn back(&mut self) {
        if self.log_full {
            self.log_full = false;
        } else if self.editor.take().is_some() {
            self.info("Edit discarded.");
        } else if self.help {
            self.help = false;
        } else if self.confirm.is_some() {
            self.confirm = None;
        } else if let Some(p) = self.prompt.take() {
            if matches!(p, Prompt::Search(_)) {
                self.search = None;
            }
        } else if self.search.is_some() {
            self.search = None;
        } else if self.code_sel.is_some() {
            self.code_sel = None;
        } else if self.focus != Focus::Content {
            self.focus = Focus::Content;
        }
    }

    fn enter(&mut self) {
        match self.prompt.take() {
            Some(Prompt::Search(q)) => {
                if q.is_empty() {
                    self.search = None;
                } else {
                    let n = self.search.as_ref().map_or(0, |s| s.matches.len());
                    let msg = match n {
                        0 => format!("No match for \"{q}\" in this step."),
                        1 => format!("1 match for \"{q}\"; n / N to move, esc to clear."),
                        n => format!("{n} matches for \"{q}\"; n / N to move, esc to clear."),
                    };
                    self.info(msg);
                }
            }
            Some(Prompt::Command(c)) => self.command(&c),
            None => {
                if self.focus == Focus::Nav {
                    self.focus = Focus::Content;
                } else if self.focus == Focus::Tasks {
                    self.submit_picks();
                }
            }
        }
    }

    /// Runs a `:` command.
    pub fn command(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        let cmd = words.next().unwrap_or("");
        let arg = words.next();
        match (cmd, arg) {
            ("", _) => {}
            ("q" | "quit" | "q!" | "exit", _) => self.update(Action::Quit),
            ("help" | "h", _) => self.help = true,
            ("reset", _) => self.update(Action::Reset),
            ("lab" | "chapter", Some(a)) => {
                let found = a
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| self.labs.iter().position(|l| l.order as usize == n))
                    .or_else(|| self.labs.iter().position(|l| l.id == a))
                    .or_else(|| self.labs.iter().position(|l| l.id.starts_with(a)));
                match found {
                    Some(i) => self.go_to(i, 0),
                    None => {
                        let ids: Vec<&str> = self.labs.iter().map(|l| l.id.as_str()).collect();
                        let msg = format!("no lab `{a}`; labs: {}", ids.join(", "));
                        self.push_log(LogLine::error("oplab", msg));
                    }
                }
            }
            ("step", Some(a)) => {
                let n = self.current_lab().map_or(0, |l| l.steps.len());
                match a.parse::<usize>() {
                    Ok(k) if k >= 1 && k <= n => self.go_to(self.lab, k - 1),
                    _ => self.push_log(LogLine::error(
                        "oplab",
                        format!("no step `{a}`; this chapter has steps 1 to {n}"),
                    )),
                }
            }
            ("kubeconfig" | "kc", _) => self.show_kubeconfig(),
            ("shell" | "terminal", None) => self.open_shell(),
            ("shell" | "terminal", Some(n)) => match n.parse::<usize>() {
                Ok(k) if k >= 1 && k <= self.term.tabs.len() => {
                    self.term.active = k - 1;
                    self.term.focused = true;
                }
                _ => self.push_log(LogLine::error(
                    "oplab",
                    format!("no shell {n}; {} open", self.term.tabs.len()),
                )),
            },
            ("split", _) => self.multiplexer_split(),
            ("python" | "venv", _) => self.python_venv(),
            ("lab" | "chapter" | "step", None) => {
                self.push_log(LogLine::error("oplab", format!(":{cmd} needs an argument")))
            }
            _ => self.push_log(LogLine::error(
                "oplab",
                format!("unknown command `:{cmd}`; try :help, :lab <id>, :step <n>, :reset, :quit"),
            )),
        }
    }

    fn copy(&mut self) {
        match self.target_code() {
            Some((i, code)) => {
                let lines = code.block.text.lines().count();
                let lang = if code.block.lang.is_empty() {
                    "text".to_string()
                } else {
                    code.block.lang.clone()
                };
                let label = format!(
                    "code block [{}] ({lang}, {lines} line{})",
                    i + 1,
                    if lines == 1 { "" } else { "s" }
                );
                let text = code.block.text.clone();
                self.code_sel = Some(i);
                self.effects.push(Effect::Copy { text, label });
            }
            None => self.info("This step has no code block to copy."),
        }
    }

    fn hint(&mut self) {
        let Some(lab) = self.current_lab().map(|l| l.id.clone()) else {
            return;
        };
        let Some(task) = self.selected_task() else {
            self.info("This step has no tasks.");
            return;
        };
        let (id, title, total) = (task.id.clone(), task.title.clone(), task.hints.len());
        let shown = self.progress.hints(&lab, &id);
        if shown >= total {
            self.info(format!(
                "No more hints for \"{title}\"; s shows the solution."
            ));
            return;
        }
        self.progress.lab_mut(&lab).hints.insert(id, shown + 1);
        self.revision += 1;
        self.save();
        self.info(format!("Hint {}/{total} for \"{title}\".", shown + 1));
    }

    fn confirmed(&mut self, yes: bool) {
        let Some(confirm) = self.confirm.take() else {
            return;
        };
        if !yes {
            return;
        }
        let Some(lab) = self.current_lab().map(|l| l.id.clone()) else {
            return;
        };
        match confirm {
            Confirm::Solution { task, title } => {
                self.progress.lab_mut(&lab).solutions.insert(task);
                self.info(format!("Solution of \"{title}\" shown in the tasks pane."));
            }
            Confirm::Apply { lab, block, .. } => {
                self.effects
                    .push(Effect::Request(Request::Apply { lab, block }));
                return;
            }
            Confirm::Reset { step_title } => {
                let ids: Vec<String> = self.step_tasks().iter().map(|t| t.id.clone()).collect();
                let blocks: Vec<String> = self
                    .current_step()
                    .map(|step| {
                        step.blocks
                            .iter()
                            .filter_map(|b| match b {
                                crate::lab::Block::Code(c) => Some(block_key(c)),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                self.progress
                    .reset_tasks(&lab, ids.iter().map(String::as_str));
                // Saved edits of the step's code blocks go too: the step starts over.
                let edits = &mut self.progress.lab_mut(&lab).edits;
                for key in &blocks {
                    edits.remove(key);
                }
                for id in &ids {
                    self.verdicts.remove(&(lab.clone(), id.clone()));
                }
                self.info(format!("Progress of step \"{step_title}\" reset."));
            }
        }
        self.revision += 1;
        self.save();
    }

    /// Applies one message from background work.
    pub fn handle(&mut self, msg: AppMessage) {
        match msg {
            AppMessage::Cluster(state) => self.cluster = state,
            AppMessage::Client(client) => self.client = Some(client),
            AppMessage::Operator(state) => self.operator = state,
            AppMessage::Log(line) => self.push_log(line),
            AppMessage::LabsReloaded(set) => {
                self.info("Labs changed on disk; reloaded.");
                self.set_labs(set);
            }
            AppMessage::Highlighter(h) => {
                self.highlighter = Some(h);
                self.revision += 1;
            }
            AppMessage::Diff { title, text } => {
                let text = if text.trim().is_empty() {
                    "no changes: the cluster already matches".to_string()
                } else {
                    text
                };
                self.overlay = Some(TextOverlay {
                    title,
                    text,
                    scroll: 0,
                });
            }
            AppMessage::InstructorSteps(steps) => {
                self.by_instructor = steps
                    .into_iter()
                    .filter(|s| !s.denied.is_empty())
                    .map(|s| ((s.lab, s.step), s.denied))
                    .collect();
                self.revision += 1;
            }
            AppMessage::Terminal(ev) => self.terminal_event(ev),
            AppMessage::NewCluster => {
                let done: usize = self.progress.labs.values().map(|l| l.done.len()).sum();
                if done > 0 {
                    self.push_log(LogLine::warn(
                        "cluster",
                        format!(
                            "This cluster is new, but the progress file has {done} done task{}: \
                             [x] is what you did before, the check beside it what holds now.",
                            if done == 1 { "" } else { "s" }
                        ),
                    ));
                }
            }
            AppMessage::Verdict { lab, task, verdict } => {
                if verdict == Verdict::Pass && self.progress.done_record(&lab, &task).is_none() {
                    let by = self.attendee.clone();
                    self.progress.mark_done(&lab, &task, by.as_deref());
                    self.save();
                }
                self.verdicts.insert((lab, task), verdict);
                self.revision += 1;
            }
        }
    }

    /// Lays the current step out for a terminal of `size`: renders it for the content width,
    /// finds search matches, keeps the scroll position in range. Call before drawing.
    pub fn prepare(&mut self, size: Size) {
        self.screen = size;
        let (panes, shell) = layout::panes_with(size, self.focus, self.term_layout());
        if let Some(r) = shell {
            // The shell's screen inside the pane's border and tab line.
            let reqs = self
                .term
                .resize(r.height.saturating_sub(2), r.width.saturating_sub(2));
            for req in reqs {
                self.effects.push(Effect::Request(Request::Terminal(req)));
            }
        }
        self.content_height = panes.content.height.saturating_sub(2) as usize;
        let width = panes.content.width.saturating_sub(2) as usize;
        let key = ViewKey {
            lab: self.lab,
            step: self.step,
            width,
            code: self.code_sel,
            revision: self.revision,
        };
        if self.view_key.as_ref() != Some(&key) {
            let edited = self.labs.get(self.lab).and_then(|lab| {
                let edits = &self.progress.lab(&lab.id)?.edits;
                (!edits.is_empty()).then(|| with_edits(lab, edits))
            });
            let by_instructor = self.current_by_instructor();
            self.view = match edited.as_ref().or(self.labs.get(self.lab)) {
                Some(lab) => {
                    let progress = &self.progress;
                    let done = |t: &str| progress.is_done(&lab.id, t);
                    content::build(
                        lab,
                        self.step,
                        &ViewOptions {
                            width,
                            theme: &self.theme,
                            highlighter: self.highlighter.as_deref(),
                            selected_code: self.code_sel,
                            done: &done,
                            by_instructor,
                        },
                    )
                }
                None => StepView::default(),
            };
            self.view_key = Some(key);
            if let Some(s) = self.search.as_mut() {
                s.matches = search::find(&self.view.lines, &s.query);
                if s.current >= s.matches.len() {
                    s.current = 0;
                }
            }
        }
        let height = self.content_height.max(1);
        let max_scroll = self.view.lines.len().saturating_sub(height);
        if let Some(s) = self.search.as_mut()
            && s.jump
        {
            s.jump = false;
            if let Some(m) = s.matches.get(s.current)
                && (m.row < self.scroll || m.row >= self.scroll + height)
            {
                self.scroll = m.row.saturating_sub(height / 3);
            }
        }
        if self.pending_code_jump {
            self.pending_code_jump = false;
            if let Some(c) = self.code_sel.and_then(|i| self.view.codes.get(i))
                && (c.row < self.scroll || c.row + c.rows > self.scroll + height)
            {
                self.scroll = c.row.saturating_sub(1);
            }
        }
        self.scroll = self.scroll.min(max_scroll);
    }

    /// Whether the task is a quiz (answered in the TUI once checks exist).
    pub fn is_quiz(task: &Task) -> bool {
        matches!(task.check, Check::Quiz(_))
    }
}

/// Every code block of a lab, intro first.
fn lab_blocks(lab: &Lab) -> impl Iterator<Item = &crate::lab::CodeBlock> {
    lab.intro
        .iter()
        .chain(lab.steps.iter().flat_map(|s| s.blocks.iter()))
        .filter_map(|b| match b {
            crate::lab::Block::Code(c) => Some(c),
            _ => None,
        })
}

fn find_block<'a>(lab: &'a Lab, key: &str) -> Option<&'a crate::lab::CodeBlock> {
    lab_blocks(lab).find(|b| block_key(b) == key)
}

/// A copy of `lab` with the saved edits in place of the blocks' text.
fn with_edits(lab: &Lab, edits: &std::collections::BTreeMap<String, String>) -> Lab {
    let mut lab = lab.clone();
    let blocks = lab
        .intro
        .iter_mut()
        .chain(lab.steps.iter_mut().flat_map(|s| s.blocks.iter_mut()));
    for b in blocks {
        if let crate::lab::Block::Code(c) = b
            && c.attrs.editable
            && let Some(text) = edits.get(&block_key(c))
        {
            c.text = text.clone();
        }
    }
    lab
}
