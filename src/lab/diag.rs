//! Diagnostics for lab files: a miette report pointing at `file.md:line:col`, with what was expected.

use super::source::SourceFile;
use miette::{Diagnostic, LabeledSpan, Severity, SourceCode};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What went wrong in a lab file, and where.
#[derive(Debug, Clone)]
pub struct LabDiagnostic {
    /// Stable code, e.g. `lab::yaml`, `lab::unknown-var`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Short text shown under the underlined source.
    pub label: String,
    /// What is expected instead.
    pub help: Option<String>,
    pub path: PathBuf,
    source: Option<Arc<SourceFile>>,
    /// Byte range in the file.
    pub span: Range<usize>,
}

impl LabDiagnostic {
    /// An error at a byte range of a lab file.
    pub fn error(
        code: &'static str,
        file: &Arc<SourceFile>,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        let len = file.text().len();
        let start = span.start.min(len);
        let end = span.end.clamp(start, len);
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            label: String::new(),
            help: None,
            path: file.path().to_path_buf(),
            source: Some(Arc::clone(file)),
            span: start..end,
        }
    }

    /// An error about a file that could not be read at all.
    pub fn unreadable(path: &Path, message: impl Into<String>) -> Self {
        Self {
            code: "lab::io",
            severity: Severity::Error,
            message: message.into(),
            label: String::new(),
            help: None,
            path: path.to_path_buf(),
            source: None,
            span: 0..0,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column of the start of the span.
    pub fn line_col(&self) -> (usize, usize) {
        self.source
            .as_ref()
            .map_or((1, 1), |f| f.line_col(self.span.start))
    }

    /// `path:line:col`, as editors and the acceptance scripts read it.
    pub fn location(&self) -> String {
        let (line, col) = self.line_col();
        format!("{}:{line}:{col}", self.path.display())
    }

    /// The graphical miette report (no colours when `color` is false).
    pub fn render(&self, color: bool) -> String {
        let theme = if color {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        };
        let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
        let mut out = String::new();
        if handler.render_report(&mut out, self).is_err() {
            out = format!("{}: {}", self.location(), self.message);
        }
        // Keep `file:line:col` visible even where the report has no snippet.
        if self.source.is_none() {
            out = format!("{}: {}\n", self.location(), out.trim_end());
        }
        out
    }
}

impl fmt::Display for LabDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LabDiagnostic {}

impl Diagnostic for LabDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|f| f.named() as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let label = (!self.label.is_empty()).then(|| self.label.clone());
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(label, self.span.clone()),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_file_line_and_column() {
        let file = SourceFile::new("labs/x.md", "---\nid: 1\n---\n# T\n");
        let diag = LabDiagnostic::error("lab::test", &file, 8..9, "id must be text")
            .with_label("here")
            .with_help("write `id: some-name`");
        assert_eq!(diag.location(), "labs/x.md:2:5");
        let out = diag.render(false);
        assert!(out.contains("labs/x.md:2:5"), "{out}");
        assert!(out.contains("id must be text"), "{out}");
        assert!(out.contains("write `id: some-name`"), "{out}");
    }
}
