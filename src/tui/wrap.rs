//! Word wrapping of styled text to a width, Unicode-aware, so one rendered line is one screen row.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Wraps styled spans at word boundaries. The first row starts with `first`, the others with
/// `rest` (indentation, quote bars). Words longer than a row are broken.
pub fn wrap(
    first: &[Span<'static>],
    rest: &[Span<'static>],
    spans: &[Span<'static>],
    width: usize,
) -> Vec<Line<'static>> {
    let mut rows = Vec::new();
    let mut row = Row::new(first);
    let mut avail = width.saturating_sub(row.width).max(1);
    for (style, token) in tokens(spans) {
        let blank = token.chars().all(char::is_whitespace);
        let w = token.width();
        if row.content + w <= avail {
            row.push(style, &token, w);
            continue;
        }
        if blank {
            // A space at the end of a row is dropped; the next row starts with the next word.
            rows.push(row.finish());
            row = Row::new(rest);
            avail = width.saturating_sub(row.width).max(1);
            continue;
        }
        if row.content > 0 && w <= avail.max(1) {
            rows.push(row.finish());
            row = Row::new(rest);
            avail = width.saturating_sub(row.width).max(1);
            row.push(style, &token, w);
            continue;
        }
        // Longer than a whole row: break it by characters.
        for c in token.chars() {
            let cw = c.width().unwrap_or(0);
            if row.content + cw > avail && row.content > 0 {
                rows.push(row.finish());
                row = Row::new(rest);
                avail = width.saturating_sub(row.width).max(1);
            }
            row.push(style, c.encode_utf8(&mut [0; 4]), cw);
        }
    }
    rows.push(row.finish());
    rows
}

/// Breaks one line of code by characters (no word wrapping); continuation rows start with `rest`.
pub fn hard_wrap(
    first: &[Span<'static>],
    rest: &[Span<'static>],
    spans: &[Span<'static>],
    width: usize,
) -> Vec<Line<'static>> {
    let mut rows = Vec::new();
    let mut row = Row::new(first);
    let mut avail = width.saturating_sub(row.width).max(1);
    for span in spans {
        for c in span.content.chars() {
            let c = if c == '\t' { ' ' } else { c };
            let cw = c.width().unwrap_or(0);
            if row.content + cw > avail && row.content > 0 {
                rows.push(row.finish());
                row = Row::new(rest);
                avail = width.saturating_sub(row.width).max(1);
            }
            row.push(span.style, c.encode_utf8(&mut [0; 4]), cw);
        }
    }
    rows.push(row.finish());
    rows
}

/// Display width of a line.
pub fn line_width(line: &Line<'_>) -> usize {
    line.spans.iter().map(|s| s.content.width()).sum()
}

/// Words and runs of whitespace, each with its style.
fn tokens(spans: &[Span<'static>]) -> Vec<(Style, String)> {
    let mut out: Vec<(Style, String)> = Vec::new();
    for span in spans {
        let mut cur = String::new();
        let mut cur_blank = None;
        for c in span.content.chars() {
            let c = if c == '\n' || c == '\t' { ' ' } else { c };
            let blank = c.is_whitespace();
            if cur_blank.is_some_and(|b| b != blank) {
                out.push((span.style, std::mem::take(&mut cur)));
            }
            cur_blank = Some(blank);
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push((span.style, cur));
        }
    }
    out
}

struct Row {
    spans: Vec<Span<'static>>,
    width: usize,
    content: usize,
}

impl Row {
    fn new(prefix: &[Span<'static>]) -> Self {
        let width = prefix.iter().map(|s| s.content.width()).sum();
        Self {
            spans: prefix.to_vec(),
            width,
            content: 0,
        }
    }

    fn push(&mut self, style: Style, text: &str, w: usize) {
        match self.spans.last_mut() {
            Some(last) if last.style == style && self.content > 0 => {
                last.content.to_mut().push_str(text);
            }
            _ => self.spans.push(Span::styled(text.to_string(), style)),
        }
        self.content += w;
    }

    /// The row as a line, without trailing blanks after its text.
    fn finish(mut self) -> Line<'static> {
        if self.content > 0
            && let Some(last) = self.spans.last_mut()
        {
            let trimmed = last.content.trim_end().len();
            last.content.to_mut().truncate(trimmed);
            if last.content.is_empty() {
                self.spans.pop();
            }
        }
        Line::from(self.spans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wraps_at_words_with_prefixes() {
        let spans = vec![Span::raw("one two three four five")];
        let out = wrap(&[Span::raw("- ")], &[Span::raw("  ")], &spans, 11);
        assert_eq!(plain(&out), ["- one two", "  three", "  four five"]);
    }

    #[test]
    fn breaks_long_words_and_counts_wide_chars() {
        let spans = vec![Span::raw("日本語のテキスト")];
        let out = wrap(&[], &[], &spans, 6);
        assert_eq!(plain(&out), ["日本語", "のテキ", "スト"]);
        for line in &out {
            assert!(line_width(line) <= 6);
        }
    }

    #[test]
    fn hard_wrap_keeps_spaces() {
        let spans = vec![Span::raw("a  b  c  d")];
        let out = hard_wrap(&[Span::raw("1 ")], &[Span::raw("  ")], &spans, 6);
        assert_eq!(plain(&out), ["1 a  b", "    c", "   d"]);
    }
}
