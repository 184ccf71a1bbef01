//! Parsing the `check:` of a task block into a typed [`Check`], validated where it is written.

use super::check::*;
use super::fields::{Fields, Reader};
use super::selector::LabelSelector;
use super::yaml::{Node, Value};
use serde_json_path::JsonPath;
use std::collections::BTreeMap;
use std::time::Duration;

const C: &str = "lab::check";

/// The check kinds, as written.
pub const CHECK_KINDS: &[&str] = &[
    "assert", "absent", "count", "owned", "jsonpath", "exec", "probe", "quiz", "all", "any",
];

const ACTION_KINDS: &[&str] = &[
    "delete",
    "deleteOne",
    "scale",
    "patch",
    "exec",
    "apply",
    "wait",
];
const TARGET_KEYS: &[&str] = &["apiVersion", "kind", "namespace", "name", "selector"];
const COUNT_CMP: &[&str] = &["equals", "atLeast", "atMost"];
const COMPARE_KEYS: &[&str] = &[
    "equals",
    "notEquals",
    "atLeast",
    "atMost",
    "greaterThan",
    "lessThan",
    "contains",
    "exists",
];
const EXEC_SPEC_KEYS: &[&str] = &[
    "namespace",
    "pod",
    "selector",
    "container",
    "command",
    "timeout",
];
const OUTPUT_KEYS: &[&str] = &["contains", "notContains", "equals", "lines"];

/// Default time limit of an `exec` check.
pub const DEFAULT_EXEC_TIMEOUT: Duration = Duration::from_secs(20);

/// The one key of a single-key mapping (`assert: …`, `delete: …`).
fn single<'n>(
    r: &mut Reader,
    node: &'n Node,
    what: &str,
    kinds: &[&str],
) -> Option<(&'n str, &'n Node)> {
    let help = format!("write exactly one of: {}", kinds.join(", "));
    let Some(entries) = node.as_map() else {
        r.error(
            C,
            node,
            format!(
                "{what} must be a mapping with one key, found {}",
                node.type_name()
            ),
            help,
        );
        return None;
    };
    match entries {
        [(k, v)] => match k.as_str() {
            Some(kind) if kinds.contains(&kind) => Some((kind, v)),
            _ => {
                let name = k.scalar_text().unwrap_or_default();
                let hint = super::fields::closest(&name, kinds)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                r.error(
                    C,
                    k,
                    format!("unknown {what} `{name}`"),
                    format!("{hint}{help}"),
                );
                None
            }
        },
        [] => {
            r.error(C, node, format!("{what} is empty"), help);
            None
        }
        [_, (second, _), ..] => {
            r.error(
                C,
                second,
                format!("{what} has more than one kind"),
                format!("{help}; combine checks with `all:` or `any:`"),
            );
            None
        }
    }
}

/// Parses a check node.
pub(crate) fn parse_check(r: &mut Reader, node: &Node) -> Option<Check> {
    let (kind, body) = single(r, node, "check", CHECK_KINDS)?;
    match kind {
        "assert" => parse_assert(r, body).map(Check::Assert),
        "absent" => {
            let f = r.fields(C, body, "`absent`", TARGET_KEYS)?;
            parse_target(r, &f, "`absent`", false).map(Check::Absent)
        }
        "count" => parse_count(r, body).map(Check::Count),
        "owned" => parse_owned(r, body).map(Check::Owned),
        "jsonpath" => parse_jsonpath(r, body).map(Check::JsonPath),
        "exec" => parse_exec_check(r, body).map(Check::Exec),
        "probe" => parse_probe(r, body).map(Check::Probe),
        "quiz" => parse_quiz(r, body).map(Check::Quiz),
        "all" | "any" => {
            let Some(items) = body.as_seq() else {
                r.error(
                    C,
                    body,
                    format!(
                        "`{kind}` must be a list of checks, found {}",
                        body.type_name()
                    ),
                    "write `- count: …` items",
                );
                return None;
            };
            if items.is_empty() {
                r.error(
                    C,
                    body,
                    format!("`{kind}` has no checks"),
                    "list at least one check",
                );
                return None;
            }
            let checks: Vec<Option<Check>> = items.iter().map(|i| parse_check(r, i)).collect();
            let checks: Option<Vec<Check>> = checks.into_iter().collect();
            checks.map(|c| {
                if kind == "all" {
                    Check::All(c)
                } else {
                    Check::Any(c)
                }
            })
        }
        _ => None,
    }
}

