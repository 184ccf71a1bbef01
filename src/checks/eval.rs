//! Evaluating a check against the objects of the shared stores (pure: no requests).

use super::Verdict;
use super::matcher;
use super::stores::{View, WatchKey, WatchState};
use crate::lab::{
    Check, Compare, CountCheck, ExecCheck, JsonPathCheck, ObjectAssert, OutputExpect, OwnedCheck,
    Target,
};
use kube::api::DynamicObject;
use serde_json::Value;
use std::collections::BTreeMap;

/// The watch keys a check reads (exec and quiz read none; a probe reads those of its expectation).
pub fn keys(check: &Check) -> Vec<WatchKey> {
    let mut out = Vec::new();
    for c in check.walk() {
        match c {
            Check::Assert(a) => out.push(WatchKey::of(&a.target)),
            Check::Absent(t) => out.push(WatchKey::of(t)),
            Check::Count(c) => out.push(WatchKey::of(&c.target)),
            Check::Owned(o) => {
                out.push(WatchKey::of(&o.owner));
                let mut owned = o.owned.clone();
                if owned.namespace.is_none() {
                    owned.namespace.clone_from(&o.owner.namespace);
                }
                out.push(WatchKey::of(&owned));
            }
            Check::JsonPath(j) => out.push(WatchKey::of(&j.target)),
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The objects checks name, by the watch that serves them: fetched one by one when listing their
/// kind is forbidden.
pub fn named(check: &Check) -> Vec<(WatchKey, String)> {
    let mut out = Vec::new();
    let mut add = |t: &Target| {
        if let Some(name) = &t.name {
            out.push((WatchKey::of(t), name.clone()));
        }
    };
    for c in check.walk() {
        match c {
            Check::Assert(a) => add(&a.target),
            Check::Absent(t) => add(t),
            Check::Count(c) => add(&c.target),
            Check::Owned(o) => add(&o.owner),
            Check::JsonPath(j) => add(&j.target),
            _ => {}
        }
    }
    out
}

/// Whether any object a check looks for exists (the targets of `assert`, `count`, `owned` and
/// `jsonpath`; `absent` ones are left out, since their objects exist before the task is done).
pub fn any_object(check: &Check, view: &dyn View) -> bool {
    let exists = |t: &Target| matches!(objects(view, t), Objects::Known(l, _) if !l.is_empty());
    check.walk().into_iter().any(|c| match c {
        Check::Assert(a) => exists(&a.target),
        Check::Count(c) => exists(&c.target),
        Check::JsonPath(j) => exists(&j.target),
        Check::Owned(o) => exists(&o.owner),
        _ => false,
    })
}

/// Objects of a target, or the verdict to give when they cannot be known.
enum Objects {
    Known(Vec<Value>, Option<String>),
    Unknown(Verdict),
}

fn objects(view: &dyn View, target: &Target) -> Objects {
    let key = WatchKey::of(target);
    let Some(slot) = view.slot(&key) else {
        return Objects::Unknown(Verdict::Disconnected(format!("no watch for {key} yet")));
    };
    match slot.state {
        WatchState::Ready => {}
        WatchState::NotServed(why) => return Objects::Known(Vec::new(), Some(why)),
        WatchState::Forbidden(why) => return Objects::Unknown(Verdict::CannotCheck(why)),
        WatchState::Listing => {
            return Objects::Unknown(Verdict::Disconnected(format!("listing {key}")));
        }
        WatchState::Connecting => {
            return Objects::Unknown(Verdict::Disconnected(format!("connecting to {key}")));
        }
        WatchState::Disconnected(why) => return Objects::Unknown(Verdict::Disconnected(why)),
    }
    let Some(store) = slot.store else {
        return Objects::Unknown(Verdict::Disconnected(format!("connecting to {key}")));
    };
    if let Some(only) = &slot.only {
        match &target.name {
            None => {
                return Objects::Unknown(Verdict::CannotCheck(format!(
                    "listing {key} is forbidden for you (this check needs the whole list)"
                )));
            }
            Some(n) if !only.contains(n) => {
                return Objects::Unknown(Verdict::CannotCheck(format!(
                    "listing {key} is forbidden for you, and reading {} {n} too",
                    target.kind
                )));
            }
            Some(_) => {}
        }
    }
    let list = store
        .state()
        .into_iter()
        .filter(|o| selected(o, target, slot.scope_cluster))
        .filter_map(|o| serde_json::to_value(&*o).ok())
        .collect();
    Objects::Known(list, None)
}

fn labels(o: &DynamicObject) -> BTreeMap<String, String> {
    o.metadata.labels.clone().unwrap_or_default()
}

fn selected(o: &DynamicObject, t: &Target, cluster: bool) -> bool {
    if !cluster
        && let Some(ns) = &t.namespace
        && o.metadata.namespace.as_deref() != Some(ns.as_str())
    {
        return false;
    }
    if let Some(name) = &t.name
        && o.metadata.name.as_deref() != Some(name.as_str())
    {
        return false;
    }
    t.selector.as_ref().is_none_or(|s| s.matches(&labels(o)))
}

fn name(o: &Value) -> &str {
    o.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?")
}

fn terminating(o: &Value) -> bool {
    o.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

fn with_note(reason: String, note: Option<String>) -> Verdict {
    Verdict::Fail(match note {
        Some(n) => format!("{reason}; {n}"),
        None => reason,
    })
}

/// Evaluates a check. Exec checks use outputs the view has (from a run that was asked for);
/// probes and quizzes are skipped.
pub fn evaluate(check: &Check, view: &dyn View) -> Verdict {
    match check {
        Check::Assert(a) => assert(a, view),
        Check::Absent(t) => absent(t, view),
        Check::Count(c) => count(c, view),
        Check::Owned(o) => owned(o, view),
        Check::JsonPath(j) => jsonpath(j, view),
        Check::Exec(e) => exec(e, view),
        Check::Probe(p) => Verdict::Skipped(format!(
            "a probe changes the cluster, so it runs only when asked: {}",
            p.description.trim()
        )),
        Check::Quiz(_) => {
            Verdict::Skipped("a quiz: not answered here (answer it in the TUI)".into())
        }
        Check::All(cs) => all(cs.iter().map(|c| evaluate(c, view)).collect()),
        Check::Any(cs) => any(cs.iter().map(|c| evaluate(c, view)).collect()),
    }
}

/// All must pass: a disconnected part makes the whole unknown (never a stale pass), then failures
/// (naming the parts that cannot be checked too, e.g. a forbidden read).
pub fn all(vs: Vec<Verdict>) -> Verdict {
    if let Some(d) = vs.iter().find(|v| matches!(v, Verdict::Disconnected(_))) {
        return d.clone();
    }
    if vs.iter().any(|v| matches!(v, Verdict::Fail(_))) {
        let reasons: Vec<String> = vs
            .iter()
            .filter_map(|v| match v {
                Verdict::Fail(r) => Some(r.clone()),
                Verdict::CannotCheck(r) => Some(format!("cannot check: {r}")),
                _ => None,
            })
            .collect();
        // Parts often share a note (the kind is not served yet): say each sentence once.
        let mut parts: Vec<&str> = Vec::new();
        for part in reasons.iter().flat_map(|r| r.split("; ")) {
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        return Verdict::Fail(parts.join("; "));
    }
    if let Some(c) = vs
        .iter()
        .find(|v| matches!(v, Verdict::CannotCheck(_) | Verdict::Skipped(_)))
    {
        return c.clone();
    }
    Verdict::Pass
}

/// One must pass.
pub fn any(vs: Vec<Verdict>) -> Verdict {
    if vs.iter().any(Verdict::is_pass) {
        return Verdict::Pass;
    }
    if let Some(d) = vs
        .iter()
        .find(|v| matches!(v, Verdict::Disconnected(_) | Verdict::CannotCheck(_)))
    {
        return d.clone();
    }
    let reasons: Vec<&str> = vs.iter().map(Verdict::reason).collect();
    Verdict::Fail(format!("none holds: {}", reasons.join("; or ")))
}

fn assert(a: &ObjectAssert, view: &dyn View) -> Verdict {
    let (list, note) = match objects(view, &a.target) {
        Objects::Known(l, n) => (l, n),
        Objects::Unknown(v) => return v,
    };
    let what = &a.target;
    if list.is_empty() {
        return with_note(format!("{what} not found"), note);
    }
    let mut best: Option<(&Value, Vec<String>)> = None;
    for o in &list {
        let m = matcher::mismatches(&a.expect, o);
        if m.is_empty() {
            return Verdict::Pass;
        }
        if best.as_ref().is_none_or(|(_, b)| m.len() < b.len()) {
            best = Some((o, m));
        }
    }
    let Some((o, m)) = best else {
        return Verdict::Fail(format!("{what} not found"));
    };
    Verdict::Fail(format!(
        "{} {}: {}\n{}",
        a.target.kind,
        name(o),
        m.join(", "),
        matcher::diff(&a.expect, o).trim_end()
    ))
}

fn absent(t: &Target, view: &dyn View) -> Verdict {
    match objects(view, t) {
        Objects::Unknown(v) => v,
        Objects::Known(l, _) if l.is_empty() => Verdict::Pass,
        Objects::Known(l, _) => {
            let names: Vec<&str> = l.iter().take(5).map(name).collect();
            Verdict::Fail(format!(
                "want no {}, found {} ({})",
                t,
                l.len(),
                names.join(", ")
            ))
        }
    }
}

/// `p1 Pending` for pods, `p1: <first mismatch>` otherwise.
fn why_not(filter: &Value, o: &Value) -> String {
    if let Some(phase) = o.pointer("/status/phase").and_then(Value::as_str)
        && filter.pointer("/status/phase").is_some()
    {
        return format!("{} {phase}", name(o));
    }
    if terminating(o) {
        return format!("{} terminating", name(o));
    }
    let m = matcher::mismatches(filter, o);
    format!(
        "{}: {}",
        name(o),
        m.first().map(String::as_str).unwrap_or("?")
    )
}

fn count(c: &CountCheck, view: &dyn View) -> Verdict {
    let (list, note) = match objects(view, &c.target) {
        Objects::Known(l, n) => (l, n),
        Objects::Unknown(v) => return v,
    };
    let (good, bad): (Vec<&Value>, Vec<&Value>) = list
        .iter()
        .partition(|o| !terminating(o) && c.filter.as_ref().is_none_or(|f| matcher::matches(f, o)));
    let n = good.len() as u64;
    if c.expect.holds(n) {
        return Verdict::Pass;
    }
    let filter = c.filter.as_ref().map(filter_text).unwrap_or_default();
    let mut reason = format!("want {} {}{filter}, found {n}", c.expect, c.target);
    if !bad.is_empty() {
        let f = c.filter.clone().unwrap_or(Value::Null);
        let why: Vec<String> = bad.iter().take(5).map(|o| why_not(&f, o)).collect();
        reason.push_str(&format!(" ({})", why.join(", ")));
    }
    with_note(reason, note)
}

/// ` in phase Running` for the usual pod filter, ` matching {...}` otherwise.
fn filter_text(f: &Value) -> String {
    match f.pointer("/status/phase").and_then(Value::as_str) {
        Some(p) if f.as_object().is_some_and(|m| m.len() == 1) => format!(" in phase {p}"),
        _ => format!(" matching {}", matcher::short(f)),
    }
}

fn owned(o: &OwnedCheck, view: &dyn View) -> Verdict {
    let owners = match objects(view, &o.owner) {
        Objects::Known(l, n) if l.is_empty() => {
            return with_note(format!("owner {} not found", o.owner), n);
        }
        Objects::Known(l, _) => l,
        Objects::Unknown(v) => return v,
    };
    let uid = owners[0]
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut owned_t = o.owned.clone();
    if owned_t.namespace.is_none() {
        owned_t.namespace.clone_from(&o.owner.namespace);
    }
    let list = match objects(view, &owned_t) {
        Objects::Known(l, _) => l,
        Objects::Unknown(v) => return v,
    };
    let mine: Vec<&Value> = list
        .iter()
        .filter(|x| !terminating(x))
        .filter(|x| {
            x.pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|refs| {
                    refs.iter().any(|r| {
                        r.get("uid").and_then(Value::as_str) == Some(uid.as_str())
                            && (!o.controller
                                || r.get("controller").and_then(Value::as_bool) == Some(true))
                    })
                })
        })
        .collect();
    let n = mine.len() as u64;
    if let Some(manager) = &o.not_made_by {
        let made: Vec<String> = mine
            .iter()
            .filter(|x| made_by(x, manager))
            .map(|x| name(x).to_string())
            .collect();
        if !made.is_empty() {
            return Verdict::Fail(made_by_reason(manager, &made));
        }
    }
    if o.expect.holds(n) {
        Verdict::Pass
    } else {
        let by = if o.controller { "controlled" } else { "owned" };
        Verdict::Fail(format!(
            "want {} {} {by} by {}, found {n}",
            o.expect,
            Target {
                name: None,
                ..owned_t
            },
            o.owner
        ))
    }
}

/// Whether a field manager wrote the object (an entry of its `metadata.managedFields`).
pub fn made_by(object: &Value, manager: &str) -> bool {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|entries| {
            entries
                .iter()
                .any(|e| e.get("manager").and_then(Value::as_str) == Some(manager))
        })
}

fn made_by_reason(manager: &str, objects: &[String]) -> String {
    let list = objects.join(", ");
    if manager == crate::operator::MANAGER {
        format!(
            "these pods were made by oplab's built-in operator, not by yours: {list} (field manager \
             {manager}); switch the built-in operator off (o in the TUI), delete them and run your own"
        )
    } else {
        format!("these objects were made by field manager {manager}: {list}")
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn jsonpath(j: &JsonPathCheck, view: &dyn View) -> Verdict {
    let list = match objects(view, &j.target) {
        Objects::Known(l, n) if l.is_empty() => {
            return with_note(format!("{} not found", j.target), n);
        }
        Objects::Known(l, _) => l,
        Objects::Unknown(v) => return v,
    };
    let nodes = j.path.query(&list[0]).all();
    let first = nodes.first().copied();
    let shown = first.map(matcher::short).unwrap_or_else(|| "absent".into());
    let (ok, want) = match &j.compare {
        Compare::Exists(e) => (
            first.is_some() == *e,
            if *e {
                "present".to_string()
            } else {
                "absent".to_string()
            },
        ),
        Compare::Equals(v) => (
            first.is_some_and(|f| matcher::matches(v, f) && matcher::matches(f, v)),
            matcher::short(v),
        ),
        Compare::NotEquals(v) => (
            first.is_none_or(|f| !(matcher::matches(v, f) && matcher::matches(f, v))),
            format!("not {}", matcher::short(v)),
        ),
        Compare::AtLeast(x) => (
            first.and_then(num).is_some_and(|n| n >= *x),
            format!("at least {x}"),
        ),
        Compare::AtMost(x) => (
            first.and_then(num).is_some_and(|n| n <= *x),
            format!("at most {x}"),
        ),
        Compare::GreaterThan(x) => (
            first.and_then(num).is_some_and(|n| n > *x),
            format!("more than {x}"),
        ),
        Compare::LessThan(x) => (
            first.and_then(num).is_some_and(|n| n < *x),
            format!("less than {x}"),
        ),
        Compare::Contains(v) => (
            first.is_some_and(|f| match (f, v) {
                (Value::String(s), Value::String(sub)) => s.contains(sub.as_str()),
                (Value::Array(items), _) => items.iter().any(|i| matcher::matches(v, i)),
                _ => false,
            }),
            format!("containing {}", matcher::short(v)),
        ),
    };
    if ok {
        Verdict::Pass
    } else {
        Verdict::Fail(format!(
            "{} of {} is {shown}, want {want}",
            j.path_text, j.target
        ))
    }
}

fn exec(e: &ExecCheck, view: &dyn View) -> Verdict {
    match view.exec_output(&e.exec) {
        None => Verdict::Skipped(format!(
            "runs `{}` in a pod, only when asked",
            e.exec.command.join(" ")
        )),
        Some(Err(why)) => Verdict::CannotCheck(why),
        Some(Ok(out)) => output(&e.expect, &out, &e.exec.command.join(" ")),
    }
}

/// Compares a command's output with what is expected.
pub fn output(expect: &OutputExpect, out: &str, cmd: &str) -> Verdict {
    let mut problems = Vec::new();
    for c in &expect.contains {
        if !out.contains(c.as_str()) {
            problems.push(format!("does not contain {c:?}"));
        }
    }
    for c in &expect.not_contains {
        if out.contains(c.as_str()) {
            problems.push(format!("contains {c:?}"));
        }
    }
    if let Some(eq) = &expect.equals
        && out.trim() != eq.trim()
    {
        problems.push(format!("is {:?}, want {eq:?}", out.trim()));
    }
    if let Some(n) = expect.lines {
        let have = out.lines().filter(|l| !l.trim().is_empty()).count();
        if have != n {
            problems.push(format!("has {have} lines, want {n}"));
        }
    }
    if problems.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail(format!("the output of `{cmd}` {}", problems.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_names_the_parts_it_cannot_check_beside_its_failures() {
        let v = all(vec![
            Verdict::Fail("CRD x not found".into()),
            Verdict::CannotCheck("watching apps/v1 Deployment in olm is forbidden".into()),
            Verdict::Pass,
        ]);
        assert_eq!(
            v,
            Verdict::Fail(
                "CRD x not found; cannot check: watching apps/v1 Deployment in olm is forbidden"
                    .into()
            )
        );
        let v = all(vec![
            Verdict::Pass,
            Verdict::CannotCheck("forbidden".into()),
        ]);
        assert_eq!(v, Verdict::CannotCheck("forbidden".into()));
    }

    #[test]
    fn all_says_a_note_its_parts_share_once() {
        let note = "the cluster does not serve kind Gordon";
        let v = all(vec![
            Verdict::Fail(format!("owner Gordon g not found; {note}")),
            Verdict::Fail(format!("Gordon g not found; {note}")),
        ]);
        assert_eq!(
            v,
            Verdict::Fail(format!(
                "owner Gordon g not found; {note}; Gordon g not found"
            ))
        );
    }
}
