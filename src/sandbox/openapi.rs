//! OpenAPI v3 (`/openapi/v3`, `/openapi/v3/<api|apis/group>/<version>`) and JSON OpenAPI v2 (`/openapi/v2`),
//! built from the built-in kinds' schemas (k8s-openapi's, with the patch facts of `patch::merge_keys`) and from
//! the served CRDs' schemas, so `kubectl explain` works and kubectl finds server-side field validation.
//!
//! The shapes follow kube-apiserver's: one document per group-version listed in `/openapi/v3` with a
//! `serverRelativeURL` carrying a content hash, `x-kubernetes-group-version-kind` on each kind's schema and on
//! each operation, references to properties as `allOf: [{$ref}]` beside their description, and the
//! `fieldValidation`/`dryRun`/`fieldManager` query parameters on writes (kubectl's query-parameter verifier
//! reads them from the PATCH operation: staging/src/k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go;
//! the document handler: k8s.io/kube-openapi/pkg/handler3/handler.go; CRD documents:
//! staging/src/k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder/builder.go).

use crate::sandbox::kinds::registry::{BUILTINS, Registry, ResourceType};
use crate::sandbox::patch::{TypeRef, merge_keys};
use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

/// The schema of a built-in kind's type, registered in `gen`'s definitions (a `$ref` to it).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// [`SchemaFn`] of a k8s-openapi type.
pub fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

const REF_PREFIX: &str = "#/components/schemas/";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const SCALE: &str = "io.k8s.api.autoscaling.v1.Scale";

/// Every built-in schema by name, and the schema name of each built-in kind (group, version, kind).
struct Builtins {
    schemas: BTreeMap<String, Value>,
    kinds: BTreeMap<(String, String, String), String>,
}

static BUILTIN: LazyLock<Builtins> = LazyLock::new(build_builtins);

fn build_builtins() -> Builtins {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut kinds = BTreeMap::new();
    for b in BUILTINS {
        let schema = (b.schema)(&mut generator);
        if let Some(name) = ref_name(schema.as_value()) {
            kinds.insert(
                (
                    b.group.to_string(),
                    b.version.to_string(),
                    b.kind.to_string(),
                ),
                name.to_string(),
            );
        }
    }
    schema_of::<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>(&mut generator);
    schema_of::<k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions>(&mut generator);
    schema_of::<k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta>(&mut generator);
    schema_of::<k8s_openapi::api::autoscaling::v1::Scale>(&mut generator);
    let mut schemas: BTreeMap<String, Value> = generator
        .take_definitions(true)
        .into_iter()
        .map(|(name, mut schema)| {
            kube_style(&mut schema);
            (name, schema)
        })
        .collect();
    schemas.insert(
        PATCH.into(),
        json!({"type": "object", "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body."}),
    );
    for ((group, version, kind), name) in &kinds {
        if let Some(s) = schemas.get_mut(name) {
            add_gvk(s, group, version, kind);
        }
        let list = list_schema(name, &format!("{kind}List"));
        let mut list = list;
        add_gvk(&mut list, group, version, &format!("{kind}List"));
        schemas.insert(format!("{name}List"), list);
    }
    if let Some(s) = schemas.get_mut(SCALE) {
        add_gvk(s, "autoscaling", "v1", "Scale");
    }
    if let Some(s) = schemas.get_mut(STATUS) {
        add_gvk(s, "", "v1", "Status");
    }
    for b in BUILTINS {
        let Some(name) = kinds.get(&(b.group.into(), b.version.into(), b.kind.into())) else {
            continue;
        };
        let ty = TypeRef {
            group: b.group,
            kind: b.kind,
            builtin: true,
        };
        annotate_lists(
            &mut schemas,
            name,
            ty,
            &mut Vec::new(),
            &mut BTreeSet::new(),
        );
    }
    Builtins { schemas, kinds }
}

fn ref_name(schema: &Value) -> Option<&str> {
    schema["$ref"].as_str()?.strip_prefix(REF_PREFIX)
}

fn ref_to(name: &str) -> Value {
    json!({"$ref": format!("{REF_PREFIX}{name}")})
}

