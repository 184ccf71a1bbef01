//! Drawing the board: a title bar, the shared tasks, one compact row per attendee (a glyph per
//! task, grouped by lab), the selected task's summary, the keys; an attendee's details; the help.

use super::state::{BoardView, Screen, Sort};
use crate::classroom::snapshot::{Cell, Column, Connection, Snapshot};
use crate::tui::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

fn cell_style(cell: &Cell, theme: &Theme) -> Style {
    match cell {
        Cell::Pass => theme.ok,
        Cell::Fail(_) => theme.error,
        Cell::NotStarted(_) | Cell::NotGradable(_) => theme.muted,
        Cell::Unknown(_) => theme.warn,
    }
}

fn connection_span<'a>(c: &Connection, theme: &Theme) -> Span<'a> {
    let style = match c {
        Connection::Live => theme.status.patch(theme.ok),
        Connection::Connecting => theme.status,
        Connection::Reconnecting(_) => theme.status.patch(theme.error),
    };
    let text = match c {
        Connection::Reconnecting(_) => "● reconnecting".to_string(),
        other => format!("● {other}"),
    };
    Span::styled(text, style)
}

/// The first line of a reason, cut to `width` characters.
fn first_line(text: &str, width: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= width {
        line.to_string()
    } else {
        let mut s: String = line.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Draws the whole view.
pub fn draw(f: &mut Frame, view: &mut BoardView, theme: &Theme) {
    let area = f.area();
    let Some(snapshot) = view.snapshot.clone() else {
        let p = Paragraph::new(vec![
            Line::styled(" oplab classroom", theme.status),
            Line::raw(""),
            Line::raw(" Connecting to the cluster and listing every kind the labs check…"),
            Line::styled(" q quits", theme.muted),
        ]);
        f.render_widget(p, area);
        return;
    };
    match view.screen.clone() {
        Screen::Board => board(f, area, view, &snapshot, theme),
        Screen::Detail { name, scroll } => detail(f, area, &snapshot, &name, scroll, theme),
        Screen::Help => help(f, area, theme),
    }
}

fn title<'a>(view: &BoardView, s: &Snapshot, theme: &Theme) -> Line<'a> {
    let sort = match view.sort {
        Sort::Name => "by name",
        Sort::Progress => "by progress",
    };
    let head = format!(
        " classroom  {} attendees  {} tasks  ",
        s.rows.len(),
        s.tasks.len()
    );
    let mut spans = vec![
        Span::styled(head, theme.status),
        connection_span(&s.connection, theme),
        Span::styled(format!("  {} watches  {sort}", s.watches), theme.status),
    ];
    if !view.filter.is_empty() || view.editing_filter {
        let cursor = if view.editing_filter { "▏" } else { "" };
        spans.push(Span::styled(
            format!("  /{}{cursor}", view.filter),
            theme.status_key,
        ));
    }
    Line::from(spans)
}

/// Lab group number of each column (1, 2, ... in order of appearance).
fn groups(tasks: &[Column]) -> Vec<usize> {
    let mut out = Vec::with_capacity(tasks.len());
    let mut n = 0;
    let mut last: Option<&str> = None;
    for t in tasks {
        if last != Some(t.lab.as_str()) {
            n += 1;
            last = Some(&t.lab);
        }
        out.push(n);
    }
    out
}

fn heat(done: usize, of: usize) -> char {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if of == 0 || done == 0 {
        return ' ';
    }
    BARS[((done * 8).div_ceil(of)).clamp(1, 8) - 1]
}

fn board(f: &mut Frame, area: Rect, view: &mut BoardView, s: &Snapshot, theme: &Theme) {
    let names = view
        .rows()
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0);
    let name_w = names.clamp(8, 20);
    let shared_lines = shared_lines(s, area.width as usize, theme);
    let shared_h = shared_lines.len().min(3) as u16;
    let [top, shared, head, body, foot, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(shared_h),
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(area);
    f.render_widget(
        Paragraph::new(title(view, s, theme)).style(theme.status),
        top,
    );
    f.render_widget(Paragraph::new(shared_lines), shared);

    let group = groups(&s.tasks);
    let done = s.done();
    let prefix = |a: String, b: String| format!(" {a:<name_w$} {b:>6} ");
    // Header: lab numbers over their first column; the share of attendees done per task.
    let mut labs = vec![Span::styled(
        prefix("ATTENDEE".into(), "DONE".into()),
        theme.h3,
    )];
    let mut bars = vec![Span::styled(
        prefix(String::new(), "tasks".into()),
        theme.muted,
    )];
    for (i, g) in group.iter().enumerate() {
        if i > 0 && group[i - 1] != *g {
            labs.push(Span::raw(" "));
            bars.push(Span::raw(" "));
        }
        let first = i == 0 || group[i - 1] != *g;
        let style = if i == view.column {
            theme.selected
        } else {
            theme.h3
        };
        labs.push(Span::styled(
            if first { g.to_string() } else { " ".into() },
            style,
        ));
        let b = heat(done[i], s.rows.len());
        let bstyle = if i == view.column {
            theme.selected
        } else {
            theme.ok
        };
        bars.push(Span::styled(b.to_string(), bstyle));
    }
    f.render_widget(
        Paragraph::new(vec![Line::from(labs), Line::from(bars)]),
        head,
    );

    view.scroll_into_view(body.height as usize);
    let gradable = s.gradable();
    let mut lines = Vec::new();
    let rows = view.rows();
    if rows.is_empty() {
        let why = if s.rows.is_empty() {
            " No attendees yet: namespaces labelled oplab.dev/attendee appear here (`oplab classroom setup`)."
        } else {
            " No attendee matches the filter (esc clears it)."
        };
        lines.push(Line::styled(why, theme.muted));
    }
    for r in rows.iter().skip(view.offset).take(body.height as usize) {
        let selected = view.selected.as_deref() == Some(r.name.as_str());
        let base = if selected {
            theme.selected
        } else {
            Style::default()
        };
        let mut spans = vec![Span::styled(
            prefix(
                first_line(&r.name, name_w),
                format!("{}/{gradable}", r.passed()),
            ),
            base,
        )];
        for (i, c) in r.cells.iter().enumerate() {
            if i > 0 && group[i - 1] != group[i] {
                spans.push(Span::styled(" ", base));
            }
            let mut st = base.patch(cell_style(c, theme));
            if i == view.column && selected {
                st = st.patch(theme.search_current);
            }
            spans.push(Span::styled(c.glyph().to_string(), st));
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(Paragraph::new(lines), body);

    let width = foot.width as usize;
    let mut info = Vec::new();
    if let Some(t) = s.tasks.get(view.column) {
        let who = s.rows.len();
        info.push(Line::from(vec![
            Span::styled(format!(" {}/{} ", group[view.column], t.task), theme.h3),
            Span::styled(format!("{} of {who} done  ", done[view.column]), theme.ok),
            Span::raw(first_line(
                &t.title,
                width.saturating_sub(t.task.len() + 20),
            )),
        ]));
        if let Some(sel) = view.selected.as_deref()
            && let Some(row) = s.row(sel)
        {
            let c = &row.cells[view.column];
            let text = format!(" {sel}: {} {}", c.status(), first_line(c.reason(), width));
            info.push(Line::styled(first_line(&text, width), cell_style(c, theme)));
        }
    }
    f.render_widget(Paragraph::new(info), foot);
    let k = |key: &'static str, what: &'static str| {
        vec![
            Span::styled(key, theme.status_key),
            Span::styled(what, theme.status),
        ]
    };
    let mut ks = Vec::new();
    for (key, what) in [
        (" j/k", " attendee "),
        (" h/l", " task "),
        (" enter", " details "),
        (" s", " sort "),
        (" /", " filter "),
        (" ?", " help "),
        (" q", " quit "),
    ] {
        ks.extend(k(key, what));
    }
    f.render_widget(Paragraph::new(Line::from(ks)).style(theme.status), keys);
}

/// `instructor: ✓ olm-installed · etcd-operator-installed …`, wrapped to `width`.
fn shared_lines<'a>(s: &Snapshot, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    if s.shared.is_empty() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    let label = " shared: ";
    let mut spans = vec![Span::styled(label, theme.h3)];
    let mut used = label.len();
    for (c, cell) in &s.shared {
        let item = format!("{} {}  ", cell.glyph(), c.task);
        let w = item.chars().count();
        if used + w > width && used > label.len() {
            lines.push(Line::from(std::mem::take(&mut spans)));
            spans.push(Span::raw(" ".repeat(label.len())));
            used = label.len();
        }
        spans.push(Span::styled(item, cell_style(cell, theme)));
        used += w;
    }
    lines.push(Line::from(spans));
    lines
}

fn detail(f: &mut Frame, area: Rect, s: &Snapshot, name: &str, scroll: usize, theme: &Theme) {
    let Some(row) = s.row(name) else {
        let p = Paragraph::new(vec![
            Line::styled(format!(" {name}"), theme.status),
            Line::raw(format!(
                " {name} is gone (their namespaces were deleted). esc goes back."
            )),
        ]);
        f.render_widget(p, area);
        return;
    };
    let [top, body, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let head = format!(" {name}  {}/{} tasks done  ", row.passed(), s.gradable());
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(head, theme.status),
            connection_span(&s.connection, theme),
        ]))
        .style(theme.status),
        top,
    );
    let width = body.width as usize;
    let mut lines = Vec::new();
    let mut lab = "";
    for (i, (t, c)) in s.tasks.iter().zip(&row.cells).enumerate() {
        if t.lab != lab {
            lab = &t.lab;
            lines.push(Line::styled(format!(" {lab}"), theme.h2));
        }
        let room = width.saturating_sub(20 + t.task.chars().count());
        lines.push(Line::from(vec![
            Span::styled(format!("   {} ", c.glyph()), cell_style(c, theme)),
            Span::styled(format!("{:<12} ", c.status()), cell_style(c, theme)),
            Span::raw(format!("{}  ", t.task)),
            Span::styled(first_line(row.title(i, t), room), theme.muted),
        ]));
        if !matches!(c, Cell::Pass | Cell::NotGradable(_)) {
            for l in c.reason().lines().take(3) {
                let text = format!("                  {l}");
                lines.push(Line::styled(first_line(&text, width), theme.muted));
            }
        }
    }
    if !s.shared.is_empty() {
        lines.push(Line::styled(
            " shared (instructor steps, the same for everyone)",
            theme.h2,
        ));
        for (t, c) in &s.shared {
            lines.push(Line::from(vec![
                Span::styled(format!("   {} ", c.glyph()), cell_style(c, theme)),
                Span::styled(format!("{:<12} ", c.status()), cell_style(c, theme)),
                Span::raw(t.task.clone()),
            ]));
        }
    }
    let scroll = scroll.min(lines.len().saturating_sub(1));
    f.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), body);
    let mut ks = Vec::new();
    for (key, what) in [
        (" j/k", " scroll "),
        (" esc", " board "),
        (" ?", " help "),
        (" q", " quit "),
    ] {
        ks.push(Span::styled(key, theme.status_key));
        ks.push(Span::styled(what, theme.status));
    }
    f.render_widget(Paragraph::new(Line::from(ks)).style(theme.status), keys);
}