fn parse_selector(r: &mut Reader, node: &Node) -> Option<LabelSelector> {
    let text = r.string("lab::selector", node, "`selector`")?;
    if !super::vars::find_refs(&text).is_empty() {
        r.error(
            "lab::selector",
            node,
            "variables are not allowed in label selectors",
            "select by labels with fixed values; put the namespace in `namespace:`",
        );
        return None;
    }
    match LabelSelector::parse(&text) {
        Ok(s) => Some(s),
        Err(e) => {
            r.error(
                "lab::selector",
                node,
                format!("bad label selector `{text}`: {e}"),
                "write e.g. `app=web`, `tier!=db`, `env in (a,b)`, `!legacy`, joined by commas",
            );
            None
        }
    }
}

fn parse_target(r: &mut Reader, f: &Fields, what: &str, need_name: bool) -> Option<Target> {
    let api_version = r.req_str(C, f, "apiVersion", what);
    let kind = r.req_str(C, f, "kind", what);
    let namespace = r.opt_str(C, f, "namespace", what);
    let name = r.opt_str(C, f, "name", what);
    let selector = match f.get("selector") {
        Some(s) => Some(parse_selector(r, s)?),
        None => None,
    };
    if need_name && name.is_none() {
        r.error(
            C,
            f.node,
            format!("{what} must name one object"),
            "add `name: …`",
        );
        return None;
    }
    if name.is_some() && selector.is_some() {
        r.error(
            C,
            f.get("selector").unwrap_or(f.node),
            format!("{what} has both `name` and `selector`"),
            "use one of them",
        );
        return None;
    }
    Some(Target {
        api_version: api_version?,
        kind: kind?,
        namespace,
        name,
        selector,
    })
}

fn parse_assert(r: &mut Reader, body: &Node) -> Option<ObjectAssert> {
    let f = r.fields_any(C, body, "`assert`")?;
    let api_version = r.req_str(C, &f, "apiVersion", "`assert`");
    let kind = r.req_str(C, &f, "kind", "`assert`");
    let Some(meta) = f.get("metadata") else {
        r.error(
            C,
            body,
            "`assert` has no `metadata`",
            "add `metadata:` with `name:` (or `labels:`) and, for namespaced kinds, `namespace:`",
        );
        return None;
    };
    let mf = r.fields_any(C, meta, "`metadata` of `assert`")?;
    let name = r.opt_str(C, &mf, "name", "`metadata`");
    let namespace = r.opt_str(C, &mf, "namespace", "`metadata`");
    let mut selector = None;
    if name.is_none()
        && let Some(labels) = mf.get("labels")
    {
        let Some(entries) = labels.as_map() else {
            r.error(
                C,
                labels,
                "`labels` must be a mapping",
                "write `labels: {key: value}`",
            );
            return None;
        };
        let map: BTreeMap<String, String> = entries
            .iter()
            .filter_map(|(k, v)| Some((k.scalar_text()?, v.scalar_text()?)))
            .collect();
        let text = LabelSelector::from_labels(&map).to_string();
        match LabelSelector::parse(&text) {
            Ok(s) => selector = Some(s),
            Err(e) => {
                r.error(
                    "lab::selector",
                    labels,
                    format!("bad labels: {e}"),
                    "label keys and values: up to 63 letters, digits, `-`, `_`, `.`",
                );
                return None;
            }
        }
    }
    if name.is_none() && selector.is_none() {
        r.error(
            C,
            meta,
            "`assert` names no object",
            "add `name:` (one object) or `labels:` (at least one object with these labels)",
        );
        return None;
    }
    Some(ObjectAssert {
        target: Target {
            api_version: api_version?,
            kind: kind?,
            namespace,
            name,
            selector,
        },
        expect: body.to_json(),
    })
}

