//! One stored version of an object: its compact JSON, kept as written, and the few fields the hot paths read.
//!
//! Lists and watch events are written straight from these bytes; code that needs the object as a [`Value`]
//! parses it on demand with [`Stored::value`]. This keeps an object version at about the size of its JSON
//! (a parsed `Value` with ordered maps takes some ten times more).

use crate::sandbox::kinds::table::Row;
use serde_json::Value;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// A stored object version.
pub struct Stored {
    json: Box<str>,
    /// Where the value of the top-level `metadata` field sits in `json`.
    metadata: Option<Range<usize>>,
    namespace: Box<str>,
    name: Box<str>,
    api_version: Box<str>,
    kind: Box<str>,
    /// `metadata.labels` (Null when absent), for label selectors.
    labels: Value,
    /// Whether `metadata.deletionTimestamp` is set.
    deleting: bool,
    resource_version: Option<Box<str>>,
    /// The Table row of this version, once a Table listed it, and the layout it was made for.
    row: Mutex<Option<(u64, Arc<Row>)>>,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("json", &self.json)
            .finish()
    }
}

impl Stored {
    /// Serializes an object (field order kept) and reads the fields the hot paths need.
    pub fn new(obj: &Value) -> Self {
        let mut out = Vec::with_capacity(1024);
        let mut metadata = None;
        match obj.as_object() {
            Some(map) => {
                out.push(b'{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json(&mut out, k);
                    out.push(b':');
                    let start = out.len();
                    write_json(&mut out, v);
                    if k == "metadata" {
                        metadata = Some(start..out.len());
                    }
                }
                out.push(b'}');
            }
            None => write_json(&mut out, obj),
        }
        // serde_json writes valid UTF-8; the fallback only guards against a broken invariant.
        let json = String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let meta = &obj["metadata"];
        let text = |v: &Value| v.as_str().unwrap_or_default().into();
        Self {
            json: json.into_boxed_str(),
            metadata,
            namespace: text(&meta["namespace"]),
            name: text(&meta["name"]),
            api_version: text(&obj["apiVersion"]),
            kind: text(&obj["kind"]),
            labels: meta["labels"].clone(),
            deleting: !meta["deletionTimestamp"].is_null(),
            resource_version: meta["resourceVersion"].as_str().map(Into::into),
            row: Mutex::new(None),
        }
    }

    /// The object as a [`Value`], parsed from its JSON.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or_else(|e| {
            // Only reachable if the stored bytes were not written by `new`.
            tracing::error!(
                "sandbox store: object {}/{} does not parse back: {e}",
                self.namespace,
                self.name
            );
            Value::Null
        })
    }

    /// The compact JSON of the object.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The JSON of `metadata` (`null` when the object has none).
    pub fn metadata_json(&self) -> &str {
        self.metadata
            .clone()
            .and_then(|span| self.json.get(span))
            .unwrap_or("null")
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// `metadata.labels`, Null when the object has none.
    pub fn labels(&self) -> &Value {
        &self.labels
    }

    /// `metadata.resourceVersion`.
    pub fn resource_version(&self) -> Option<&str> {
        self.resource_version.as_deref()
    }

    /// Whether the object is being deleted (`metadata.deletionTimestamp` is set).
    pub fn deleting(&self) -> bool {
        self.deleting
    }

    /// The Table row of this version for the table layout `layout`, made by `make` on first use.
    /// One row is kept; a row for another layout replaces it.
    pub fn table_row(&self, layout: u64, make: impl FnOnce() -> Row) -> Arc<Row> {
        let hit = {
            let slot = self.row.lock().unwrap_or_else(|e| e.into_inner());
            slot.as_ref()
                .filter(|(k, _)| *k == layout)
                .map(|(_, row)| row.clone())
        };
        if let Some(hit) = hit {
            return hit;
        }
        let made = Arc::new(make());
        let mut slot = self.row.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some((layout, made.clone()));
        made
    }
}

fn write_json(out: &mut Vec<u8>, v: &(impl serde::Serialize + ?Sized)) {
    // Serializing a `Value` or a string into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_field_order_and_reads_metadata() {
        let obj = json!({"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "p", "namespace": "ns", "labels": {"a": "b"}, "resourceVersion": "7"},
            "spec": {"z": 1, "a": [1.5, null, "x"]}});
        let s = Stored::new(&obj);
        assert_eq!(s.json(), serde_json::to_string(&obj).unwrap());
        assert_eq!(
            s.metadata_json(),
            serde_json::to_string(&obj["metadata"]).unwrap()
        );
        assert_eq!((s.namespace(), s.name()), ("ns", "p"));
        assert_eq!((s.api_version(), s.kind()), ("v1", "Pod"));
        assert_eq!(s.labels(), &json!({"a": "b"}));
        assert_eq!(s.value(), obj);
    }

    #[test]
    fn metadata_of_an_object_without_it_is_null() {
        let s = Stored::new(&json!({"kind": "X"}));
        assert_eq!(s.metadata_json(), "null");
        assert_eq!((s.namespace(), s.name()), ("", ""));
    }
}
