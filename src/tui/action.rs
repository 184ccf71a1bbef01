//! Actions: what a key means, independent of which key it was; `App::update` applies them.

/// One thing the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Show the help overlay.
    Help,
    /// Close whatever is open (overlay, prompt, search), or go back to the navigation pane.
    Back,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Enter: open the selected step, submit the prompt, confirm a dialog.
    Enter,
    NextStep,
    PrevStep,
    NextChapter,
    PrevChapter,
    NextCode,
    PrevCode,
    /// Copy the selected code block to the clipboard (OSC 52).
    Copy,
    /// Reveal the next hint of the selected task.
    Hint,
    /// Show the selected task's solution (asks first).
    Solution,
    /// Reset the current step's progress (asks first).
    Reset,
    StartSearch,
    StartCommand,
    SearchNext,
    SearchPrev,
    /// A character typed into the prompt.
    Input(char),
    Backspace,
    /// Answer to a confirmation dialog.
    Confirm(bool),
    /// Apply the selected manifest (its edited text, if any).
    Apply,
    /// Edit the selected manifest in the editor overlay.
    Edit,
    /// Diff the selected manifest against the cluster.
    Diff,
    /// A key typed into the manifest editor.
    EditorKey(crossterm::event::KeyEvent),
    /// Save the editor's text for its code block.
    EditorSave,
    /// Answer a quiz with choice `n` (1-based).
    Answer(usize),
    /// Run the selected task's probe (issue 7).
    Probe,
    /// Start or stop the built-in operator (issue 6).
    ToggleOperator,
    /// The terminal changed size.
    Resize(u16, u16),
    /// `t`: open the terminal pane (a shell) and focus it.
    Terminal,
    /// `ctrl-]`: keys go back to the lab.
    TermLeave,
    /// A key for the focused shell.
    TermKey(crossterm::event::KeyEvent),
    /// Text pasted into the focused shell.
    TermPaste(String),
    /// Scroll the shell back (positive) or forward, in rows.
    TermScroll(isize),
    /// `z`: the terminal pane full-screen, or back.
    TermZoom,
    /// `T`: the terminal pane beside the lab or below it.
    TermPlacement,
    /// `L`: the log full-screen, or back.
    LogFull,
}
