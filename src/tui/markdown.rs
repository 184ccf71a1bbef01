//! Markdown to ratatui lines: pulldown-cmark events rendered and wrapped to the pane's width.

use super::highlight::Highlighter;
use super::theme::Theme;
use super::wrap::{hard_wrap, wrap};
use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// Renders markdown into rows of at most `width` columns.
pub fn render(
    text: &str,
    width: usize,
    theme: &Theme,
    highlighter: Option<&Highlighter>,
) -> Vec<Line<'static>> {
    let mut r = Renderer {
        theme,
        width: width.max(8),
        highlighter,
        lines: Vec::new(),
        spans: Vec::new(),
        styles: vec![theme.text],
        containers: Vec::new(),
        table: None,
        code: None,
        link: None,
    };
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION;
    for event in Parser::new_ext(text, options) {
        r.event(event);
    }
    r.flush();
    while r.lines.last().is_some_and(|l| l.width() == 0) {
        r.lines.pop();
    }
    r.lines
}

enum Container {
    Quote,
    List {
        next: Option<u64>,
    },
    /// A list item; `bullet` is shown on its first row only.
    Item {
        bullet: Option<String>,
        width: usize,
    },
}

struct Table {
    align: Vec<Alignment>,
    rows: Vec<Vec<String>>,
    header_rows: usize,
    in_head: bool,
}

struct Renderer<'a> {
    theme: &'a Theme,
    width: usize,
    highlighter: Option<&'a Highlighter>,
    lines: Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    containers: Vec<Container>,
    table: Option<Table>,
    code: Option<(String, String)>,
    link: Option<String>,
}

