//! The keymap: a terminal event in the current input mode becomes an [`Action`] (keys after k9s).

use super::action::Action;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Which keys are live: typing into a prompt, a dialog, or the normal keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// A search is active (not being typed): `n`/`N` go to the next/previous match.
    Searching,
    /// Typing into the `/` or `:` prompt.
    Prompt,
    Help,
    Confirm,
    /// The manifest editor is open: keys go to the text.
    Editor,
    /// A scrollable overlay (the diff) is open.
    Overlay,
    /// The terminal pane has the focus: every key goes to the shell but `ctrl-]`.
    Terminal,
}

/// Maps a terminal event to an action, if it means one.
pub fn map_event(event: &Event, mode: Mode) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => map_key(key, mode),
        Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
        Event::Paste(text) if mode == Mode::Terminal => Some(Action::TermPaste(text.clone())),
        Event::Mouse(m) => {
            use crossterm::event::MouseEventKind;
            match (m.kind, mode) {
                (MouseEventKind::ScrollUp, Mode::Terminal) => Some(Action::TermScroll(3)),
                (MouseEventKind::ScrollDown, Mode::Terminal) => Some(Action::TermScroll(-3)),
                (MouseEventKind::ScrollUp, Mode::Normal | Mode::Searching) => Some(Action::Up),
                (MouseEventKind::ScrollDown, Mode::Normal | Mode::Searching) => Some(Action::Down),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Maps one key press.
pub fn map_key(key: &KeyEvent, mode: Mode) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if mode == Mode::Terminal {
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        // ctrl-] arrives as ctrl-5 from terminals that send the raw control byte (0x1d).
        return Some(match key.code {
            KeyCode::Char(']') | KeyCode::Char('5') if ctrl => Action::TermLeave,
            KeyCode::PageUp if shift => Action::TermScroll(10),
            KeyCode::PageDown if shift => Action::TermScroll(-10),
            _ => Action::TermKey(*key),
        });
    }
    if ctrl && matches!(key.code, KeyCode::Char('c')) {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Prompt => match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::Enter),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) if !ctrl => Some(Action::Input(c)),
            _ => None,
        },
        Mode::Help => match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter => {
                Some(Action::Back)
            }
            _ => None,
        },
        Mode::Confirm => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => Some(Action::Confirm(true)),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                Some(Action::Confirm(false))
            }
            _ => None,
        },
        Mode::Editor => match key.code {
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Char('s') if ctrl => Some(Action::EditorSave),
            _ => Some(Action::EditorKey(*key)),
        },
        Mode::Overlay => match key.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => Some(Action::Back),
            KeyCode::Char('j') | KeyCode::Down => Some(Action::Down),
            KeyCode::Char('k') | KeyCode::Up => Some(Action::Up),
            KeyCode::PageDown | KeyCode::Char(' ') => Some(Action::PageDown),
            KeyCode::PageUp => Some(Action::PageUp),
            KeyCode::Char('g') | KeyCode::Home => Some(Action::Top),
            KeyCode::Char('G') | KeyCode::End => Some(Action::Bottom),
            _ => None,
        },
        Mode::Normal | Mode::Searching => normal_key(key, mode == Mode::Searching, ctrl),
        // Handled above: every key goes to the shell.
        Mode::Terminal => None,
    }
}

