//! Multi-document YAML into Kubernetes objects, each remembering its file and start line.

use serde_json::Value;
use std::fmt;

/// One non-empty YAML document of a manifest file.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: String,
    /// 1-based line of the document's first content line (comments skipped).
    pub line: usize,
    pub object: Value,
}

impl Document {
    /// `file:line`, as error messages name it.
    pub fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    pub fn api_version(&self) -> &str {
        self.object["apiVersion"].as_str().unwrap_or_default()
    }

    pub fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.object["metadata"]["namespace"]
            .as_str()
            .filter(|s| !s.is_empty())
    }
}

/// A document that is not a Kubernetes object, with where it is.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub file: String,
    /// Line in the text parsed (1-based), and the column when the YAML parser knows it.
    pub line: usize,
    pub column: Option<usize>,
    pub message: String,
}

impl ParseError {
    /// `line 5, column 2` (or `line 5`), in the text that was parsed.
    pub fn position(&self) -> String {
        match self.column {
            Some(c) => format!("line {}, column {c}", self.line),
            None => format!("line {}", self.line),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some(c) = self.column {
            write!(f, ":{c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ParseError {}

/// Splits `text` at `---` lines and parses every document; empty documents (only comments) are skipped.
pub fn parse(file: &str, text: &str) -> Result<Vec<Document>, ParseError> {
    let mut docs = Vec::new();
    for (first_line, chunk) in split(text) {
        let Some(content) = first_content_line(&chunk) else {
            continue;
        };
        let line = first_line + content;
        let mut options = serde_saphyr::Options::default();
        options.with_snippet = false;
        let object: Value =
            serde_saphyr::from_str_with_options(&chunk, options).map_err(|err| {
                let err = err.without_snippet();
                let location = err.location();
                let at = location
                    .and_then(|l| usize::try_from(l.line()).ok())
                    .filter(|l| *l > 0)
                    .map_or(line, |l| first_line + l - 1);
                let column = location
                    .and_then(|l| usize::try_from(l.column()).ok())
                    .filter(|c| *c > 0);
                let msg = err.to_string();
                let first = msg.lines().next().unwrap_or_default();
                // the parser's own "at line L, column C" counts in the document, not the text
                let first = match first.rfind(" at line ") {
                    Some(i) if column.is_some() => &first[..i],
                    _ => first,
                };
                ParseError {
                    file: file.to_string(),
                    line: at,
                    column,
                    message: format!("invalid YAML: {first}"),
                }
            })?;
        if object.is_null() {
            continue;
        }
        let fail = |message: String| ParseError {
            file: file.to_string(),
            line,
            column: None,
            message,
        };
        if !object.is_object() {
            return Err(fail(
                "a document must be a mapping (a Kubernetes object)".into(),
            ));
        }
        for field in ["apiVersion", "kind"] {
            if object[field].as_str().is_none_or(str::is_empty) {
                return Err(fail(format!("{field}: Required value")));
            }
        }
        if object["metadata"]["name"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            return Err(fail("metadata.name: Required value".into()));
        }
        docs.push(Document {
            file: file.to_string(),
            line,
            object,
        });
    }
    Ok(docs)
}

/// `(1-based line of the chunk's first line, chunk text)`; separator lines become blank lines.
fn split(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        let is_sep = line == "---"
            || line.starts_with("--- ")
            || line.starts_with("---\t")
            || line.starts_with("---#");
        let is_end = line == "..." || line.starts_with("... ");
        if is_sep || is_end {
            if !current.is_empty() || i > 0 {
                out.push((start, std::mem::take(&mut current)));
            }
            start = i + 2;
            if is_sep {
                // content after `---` on the same line belongs to the next document
                let rest = &line[3..];
                if !rest.trim().is_empty() && !rest.trim_start().starts_with('#') {
                    current.push_str(&" ".repeat(3));
                    current.push_str(rest);
                    current.push('\n');
                    start = i + 1;
                }
            }
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    out.push((start, current));
    out
}

/// 0-based index of the first line that is neither blank nor a comment.
fn first_content_line(chunk: &str) -> Option<usize> {
    chunk.lines().position(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_start_lines() {
        let text = "# head\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# only a comment\n---\n\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
        let docs = parse("f.yaml", text).expect("parses");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line, 2);
        assert_eq!(docs[1].line, 9);
        assert_eq!(docs[1].at(), "f.yaml:9");
        assert_eq!(docs[1].kind(), "ConfigMap");
    }

    #[test]
    fn yaml_errors_point_at_the_file_line() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n   bad: [\n";
        let err = parse("f.yaml", text).expect_err("bad yaml");
        assert_eq!(err.file, "f.yaml");
        assert!(
            err.line >= 8,
            "line {} should be in the second document",
            err.line
        );
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
    }

    #[test]
    fn missing_kind_is_named() {
        let err = parse("g.yaml", "apiVersion: v1\nmetadata: {name: a}\n").expect_err("no kind");
        assert_eq!(err.to_string(), "g.yaml:1: kind: Required value");
    }
}
