//! Drawing: a pure function of the [`App`] into a ratatui frame.

use super::app::{App, Confirm, Editor, Focus, Prompt, TextOverlay};
use super::keymap::HELP;
use super::layout::{self, Panes};
use super::markdown;
use super::message::{ClusterState, Level, Verdict};
use super::search;
use super::wrap::wrap;
use crate::lab::Check;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

/// Draws the whole screen. `App::prepare` must have run for this size.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    let (panes, shell) = layout::panes_with(area.as_size(), app.focus, app.term_layout());
    draw_content(frame, app, panes.content);
    if let Some(nav) = panes.nav {
        draw_nav(frame, app, nav);
    }
    if let Some(tasks) = panes.tasks {
        draw_tasks(frame, app, tasks);
    }
    if let Some(log) = panes.log {
        draw_log(frame, app, log);
    }
    if app.log_full {
        let full = Rect::new(0, 0, area.width, area.height.saturating_sub(1));
        frame.render_widget(Clear, full);
        draw_log(frame, app, full);
    }
    if let Some(r) = shell {
        super::terminal::draw::draw(frame, app, r);
    }
    draw_status(frame, app, &panes);
    if app.help {
        draw_help(frame, app, area);
    }
    if let Some(c) = &app.confirm {
        draw_confirm(frame, app, c, area);
    }
    if let Some(o) = &app.overlay {
        draw_overlay(frame, app, o, area);
    }
    if let Some(ed) = &app.editor {
        draw_editor(frame, app, ed, area);
    }
}

/// The manifest editor: the text, its YAML status in the title, the keys at the bottom.
fn draw_editor(frame: &mut Frame<'_>, app: &App, ed: &Editor, area: Rect) {
    let t = &app.theme;
    let rect = centered(
        area,
        area.width.saturating_sub(4).max(20),
        area.height.saturating_sub(2).max(6),
    );
    let (status, style) = match &ed.error {
        Some((line, msg)) => (format!(" line {line}: {msg} "), t.error),
        None => (" YAML ok ".to_string(), t.ok),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(format!(" Edit {} ", ed.key))
        .title(Line::from(Span::styled(status, style)).alignment(Alignment::Right))
        .title_bottom(Line::from(vec![
            Span::styled(" ctrl-s", t.strong),
            Span::raw(" save  "),
            Span::styled("esc", t.strong),
            Span::raw(" discard the edit "),
        ]));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    frame.render_widget(&ed.textarea, inner);
}

/// A scrollable read-only text (the diff), `+`/`-` lines coloured.
fn draw_overlay(frame: &mut Frame<'_>, app: &App, o: &TextOverlay, area: Rect) {
    let t = &app.theme;
    let rect = centered(
        area,
        area.width.saturating_sub(4).max(20),
        area.height.saturating_sub(2).max(6),
    );
    let lines: Vec<Line<'static>> = o
        .text
        .lines()
        .map(|l| {
            let style = if l.starts_with("+++") || l.starts_with("---") {
                t.strong
            } else if l.starts_with('+') {
                t.ok
            } else if l.starts_with('-') {
                t.error
            } else if l.starts_with("@@") {
                t.muted
            } else {
                t.text
            };
            Line::from(Span::styled(l.to_string(), style))
        })
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focused)
        .title(format!(" {} ", o.title))
        .title_bottom(Line::from(vec![
            Span::styled(" j/k", t.strong),
            Span::raw(" scroll  "),
            Span::styled("esc", t.strong),
            Span::raw(" close "),
        ]));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((o.scroll.min(u16::MAX as usize) as u16, 0)),
        rect,
    );
}

fn pane<'a>(app: &App, title: impl Into<Line<'a>>, focus: Focus) -> Block<'a> {
    let style = if app.focus == focus {
        app.theme.border_focused
    } else {
        app.theme.border
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(title)
}

/// "Chapter 1: Custom resources" -> "Custom resources".
pub fn short_title(title: &str) -> &str {
    match title.split_once(':') {
        Some((head, rest)) if head.starts_with("Chapter") => rest.trim(),
        _ => title,
    }
}