fn help(f: &mut Frame, area: Rect, theme: &Theme) {
    let keys = [
        ("j / k", "next / previous attendee (or scroll the details)"),
        (
            "h / l",
            "previous / next task: its summary shows below the grid",
        ),
        (
            "enter",
            "one attendee: every task's verdict and why it fails",
        ),
        ("s", "sort by name or by progress (most done first)"),
        (
            "/",
            "filter attendees by name (enter keeps it, esc clears it)",
        ),
        ("esc", "back"),
        ("?", "this help"),
        ("q", "quit"),
    ];
    let cells = [
        ("✓", "pass"),
        ("✗", "started, not done yet (enter shows why)"),
        ("·", "not started: nothing the check looks for exists yet"),
        (
            "?",
            "not gradable from the cluster (a quiz, a probe or exec check)",
        ),
        ("~", "unknown: a watch is down or still listing"),
    ];
    let mut lines = vec![
        Line::styled(" oplab classroom: help", theme.status),
        Line::raw(""),
    ];
    for (k, what) in keys {
        lines.push(Line::from(vec![
            Span::styled(format!(" {k:<7}"), theme.status_key),
            Span::raw(format!(" {what}")),
        ]));
    }
    lines.push(Line::raw(""));
    for (g, what) in cells {
        lines.push(Line::from(vec![
            Span::styled(format!(" {g:<7}"), theme.h3),
            Span::raw(format!(" {what}")),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " Columns are grouped by lab (1, 2, ...); the bar under a number shows how many attendees are done.",
        theme.muted,
    ));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