fn normal_key(key: &KeyEvent, searching: bool, ctrl: bool) -> Option<Action> {
    let action = match key.code {
        KeyCode::Char('n') if searching => Action::SearchNext,
        KeyCode::Char('N') if searching => Action::SearchPrev,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Esc => Action::Back,
        KeyCode::Tab => Action::FocusNext,
        KeyCode::BackTab => Action::FocusPrev,
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::Enter => Action::Enter,
        KeyCode::Char('n') | KeyCode::Right => Action::NextStep,
        KeyCode::Char('p') | KeyCode::Left => Action::PrevStep,
        KeyCode::Char('}') => Action::NextChapter,
        KeyCode::Char('{') => Action::PrevChapter,
        KeyCode::Char(']') => Action::NextCode,
        KeyCode::Char('[') => Action::PrevCode,
        KeyCode::Char('c') => Action::Copy,
        KeyCode::Char('h') => Action::Hint,
        KeyCode::Char('s') => Action::Solution,
        KeyCode::Char('x') => Action::Reset,
        KeyCode::Char('/') => Action::StartSearch,
        KeyCode::Char(':') => Action::StartCommand,
        KeyCode::Char('a') => Action::Apply,
        KeyCode::Char('e') => Action::Edit,
        KeyCode::Char('d') => Action::Diff,
        KeyCode::Char('v') => Action::Probe,
        KeyCode::Char('o') => Action::ToggleOperator,
        KeyCode::Char('t') => Action::Terminal,
        KeyCode::Char('T') => Action::TermPlacement,
        KeyCode::Char('z') => Action::TermZoom,
        KeyCode::Char('L') => Action::LogFull,
        KeyCode::Char(c @ '1'..='9') => Action::Answer(c as usize - '0' as usize),
        _ => return None,
    };
    Some(action)
}

/// The key reference shown by `?`: (keys, what they do).
pub const HELP: &[(&str, &str)] = &[
    (
        "n / p, → / ←",
        "next / previous step (p on a selected code block: paste it)",
    ),
    ("} / {", "next / previous chapter"),
    ("j / k, ↓ / ↑", "scroll or select in the focused pane"),
    ("PgDn / PgUp, space", "scroll a page"),
    ("g / G", "top / bottom"),
    ("tab / shift-tab", "next / previous pane"),
    ("] / [", "select next / previous code block"),
    ("c", "copy the selected code block (OSC 52)"),
    ("h", "reveal the next hint of the selected task"),
    ("s", "show the solution of the selected task (asks first)"),
    ("x", "reset this step's progress (asks first)"),
    ("/", "search in the step; n / N next / previous match"),
    (":", "command: quit, lab <id|N>, step <N>, reset, help"),
    ("a e d", "apply / edit / diff a manifest"),
    ("ctrl-s, esc", "in the editor: save / discard the edit"),
    (
        "1-9",
        "answer the selected quiz (tasks pane); pick-all: pick, then enter",
    ),
    (
        "v o",
        "run a task's probe / start or stop the operator (kept)",
    ),
    (
        "t",
        "terminal: open a shell and type in it; ctrl-] back to the lab",
    ),
    ("T z", "terminal beside / below the lab; full-screen"),
    (
        "shift-PgUp/PgDn",
        "in the terminal: scroll back (or the mouse wheel)",
    ),
    ("L", "the log full-screen"),
    (
        ":kubeconfig",
        "the export KUBECONFIG= line for other terminals (copied)",
    ),
    (
        ":shell :python",
        "another shell tab; make the Python venv of chapter 3",
    ),
    ("esc", "back, close"),
    ("q, ctrl-c", "quit"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn n_is_next_step_unless_searching() {
        assert_eq!(map_key(&key('n'), Mode::Normal), Some(Action::NextStep));
        assert_eq!(
            map_key(&key('n'), Mode::Searching),
            Some(Action::SearchNext)
        );
        assert_eq!(
            map_key(&key('N'), Mode::Searching),
            Some(Action::SearchPrev)
        );
        assert_eq!(map_key(&key('p'), Mode::Searching), Some(Action::PrevStep));
    }

    #[test]
    fn prompt_takes_every_character() {
        assert_eq!(map_key(&key('q'), Mode::Prompt), Some(Action::Input('q')));
        assert_eq!(map_key(&key('n'), Mode::Prompt), Some(Action::Input('n')));
    }

    #[test]
    fn ctrl_c_quits_everywhere() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for mode in [Mode::Normal, Mode::Prompt, Mode::Help, Mode::Confirm] {
            assert_eq!(map_key(&ctrl_c, mode), Some(Action::Quit));
        }
    }

    #[test]
    fn confirm_takes_only_yes_or_no() {
        assert_eq!(
            map_key(&key('y'), Mode::Confirm),
            Some(Action::Confirm(true))
        );
        assert_eq!(
            map_key(&key('n'), Mode::Confirm),
            Some(Action::Confirm(false))
        );
        assert_eq!(map_key(&key('c'), Mode::Confirm), None);
    }
}