fn draw_nav(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut current_row = 0;
    for (li, lab) in app.labs.iter().enumerate() {
        let (done, total) = lab.steps.iter().fold((0, 0), |(d, n), s| {
            let (sd, sn) = app.step_progress(lab, s);
            (d + sd, n + sn)
        });
        let head = format!("{}. {}", lab.order, short_title(&lab.title));
        lines.push(with_count(&head, done, total, width, t.strong, t.muted));
        for (si, step) in lab.steps.iter().enumerate() {
            let (d, n) = app.step_progress(lab, step);
            let is_current = li == app.lab && si == app.step;
            let all_done = n > 0 && d == n;
            let mark = if all_done { "✓" } else { " " };
            let cursor = if is_current { "▶" } else { " " };
            let style = if is_current { t.selected } else { t.text };
            let text = format!("{cursor}{mark} {}", step.title);
            if is_current {
                current_row = lines.len();
            }
            if app.done_by_instructor(&lab.id, si).is_some() && !all_done {
                lines.push(with_badge(&text, " instructor", width, style, t.muted));
            } else {
                lines.push(with_count(&text, d, n, width, style, t.muted));
            }
        }
    }
    let height = area.height.saturating_sub(2) as usize;
    let offset = if current_row + 2 > height {
        (current_row + 2 - height).min(lines.len().saturating_sub(height))
    } else {
        0
    };
    let p = Paragraph::new(lines)
        .block(pane(app, " Chapters ", Focus::Nav))
        .scroll((offset.min(u16::MAX as usize) as u16, 0));
    frame.render_widget(Clear, area);
    frame.render_widget(p, area);
}

/// `text` cut to fit with a right-aligned `done/total`.
fn with_count(
    text: &str,
    done: usize,
    total: usize,
    width: usize,
    style: Style,
    count_style: Style,
) -> Line<'static> {
    let count = if total > 0 {
        format!(" {done}/{total}")
    } else {
        String::new()
    };
    with_badge(text, &count, width, style, count_style)
}

/// `text` cut to fit with `badge` right-aligned.
fn with_badge(
    text: &str,
    count: &str,
    width: usize,
    style: Style,
    count_style: Style,
) -> Line<'static> {
    let room = width.saturating_sub(count.chars().count());
    let text = truncate(text, room);
    let pad = room.saturating_sub(unicode_width::UnicodeWidthStr::width(text.as_str()));
    Line::from(vec![
        Span::styled(format!("{text}{}", " ".repeat(pad)), style),
        Span::styled(count.to_string(), count_style),
    ])
}

