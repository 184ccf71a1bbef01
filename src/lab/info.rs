//! Code-block info strings: ```` ```yaml apply editable id=crontab-crd ```` into a language and attributes.

use super::model::{CodeAttrs, ManifestRef};
use std::ops::Range;

/// Flags (no value) a code block may carry.
pub const FLAGS: &[&str] = &["apply", "copy", "editable"];
/// `key=value` attributes a code block may carry.
pub const KEYS: &[&str] = &["id", "set", "file", "namespace", "validate"];

/// A mistake in an info string: message, help and byte range relative to the info string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoError {
    pub message: String,
    pub help: String,
    pub span: Range<usize>,
}

/// Splits an info string into the language and its attributes.
pub fn parse_info(info: &str) -> (String, CodeAttrs, Vec<InfoError>) {
    let mut attrs = CodeAttrs::default();
    let mut errors = Vec::new();
    let mut tokens = tokens(info).into_iter();
    let lang = tokens
        .next()
        .map(|(t, _)| t.to_string())
        .unwrap_or_default();
    let all = || {
        format!(
            "code blocks take the flags {} and the attributes {}",
            FLAGS.join(", "),
            KEYS.iter()
                .map(|k| format!("{k}=…"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut manifest_span = None;
    let mut validate_span = None;
    for (tok, span) in tokens {
        match tok.split_once('=') {
            None => match tok {
                "apply" => attrs.apply = true,
                "copy" => attrs.copy = true,
                "editable" => attrs.editable = true,
                _ => errors.push(InfoError {
                    message: format!("unknown code block attribute `{tok}`"),
                    help: hint(tok).unwrap_or_else(all),
                    span,
                }),
            },
            Some((key, value)) => {
                if value.is_empty() {
                    errors.push(InfoError {
                        message: format!("`{key}=` has no value"),
                        help: format!("write `{key}=VALUE` without spaces"),
                        span,
                    });
                    continue;
                }
                match key {
                    "id" => {
                        if !super::task_parse::is_id(value) {
                            errors.push(InfoError {
                                message: format!("code block id `{value}` is not kebab-case"),
                                help: "use lowercase letters, digits and dashes".into(),
                                span: span.clone(),
                            });
                        }
                        attrs.id = Some(value.to_string());
                    }
                    "set" | "file" => {
                        if attrs.manifest.is_some() {
                            errors.push(InfoError {
                                message: "a code block refers to one bundled manifest set or file"
                                    .into(),
                                help: "keep either `set=NAME` or `file=SET/PATH`".into(),
                                span: span.clone(),
                            });
                        }
                        let r = ManifestRef::parse(value);
                        if key == "file" && r.file.is_none() {
                            errors.push(InfoError {
                                message: format!("`file={value}` names no file of a set"),
                                help: "write `file=SET/PATH`, e.g. `file=gordon/crd.yaml`, or `set=NAME` for a whole set".into(),
                                span: span.clone(),
                            });
                        }
                        if key == "set" && r.file.is_some() {
                            errors.push(InfoError {
                                message: format!("`set={value}` names a file"),
                                help: format!("write `file={value}`"),
                                span: span.clone(),
                            });
                        }
                        manifest_span = Some(span.clone());
                        attrs.manifest = Some(r);
                    }
                    "namespace" => attrs.namespace = Some(value.to_string()),
                    "validate" => match crate::cluster::Validation::parse(value) {
                        Some(v) => {
                            attrs.validate = v;
                            validate_span = Some(span.clone());
                        }
                        None => {
                            let words = crate::cluster::Validation::WORDS;
                            let help = match super::fields::closest(value, words) {
                                Some(w) => format!("did you mean `validate={w}`?"),
                                None => format!("write one of {}", words.join(", ")),
                            };
                            errors.push(InfoError {
                                message: format!("`validate={value}` is not a field validation"),
                                help,
                                span,
                            });
                        }
                    },
                    _ => errors.push(InfoError {
                        message: format!("unknown code block attribute `{key}`"),
                        help: hint(key).unwrap_or_else(all),
                        span,
                    }),
                }
            }
        }
    }
    if attrs.manifest.is_some()
        && !attrs.apply
        && let Some(span) = manifest_span
    {
        errors.push(InfoError {
            message: "a bundled manifest reference without `apply`".into(),
            help: "add `apply` so the TUI offers to apply it".into(),
            span,
        });
    }
    if !attrs.apply
        && let Some(span) = validate_span
    {
        errors.push(InfoError {
            message: "`validate=` without `apply`".into(),
            help: "field validation is about applying: add `apply`".into(),
            span,
        });
    }
    if attrs.editable && !attrs.apply {
        errors.push(InfoError {
            message: "`editable` without `apply`".into(),
            help: "only manifests to apply can be edited: add `apply`".into(),
            span: 0..info.len().max(1),
        });
    }
    (lang, attrs, errors)
}

fn hint(word: &str) -> Option<String> {
    let all: Vec<&str> = FLAGS.iter().chain(KEYS).copied().collect();
    super::fields::closest(word, &all).map(|s| format!("did you mean `{s}`?"))
}

fn tokens(info: &str) -> Vec<(&str, Range<usize>)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in info.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((&info[s..i], s..i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((&info[s..], s..info.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flags_and_keys() {
        let (lang, attrs, errors) =
            parse_info("yaml apply editable id=crontab-crd namespace={{ns}}");
        assert_eq!(lang, "yaml");
        assert!(attrs.apply && attrs.editable && !attrs.copy);
        assert_eq!(attrs.id.as_deref(), Some("crontab-crd"));
        assert_eq!(attrs.namespace.as_deref(), Some("{{ns}}"));
        assert!(errors.is_empty(), "{errors:?}");
        let (_, attrs, errors) = parse_info("yaml apply file=gordon/crd.yaml");
        assert!(errors.is_empty());
        assert_eq!(
            attrs.manifest,
            Some(ManifestRef {
                set: "gordon".into(),
                file: Some("crd.yaml".into())
            })
        );
    }

    #[test]
    fn reports_unknown_attributes_with_their_span() {
        let (_, _, errors) = parse_info("sh cpy");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].span, 3..6);
        assert!(errors[0].help.contains("copy"));
        let (_, _, errors) = parse_info("yaml run=yes");
        assert_eq!(errors[0].message, "unknown code block attribute `run`");
    }
}
