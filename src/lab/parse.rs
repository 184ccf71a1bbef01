//! The lab-file parser: front matter, then a pulldown-cmark walk into steps, code blocks and tasks.

use super::diag::LabDiagnostic;
use super::fields::Reader;
use super::info::parse_info;
use super::model::{Block, CodeBlock, Lab, LabSpans, ManifestRef, Markdown, NeedKind, Step};
use super::source::SourceFile;
use super::{MANIFEST_SETS, frontmatter, task_parse, vars};
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// The suffix of a `##` heading that marks an instructor step.
pub const INSTRUCTOR_MARK: &str = "(instructor)";

/// Parses one lab file. Returns the lab (unless the file is unusable) and every problem found.
pub fn parse_lab(path: &Path, text: &str) -> (Option<Lab>, Vec<LabDiagnostic>) {
    let file = SourceFile::new(path, text);
    let mut diags = Vec::new();
    let lab = parse_file(&file, &mut diags);
    (lab, diags)
}

fn parse_file(file: &Arc<SourceFile>, diags: &mut Vec<LabDiagnostic>) -> Option<Lab> {
    let (fm_range, body_start) = match frontmatter::split(file) {
        Ok(x) => x,
        Err(d) => {
            diags.push(*d);
            return None;
        }
    };
    let fm = frontmatter::read(file, fm_range, diags)?;
    let mut walker = Walker {
        file,
        diags,
        intro: Vec::new(),
        steps: Vec::new(),
        seg_start: body_start,
        title_seen: false,
        refs: Vec::new(),
    };
    walker.walk(body_start);
    let Walker {
        intro, steps, refs, ..
    } = walker;
    if steps.is_empty() {
        let at = body_start.min(file.text().len());
        diags.push(
            LabDiagnostic::error("lab::structure", file, at..at, "the lab has no steps").with_help(
                "write each step as a `## heading` followed by its text, code blocks and tasks",
            ),
        );
        return None;
    }
    let lab = Lab {
        id: fm.id,
        title: fm.title,
        order: fm.order,
        summary: fm.summary,
        namespaces: fm.namespaces,
        requires: fm.requires,
        intro,
        steps,
        path: file.path().to_path_buf(),
        source: Arc::clone(file),
        spans: LabSpans {
            id: fm.id_span,
            requires_labs: fm.requires_labs,
        },
    };
    check_lab(file, &lab, body_start, &refs, &fm.requires_sets, diags);
    Some(lab)
}

/// Names a task's solution refers to, with where they are written.
pub(crate) enum SolutionRef {
    Block(String, Range<usize>),
    Set(ManifestRef, Range<usize>),
}

struct Walker<'a> {
    file: &'a Arc<SourceFile>,
    diags: &'a mut Vec<LabDiagnostic>,
    intro: Vec<Block>,
    steps: Vec<Step>,
    seg_start: usize,
    title_seen: bool,
    refs: Vec<SolutionRef>,
}

