//! Field sets of server-side apply: path elements, set algebra and the FieldsV1 wire format.

use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One step of a field path, ordered as structured-merge-diff orders them
/// (field names, then keys, then values, then indices).
#[derive(Debug, Clone)]
pub enum PathElement {
    /// A field of an object: `f:<name>`, displayed `.name`.
    Field(String),
    /// An associative-list item by its key fields (sorted by name): `k:{...}`, displayed `[name="web"]`.
    Key(Vec<(String, Value)>),
    /// A set item by value: `v:<json>`, displayed `[=value]`.
    Value(Value),
    /// A list item by position: `i:<n>`, displayed `[n]`.
    Index(usize),
}

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// The FieldsV1 key of this element.
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let mut m = Map::new();
                for (k, v) in fields {
                    m.insert(k.clone(), v.clone());
                }
                format!("k:{}", Value::Object(m))
            }
            PathElement::Value(v) => format!("v:{v}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses a FieldsV1 key (`f:`, `k:`, `v:` or `i:`).
    pub fn from_fields_v1_key(key: &str) -> Result<Self, String> {
        let bad = || format!("invalid FieldsV1 key {key:?}");
        if let Some(name) = key.strip_prefix("f:") {
            return Ok(PathElement::Field(name.to_string()));
        }
        if let Some(json) = key.strip_prefix("k:") {
            let Ok(Value::Object(m)) = serde_json::from_str::<Value>(json) else {
                return Err(bad());
            };
            let mut fields: Vec<(String, Value)> = m.into_iter().collect();
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            return Ok(PathElement::Key(fields));
        }
        if let Some(json) = key.strip_prefix("v:") {
            return serde_json::from_str(json)
                .map(PathElement::Value)
                .map_err(|_| bad());
        }
        if let Some(i) = key.strip_prefix("i:") {
            return i.parse().map(PathElement::Index).map_err(|_| bad());
        }
        Err(bad())
    }
}