fn count_cmp(
    r: &mut Reader,
    f: &Fields,
    what: &str,
    default: Option<CountCmp>,
) -> Option<CountCmp> {
    let present: Vec<&str> = COUNT_CMP.iter().copied().filter(|k| f.has(k)).collect();
    match present.as_slice() {
        [] => {
            if default.is_none() {
                r.error(
                    C,
                    f.node,
                    format!("{what} has no expected count"),
                    "add one of `equals: N`, `atLeast: N`, `atMost: N`",
                );
            }
            default
        }
        [key] => {
            let node = f.get(key)?;
            let n = r.uint(C, node, &format!("`{key}`"))?;
            Some(match *key {
                "equals" => CountCmp::Equals(n),
                "atLeast" => CountCmp::AtLeast(n),
                _ => CountCmp::AtMost(n),
            })
        }
        [_, second, ..] => {
            r.error(
                C,
                f.get(second).unwrap_or(f.node),
                format!("{what} has more than one expected count"),
                "keep one of `equals`, `atLeast`, `atMost`",
            );
            None
        }
    }
}

fn parse_count(r: &mut Reader, body: &Node) -> Option<CountCheck> {
    let keys: Vec<&str> = TARGET_KEYS
        .iter()
        .chain(COUNT_CMP)
        .chain(&["where"])
        .copied()
        .collect();
    let f = r.fields(C, body, "`count`", &keys)?;
    let target = parse_target(r, &f, "`count`", false);
    let filter = match f.get("where") {
        Some(w) if w.as_map().is_some() => Some(w.to_json()),
        Some(w) => {
            r.error(
                C,
                w,
                "`where` must be a partial object (a mapping)",
                "e.g. `where: {status: {phase: Running}}`",
            );
            return None;
        }
        None => None,
    };
    let expect = count_cmp(r, &f, "`count`", None);
    Some(CountCheck {
        target: target?,
        filter,
        expect: expect?,
    })
}

fn parse_owned(r: &mut Reader, body: &Node) -> Option<OwnedCheck> {
    let f = r.fields(
        C,
        body,
        "`owned`",
        &[
            "owner",
            "apiVersion",
            "kind",
            "selector",
            "equals",
            "atLeast",
            "atMost",
            "controller",
            "notMadeBy",
        ],
    )?;
    let owner = match f.get("owner") {
        Some(o) => {
            let of = r.fields(C, o, "`owner`", TARGET_KEYS)?;
            parse_target(r, &of, "`owner`", true)
        }
        None => {
            r.error(
                C,
                body,
                "`owned` has no `owner`",
                "add `owner: {apiVersion: …, kind: …, namespace: …, name: …}`",
            );
            None
        }
    };
    let api_version = r.req_str(C, &f, "apiVersion", "`owned`");
    let kind = r.req_str(C, &f, "kind", "`owned`");
    let selector = match f.get("selector") {
        Some(s) => Some(parse_selector(r, s)?),
        None => None,
    };
    let expect = count_cmp(r, &f, "`owned`", Some(CountCmp::AtLeast(1)));
    let controller = match f.get("controller") {
        Some(c) => r.boolean(C, c, "`controller`")?,
        None => true,
    };
    let not_made_by = match f.get("notMadeBy") {
        Some(_) => Some(r.req_str(C, &f, "notMadeBy", "`owned`")?),
        None => None,
    };
    let owner = owner?;
    let owned = Target {
        api_version: api_version?,
        kind: kind?,
        namespace: owner.namespace.clone(),
        name: None,
        selector,
    };
    Some(OwnedCheck {
        owner,
        owned,
        expect: expect?,
        controller,
        not_made_by,
    })
}

fn number(r: &mut Reader, node: &Node, what: &str) -> Option<f64> {
    match node.value {
        Value::Int(i) => Some(i as f64),
        Value::Float(f) => Some(f),
        _ => {
            r.error(
                C,
                node,
                format!("{what} must be a number, found {}", node.type_name()),
                "write a number",
            );
            None
        }
    }
}

