//! Pane geometry for a terminal size: three columns when wide, collapsed panes when narrow.

use super::app::Focus;
use ratatui::layout::{Constraint, Layout, Rect, Size};

/// Where each pane goes; `None` when it is collapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    pub nav: Option<Rect>,
    pub content: Rect,
    pub tasks: Option<Rect>,
    pub log: Option<Rect>,
    pub status: Rect,
}

/// Width from which the chapters pane stays visible beside the content.
pub const NAV_MIN_WIDTH: u16 = 90;
/// Width from which tasks get a column of their own.
pub const WIDE: u16 = 130;

/// Where the terminal pane goes, if it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TermLayout {
    pub open: bool,
    pub placement: super::terminal::Placement,
    /// The terminal fills the screen above the status bar.
    pub full: bool,
}

/// Width from which the terminal goes beside the lab.
pub const TERM_SIDE_MIN_WIDTH: u16 = 120;

/// The panes with the terminal pane carved out (returned beside them; `None` when closed).
pub fn panes_with(size: Size, focus: Focus, term: TermLayout) -> (Panes, Option<Rect>) {
    if !term.open {
        return (panes(size, focus), None);
    }
    let area = Rect::new(0, 0, size.width, size.height);
    let [main, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    if term.full || size.height < 16 {
        let mut p = panes(size, focus);
        p.status = status;
        return (p, Some(main));
    }
    let side =
        term.placement == super::terminal::Placement::Side && size.width >= TERM_SIDE_MIN_WIDTH;
    let (lab, shell) = if side {
        let [l, s] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(main);
        (l, s)
    } else {
        let [l, s] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main);
        (l, s)
    };
    // The lab's panes laid out in what is left, as on a terminal of that size.
    let mut p = panes_in(Rect::new(lab.x, lab.y, lab.width, lab.height + 1), focus);
    p.status = status;
    (p, Some(shell))
}

pub fn panes(size: Size, focus: Focus) -> Panes {
    panes_in(Rect::new(0, 0, size.width, size.height), focus)
}

/// The panes in `area`, its last row the status bar.
fn panes_in(area: Rect, focus: Focus) -> Panes {
    let size = area.as_size();
    let [main, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let log_h = match size.height {
        h if h >= 45 => 10,
        h if h >= 30 => 7,
        h if h >= 16 => 5,
        _ => 0,
    };
    let (main, log) = if log_h > 0 {
        let [m, l] = Layout::vertical([Constraint::Min(1), Constraint::Length(log_h)]).areas(main);
        (m, Some(l))
    } else {
        (main, None)
    };
    let tasks_h = match main.height {
        h if h >= 30 => 12,
        h if h >= 14 => 7,
        _ => 0,
    };
    if size.width >= WIDE {
        let [nav, content, tasks] = Layout::horizontal([
            Constraint::Length(34),
            Constraint::Min(40),
            Constraint::Length(40),
        ])
        .areas(main);
        return Panes {
            nav: Some(nav),
            content,
            tasks: Some(tasks),
            log,
            status,
        };
    }
    let (nav, right) = if size.width >= NAV_MIN_WIDTH {
        let [n, r] = Layout::horizontal([Constraint::Length(30), Constraint::Min(40)]).areas(main);
        (Some(n), r)
    } else {
        (None, main)
    };
    let (content, tasks) = if tasks_h > 0 {
        let [c, t] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(tasks_h)]).areas(right);
        (c, Some(t))
    } else {
        (right, None)
    };
    // Narrow: the chapters pane takes the content's place while it has the focus.
    let nav = match nav {
        None if focus == Focus::Nav => Some(content),
        n => n,
    };
    Panes {
        nav,
        content,
        tasks,
        log,
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_terminals_collapse_the_chapters_pane() {
        let p = panes(Size::new(80, 24), Focus::Content);
        assert!(p.nav.is_none());
        assert_eq!(p.content.width, 80);
        assert!(p.tasks.is_some() && p.log.is_some());
        let p = panes(Size::new(80, 24), Focus::Nav);
        assert_eq!(p.nav, Some(p.content));
    }

    #[test]
    fn wide_terminals_get_three_columns() {
        let p = panes(Size::new(160, 50), Focus::Content);
        let (nav, tasks) = (p.nav.unwrap_or_default(), p.tasks.unwrap_or_default());
        assert!(nav.x < p.content.x && p.content.x < tasks.x);
        assert_eq!(p.status.y, 49);
    }

    #[test]
    fn tiny_terminals_still_have_content_and_status() {
        let p = panes(Size::new(20, 5), Focus::Content);
        assert!(p.content.height >= 1);
        assert!(p.log.is_none() && p.tasks.is_none());
    }
}