impl Walker<'_> {
    fn blocks(&mut self) -> &mut Vec<Block> {
        match self.steps.last_mut() {
            Some(step) => &mut step.blocks,
            None => &mut self.intro,
        }
    }

    /// Ends the current markdown segment at `end`.
    fn flush(&mut self, end: usize) {
        let text = self.file.text();
        let start = self.seg_start.min(end);
        let seg = &text[start..end];
        if !seg.trim().is_empty() {
            let lead = seg.len() - seg.trim_start_matches(['\n', '\r']).len();
            let (line, _) = self.file.line_col(start + lead);
            let md = Markdown {
                text: seg.trim_matches(['\n', '\r']).to_string(),
                line,
            };
            self.blocks().push(Block::Markdown(md));
        }
    }

    fn walk(&mut self, body_start: usize) {
        let text = self.file.text();
        let body = &text[body_start..];
        let opts = Options::ENABLE_TABLES
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_GFM
            | Options::ENABLE_FOOTNOTES;
        let mut depth = 0usize;
        let mut heading: Option<(HeadingLevel, Range<usize>, String)> = None;
        let mut code: Option<(String, Range<usize>, String)> = None;
        for (event, range) in Parser::new_ext(body, opts).into_offset_iter() {
            let range = range.start + body_start..range.end + body_start;
            match event {
                Event::Start(tag) => {
                    if depth == 0 {
                        match &tag {
                            Tag::Heading { level, .. } if *level <= HeadingLevel::H2 => {
                                heading = Some((*level, range.clone(), String::new()));
                            }
                            Tag::CodeBlock(CodeBlockKind::Fenced(info)) => {
                                code = Some((info.to_string(), range.clone(), String::new()));
                            }
                            _ => {}
                        }
                    } else if let Tag::CodeBlock(CodeBlockKind::Fenced(info)) = &tag {
                        self.nested_code(info, range.clone());
                    }
                    depth += 1;
                }
                Event::End(end) => {
                    depth = depth.saturating_sub(1);
                    if depth != 0 {
                        continue;
                    }
                    match end {
                        TagEnd::Heading(_) => {
                            if let Some((level, r, title)) = heading.take() {
                                self.heading(level, r, title);
                            }
                        }
                        TagEnd::CodeBlock => {
                            if let Some((info, r, content)) = code.take() {
                                self.code_block(&info, r, content);
                            }
                        }
                        _ => {}
                    }
                }
                Event::Text(t) | Event::Code(t) => {
                    if let Some((_, _, title)) = heading.as_mut() {
                        title.push_str(&t);
                    } else if let Some((_, _, content)) = code.as_mut() {
                        content.push_str(&t);
                    }
                }
                Event::SoftBreak | Event::HardBreak => {
                    if let Some((_, _, title)) = heading.as_mut() {
                        title.push(' ');
                    }
                }
                _ => {}
            }
        }
        self.flush(text.len());
    }

    fn heading(&mut self, level: HeadingLevel, range: Range<usize>, title: String) {
        self.flush(range.start);
        self.seg_start = range.end;
        let (line, _) = self.file.line_col(range.start);
        let title = title.trim().to_string();
        if level == HeadingLevel::H1 {
            if self.title_seen || !self.steps.is_empty() {
                self.diags.push(
                    LabDiagnostic::error("lab::structure", self.file, range, "a second `#` title")
                        .with_label("steps are `##` headings")
                        .with_help("a lab has one `# title` at the top; write steps as `## …` and sections inside steps as `### …`"),
                );
            }
            self.title_seen = true;
            return;
        }
        let (title, instructor_only) = match title.strip_suffix(INSTRUCTOR_MARK) {
            Some(t) => (t.trim_end().to_string(), true),
            None => (title, false),
        };
        if title.is_empty() {
            self.diags.push(
                LabDiagnostic::error("lab::structure", self.file, range, "a step without a title")
                    .with_help("write the step's title after `## `"),
            );
        }
        self.steps.push(Step {
            title,
            instructor_only,
            blocks: Vec::new(),
            line,
        });
    }

    /// Code blocks inside lists or quotes are rendered as markdown; attributes there would be lost.
    fn nested_code(&mut self, info: &str, range: Range<usize>) {
        let (lang, attrs, _) = parse_info(info);
        if lang == "task" || attrs != Default::default() {
            self.diags.push(
                LabDiagnostic::error("lab::structure", self.file, range.start..range.start + 1, "a task or a code block with attributes inside a list or quote")
                    .with_help("put task blocks and blocks with attributes at the top level of the step (not indented)"),
            );
        }
    }

    fn code_block(&mut self, info: &str, range: Range<usize>, content: String) {
        self.flush(range.start);
        self.seg_start = range.end;
        let text = self.file.text();
        let (line, _) = self.file.line_col(range.start);
        let fence_line_end = text[range.start..]
            .find('\n')
            .map_or(text.len(), |i| range.start + i);
        let content_start = (fence_line_end + 1).min(text.len());
        let info_start = text[range.start..fence_line_end]
            .find(info.trim())
            .map_or(range.start, |i| range.start + i);
        self.check_closed(&range, info);
        let (lang, attrs, errors) = parse_info(info);
        for e in errors {
            let span = info_start + e.span.start..info_start + e.span.end;
            self.diags.push(
                LabDiagnostic::error("lab::code-attr", self.file, span, e.message)
                    .with_label("here")
                    .with_help(e.help),
            );
        }
        if lang == "task" {
            if attrs != Default::default() {
                let span = info_start..fence_line_end;
                self.diags.push(
                    LabDiagnostic::error(
                        "lab::code-attr",
                        self.file,
                        span,
                        "task blocks take no attributes",
                    )
                    .with_help("write the fence as ```task and put everything in the YAML"),
                );
            }
            self.task_block(content, content_start, line);
            return;
        }
        if let Some(m) = &attrs.manifest
            && !MANIFEST_SETS.contains(&m.set.as_str())
        {
            let at = text[info_start..fence_line_end]
                .find(&m.set)
                .map_or(info_start, |i| info_start + i);
            self.diags
                .push(unknown_set(self.file, at..at + m.set.len(), &m.set));
        }
        self.blocks().push(Block::Code(CodeBlock {
            lang,
            attrs,
            text: content,
            line,
        }));
    }

    fn check_closed(&mut self, range: &Range<usize>, info: &str) {
        let text = &self.file.text()[range.clone()];
        let fence: String = text
            .trim_start()
            .chars()
            .take_while(|c| *c == '`' || *c == '~')
            .collect();
        let last = text.trim_end().lines().last().unwrap_or("").trim();
        let closed = text.trim_end().lines().count() > 1
            && last.starts_with(fence.as_str())
            && last.trim_matches(['`', '~']).is_empty();
        if !closed {
            let _ = info;
            self.diags.push(
                LabDiagnostic::error(
                    "lab::structure",
                    self.file,
                    range.start..range.start + fence.len().max(1),
                    "a code block that is never closed",
                )
                .with_label("opened here")
                .with_help(format!("close it with a line `{fence}`")),
            );
        }
    }

    fn task_block(&mut self, content: String, content_start: usize, line: usize) {
        let text = self.file.text();
        let plain =
            text.get(content_start..content_start + content.len()) == Some(content.as_str());
        let base = if plain {
            content_start
        } else {
            content_start.min(text.len())
        };
        let node = match super::yaml::parse(&content) {
            Ok(n) => n,
            Err(e) => {
                let at = base + e.offset.unwrap_or(0).min(content.len());
                self.diags.push(
                    LabDiagnostic::error("lab::yaml", self.file, at..at + 1, format!("the task block is not valid YAML: {}", e.message))
                        .with_label("here")
                        .with_help("a task block is YAML with `id`, `title`, `check`, `hints`, `solution`; quote values that start with `{`, `[`, `*` or contain `: `"),
                );
                return;
            }
        };
        let before = self.diags.len();
        let mut reader = Reader {
            file: self.file,
            base,
            diags: self.diags,
        };
        let task = task_parse::parse_task(&mut reader, &node, line);
        collect_refs(&reader, &node, &mut self.refs);
        let had_errors = self.diags.len() > before;
        let Some(task) = task else { return };
        if had_errors {
            return;
        }
        let says_what_runs = |n: &crate::lab::Need| {
            matches!(n.kind, NeedKind::RealCluster)
                || matches!(&n.kind, NeedKind::Program(p) if p == "etcd")
        };
        if task.check.uses_exec() && !task.needs.iter().any(says_what_runs) {
            let span = base..base + content.find('\n').unwrap_or(content.len()).max(1);
            self.diags.push(
                LabDiagnostic::error(
                    "lab::task",
                    self.file,
                    span,
                    format!(
                        "task `{}` runs commands in pods but does not say what they need",
                        task.id
                    ),
                )
                .with_help("add `needs:` with `- program: {name: etcd, reason: <why>}` (the sandbox runs etcd pods for real) or `- real-cluster: <why>` (the sandbox execs only into etcd pods)"),
            );
        }
        self.blocks().push(Block::Task(Box::new(task)));
    }
}

