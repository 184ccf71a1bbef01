//! Drawing the terminal pane: the active shell's screen (tui-term) in a bordered pane, tabs in the title.

use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear};
use tui_term::widget::PseudoTerminal;

pub fn draw(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let pane = &app.term;
    let mut title = vec![Span::raw(" ")];
    for (i, tab) in pane.tabs.iter().enumerate() {
        let style = if i == pane.active { t.strong } else { t.muted };
        title.push(Span::styled(format!("shell {}", tab.id), style));
        title.push(Span::raw(" "));
    }
    let hint = if pane.focused {
        " ctrl-] back to the lab "
    } else {
        " t to type here "
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(if pane.focused {
            t.border_focused
        } else {
            t.border
        })
        .title(Line::from(title))
        .title(Line::from(Span::styled(hint, t.muted)).alignment(Alignment::Right));
    if let Some(tab) = pane.active_tab()
        && tab.scrollback > 0
    {
        block = block.title_bottom(
            Line::from(Span::styled(
                format!(" scrolled back {} rows · shift-PgDn ", tab.scrollback),
                t.warn,
            ))
            .alignment(Alignment::Right),
        );
    }
    frame.render_widget(Clear, area);
    match pane.active_tab() {
        Some(tab) => {
            let mut cursor = tui_term::widget::Cursor::default();
            if !pane.focused || tab.scrollback > 0 {
                cursor.hide();
            }
            frame.render_widget(
                PseudoTerminal::new(tab.screen())
                    .block(block)
                    .cursor(cursor),
                area,
            );
        }
        None => frame.render_widget(block, area),
    }
}
