//! Syntax highlighting of code blocks with syntect (pure-Rust regex engine), loaded off the UI path.

use ratatui::style::{Color, Modifier, Style};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;

/// Syntaxes and a theme; loading takes tens of milliseconds, so it happens after the first frame.
pub struct Highlighter {
    syntaxes: SyntaxSet,
    theme: Theme,
}

impl std::fmt::Debug for Highlighter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Highlighter")
    }
}

impl Highlighter {
    /// The bundled syntaxes and the `base16-ocean.dark` theme.
    pub fn load() -> Option<Self> {
        let syntaxes = SyntaxSet::load_defaults_newlines();
        let mut themes = ThemeSet::load_defaults();
        let theme = themes.themes.remove("base16-ocean.dark")?;
        Some(Self { syntaxes, theme })
    }

    /// Styled pieces of every line of `text`, or `None` for a language without a syntax.
    pub fn highlight(&self, lang: &str, text: &str) -> Option<Vec<Vec<(Style, String)>>> {
        let token = match lang {
            "sh" | "shell" | "bash" | "console" | "zsh" => "bash",
            "yml" => "yaml",
            "py" => "python",
            "" | "text" | "txt" | "plain" => return None,
            other => other,
        };
        let syntax = self.syntaxes.find_syntax_by_token(token)?;
        let mut h = HighlightLines::new(syntax, &self.theme);
        let mut out = Vec::new();
        for line in syntect::util::LinesWithEndings::from(text) {
            let ranges = h.highlight_line(line, &self.syntaxes).ok()?;
            out.push(
                ranges
                    .into_iter()
                    .map(|(style, piece)| {
                        (
                            convert(style),
                            piece.trim_end_matches(['\n', '\r']).to_string(),
                        )
                    })
                    .filter(|(_, piece)| !piece.is_empty())
                    .collect(),
            );
        }
        Some(out)
    }
}

fn convert(style: syntect::highlighting::Style) -> Style {
    let fg = style.foreground;
    let mut out = Style::default().fg(Color::Rgb(fg.r, fg.g, fg.b));
    if style.font_style.contains(FontStyle::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        out = out.add_modifier(Modifier::ITALIC);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_yaml_and_keeps_the_text() {
        let Some(h) = Highlighter::load() else {
            panic!("the bundled theme is missing")
        };
        let text = "kind: Pod\nmetadata:\n  name: x\n";
        let lines = h.highlight("yaml", text).unwrap_or_default();
        assert_eq!(lines.len(), 3);
        let joined: Vec<String> = lines
            .iter()
            .map(|l| l.iter().map(|(_, s)| s.as_str()).collect())
            .collect();
        assert_eq!(joined, ["kind: Pod", "metadata:", "  name: x"]);
        assert!(
            lines[0].len() > 1,
            "yaml keys and values get their own styles"
        );
        assert!(h.highlight("text", text).is_none());
    }
}