/// A `$ref` with siblings (description, default) becomes `allOf: [{$ref}]` with those siblings, as
/// kube-apiserver writes it (OpenAPI 3.0 ignores siblings of `$ref`); `$schema` keys go.
fn kube_style(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("$schema");
            if m.len() > 1
                && let Some(r) = m.remove("$ref")
            {
                m.insert("allOf".into(), json!([{"$ref": r}]));
            }
            for (_, x) in m.iter_mut() {
                kube_style(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(kube_style),
        _ => {}
    }
}

fn add_gvk(schema: &mut Value, group: &str, version: &str, kind: &str) {
    if let Some(m) = schema.as_object_mut() {
        m.insert(
            "x-kubernetes-group-version-kind".into(),
            json!([{"group": group, "kind": kind, "version": version}]),
        );
    }
}

fn list_schema(item: &str, list_kind: &str) -> Value {
    json!({
        "description": format!("{list_kind} is a list of {}.", list_kind.trim_end_matches("List")),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."},
            "items": {"type": "array", "description": "List of objects.", "items": {"allOf": [ref_to(item)], "default": {}}},
            "kind": {"type": "string", "description": "Kind is a string value representing the REST resource this object represents."},
            "metadata": {"allOf": [ref_to(LIST_META)], "default": {}, "description": "Standard list metadata."},
        },
    })
}

/// The schema a (sub)schema points to: `$ref` or a one-element `allOf` of a `$ref`.
fn target(schema: &Value) -> Option<String> {
    ref_name(schema)
        .or_else(|| schema["allOf"].get(0).and_then(ref_name))
        .map(String::from)
}

/// Marks list properties with the patch and list facts the sandbox's patch code uses
/// (`x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`, `x-kubernetes-list-type`,
/// `x-kubernetes-list-map-keys`), so kubectl's client-side apply computes the patches the server expects.
fn annotate_lists(
    schemas: &mut BTreeMap<String, Value>,
    name: &str,
    ty: TypeRef<'_>,
    path: &mut Vec<String>,
    seen: &mut BTreeSet<(String, usize)>,
) {
    if path.len() > 8 || !seen.insert((name.to_string(), path.len())) {
        return;
    }
    let props: Vec<(String, Value)> =
        match schemas.get(name).and_then(|s| s["properties"].as_object()) {
            Some(p) => p.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            None => return,
        };
    for (field, prop) in props {
        path.push(field.clone());
        let segs: Vec<&str> = path.iter().map(String::as_str).collect();
        if let Some(info) = merge_keys::lookup(ty, &segs).list_info()
            && let Some(p) = schemas
                .get_mut(name)
                .and_then(|s| s["properties"].get_mut(&field))
                .and_then(Value::as_object_mut)
        {
            if let Some(k) = info.patch_merge_key {
                p.insert("x-kubernetes-patch-merge-key".into(), json!(k));
            }
            match info.patch_strategy {
                merge_keys::PatchStrategy::Merge => {
                    p.insert("x-kubernetes-patch-strategy".into(), json!("merge"));
                }
                merge_keys::PatchStrategy::MergeRetainKeys => {
                    p.insert(
                        "x-kubernetes-patch-strategy".into(),
                        json!("merge,retainKeys"),
                    );
                }
                merge_keys::PatchStrategy::Replace => {}
            }
            match info.list_type {
                merge_keys::ListType::Atomic => {
                    p.insert("x-kubernetes-list-type".into(), json!("atomic"));
                }
                merge_keys::ListType::Set => {
                    p.insert("x-kubernetes-list-type".into(), json!("set"));
                }
                merge_keys::ListType::Map(keys) => {
                    p.insert("x-kubernetes-list-type".into(), json!("map"));
                    p.insert("x-kubernetes-list-map-keys".into(), json!(keys));
                }
            }
        }
        let next = target(&prop).or_else(|| target(&prop["items"]));
        if let Some(next) = next {
            annotate_lists(schemas, &next, ty, path, seen);
        }
        path.pop();
    }
}

/// `api/v1` or `apis/apps/v1`: the key of a group-version in `/openapi/v3`.
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `operator.prgcont.cz` + `v1` + `Gordon` -> `cz.prgcont.operator.v1.Gordon`, as CRD schemas are named.
fn crd_schema_name(rt: &ResourceType) -> String {
    let reversed: Vec<&str> = rt.group.split('.').rev().collect();
    format!("{}.{}.{}", reversed.join("."), rt.version, rt.kind)
}