fn unknown_set(file: &Arc<SourceFile>, span: Range<usize>, set: &str) -> LabDiagnostic {
    LabDiagnostic::error(
        "lab::manifest-set",
        file,
        span,
        format!("unknown manifest set `{set}`"),
    )
    .with_label("not bundled")
    .with_help(format!(
        "the bundled sets are: {}",
        MANIFEST_SETS.join(", ")
    ))
}

/// Solution references (`apply:` block ids and `sets:`) with their spans.
fn collect_refs(r: &Reader, task: &super::yaml::Node, out: &mut Vec<SolutionRef>) {
    let Some(solution) = task.get("solution") else {
        return;
    };
    for (key, is_set) in [("apply", false), ("sets", true)] {
        let Some(node) = solution.get(key) else {
            continue;
        };
        let items: Vec<&super::yaml::Node> = match node.as_seq() {
            Some(items) => items.iter().collect(),
            None => vec![node],
        };
        for item in items {
            let Some(name) = item.as_str() else { continue };
            let span = r.span(item);
            out.push(if is_set {
                SolutionRef::Set(ManifestRef::parse(name), span)
            } else {
                SolutionRef::Block(name.to_string(), span)
            });
        }
    }
}

/// Checks within one lab: variables, duplicate ids, references from solutions.
fn check_lab(
    file: &Arc<SourceFile>,
    lab: &Lab,
    body_start: usize,
    refs: &[SolutionRef],
    requires_sets: &[(ManifestRef, Range<usize>)],
    diags: &mut Vec<LabDiagnostic>,
) {
    let text = file.text();
    let known: Vec<&str> = lab.namespaces.iter().map(|v| v.name.as_str()).collect();
    for r in vars::find_refs(&text[body_start..]) {
        if !known.contains(&r.name.as_str()) {
            let span = r.span.start + body_start..r.span.end + body_start;
            let help = if known.is_empty() {
                "declare it in the front matter: `namespaces: {NAME: default}`".to_string()
            } else {
                format!(
                    "the lab declares: {}; add it under `namespaces:` in the front matter",
                    known.join(", ")
                )
            };
            diags.push(
                LabDiagnostic::error(
                    "lab::unknown-var",
                    file,
                    span,
                    format!("unknown variable `{}`", r.name),
                )
                .with_label("not declared")
                .with_help(help),
            );
        }
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for task in lab.tasks() {
        if let Some(first) = seen.insert(task.id.as_str(), task.line) {
            let at = file.line_start(task.line);
            diags.push(
                LabDiagnostic::error(
                    "lab::duplicate-id",
                    file,
                    at..at + 7,
                    format!(
                        "task id `{}` is used twice (first on line {first})",
                        task.id
                    ),
                )
                .with_help("give every task of a lab its own id"),
            );
        }
    }
    let mut block_ids: HashMap<&str, usize> = HashMap::new();
    for block in lab.code_blocks() {
        if let Some(id) = &block.attrs.id
            && let Some(first) = block_ids.insert(id.as_str(), block.line)
        {
            let at = file.line_start(block.line);
            diags.push(
                LabDiagnostic::error(
                    "lab::duplicate-id",
                    file,
                    at..at + 3,
                    format!("code block id `{id}` is used twice (first on line {first})"),
                )
                .with_help("give every code block its own id"),
            );
        }
    }
    for r in refs {
        match r {
            SolutionRef::Block(id, span) => {
                let applicable = lab.code_block(id).map(|b| b.attrs.apply);
                match applicable {
                    Some(true) => {}
                    Some(false) => diags.push(
                        LabDiagnostic::error(
                            "lab::solution-ref",
                            file,
                            span.clone(),
                            format!("code block `{id}` is not a manifest to apply"),
                        )
                        .with_help("mark the block with `apply` in its info string"),
                    ),
                    None => diags.push(
                        LabDiagnostic::error(
                            "lab::solution-ref",
                            file,
                            span.clone(),
                            format!("no code block has `id={id}`"),
                        )
                        .with_label("unknown block")
                        .with_help(format!(
                            "code block ids in this lab: {}",
                            block_ids.keys().copied().collect::<Vec<_>>().join(", ")
                        )),
                    ),
                }
            }
            SolutionRef::Set(m, span) => {
                if !MANIFEST_SETS.contains(&m.set.as_str()) {
                    diags.push(unknown_set(file, span.clone(), &m.set));
                }
            }
        }
    }
    for (m, span) in requires_sets {
        if !MANIFEST_SETS.contains(&m.set.as_str()) {
            diags.push(unknown_set(file, span.clone(), &m.set));
        }
    }
}