fn truncate(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut out = String::new();
    let mut w = 0;
    let total = unicode_width::UnicodeWidthStr::width(text);
    if total <= width {
        return text.to_string();
    }
    for c in text.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

fn draw_content(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let height = area.height.saturating_sub(2) as usize;
    let (chapter, step_title) = match (app.current_lab(), app.current_step()) {
        (Some(l), Some(_)) => (
            format!("{}. {}", l.order, short_title(&l.title)),
            format!(" · step {}/{}", app.step + 1, l.steps.len()),
        ),
        (Some(l), None) => (l.title.clone(), String::new()),
        _ => ("no labs".to_string(), String::new()),
    };
    let total = app.view.lines.len();
    let pos = if total > height {
        format!(
            " {}-{}/{} ",
            app.scroll + 1,
            (app.scroll + height).min(total),
            total
        )
    } else {
        String::new()
    };
    let mut block = pane(app, format!(" {chapter}{step_title} "), Focus::Content)
        .title_bottom(Line::from(pos).alignment(Alignment::Right));
    let namespaces = app.attendee_namespaces();
    if !namespaces.is_empty() {
        block = block.title(
            Line::from(Span::styled(
                format!(" ns {} ", namespaces.join(" ")),
                t.muted,
            ))
            .alignment(Alignment::Right),
        );
    }
    let matches = app.search.as_ref().map(|s| (s, &s.matches[..]));
    let lines: Vec<Line<'static>> = app
        .view
        .lines
        .iter()
        .enumerate()
        .skip(app.scroll)
        .take(height)
        .map(|(row, line)| match matches {
            Some((s, ms)) => {
                let ranges: Vec<(usize, usize, Style)> = ms
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.row == row)
                    .map(|(i, m)| {
                        let style = if i == s.current {
                            t.search_current
                        } else {
                            t.search_match
                        };
                        (m.start, m.end, style)
                    })
                    .collect();
                search::highlight(line, &ranges)
            }
            None => line.clone(),
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// A task's two facts in one line that never contradicts itself: done (passed once, when) and
/// now (the live verdict). Quizzes are answered, not watched: their line says what was answered.
fn verdict_text(app: &App, task: &crate::lab::Task) -> (String, Style) {
    let t = &app.theme;
    let lab = app.current_lab().map(|l| l.id.clone()).unwrap_or_default();
    let done = app
        .progress
        .done_record(&lab, &task.id)
        .map(|r| format!("done {}", r.short_time()))
        .or_else(|| {
            app.progress
                .is_done(&lab, &task.id)
                .then(|| "done".to_string())
        });
    if let Check::Quiz(q) = &task.check {
        let answered = app.progress.answer(&lab, &task.id);
        return match (done, answered) {
            (Some(d), _) => (format!("{d} · answered right"), t.ok),
            (None, Some(_)) => ("answered, not quite yet: try again".into(), t.warn),
            (None, None) if q.multiple() => (
                "not answered yet: pick every right choice with 1-9, then enter".into(),
                t.muted,
            ),
            (None, None) => ("not answered yet: pick a choice with 1-9".into(), t.muted),
        };
    }
    match (done, app.verdict(&task.id)) {
        (Some(d), Verdict::Pass) => (format!("{d} · now: passes"), t.ok),
        (Some(d), Verdict::Fail(why)) => (
            format!("{d} · now: {why}; a later task may have changed it"),
            t.warn,
        ),
        (Some(d), Verdict::CannotCheck(why)) => {
            (format!("{d} · now: cannot check: {why}"), t.muted)
        }
        (Some(d), Verdict::Unknown) => (format!("{d} · now: not checked yet"), t.ok),
        (None, Verdict::Pass) => ("passed".into(), t.ok),
        (None, Verdict::Fail(why)) => (format!("not yet: {why}"), t.warn),
        (None, Verdict::CannotCheck(why)) => (format!("cannot check: {why}"), t.muted),
        (None, Verdict::Unknown) => ("not checked yet".into(), t.muted),
    }
}

fn draw_tasks(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let width = area.width.saturating_sub(2) as usize;
    let height = area.height.saturating_sub(2) as usize;
    let lab_id = app.current_lab().map(|l| l.id.clone()).unwrap_or_default();
    let tasks = app.step_tasks();
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut selected_row = 0;
    if tasks.is_empty() {
        lines.push(Line::from(Span::styled(
            "No tasks in this step: read on, n for the next step.",
            t.muted,
        )));
    }
    if !tasks.is_empty() && app.current_by_instructor().is_some() {
        lines.extend(wrap(
            &[],
            &[],
            &[Span::styled(
                "Done by the instructor: these checks turn green once it is done.",
                t.muted,
            )],
            width,
        ));
    }
    let indent = [Span::raw("    ")];
    for (i, task) in tasks.iter().enumerate() {
        let selected = i == app.task_sel;
        let done = app.progress.is_done(&lab_id, &task.id);
        let cursor = if selected { "▶ " } else { "  " };
        let mark = if done { "[x] " } else { "[ ] " };
        let style = if selected { t.selected } else { t.text };
        if selected {
            selected_row = lines.len();
        }
        lines.extend(wrap(
            &[Span::styled(format!("{cursor}{mark}"), style)],
            &indent,
            &[Span::styled(task.title.clone(), style)],
            width,
        ));
        let (status, status_style) = verdict_text(app, task);
        let revealed = app.progress.hints(&lab_id, &task.id);
        let hints = if task.hints.is_empty() {
            String::new()
        } else {
            format!(" · hints {revealed}/{}", task.hints.len())
        };
        lines.extend(wrap(
            &indent,
            &indent,
            &[
                Span::styled(status, status_style),
                Span::styled(hints, t.muted),
            ],
            width,
        ));
        if !selected {
            continue;
        }
        for (k, hint) in task.hints.iter().take(revealed).enumerate() {
            lines.extend(wrap(
                &[Span::styled(format!("    hint {}: ", k + 1), t.strong)],
                &indent,
                &[Span::raw(hint.clone())],
                width,
            ));
        }
        if app.progress.solution_shown(&lab_id, &task.id) {
            lines.push(Line::from(Span::styled("    solution:", t.strong)));
            let text = match &task.check {
                Check::Quiz(q) if task.solution.text.is_empty() => {
                    let right: Vec<String> = q
                        .choices
                        .iter()
                        .filter(|c| c.correct)
                        .map(|c| format!("- {}", c.text))
                        .collect();
                    format!("{}\n\n{}", right.join("\n"), q.explanation)
                }
                _ => task.solution.text.clone(),
            };
            for line in markdown::render(
                &text,
                width.saturating_sub(4),
                t,
                app.highlighter.as_deref(),
            ) {
                let mut spans = vec![Span::raw("    ")];
                spans.extend(line.spans);
                lines.push(Line::from(spans));
            }
        }
        if let Check::Quiz(q) = &task.check {
            lines.extend(wrap(
                &indent,
                &indent,
                &[Span::styled(q.question.clone(), t.text)],
                width,
            ));
            let picks = if q.multiple() {
                app.picks(&lab_id, &task.id)
            } else {
                Vec::new()
            };
            for (k, choice) in q.choices.iter().enumerate() {
                let number = k + 1;
                let pick = match (q.multiple(), picks.contains(&k)) {
                    (false, _) => "",
                    (true, true) => "[x] ",
                    (true, false) => "[ ] ",
                };
                lines.extend(wrap(
                    &[Span::raw(format!("    {pick}{number}) "))],
                    &[Span::raw("       ")],
                    &[Span::raw(choice.text.clone())],
                    width,
                ));
            }
        }
    }
    let offset = if lines.len() <= height {
        0
    } else {
        selected_row.min(lines.len() - height)
    };
    let title = if tasks.is_empty() {
        " Tasks ".to_string()
    } else {
        let done = tasks
            .iter()
            .filter(|task| app.progress.is_done(&lab_id, &task.id))
            .count();
        format!(" Tasks {done}/{} · h hint · s solution ", tasks.len())
    };
    let p = Paragraph::new(lines)
        .block(pane(app, title, Focus::Tasks))
        .scroll((offset.min(u16::MAX as usize) as u16, 0));
    frame.render_widget(p, area);
}

fn draw_log(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let width = area.width.saturating_sub(2) as usize;
    let height = area.height.saturating_sub(2) as usize;
    let mut rows: Vec<Line<'static>> = Vec::new();
    for line in &app.log {
        let (mark, style) = match line.level {
            Level::Info => ("", t.text),
            Level::Warn => ("! ", t.warn),
            Level::Error => ("✗ ", t.error),
        };
        // A multi-line entry (an apply error's fields and what to do) keeps its line breaks.
        for (i, text) in line.text.split('\n').enumerate() {
            let first = if i == 0 {
                vec![
                    Span::styled(mark.to_string(), style),
                    Span::styled(format!("{}: ", line.source), t.muted),
                ]
            } else {
                vec![Span::raw("  ")]
            };
            rows.extend(wrap(
                &first,
                &[Span::raw("  ")],
                &[Span::styled(text.to_string(), style)],
                width,
            ));
        }
    }
    let end = rows.len().saturating_sub(app.log_scroll);
    let start = end.saturating_sub(height);
    let visible: Vec<Line<'static>> = rows[start..end].to_vec();
    frame.render_widget(
        Paragraph::new(visible).block(pane(app, " Log ", Focus::Log)),
        area,
    );
}

fn draw_status(frame: &mut Frame<'_>, app: &App, panes: &Panes) {
    let t = &app.theme;
    let area = panes.status;
    let mut left: Vec<Span<'static>> = Vec::new();
    let (dot, text) = match &app.cluster {
        ClusterState::Connecting => ("○", "connecting…".to_string()),
        ClusterState::Connected { context, version } => ("●", format!("{context} {version}")),
        ClusterState::Sandbox { url, .. } if area.width >= 120 => {
            ("●", format!("sandbox {url} · :kubeconfig"))
        }
        ClusterState::Sandbox { .. } => ("●", "sandbox :kubeconfig".to_string()),
        ClusterState::Disconnected { .. } => ("✗", "disconnected".to_string()),
    };
    let dot_style = match &app.cluster {
        ClusterState::Connected { .. } | ClusterState::Sandbox { .. } => t.ok.patch(t.status),
        ClusterState::Connecting => t.status,
        ClusterState::Disconnected { .. } => t.error.patch(t.status),
    };
    left.push(Span::styled(format!(" {dot} "), dot_style));
    left.push(Span::styled(format!("{text} "), t.status));
    if let Some(name) = &app.attendee {
        left.push(Span::styled(format!("│ attendee {name} "), t.status));
    }
    let operator_at = left.len();
    left.extend(super::status::spans(app, false));
    let mut right: Vec<Span<'static>> = match (&app.prompt, &app.search) {
        (Some(Prompt::Search(q)), _) => {
            left = vec![Span::styled(format!("/{q}▏"), t.status)];
            let n = app.search.as_ref().map_or(0, |s| s.matches.len());
            vec![Span::styled(
                format!("{n} matches · enter keep · esc cancel "),
                t.status,
            )]
        }
        (Some(Prompt::Command(c)), _) => {
            left = vec![Span::styled(format!(":{c}▏"), t.status)];
            vec![Span::styled(
                "quit lab step reset help · esc cancel ".to_string(),
                t.status,
            )]
        }
        (None, Some(s)) if !s.query.is_empty() => {
            let n = s.matches.len();
            let pos = if n == 0 { 0 } else { s.current + 1 };
            vec![Span::styled(
                format!("/{} {pos}/{n} · n/N match · esc clear ", s.query),
                t.status,
            )]
        }
        _ if app.mode() == super::keymap::Mode::Terminal => {
            left.insert(0, Span::styled(" TERMINAL ", t.status_key));
            vec![
                Span::styled("ctrl-]", t.status_key),
                Span::styled(" back to the lab  ", t.status),
                Span::styled("shift-PgUp", t.status_key),
                Span::styled(" scroll ", t.status),
            ]
        }
        _ => keys(app, area.width),
    };
    if panes.nav.is_none() && app.prompt.is_none() && app.current_step().is_some() {
        left.push(Span::styled(
            format!("│ ch {}/{} ", app.lab + 1, app.labs.len()),
            t.status,
        ));
    }
    let mut lw: usize = left.iter().map(|s| s.width()).sum();
    let mut rw: usize = right.iter().map(|s| s.width()).sum();
    let width = area.width as usize;
    // The operator's state in short (`op off`) before any key hint has to go.
    if lw + rw > width && operator_at + 2 <= left.len() {
        left.splice(
            operator_at..operator_at + 2,
            super::status::spans(app, true),
        );
        lw = left.iter().map(|s| s.width()).sum();
    }
    // Fewer keys when the left side (an attendee's name) leaves no room for all of them.
    if lw + rw > width && app.prompt.is_none() && app.search.is_none() {
        right = keys(app, 0);
        rw = right.iter().map(|s| s.width()).sum();
    }
    let mut spans = left;
    if lw + rw <= width {
        spans.push(Span::styled(" ".repeat(width - lw - rw), t.status));
        spans.extend(right);
    } else {
        spans.push(Span::styled(" ".repeat(width.saturating_sub(lw)), t.status));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(t.status), area);
}

fn keys(app: &App, width: u16) -> Vec<Span<'static>> {
    let t = &app.theme;
    let all: &[(&str, &str)] = &[
        ("?", "help"),
        ("n/p", "step"),
        ("tab", "pane"),
        ("]", "code"),
        ("c", "copy"),
        ("t", "terminal"),
        ("h", "hint"),
        ("/", "search"),
        (":", "cmd"),
        ("q", "quit"),
    ];
    let take = if width >= 100 { all.len() } else { 5 };
    let mut out = Vec::new();
    for (k, what) in all.iter().take(take) {
        out.push(Span::styled((*k).to_string(), t.status_key));
        out.push(Span::styled(format!(" {what}  "), t.status));
    }
    if take < all.len() {
        out.push(Span::styled("q", t.status_key));
        out.push(Span::styled(" quit ", t.status));
    }
    out
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn draw_help(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let t = &app.theme;
    let key_w = HELP
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line<'static>> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<key_w$}  "), t.strong),
                Span::styled((*what).to_string(), t.text),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " Nothing in a lab runs as a shell command. esc closes.",
        t.muted,
    )));
    let desc_w = HELP
        .iter()
        .map(|(_, d)| d.chars().count())
        .max()
        .unwrap_or(0);
    let rect = centered(area, (key_w + desc_w + 6) as u16, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border_focused)
                .title(" Keys "),
        ),
        rect,
    );
}

fn draw_confirm(frame: &mut Frame<'_>, app: &App, confirm: &Confirm, area: Rect) {
    let t = &app.theme;
    let (title, question) = match confirm {
        Confirm::Solution { title, .. } => (
            " Show the solution? ",
            format!("Show the solution of \"{title}\"? Trying first teaches more."),
        ),
        Confirm::Reset { step_title } => (
            " Reset progress? ",
            format!("Forget done tasks, hints and solutions of step \"{step_title}\"?"),
        ),
        Confirm::Apply { objects, .. } => (
            " Apply to the cluster? ",
            format!(
                "Apply {} object(s) with server-side apply: {}",
                objects.len(),
                objects.join(", ")
            ),
        ),
    };
    let width = 60.min(area.width);
    let inner = width.saturating_sub(4) as usize;
    let mut lines = wrap(&[], &[], &[Span::raw(question)], inner);
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled("y", t.strong),
        Span::raw(" yes   "),
        Span::styled("n", t.strong),
        Span::raw(" no"),
    ]));
    let rect = centered(area, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(t.border_focused)
                .title(title),
        ),
        rect,
    );
}
