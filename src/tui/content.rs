//! The centre pane's text for one step: its markdown, numbered code blocks and task markers.

use super::highlight::Highlighter;
use super::markdown;
use super::theme::Theme;
use super::wrap::hard_wrap;
use crate::lab::{Block, CodeBlock, Lab};
use ratatui::text::{Line, Span};

/// A step rendered for a given width: one entry per screen row.
#[derive(Debug, Clone, Default)]
pub struct StepView {
    pub lines: Vec<Line<'static>>,
    /// The step's code blocks in order, with the row of their header.
    pub codes: Vec<CodeRef>,
}

/// A code block of the step as shown: what `c` copies and `a` applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRef {
    /// Row of the block's header in [`StepView::lines`].
    pub row: usize,
    /// Number of rows the block takes, header included.
    pub rows: usize,
    pub block: CodeBlock,
}

/// What the renderer needs besides the lab.
pub struct ViewOptions<'a> {
    pub width: usize,
    pub theme: &'a Theme,
    pub highlighter: Option<&'a Highlighter>,
    /// Index of the selected code block.
    pub selected_code: Option<usize>,
    /// Whether a task (by id) is done, for its marker.
    pub done: &'a dyn Fn(&str) -> bool,
    /// The step is done by the instructor: the rights the attendee lacks.
    pub by_instructor: Option<&'a [String]>,
}

/// Renders step `step` of `lab`; the first step also shows the chapter title and introduction.
pub fn build(lab: &Lab, step: usize, opts: &ViewOptions<'_>) -> StepView {
    let mut view = StepView::default();
    let width = opts.width.max(10);
    let theme = opts.theme;
    let Some(s) = lab.steps.get(step) else {
        view.lines.push(Line::from(Span::styled(
            "This chapter has no steps.",
            theme.muted,
        )));
        return view;
    };
    if step == 0 {
        let title = format!("# {}", lab.title);
        view.lines
            .extend(markdown::render(&title, width, theme, opts.highlighter));
        view.lines.push(Line::default());
        blocks(&mut view, &lab.intro, opts, width);
    }
    let mut heading = format!("## {}", s.title);
    if s.instructor_only {
        heading.push_str(" (instructor)");
    }
    if opts.by_instructor.is_some() {
        heading.push_str(" · done by the instructor");
    }
    pad(&mut view);
    view.lines
        .extend(markdown::render(&heading, width, theme, opts.highlighter));
    view.lines.push(Line::default());
    if let Some(denied) = opts.by_instructor {
        let note = format!(
            "> Done by the instructor: you may not {}. Read along; the checks of this step stay \
             live and turn green once the instructor has done it.",
            summary(denied)
        );
        view.lines
            .extend(markdown::render(&note, width, theme, opts.highlighter));
        view.lines.push(Line::default());
    }
    blocks(&mut view, &s.blocks, opts, width);
    while view.lines.last().is_some_and(|l| l.width() == 0) {
        view.lines.pop();
    }
    view
}

/// The first rights lacking, and how many more.
fn summary(denied: &[String]) -> String {
    const SHOWN: usize = 2;
    let mut text = denied
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if denied.len() > SHOWN {
        text += &format!(" (and {} more)", denied.len() - SHOWN);
    }
    text
}

fn pad(view: &mut StepView) {
    if view.lines.last().is_some_and(|l| l.width() > 0) {
        view.lines.push(Line::default());
    }
}

fn blocks(view: &mut StepView, blocks: &[Block], opts: &ViewOptions<'_>, width: usize) {
    let theme = opts.theme;
    for block in blocks {
        match block {
            Block::Markdown(md) => {
                pad(view);
                view.lines
                    .extend(markdown::render(&md.text, width, theme, opts.highlighter));
            }
            Block::Code(code) => {
                pad(view);
                code_block(view, code, opts, width);
            }
            Block::Task(task) => {
                pad(view);
                let done = (opts.done)(&task.id);
                let mark = if done { "[x]" } else { "[ ]" };
                let style = if done { theme.done } else { theme.task };
                view.lines.push(Line::from(vec![
                    Span::styled(format!("{mark} Task: "), style),
                    Span::styled(task.title.clone(), style),
                ]));
                let note = if matches!(task.check, crate::lab::Check::Quiz(_)) {
                    "    a quiz: see the tasks pane"
                } else {
                    "    see the tasks pane: h for a hint, s for the solution"
                };
                view.lines.push(Line::from(Span::styled(note, theme.muted)));
            }
        }
    }
}

fn code_block(view: &mut StepView, code: &CodeBlock, opts: &ViewOptions<'_>, width: usize) {
    let theme = opts.theme;
    let index = view.codes.len();
    let selected = opts.selected_code == Some(index);
    let mut label = format!("[{}]", index + 1);
    if !code.lang.is_empty() {
        label.push(' ');
        label.push_str(&code.lang);
    }
    let mut what = Vec::new();
    if code.attrs.apply {
        what.push("a: apply".to_string());
    }
    if code.attrs.editable {
        what.push("e: edit".to_string());
    }
    what.push("c: copy".to_string());
    if let Some(m) = &code.attrs.manifest {
        what.push(format!("set {m}"));
    }
    let marker = if selected { "▶ " } else { "┌ " };
    let header = format!("{marker}{label} · {}", what.join(" · "));
    let header_style = if selected {
        theme.code_selected
    } else {
        theme.code_header
    };
    let start = view.lines.len();
    view.lines.extend(hard_wrap(
        &[],
        &[Span::raw("  ")],
        &[Span::styled(header, header_style)],
        width,
    ));
    let highlighted = if theme.color {
        opts.highlighter
            .and_then(|h| h.highlight(&code.lang, &code.text))
    } else {
        None
    };
    let rows: Vec<Vec<Span<'static>>> = match highlighted {
        Some(lines) => lines
            .into_iter()
            .map(|l| l.into_iter().map(|(s, t)| Span::styled(t, s)).collect())
            .collect(),
        None => code
            .text
            .lines()
            .map(|l| vec![Span::styled(l.to_string(), theme.code)])
            .collect(),
    };
    let gutter = Span::styled("│ ", header_style);
    for row in rows {
        view.lines.extend(hard_wrap(
            std::slice::from_ref(&gutter),
            std::slice::from_ref(&gutter),
            &row,
            width,
        ));
    }
    view.codes.push(CodeRef {
        row: start,
        rows: view.lines.len() - start,
        block: code.clone(),
    });
}
