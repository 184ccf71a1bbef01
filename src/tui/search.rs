//! Search in the rendered step: case-insensitive matches by row, and their highlighting.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// One match: a row and a range of characters (not bytes) in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub row: usize,
    pub start: usize,
    pub end: usize,
}

/// An active search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    pub query: String,
    pub matches: Vec<Match>,
    /// Index into `matches` of the current one.
    pub current: usize,
    /// The view should scroll to the current match at the next layout.
    pub jump: bool,
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Every match of `query` in `lines`, case-insensitively, not overlapping.
pub fn find(lines: &[Line<'_>], query: &str) -> Vec<Match> {
    let needle: Vec<char> = query.chars().map(fold).collect();
    if needle.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (row, line) in lines.iter().enumerate() {
        let hay: Vec<char> = line
            .spans
            .iter()
            .flat_map(|s| s.content.chars())
            .map(fold)
            .collect();
        let mut i = 0;
        while i + needle.len() <= hay.len() {
            if hay[i..i + needle.len()] == needle[..] {
                out.push(Match {
                    row,
                    start: i,
                    end: i + needle.len(),
                });
                i += needle.len();
            } else {
                i += 1;
            }
        }
    }
    out
}

/// `line` with the character ranges patched with their styles.
pub fn highlight(line: &Line<'static>, ranges: &[(usize, usize, Style)]) -> Line<'static> {
    if ranges.is_empty() {
        return line.clone();
    }
    let mut out: Vec<Span<'static>> = Vec::new();
    let mut pos = 0;
    for span in &line.spans {
        let mut cur = String::new();
        let mut cur_style = None;
        for c in span.content.chars() {
            let style = ranges
                .iter()
                .find(|(s, e, _)| pos >= *s && pos < *e)
                .map_or(span.style, |(_, _, st)| span.style.patch(*st));
            if cur_style.is_some_and(|s| s != style) {
                out.push(Span::styled(
                    std::mem::take(&mut cur),
                    cur_style.unwrap_or(style),
                ));
            }
            cur_style = Some(style);
            cur.push(c);
            pos += 1;
        }
        if let Some(style) = cur_style {
            out.push(Span::styled(cur, style));
        }
    }
    Line::from(out).style(line.style)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Modifier;

    #[test]
    fn finds_case_insensitive_unicode_matches() {
        let lines = vec![
            Line::from("Ärger mit CronTab"),
            Line::from(vec![Span::raw("a cron"), Span::raw("tab b CRONTAB")]),
        ];
        let m = find(&lines, "crontab");
        assert_eq!(
            m,
            [
                Match {
                    row: 0,
                    start: 10,
                    end: 17
                },
                Match {
                    row: 1,
                    start: 2,
                    end: 9
                },
                Match {
                    row: 1,
                    start: 12,
                    end: 19
                }
            ]
        );
        assert!(find(&lines, "").is_empty());
    }

    #[test]
    fn highlight_splits_spans_and_keeps_text() {
        let line = Line::from(vec![Span::raw("ab"), Span::raw("cdé")]);
        let hl = Style::default().add_modifier(Modifier::REVERSED);
        let out = highlight(&line, &[(1, 4, hl)]);
        assert_eq!(out.to_string(), "abcdé");
        let styled: String = out
            .spans
            .iter()
            .filter(|s| s.style == hl)
            .map(|s| s.content.to_string())
            .collect();
        assert_eq!(styled, "bcd");
    }
}