/// The schema of a custom resource version, as kube-apiserver publishes it: the CRD's schema with
/// apiVersion, kind and metadata (ObjectMeta) filled in.
fn crd_schema(rt: &ResourceType) -> Value {
    let mut s = rt
        .crd
        .as_ref()
        .and_then(|c| c.schema.clone())
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    if !s.is_object() {
        s = json!({"type": "object"});
    }
    if !s["properties"].is_object() {
        s["properties"] = json!({});
    }
    s["properties"]["apiVersion"] = json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"});
    s["properties"]["kind"] = json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"});
    s["properties"]["metadata"] = json!({"allOf": [ref_to(OBJECT_META)], "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"});
    add_gvk(&mut s, &rt.group, &rt.version, &rt.kind);
    s
}

fn query_param(name: &str, description: &str, kind: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": kind, "uniqueItems": true}})
}

fn write_params(patch: bool) -> Vec<Value> {
    let mut p = vec![
        query_param(
            "dryRun",
            "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
            "string",
        ),
        query_param(
            "fieldManager",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
            "string",
        ),
        query_param(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
            "string",
        ),
    ];
    if patch {
        p.push(query_param(
            "force",
            "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people.",
            "boolean",
        ));
    }
    p
}

fn list_params() -> Vec<Value> {
    [
        ("allowWatchBookmarks", "boolean"),
        ("continue", "string"),
        ("fieldSelector", "string"),
        ("labelSelector", "string"),
        ("limit", "integer"),
        ("resourceVersion", "string"),
        ("resourceVersionMatch", "string"),
        ("sendInitialEvents", "boolean"),
        ("timeoutSeconds", "integer"),
        ("watch", "boolean"),
    ]
    .iter()
    .map(|(n, t)| query_param(n, n, t))
    .collect()
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": format!("{name} of the resource"), "schema": {"type": "string", "uniqueItems": true}})
}

fn body(schema: &str, patch: bool) -> Value {
    let content = if patch {
        [
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
        ]
        .iter()
        .map(|m| (m.to_string(), json!({"schema": ref_to(PATCH)})))
        .collect::<Map<_, _>>()
    } else {
        let mut m = Map::new();
        m.insert("*/*".into(), json!({"schema": ref_to(schema)}));
        m
    };
    json!({"content": content, "required": true})
}

fn ok(schema: &str) -> Value {
    json!({"200": {"description": "OK", "content": {
        "application/json": {"schema": ref_to(schema)},
        "application/yaml": {"schema": ref_to(schema)},
        "application/vnd.kubernetes.protobuf": {"schema": ref_to(schema)},
    }}, "401": {"description": "Unauthorized"}})
}