fn parse_jsonpath(r: &mut Reader, body: &Node) -> Option<JsonPathCheck> {
    let keys: Vec<&str> = TARGET_KEYS
        .iter()
        .chain(COMPARE_KEYS)
        .chain(&["path"])
        .copied()
        .collect();
    let f = r.fields(C, body, "`jsonpath`", &keys)?;
    let target = parse_target(r, &f, "`jsonpath`", true);
    let path = match f.get("path") {
        Some(p) => {
            let text = r.string("lab::jsonpath", p, "`path`")?;
            match JsonPath::parse(&text) {
                Ok(parsed) => Some((text, parsed)),
                Err(e) => {
                    let pos = e.position();
                    let span = r.span(p);
                    // Point at the character the parser stopped at when the path is written plainly.
                    let file_text = r.file.text();
                    let plain = file_text.get(span.clone()).is_some_and(|s| s == text);
                    let at = if plain {
                        (span.start + pos).min(span.end.saturating_sub(1))
                    } else {
                        span.start
                    };
                    r.error_at("lab::jsonpath", at..at + 1, format!("bad JSONPath `{text}`: {}", e.message()), "write an RFC 9535 JSONPath starting with `$`, e.g. `$.status.readyReplicas` or `$.status.conditions[?@.type=='Ready'].status`");
                    None
                }
            }
        }
        None => {
            r.error(
                C,
                body,
                "`jsonpath` has no `path`",
                "add `path: $.status.…`",
            );
            None
        }
    };
    let present: Vec<&str> = COMPARE_KEYS.iter().copied().filter(|k| f.has(k)).collect();
    let compare = match present.as_slice() {
        [] => {
            r.error(
                C,
                body,
                "`jsonpath` has no comparison",
                format!("add one of: {}", COMPARE_KEYS.join(", ")),
            );
            None
        }
        [key] => {
            let node = f.get(key)?;
            match *key {
                "equals" => Some(Compare::Equals(node.to_json())),
                "notEquals" => Some(Compare::NotEquals(node.to_json())),
                "contains" => Some(Compare::Contains(node.to_json())),
                "exists" => r.boolean(C, node, "`exists`").map(Compare::Exists),
                "atLeast" => number(r, node, "`atLeast`").map(Compare::AtLeast),
                "atMost" => number(r, node, "`atMost`").map(Compare::AtMost),
                "greaterThan" => number(r, node, "`greaterThan`").map(Compare::GreaterThan),
                _ => number(r, node, "`lessThan`").map(Compare::LessThan),
            }
        }
        [_, second, ..] => {
            r.error(
                C,
                f.get(second).unwrap_or(body),
                "`jsonpath` has more than one comparison",
                "keep one",
            );
            None
        }
    };
    let (path_text, path) = path?;
    Some(JsonPathCheck {
        target: target?,
        path_text,
        path,
        compare: compare?,
    })
}

fn parse_exec_spec(r: &mut Reader, f: &Fields, what: &str) -> Option<ExecSpec> {
    let namespace = r.req_str(C, f, "namespace", what);
    let pod = match (f.get("pod"), f.get("selector")) {
        (Some(p), None) => r.string(C, p, "`pod`").map(PodRef::Name),
        (None, Some(s)) => parse_selector(r, s).map(PodRef::Selector),
        (Some(_), Some(s)) => {
            r.error(
                C,
                s,
                format!("{what} has both `pod` and `selector`"),
                "use one of them",
            );
            None
        }
        (None, None) => {
            r.error(
                C,
                f.node,
                format!("{what} names no pod"),
                "add `pod: NAME` or `selector: LABELS`",
            );
            None
        }
    };
    let container = r.opt_str(C, f, "container", what);
    let command = match f.get("command") {
        Some(c) if c.as_seq().is_some() => r.str_list(C, c, "`command`"),
        Some(c) => {
            r.error(
                C,
                c,
                "`command` must be a list of arguments",
                "no shell is involved: write e.g. `command: [etcdctl, member, list]`",
            );
            return None;
        }
        None => {
            r.error(
                C,
                f.node,
                format!("{what} has no `command`"),
                "add e.g. `command: [etcdctl, member, list]`",
            );
            return None;
        }
    };
    if command.is_empty() {
        r.error(
            C,
            f.get("command").unwrap_or(f.node),
            "`command` is empty",
            "name the program and its arguments",
        );
        return None;
    }
    let timeout = match f.get("timeout") {
        Some(t) => r.duration(t, "`timeout`")?,
        None => DEFAULT_EXEC_TIMEOUT,
    };
    Some(ExecSpec {
        namespace: namespace?,
        pod: pod?,
        container,
        command,
        timeout,
    })
}

