//! Validating a whole set before any write: kinds resolved, every document dry-run on the server or checked locally.
//!
//! The atomicity rule: nothing is written until every document passed one of these checks.
//! - A document whose kind the server serves and whose namespace exists (or that is cluster-scoped)
//!   is dry-run exactly as it will be applied (server-side apply, dryRun=All, strict field validation).
//! - A document of a built-in (served) kind in a namespace that only this set creates is dry-run in
//!   a stand-in namespace (`default`, forced so unrelated owners there do not matter): the server's
//!   validation and admission see the same object, only the namespace differs.
//! - A document whose kind is defined by a CRD of this same set (not served yet) is validated locally
//!   against that CRD's structural schema (types, required, enums, bounds, patterns, unknown fields);
//!   the CRD itself is dry-run on the server. Only this case relies on local validation, because the
//!   server cannot know the kind before the CRD exists; CEL rules and webhooks are not run for it.
//!
//! Why not apply namespaces and CRDs first: a later failure would leave them behind, i.e. a
//! half-applied set, which is what the workshop's old "run it again" advice came from.

use super::documents::Document;
use super::errors::{Detail, DocError, Failure, from_kube};
use super::resolve::{Kind, Resolver, is_crd};
use crate::sandbox::schema::structural;
use futures::{StreamExt, stream};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::fmt;

/// Concurrent requests per step.
pub const PARALLEL: usize = 16;
/// Field manager of every write.
pub const FIELD_MANAGER: &str = "oplab";
/// Where objects of namespaces the set creates are dry-run.
pub const STAND_IN_NAMESPACE: &str = "default";

/// Apply order; deletion runs it backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Namespaces,
    Crds,
    Rbac,
    Rest,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Namespaces, Phase::Crds, Phase::Rbac, Phase::Rest];

    pub fn of(doc: &Document) -> Phase {
        let group = doc.api_version().split_once('/').map_or("", |(g, _)| g);
        match (group, doc.kind()) {
            ("", "Namespace") => Phase::Namespaces,
            ("apiextensions.k8s.io", "CustomResourceDefinition") => Phase::Crds,
            ("", "ServiceAccount") => Phase::Rbac,
            ("rbac.authorization.k8s.io", _) => Phase::Rbac,
            _ => Phase::Rest,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Phase::Namespaces => "namespaces",
            Phase::Crds => "custom resource definitions",
            Phase::Rbac => "service accounts and RBAC",
            Phase::Rest => "everything else",
        }
    }
}

/// How a document was checked before the writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    ServerDryRun,
    StandInDryRun,
    LocalSchema,
}

/// `Kind/name -n ns`, as the results name an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)?;
        if let Some(ns) = &self.namespace {
            write!(f, " -n {ns}")?;
        }
        Ok(())
    }
}

/// One document ready to apply.
#[derive(Debug, Clone)]
pub struct Planned {
    pub doc: Document,
    pub kind: Kind,
    pub phase: Phase,
    pub object: ObjectRef,
    pub check: Check,
    /// The live object before the apply.
    pub live: Option<Value>,
    /// What it will look like: the dry-run result, or the manifest when checked locally.
    pub after: Value,
}

impl Planned {
    pub fn api(&self, client: &kube::Client) -> Api<DynamicObject> {
        match &self.object.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &self.kind.resource),
            None => Api::all_with(client.clone(), &self.kind.resource),
        }
    }
}

/// Resolves kinds and fills namespaces; no check yet (also used by delete).
pub async fn resolve_all(
    client: &kube::Client,
    docs: Vec<Document>,
    default_namespace: &str,
) -> Result<(Resolver, Vec<(Document, Kind)>), Failure> {
    let mut resolver = Resolver::new(client.clone(), &docs);
    resolver
        .prefetch(&docs)
        .await
        .map_err(|e| Failure::before_writes(vec![from_kube(&e, None, None)]))?;
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for mut doc in docs {
        let Some(kind) = resolver.resolve(&doc) else {
            let why = if resolver.serves_api_version(doc.api_version()) {
                format!(
                    "the server has no kind {} in {}",
                    doc.kind(),
                    doc.api_version()
                )
            } else {
                format!("the server does not serve apiVersion {}", doc.api_version())
            };
            errors.push(DocError {
                at: Some(doc.at()),
                object: Some(format!("{}/{}", doc.kind(), doc.name())),
                message: format!("unknown kind: {why}, and no CRD in this set defines it"),
                hint: "check kind and apiVersion for typos, or apply the set that installs its CRD first".into(),
                ..Default::default()
            });
            continue;
        };
        let meta = &mut doc.object["metadata"];
        if kind.namespaced {
            if meta["namespace"].as_str().is_none_or(str::is_empty) {
                meta["namespace"] = Value::String(default_namespace.to_string());
            }
        } else if let Some(m) = meta.as_object_mut() {
            m.remove("namespace");
        }
        out.push((doc, kind));
    }
    if errors.is_empty() {
        Ok((resolver, out))
    } else {
        Err(Failure::before_writes(errors))
    }
}