fn op_id(verb: &str, rt: &ResourceType, namespaced: bool, suffix: &str) -> String {
    let group: String = rt
        .group
        .split('.')
        .next()
        .map(|g| {
            let mut c = g.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let group = if rt.group.is_empty() {
        "Core".to_string()
    } else {
        group
    };
    let version = {
        let mut c = rt.version.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    let ns = if namespaced { "Namespaced" } else { "" };
    format!("{verb}{group}{version}{ns}{}{suffix}", rt.kind)
}

#[allow(clippy::too_many_arguments)]
fn operation(
    verb: &str,
    action: &str,
    rt: &ResourceType,
    gvk: (&str, &str, &str),
    id: String,
    params: Vec<Value>,
    request: Option<Value>,
    response: &str,
) -> Value {
    let mut op = json!({
        "operationId": id,
        "description": format!("{verb} {}", rt.kind),
        "tags": [rt.api_version().replace('/', "_")],
        "parameters": params,
        "responses": ok(response),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": gvk.0, "kind": gvk.2, "version": gvk.1},
    });
    if let Some(r) = request {
        op["requestBody"] = r;
    }
    op
}

/// The paths of one resource: collection, object, and its status and scale subresources.
fn resource_paths(rt: &ResourceType, schema: &str, paths: &mut Map<String, Value>) {
    let prefix = format!("/{}", gv_path(&rt.group, &rt.version));
    let gvk = (rt.group.as_str(), rt.version.as_str(), rt.kind.as_str());
    let list = format!("{schema}List");
    let scope = if rt.namespaced {
        "/namespaces/{namespace}"
    } else {
        ""
    };
    let ns_params = || -> Vec<Value> {
        if rt.namespaced {
            vec![path_param("namespace")]
        } else {
            Vec::new()
        }
    };
    let collection = format!("{prefix}{scope}/{}", rt.plural);
    let with = |mut base: Vec<Value>, more: Vec<Value>| {
        base.extend(more);
        base
    };
    paths.insert(
        collection.clone(),
        json!({
            "get": operation("list", "list", rt, gvk, op_id("list", rt, rt.namespaced, ""), with(ns_params(), list_params()), None, &list),
            "post": operation("create", "post", rt, gvk, op_id("create", rt, rt.namespaced, ""), with(ns_params(), write_params(false)), Some(body(schema, false)), schema),
            "delete": operation("delete collection of", "deletecollection", rt, gvk, op_id("deleteCollection", rt, rt.namespaced, ""), with(ns_params(), list_params()), Some(body(DELETE_OPTIONS, false)), STATUS),
        }),
    );
    if rt.namespaced {
        paths.insert(
            format!("{prefix}/{}", rt.plural),
            json!({"get": operation("list", "list", rt, gvk, op_id("list", rt, false, "ForAllNamespaces"), list_params(), None, &list)}),
        );
    }
    let named = || with(vec![path_param("name")], ns_params());
    paths.insert(
        format!("{collection}/{{name}}"),
        json!({
            "get": operation("read", "get", rt, gvk, op_id("read", rt, rt.namespaced, ""), named(), None, schema),
            "put": operation("replace", "put", rt, gvk, op_id("replace", rt, rt.namespaced, ""), with(named(), write_params(false)), Some(body(schema, false)), schema),
            "patch": operation("partially update", "patch", rt, gvk, op_id("patch", rt, rt.namespaced, ""), with(named(), write_params(true)), Some(body(schema, true)), schema),
            "delete": operation("delete", "delete", rt, gvk, op_id("delete", rt, rt.namespaced, ""), named(), Some(body(DELETE_OPTIONS, false)), STATUS),
        }),
    );
    for sub in &rt.subresources {
        let (sub_schema, sub_gvk, suffix) = match sub.as_str() {
            "status" => (schema, gvk, "Status"),
            "scale" => (SCALE, ("autoscaling", "v1", "Scale"), "Scale"),
            _ => continue,
        };
        paths.insert(
            format!("{collection}/{{name}}/{sub}"),
            json!({
                "get": operation("read", "get", rt, sub_gvk, op_id("read", rt, rt.namespaced, suffix), named(), None, sub_schema),
                "put": operation("replace", "put", rt, sub_gvk, op_id("replace", rt, rt.namespaced, suffix), with(named(), write_params(false)), Some(body(sub_schema, false)), sub_schema),
                "patch": operation("partially update", "patch", rt, sub_gvk, op_id("patch", rt, rt.namespaced, suffix), with(named(), write_params(true)), Some(body(sub_schema, true)), sub_schema),
            }),
        );
    }
}

/// Adds `name` and every schema it refers to (from `available`) to `out`.
fn collect(name: &str, available: &BTreeMap<String, Value>, out: &mut Map<String, Value>) {
    if out.contains_key(name) {
        return;
    }
    let Some(schema) = available.get(name) else {
        return;
    };
    out.insert(name.to_string(), schema.clone());
    let mut refs = Vec::new();
    refs_in(schema, &mut refs);
    for r in refs {
        collect(&r, available, out);
    }
}

fn refs_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(REF_PREFIX))
            {
                out.push(r.to_string());
            }
            m.values().for_each(|x| refs_in(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs_in(x, out)),
        _ => {}
    }
}

/// The OpenAPI v3 document of one group-version, or None when it is not served.
pub fn document(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    if !reg.has_group_version(group, version) {
        return None;
    }
    let builtins = &*BUILTIN;
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut crd_schemas: BTreeMap<String, Value> = BTreeMap::new();
    for rt in reg.resources(group, version) {
        let name = match (
            &rt.crd,
            builtins
                .kinds
                .get(&(rt.group.clone(), rt.version.clone(), rt.kind.clone())),
        ) {
            (None, Some(name)) => name.clone(),
            _ => {
                let name = crd_schema_name(&rt);
                crd_schemas.insert(name.clone(), crd_schema(&rt));
                let mut list = list_schema(&name, &rt.list_kind());
                add_gvk(&mut list, &rt.group, &rt.version, &rt.list_kind());
                crd_schemas.insert(format!("{name}List"), list);
                name
            }
        };
        resource_paths(&rt, &name, &mut paths);
        for s in [name.clone(), format!("{name}List")] {
            if let Some(v) = crd_schemas.get(&s) {
                schemas.insert(s.clone(), v.clone());
                let mut refs = Vec::new();
                refs_in(v, &mut refs);
                for r in refs {
                    collect(&r, &builtins.schemas, &mut schemas);
                }
            } else {
                collect(&s, &builtins.schemas, &mut schemas);
            }
        }
        for s in [STATUS, DELETE_OPTIONS, PATCH] {
            collect(s, &builtins.schemas, &mut schemas);
        }
        if rt.has_sub("scale") {
            collect(SCALE, &builtins.schemas, &mut schemas);
        }
    }
    let mut sorted: Vec<(String, Value)> = schemas.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": crate::sandbox::transport::discovery::GIT_VERSION},
        "paths": paths,
        "components": {"schemas": sorted.into_iter().collect::<Map<_, _>>()},
    }))
}