impl Renderer<'_> {
    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, style: Style) {
        let s = self.style().patch(style);
        self.styles.push(s);
    }

    fn pop_style(&mut self) {
        if self.styles.len() > 1 {
            self.styles.pop();
        }
    }

    fn in_item(&self) -> bool {
        self.containers
            .iter()
            .any(|c| matches!(c, Container::Item { .. }))
    }

    fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| l.width() > 0) {
            let (_, rest) = self.prefixes(false);
            if rest.is_empty() {
                self.lines.push(Line::default());
            } else {
                self.lines.push(Line::from(rest));
            }
        }
    }

    /// Prefixes for the first row and the other rows of a block in the current containers.
    fn prefixes(&mut self, take_bullet: bool) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let mut first = Vec::new();
        let mut rest = Vec::new();
        let quote = self.theme.quote;
        let muted = self.theme.muted;
        let last_item = self
            .containers
            .iter()
            .rposition(|c| matches!(c, Container::Item { .. }));
        for (i, c) in self.containers.iter_mut().enumerate() {
            match c {
                Container::Quote => {
                    first.push(Span::styled("│ ", quote));
                    rest.push(Span::styled("│ ", quote));
                }
                Container::List { .. } => {}
                Container::Item { bullet, width } => {
                    let pad = " ".repeat(*width);
                    match bullet.take() {
                        Some(b) if take_bullet && Some(i) == last_item => {
                            first.push(Span::styled(b, muted));
                        }
                        b => {
                            *bullet = b;
                            first.push(Span::raw(pad.clone()));
                        }
                    }
                    rest.push(Span::raw(pad));
                }
            }
        }
        (first, rest)
    }

    fn flush(&mut self) {
        if self.spans.is_empty() {
            return;
        }
        let spans = std::mem::take(&mut self.spans);
        let (first, rest) = self.prefixes(true);
        self.lines.extend(wrap(&first, &rest, &spans, self.width));
    }

    fn text(&mut self, text: &str) {
        if let Some(table) = self.table.as_mut() {
            if let Some(cell) = table.rows.last_mut().and_then(|r| r.last_mut()) {
                cell.push_str(text);
            }
            return;
        }
        if let Some((_, code)) = self.code.as_mut() {
            code.push_str(text);
            return;
        }
        self.spans
            .push(Span::styled(text.to_string(), self.style()));
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.text(&t),
            Event::Code(t) => {
                if self.table.is_some() {
                    self.text(&t);
                } else if self.theme.color {
                    self.spans.push(Span::styled(
                        t.to_string(),
                        self.style().patch(self.theme.inline_code),
                    ));
                } else {
                    self.spans
                        .push(Span::styled(format!("`{t}`"), self.style()));
                }
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t),
            Event::Html(t) | Event::InlineHtml(t) => {
                let t = t.trim_end_matches('\n').to_string();
                self.text(&t);
            }
            Event::FootnoteReference(t) => self.text(&format!("[{t}]")),
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.flush();
                self.blank();
                let w = self.width;
                self.lines
                    .push(Line::from(Span::styled("─".repeat(w), self.theme.muted)));
                self.lines.push(Line::default());
            }
            Event::TaskListMarker(done) => {
                let mark = if done { "[x] " } else { "[ ] " };
                self.spans.push(Span::styled(mark, self.theme.muted));
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph if !self.in_item() => self.blank(),
            Tag::Heading { level, .. } => {
                self.flush();
                self.blank();
                let style = match level {
                    HeadingLevel::H1 => self.theme.h1,
                    HeadingLevel::H2 => self.theme.h2,
                    _ => self.theme.h3,
                };
                self.push_style(style);
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.blank();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(kind) => {
                self.flush();
                self.blank();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new()));
            }
            Tag::List(start) => {
                self.flush();
                if !self.in_item() {
                    self.blank();
                }
                self.containers.push(Container::List { next: start });
            }
            Tag::Item => {
                self.flush();
                let bullet = match self.containers.last_mut() {
                    Some(Container::List { next: Some(n) }) => {
                        let b = format!("{n}. ");
                        *n += 1;
                        b
                    }
                    _ => "• ".to_string(),
                };
                let width = bullet.width();
                self.containers.push(Container::Item {
                    bullet: Some(bullet),
                    width,
                });
            }
            Tag::Table(align) => {
                self.flush();
                self.blank();
                self.table = Some(Table {
                    align,
                    rows: Vec::new(),
                    header_rows: 0,
                    in_head: false,
                });
            }
            Tag::TableHead => {
                if let Some(t) = self.table.as_mut() {
                    t.in_head = true;
                    t.rows.push(Vec::new());
                }
            }
            Tag::TableRow => {
                if let Some(t) = self.table.as_mut() {
                    t.rows.push(Vec::new());
                }
            }
            Tag::TableCell => {
                if let Some(row) = self.table.as_mut().and_then(|t| t.rows.last_mut()) {
                    row.push(String::new());
                }
            }
            Tag::Emphasis => self.push_style(self.theme.emphasis),
            Tag::Strong => self.push_style(self.theme.strong),
            Tag::Strikethrough => self
                .push_style(Style::default().add_modifier(ratatui::style::Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } => {
                self.link = Some(dest_url.to_string());
                self.push_style(self.theme.link);
            }
            Tag::Image { dest_url, .. } => {
                self.link = Some(dest_url.to_string());
                self.push_style(self.theme.link);
                self.text("[image: ");
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush();
            }
            TagEnd::Heading(_) => {
                self.flush();
                self.pop_style();
                self.lines.push(Line::default());
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.blank();
            }
            TagEnd::CodeBlock => {
                if let Some((lang, code)) = self.code.take() {
                    self.code_lines(&lang, &code);
                    self.lines.push(Line::default());
                }
            }
            TagEnd::List(_) => {
                self.flush();
                self.containers.pop();
                if !self.in_item() {
                    self.lines.push(Line::default());
                }
            }
            TagEnd::Item => {
                self.flush();
                self.containers.pop();
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.table_lines(&t);
                    self.lines.push(Line::default());
                }
            }
            TagEnd::TableHead => {
                if let Some(t) = self.table.as_mut() {
                    t.in_head = false;
                    t.header_rows = t.rows.len();
                }
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => self.pop_style(),
            TagEnd::Link => {
                self.pop_style();
                self.link = None;
            }
            TagEnd::Image => {
                self.text("]");
                self.pop_style();
                self.link = None;
            }
            _ => {}
        }
    }

    fn code_lines(&mut self, lang: &str, code: &str) {
        let (mut first, mut rest) = self.prefixes(false);
        first.push(Span::raw("  "));
        rest.push(Span::raw("  "));
        let highlighted = if self.theme.color {
            self.highlighter.and_then(|h| h.highlight(lang, code))
        } else {
            None
        };
        let code_style = self.theme.code;
        let rows: Vec<Vec<Span<'static>>> = match highlighted {
            Some(lines) => lines
                .into_iter()
                .map(|l| l.into_iter().map(|(s, t)| Span::styled(t, s)).collect())
                .collect(),
            None => code
                .lines()
                .map(|l| vec![Span::styled(l.to_string(), code_style)])
                .collect(),
        };
        for row in rows {
            self.lines
                .extend(hard_wrap(&first, &rest, &row, self.width));
        }
    }

    fn table_lines(&mut self, t: &Table) {
        let cols = t.rows.iter().map(Vec::len).max().unwrap_or(0);
        if cols == 0 {
            return;
        }
        let mut widths = vec![0usize; cols];
        for row in &t.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.trim().width());
            }
        }
        let (prefix, _) = self.prefixes(false);
        let sep = Span::styled(" │ ", self.theme.muted);
        for (r, row) in t.rows.iter().enumerate() {
            let style = if r < t.header_rows {
                self.theme.strong
            } else {
                self.theme.text
            };
            let mut spans = prefix.clone();
            for (i, w) in widths.iter().enumerate() {
                if i > 0 {
                    spans.push(sep.clone());
                }
                let cell = row.get(i).map_or("", |c| c.trim());
                let pad = w.saturating_sub(cell.width());
                let text = match t.align.get(i) {
                    Some(Alignment::Right) => format!("{}{cell}", " ".repeat(pad)),
                    Some(Alignment::Center) => {
                        format!("{}{cell}{}", " ".repeat(pad / 2), " ".repeat(pad - pad / 2))
                    }
                    _ => format!("{cell}{}", " ".repeat(pad)),
                };
                spans.push(Span::styled(text, style));
            }
            self.lines
                .extend(hard_wrap(&[], &[Span::raw("  ")], &spans, self.width));
            if r + 1 == t.header_rows {
                let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                let mut spans = prefix.clone();
                spans.push(Span::styled(rule.join("─┼─"), self.theme.muted));
                self.lines.extend(hard_wrap(&[], &[], &spans, self.width));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(md: &str, width: usize) -> Vec<String> {
        render(md, width, &Theme::plain(), None)
            .iter()
            .map(|l| l.to_string().trim_end().to_string())
            .collect()
    }

    #[test]
    fn headings_paragraphs_and_emphasis() {
        let out = rows("# Title\n\nSome *soft* and **strong** `code`.\n", 40);
        assert_eq!(out, ["Title", "", "Some soft and strong `code`."]);
    }

    #[test]
    fn lists_wrap_under_their_bullet() {
        let out = rows(
            "- first item that wraps here\n- second\n\n1. one\n2. two\n",
            20,
        );
        assert_eq!(
            out,
            [
                "• first item that",
                "  wraps here",
                "• second",
                "",
                "1. one",
                "2. two"
            ]
        );
    }

    #[test]
    fn tables_are_aligned() {
        let out = rows("| A | Bee |\n|---|---|\n| x | y |\n", 40);
        assert_eq!(out, ["A │ Bee", "──┼────", "x │ y"]);
    }

    #[test]
    fn block_quotes_and_code() {
        let out = rows("> quoted text\n\n```sh\nkubectl get ct\n```\n", 40);
        assert_eq!(out, ["│ quoted text", "", "  kubectl get ct"]);
    }

    #[test]
    fn colours_only_with_a_colour_theme() {
        let lines = render("`x`", 20, &Theme::colored(), None);
        assert_eq!(lines[0].to_string(), "x");
        assert_eq!(lines[0].spans[0].style, Theme::colored().inline_code);
    }
}