impl std::fmt::Display for PathElement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={v}]"),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A path in display form, e.g. `.spec.template.spec.containers[name="web"].image`.
pub fn display_path(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// A total order over JSON values (numbers numerically, objects by sorted entries).
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.partial_cmp(&y).unwrap_or(Ordering::Equal)
            }
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (l, r) in x.iter().zip(y) {
                let c = compare_values(l, r);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<_> = x.iter().collect();
            let mut ys: Vec<_> = y.iter().collect();
            xs.sort_by(|a, b| a.0.cmp(b.0));
            ys.sort_by(|a, b| a.0.cmp(b.0));
            for ((lk, lv), (rk, rv)) in xs.iter().zip(&ys) {
                let c = lk.cmp(rk).then_with(|| compare_values(lv, rv));
                if c != Ordering::Equal {
                    return c;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => {
                for ((ak, av), (bk, bv)) in a.iter().zip(b) {
                    let c = ak.cmp(bk).then_with(|| compare_values(av, bv));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

/// A set of field paths as a tree. A node is `member` when its own path is in the set.
/// Invariant: no node is both a non-member and childless (except the root).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    member: bool,
    children: BTreeMap<PathElement, Set>,
}

impl Set {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when the set has no path.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    /// Adds `path` (the empty path is ignored).
    pub fn insert(&mut self, path: &[PathElement]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let child = self.children.entry(first.clone()).or_default();
        if rest.is_empty() {
            child.member = true;
        } else {
            child.insert(rest);
        }
    }

    /// True when `path` itself is in the set.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        self.node(path).is_some_and(|n| n.member)
    }

    /// True when some path strictly below `path` is in the set.
    pub fn has_descendants(&self, path: &[PathElement]) -> bool {
        self.node(path).is_some_and(|n| !n.children.is_empty())
    }

    fn node(&self, path: &[PathElement]) -> Option<&Set> {
        let mut cur = self;
        for pe in path {
            cur = cur.children.get(pe)?;
        }
        Some(cur)
    }

    /// Adds every path of `other`.
    pub fn union_with(&mut self, other: &Set) {
        self.member |= other.member;
        for (pe, child) in &other.children {
            self.children
                .entry(pe.clone())
                .or_default()
                .union_with(child);
        }
    }

    /// Removes every path of `other` (path by path, not the subtrees below them).
    pub fn subtract(&mut self, other: &Set) {
        if other.member {
            self.member = false;
        }
        for (pe, child) in &other.children {
            if let Some(mine) = self.children.get_mut(pe) {
                mine.subtract(child);
                if mine.is_empty() {
                    self.children.remove(pe);
                }
            }
        }
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &Set) -> Set {
        let mut out = Set {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (pe, child) in &self.children {
            if let Some(theirs) = other.children.get(pe) {
                let both = child.intersection(theirs);
                if !both.is_empty() {
                    out.children.insert(pe.clone(), both);
                }
            }
        }
        out
    }

    /// Removes `path` and everything below it.
    pub fn remove_tree(&mut self, path: &[PathElement]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        if rest.is_empty() {
            self.children.remove(first);
            return;
        }
        if let Some(child) = self.children.get_mut(first) {
            child.remove_tree(rest);
            if child.is_empty() {
                self.children.remove(first);
            }
        }
    }

    /// Removes `path` itself, keeping what is below it.
    pub fn remove(&mut self, path: &[PathElement]) {
        let mut single = Set::new();
        single.insert(path);
        self.subtract(&single);
    }

    /// Every path, in structured-merge-diff's iteration order: at each level the members
    /// first, then the paths below each child.
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        for (pe, child) in &self.children {
            if child.member {
                let mut p = prefix.clone();
                p.push(pe.clone());
                out.push(p);
            }
        }
        for (pe, child) in &self.children {
            prefix.push(pe.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }

    /// The FieldsV1 JSON of this set, as Kubernetes writes it in `managedFields[].fieldsV1`.
    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        for (pe, child) in &self.children {
            let mut inner = Map::new();
            if child.member && !child.children.is_empty() {
                inner.insert(".".to_string(), Value::Object(Map::new()));
            }
            if let Value::Object(grand) = child.to_fields_v1() {
                inner.extend(grand);
            }
            m.insert(pe.to_fields_v1_key(), Value::Object(inner));
        }
        Value::Object(m)
    }

    /// Parses FieldsV1 JSON.
    pub fn from_fields_v1(v: &Value) -> Result<Set, String> {
        let Value::Object(m) = v else {
            return Err("FieldsV1 is not an object".to_string());
        };
        let mut set = Set::new();
        for (key, inner) in m {
            if key == "." {
                continue;
            }
            let pe = PathElement::from_fields_v1_key(key)?;
            let mut child = Set::from_fields_v1(inner)?;
            let self_marked = inner.as_object().is_some_and(|o| o.contains_key("."));
            if self_marked || child.children.is_empty() {
                child.member = true;
            }
            set.children.insert(pe, child);
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(s: &str) -> PathElement {
        PathElement::Field(s.to_string())
    }

    #[test]
    fn fields_v1_round_trip_and_order() {
        let text = r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        let set = Set::from_fields_v1(&v).unwrap();
        assert_eq!(serde_json::to_string(&set.to_fields_v1()).unwrap(), text);
        assert!(set.contains(&[f("metadata"), f("labels")]));
        assert!(!set.contains(&[f("metadata")]));
        assert!(set.contains(&[f("spec"), f("replicas")]));
        let web = PathElement::Key(vec![("name".into(), json!("web"))]);
        let image = [
            f("spec"),
            f("template"),
            f("spec"),
            f("containers"),
            web,
            f("image"),
        ];
        assert!(set.contains(&image));
        assert_eq!(
            display_path(&image),
            r#".spec.template.spec.containers[name="web"].image"#
        );
    }

    #[test]
    fn element_order_and_display() {
        let mut set = Set::new();
        set.insert(&[f("finalizers"), PathElement::Value(json!("b"))]);
        set.insert(&[f("finalizers"), PathElement::Value(json!("a"))]);
        set.insert(&[
            f("ports"),
            PathElement::Key(vec![("port".into(), json!(9))]),
        ]);
        set.insert(&[
            f("ports"),
            PathElement::Key(vec![("port".into(), json!(10))]),
        ]);
        set.insert(&[f("a")]);
        let shown: Vec<String> = set.paths().iter().map(|p| display_path(p)).collect();
        assert_eq!(
            shown,
            [
                ".a",
                r#".finalizers[="a"]"#,
                r#".finalizers[="b"]"#,
                ".ports[port=9]",
                ".ports[port=10]"
            ]
        );
        let v = set.to_fields_v1();
        assert_eq!(v["f:finalizers"], json!({"v:\"a\"": {}, "v:\"b\"": {}}));
    }

    #[test]
    fn algebra() {
        let mut a = Set::new();
        a.insert(&[f("spec"), f("replicas")]);
        a.insert(&[f("spec"), f("paused")]);
        let mut b = Set::new();
        b.insert(&[f("spec"), f("replicas")]);
        b.insert(&[f("metadata"), f("labels")]);
        assert_eq!(
            a.intersection(&b).paths(),
            vec![vec![f("spec"), f("replicas")]]
        );
        let mut c = a.clone();
        c.subtract(&b);
        assert_eq!(c.paths(), vec![vec![f("spec"), f("paused")]]);
        c.subtract(&a);
        assert!(c.is_empty());
        let mut u = a.clone();
        u.union_with(&b);
        assert_eq!(u.paths().len(), 3);
        assert!(u.has_descendants(&[f("spec")]));
        u.remove_tree(&[f("spec")]);
        assert_eq!(u.paths(), vec![vec![f("metadata"), f("labels")]]);
    }
}