fn parse_exec_check(r: &mut Reader, body: &Node) -> Option<ExecCheck> {
    let keys: Vec<&str> = EXEC_SPEC_KEYS.iter().chain(&["expect"]).copied().collect();
    let f = r.fields(C, body, "`exec`", &keys)?;
    let exec = parse_exec_spec(r, &f, "`exec`");
    let expect = match f.get("expect") {
        Some(e) => {
            let ef = r.fields(C, e, "`expect` of `exec`", OUTPUT_KEYS)?;
            let lines = match ef.get("lines") {
                Some(l) => Some(r.uint(C, l, "`lines`")? as usize),
                None => None,
            };
            let out = OutputExpect {
                contains: ef
                    .get("contains")
                    .map(|c| r.str_list(C, c, "`contains`"))
                    .unwrap_or_default(),
                not_contains: ef
                    .get("notContains")
                    .map(|c| r.str_list(C, c, "`notContains`"))
                    .unwrap_or_default(),
                equals: r.opt_str(C, &ef, "equals", "`expect`"),
                lines,
            };
            if out == OutputExpect::default() {
                r.error(
                    C,
                    e,
                    "`expect` of `exec` expects nothing",
                    format!("add one of: {}", OUTPUT_KEYS.join(", ")),
                );
                return None;
            }
            Some(out)
        }
        None => {
            r.error(
                C,
                body,
                "`exec` has no `expect`",
                "add `expect: {contains: …}`",
            );
            None
        }
    };
    Some(ExecCheck {
        exec: exec?,
        expect: expect?,
    })
}

/// Parses an action (of a probe or a solution).
pub(crate) fn parse_action(r: &mut Reader, node: &Node) -> Option<Action> {
    let (kind, body) = single(r, node, "action", ACTION_KINDS)?;
    let what = format!("`{kind}`");
    match kind {
        "delete" | "deleteOne" => {
            let f = r.fields(C, body, &what, TARGET_KEYS)?;
            let t = parse_target(r, &f, &what, kind == "delete")?;
            Some(if kind == "delete" {
                Action::Delete(t)
            } else {
                Action::DeleteOne(t)
            })
        }
        "scale" => {
            let keys: Vec<&str> = TARGET_KEYS
                .iter()
                .chain(&["field", "replicas"])
                .copied()
                .collect();
            let f = r.fields(C, body, &what, &keys)?;
            let target = parse_target(r, &f, &what, true);
            let field = r.req_str(C, &f, "field", &what);
            let replicas = match f.get("replicas") {
                Some(n) => r
                    .uint(C, n, "`replicas`")
                    .and_then(|n| i64::try_from(n).ok()),
                None => {
                    r.error(C, body, "`scale` has no `replicas`", "add `replicas: N`");
                    None
                }
            };
            Some(Action::Scale {
                target: target?,
                field: field?,
                replicas: replicas?,
            })
        }
        "patch" => {
            let keys: Vec<&str> = TARGET_KEYS.iter().chain(&["patch"]).copied().collect();
            let f = r.fields(C, body, &what, &keys)?;
            // Without a name: every matching object (e.g. an InstallPlan with a generated name).
            let target = parse_target(r, &f, &what, false);
            let patch = match f.get("patch") {
                Some(p) if p.as_map().is_some() => Some(p.to_json()),
                _ => {
                    r.error(
                        C,
                        body,
                        "`patch` needs `patch:` with a merge patch (a mapping)",
                        "e.g. `patch: {spec: {size: 5}}`",
                    );
                    None
                }
            };
            Some(Action::Patch {
                target: target?,
                patch: patch?,
            })
        }
        "exec" => {
            let f = r.fields(C, body, &what, EXEC_SPEC_KEYS)?;
            parse_exec_spec(r, &f, &what).map(Action::Exec)
        }
        "apply" => {
            let text = r.string(C, body, "`apply`")?;
            if let Err(e) = super::yaml::parse_multi(&text) {
                r.error(
                    C,
                    body,
                    format!("`apply` holds YAML that does not parse: {e}"),
                    "write manifests as a block scalar: `apply: |` followed by indented YAML",
                );
                return None;
            }
            Some(Action::Apply(text))
        }
        _ => r.duration(body, "`wait`").map(Action::Wait),
    }
}

