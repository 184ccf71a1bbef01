//! Colours and text styles of the TUI, with a plain variant for `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};

/// Every style the renderer uses; [`Theme::plain`] uses modifiers only, no colours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// Whether colours are allowed at all (false under `NO_COLOR`).
    pub color: bool,
    pub text: Style,
    pub h1: Style,
    pub h2: Style,
    pub h3: Style,
    pub emphasis: Style,
    pub strong: Style,
    pub inline_code: Style,
    pub link: Style,
    pub quote: Style,
    pub code: Style,
    pub code_header: Style,
    pub code_selected: Style,
    pub task: Style,
    pub muted: Style,
    pub border: Style,
    pub border_focused: Style,
    pub selected: Style,
    pub current: Style,
    pub done: Style,
    pub search_match: Style,
    pub search_current: Style,
    pub status: Style,
    pub status_key: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
}

impl Theme {
    /// The colour theme, or the plain one when `NO_COLOR` is set to a non-empty value.
    pub fn from_env() -> Self {
        match std::env::var_os("NO_COLOR") {
            Some(v) if !v.is_empty() => Self::plain(),
            _ => Self::colored(),
        }
    }

    pub fn colored() -> Self {
        let base = Style::default();
        Self {
            color: true,
            text: base,
            h1: base
                .fg(Color::LightCyan)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            h2: base.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            h3: base.fg(Color::Blue).add_modifier(Modifier::BOLD),
            emphasis: base.add_modifier(Modifier::ITALIC),
            strong: base.add_modifier(Modifier::BOLD),
            inline_code: base.fg(Color::Yellow),
            link: base.fg(Color::Blue).add_modifier(Modifier::UNDERLINED),
            quote: base.fg(Color::Gray).add_modifier(Modifier::ITALIC),
            code: base.fg(Color::White),
            code_header: base.fg(Color::DarkGray),
            code_selected: base.fg(Color::Black).bg(Color::Yellow),
            task: base.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            muted: base.fg(Color::DarkGray),
            border: base.fg(Color::DarkGray),
            border_focused: base.fg(Color::Cyan),
            selected: base.bg(Color::DarkGray).add_modifier(Modifier::BOLD),
            current: base.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            done: base.fg(Color::Green),
            search_match: base.fg(Color::Black).bg(Color::Yellow),
            search_current: base.fg(Color::Black).bg(Color::LightRed),
            status: base.fg(Color::White).bg(Color::DarkGray),
            status_key: base.fg(Color::Yellow).bg(Color::DarkGray),
            ok: base.fg(Color::Green),
            warn: base.fg(Color::Yellow),
            error: base.fg(Color::Red),
        }
    }

    /// No colours: bold, underline and reverse video carry the meaning.
    pub fn plain() -> Self {
        let base = Style::default();
        let bold = base.add_modifier(Modifier::BOLD);
        Self {
            color: false,
            text: base,
            h1: bold.add_modifier(Modifier::UNDERLINED),
            h2: bold,
            h3: bold,
            emphasis: base.add_modifier(Modifier::ITALIC),
            strong: bold,
            inline_code: base,
            link: base.add_modifier(Modifier::UNDERLINED),
            quote: base.add_modifier(Modifier::ITALIC),
            code: base,
            code_header: base,
            code_selected: base.add_modifier(Modifier::REVERSED),
            task: bold,
            muted: base,
            border: base,
            border_focused: bold,
            selected: base.add_modifier(Modifier::REVERSED),
            current: bold,
            done: base,
            search_match: base.add_modifier(Modifier::UNDERLINED),
            search_current: base.add_modifier(Modifier::REVERSED),
            status: base.add_modifier(Modifier::REVERSED),
            status_key: bold.add_modifier(Modifier::REVERSED),
            ok: base,
            warn: bold,
            error: bold,
        }
    }
}