/// A served document with its hash (the `?hash=` of its URL, and its ETag).
pub struct Served {
    pub bytes: Arc<Vec<u8>>,
    pub hash: String,
}

/// The serialized document of a group-version and its hash.
pub fn served(reg: &Registry, group: &str, version: &str) -> Option<Served> {
    // Documents of built-in group-versions never change: each is built once.
    type Cache = std::sync::Mutex<BTreeMap<(String, String), (Arc<Vec<u8>>, String)>>;
    static CACHE: LazyLock<Cache> = LazyLock::new(Default::default);
    let builtin_only = reg
        .resources(group, version)
        .iter()
        .all(|rt| rt.crd.is_none());
    let key = (group.to_string(), version.to_string());
    if builtin_only
        && let Some((bytes, hash)) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(&key)
    {
        return Some(Served {
            bytes: bytes.clone(),
            hash: hash.clone(),
        });
    }
    let served = build_served(reg, group, version)?;
    if builtin_only {
        CACHE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (served.bytes.clone(), served.hash.clone()));
    }
    Some(served)
}

fn build_served(reg: &Registry, group: &str, version: &str) -> Option<Served> {
    let doc = document(reg, group, version)?;
    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
    let hash = content_hash(&bytes);
    Some(Served {
        bytes: Arc::new(bytes),
        hash,
    })
}

fn content_hash(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA512, bytes);
    d.as_ref()[..64]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// `/openapi/v3`: every served group-version with the URL of its current document.
pub fn root(reg: &Registry) -> Value {
    let mut paths = Map::new();
    for (group, versions) in reg.groups() {
        for version in versions.keys() {
            if let Some(s) = served(reg, group, version) {
                let p = gv_path(group, version);
                paths.insert(
                    p.clone(),
                    json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", s.hash)}),
                );
            }
        }
    }
    json!({"paths": paths})
}

/// `/openapi/v2` as JSON (Swagger 2.0): every served kind's definition, v3 references rewritten.
pub fn swagger(reg: &Registry) -> Value {
    let mut definitions = Map::new();
    let mut paths = Map::new();
    for (group, versions) in reg.groups() {
        for version in versions.keys() {
            if let Some(doc) = document(reg, group, version) {
                if let Some(s) = doc["components"]["schemas"].as_object() {
                    for (k, v) in s {
                        definitions.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                if let Some(p) = doc["paths"].as_object() {
                    for (k, v) in p {
                        paths.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    let mut doc = json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": crate::sandbox::transport::discovery::GIT_VERSION},
        "paths": paths,
        "definitions": definitions,
    });
    v2_refs(&mut doc);
    doc
}

fn v2_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some(rest) = r.strip_prefix(REF_PREFIX)
            {
                *r = format!("#/definitions/{rest}");
            }
            m.values_mut().for_each(v2_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(v2_refs),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_have_their_kind_and_patch_facts() {
        let reg = Registry::builtin();
        let doc = document(&reg, "", "v1").expect("core v1");
        let pod = &doc["components"]["schemas"]["io.k8s.api.core.v1.Pod"];
        assert_eq!(pod["x-kubernetes-group-version-kind"][0]["kind"], "Pod");
        let containers =
            &doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        assert_eq!(containers["x-kubernetes-list-type"], "map");
        let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
        assert!(
            patch["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|x| x["name"] == "fieldValidation"))
        );
        assert!(pod["properties"]["spec"]["allOf"][0]["$ref"].is_string());
    }
}