fn parse_probe(r: &mut Reader, body: &Node) -> Option<Probe> {
    let f = r.fields(
        C,
        body,
        "`probe`",
        &["description", "action", "expect", "within"],
    )?;
    let description = r.req_str(C, &f, "description", "`probe`");
    let action = match f.get("action") {
        Some(a) => parse_action(r, a),
        None => {
            r.error(
                C,
                body,
                "`probe` has no `action`",
                format!("add `action:` with one of {}", ACTION_KINDS.join(", ")),
            );
            None
        }
    };
    let expect = match f.get("expect") {
        Some(e) => {
            let check = parse_check(r, e)?;
            if check.changes_cluster() {
                r.error(
                    C,
                    e,
                    "a probe's `expect` cannot be another probe",
                    "expect a reading check such as `count` or `absent`",
                );
                return None;
            }
            Some(check)
        }
        None => {
            r.error(
                C,
                body,
                "`probe` has no `expect`",
                "add `expect:` with the check that must pass after the action",
            );
            None
        }
    };
    let within = match f.get("within") {
        Some(w) => r.duration(w, "`within`"),
        None => {
            r.error(
                C,
                body,
                "`probe` has no `within`",
                "every probe waits at most a given time: add e.g. `within: 30s`",
            );
            None
        }
    };
    Some(Probe {
        description: description?,
        action: action?,
        expect: Box::new(expect?),
        within: within?,
    })
}

fn parse_quiz(r: &mut Reader, body: &Node) -> Option<Quiz> {
    let q = "lab::quiz";
    let f = r.fields(q, body, "`quiz`", &["question", "choices", "explanation"])?;
    let question = r.req_str(q, &f, "question", "`quiz`");
    let explanation = r.req_str(q, &f, "explanation", "`quiz`");
    let Some(choices_node) = f.get("choices") else {
        r.error(
            q,
            body,
            "`quiz` has no `choices`",
            "add `choices:` with items `- text: …` and `correct: true` on the right ones",
        );
        return None;
    };
    let Some(items) = choices_node.as_seq() else {
        r.error(
            q,
            choices_node,
            "`choices` must be a list",
            "items `- text: …` with `correct: true` on the right ones",
        );
        return None;
    };
    let mut choices = Vec::new();
    for item in items {
        let cf = r.fields(q, item, "a choice", &["text", "correct"])?;
        let text = r.req_str(q, &cf, "text", "a choice")?;
        let correct = match cf.get("correct") {
            Some(c) => r.boolean(q, c, "`correct`")?,
            None => false,
        };
        choices.push(Choice { text, correct });
    }
    if choices.len() < 2 {
        r.error(
            q,
            choices_node,
            "a quiz needs at least two choices",
            "add more choices",
        );
        return None;
    }
    if !choices.iter().any(|c| c.correct) {
        r.error(
            q,
            choices_node,
            "no choice is marked `correct: true`",
            "mark the right answer(s) with `correct: true`",
        );
        return None;
    }
    Some(Quiz {
        question: question?,
        choices,
        explanation: explanation?,
    })
}