/// Checks every document (see the module doc) and reads the live objects; no write.
pub async fn plan(
    client: &kube::Client,
    docs: Vec<Document>,
    settings: &super::apply::Settings,
) -> Result<(Resolver, Vec<Planned>), Failure> {
    let default_namespace = settings.namespace.as_str();
    let (resolver, resolved) = resolve_all(client, docs, default_namespace).await?;
    let set_namespaces: HashSet<String> = resolved
        .iter()
        .filter(|(d, _)| Phase::of(d) == Phase::Namespaces)
        .map(|(d, _)| d.name().to_string())
        .collect();
    let existing = existing_namespaces(client, &resolved).await?;
    // Built before the stream so no closure over borrowed data sits in its type (keeps it `Send`).
    let checks: Vec<_> = resolved
        .into_iter()
        .map(|(doc, kind)| check_one(client, doc, kind, &set_namespaces, &existing, settings))
        .collect();
    let results: Vec<Result<Planned, DocError>> =
        stream::iter(checks).buffered(PARALLEL).collect().await;
    let mut planned = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(p) => planned.push(p),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok((resolver, planned))
    } else {
        Err(Failure::before_writes(errors))
    }
}

async fn existing_namespaces(
    client: &kube::Client,
    resolved: &[(Document, Kind)],
) -> Result<HashSet<String>, Failure> {
    let wanted: BTreeSet<String> = resolved
        .iter()
        .filter(|(_, k)| k.namespaced)
        .filter_map(|(d, _)| d.namespace().map(str::to_string))
        .collect();
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let mut out = HashSet::new();
    for ns in wanted {
        match api.get_opt(&ns).await {
            Ok(Some(_)) => {
                out.insert(ns);
            }
            Ok(None) => {}
            Err(e) => return Err(Failure::before_writes(vec![from_kube(&e, None, None)])),
        }
    }
    Ok(out)
}

async fn check_one(
    client: &kube::Client,
    doc: Document,
    kind: Kind,
    set_namespaces: &HashSet<String>,
    existing: &HashSet<String>,
    settings: &super::apply::Settings,
) -> Result<Planned, DocError> {
    let (force, validation, manager) = (
        settings.force_conflicts,
        settings.validation,
        settings.field_manager,
    );
    let object = ObjectRef {
        kind: doc.kind().to_string(),
        name: doc.name().to_string(),
        namespace: kind
            .namespaced
            .then(|| doc.namespace().unwrap_or_default().to_string()),
    };
    let at = doc.at();
    let label = object.to_string();
    let fail = |e: &kube::Error| from_kube(e, Some(at.clone()), Some(label.clone()));
    let ns_missing = object
        .namespace
        .as_ref()
        .is_some_and(|ns| !existing.contains(ns));
    if let Some(ns) = object.namespace.as_ref().filter(|_| ns_missing)
        && !set_namespaces.contains(ns)
    {
        return Err(DocError {
            at: Some(doc.at()),
            object: Some(object.to_string()),
            message: format!("namespace {ns} does not exist and this set does not create it"),
            hint: format!("create it (kubectl create namespace {ns}) or choose another with -n"),
            ..Default::default()
        });
    }
    let phase = Phase::of(&doc);
    let mut planned = Planned {
        after: doc.object.clone(),
        doc,
        kind,
        phase,
        object,
        check: Check::ServerDryRun,
        live: None,
    };
    if let Some(schema) = planned.kind.pending_schema.clone() {
        planned.check = Check::LocalSchema;
        validate_locally(&planned, &schema, validation)?;
        return Ok(planned);
    }
    let api = planned.api(client);
    if !ns_missing {
        planned.live = api
            .get_opt(&planned.object.name)
            .await
            .map_err(|e| fail(&e))?
            .and_then(|o| serde_json::to_value(o).ok());
    }
    let mut params = validation.on(PatchParams::apply(manager));
    params.dry_run = true;
    if ns_missing {
        planned.check = Check::StandInDryRun;
        let mut body = planned.doc.object.clone();
        body["metadata"]["namespace"] = Value::String(STAND_IN_NAMESPACE.into());
        let stand_in = Api::<DynamicObject>::namespaced_with(
            client.clone(),
            STAND_IN_NAMESPACE,
            &planned.kind.resource,
        );
        stand_in
            .patch(&planned.object.name, &params.force(), &Patch::Apply(&body))
            .await
            .map_err(|e| fail(&e))?;
        return Ok(planned);
    }
    if force {
        params = params.force();
    }
    let result = api
        .patch(
            &planned.object.name,
            &params,
            &Patch::Apply(&planned.doc.object),
        )
        .await
        .map_err(|e| fail(&e))?;
    if let Ok(v) = serde_json::to_value(result) {
        planned.after = v;
    }
    Ok(planned)
}

/// Validates an object of a kind the set's own CRD defines against that CRD's schema.
fn validate_locally(
    p: &Planned,
    schema: &Value,
    validation: super::apply::Validation,
) -> Result<(), DocError> {
    let mut errors: Vec<Detail> = structural::validate(schema, &p.doc.object)
        .iter()
        .map(|e| Detail::Field(e.to_string()))
        .collect();
    let mut pruned = p.doc.object.clone();
    for path in structural::prune(schema, &mut pruned) {
        if validation != super::apply::Validation::Strict {
            continue; // the server drops it
        }
        errors.push(Detail::Field(format!(
            "{path}: field not declared in schema"
        )));
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(DocError {
        at: Some(p.doc.at()),
        object: Some(p.object.to_string()),
        message: format!(
            "{} is invalid against the schema of its CRD in this set (checked locally: the CRD is not installed yet)",
            p.object.kind
        ),
        details: errors,
        hint: "fix the field(s) in that document and apply again".into(),
    })
}

/// Documents that are CRDs, for the wait after the CRD phase.
pub fn crd_names(planned: &[Planned]) -> Vec<String> {
    planned
        .iter()
        .filter(|p| is_crd(&p.doc))
        .map(|p| p.object.name.clone())
        .collect()
}
