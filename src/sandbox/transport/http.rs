//! The HTTP API: authentication and authorization (via `auth`), routing of Kubernetes REST paths, content negotiation and request bodies.

use crate::sandbox::auth;
use crate::sandbox::kinds;
use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::kinds::table;
use crate::sandbox::meta::{FieldSelector, LabelSelector};
use crate::sandbox::openapi;
use crate::sandbox::status::{self, ApiError};
use crate::sandbox::store::Stored;
use crate::sandbox::store::api::{
    Api, DeleteOpts, FieldValidation, PatchType, SubWritten, Update, WriteOpts, Written,
};
use crate::sandbox::store::faults::FaultKind;
// The codec's items stay reachable at their former paths (`http::json_response`, ...).
pub use crate::sandbox::transport::codec::{
    Format, Query, acceptable, error_response, include_object, json_response, negotiate,
    parse_body, parse_query, partial_metadata, push_partial_metadata, table_layout, with_warnings,
};
use crate::sandbox::transport::watch;
use crate::sandbox::transport::{aggregated, discovery};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

pub use crate::sandbox::transport::codec::render_table;

/// Largest request body accepted, as kube-apiserver's default.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Shared state of the HTTP layer.
pub struct HttpState {
    pub api: Arc<Api>,
    pub token: String,
    pub address: String,
}

/// The entry point for every request; a bug that panics answers 500 instead of dropping the connection.
pub async fn handle(state: State<Arc<HttpState>>, req: Request<Body>) -> Response {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(handle_inner(state, req))
        .catch_unwind()
        .await
    {
        Ok(resp) => resp,
        Err(_) => error_response(&ApiError::internal(
            "the sandbox hit an internal error handling this request; please report it",
        )),
    }
}

async fn handle_inner(State(state): State<Arc<HttpState>>, req: Request<Body>) -> Response {
    let user = match auth::authenticate(&state.api, &state.token, req.headers())
        .and_then(|caller| auth::impersonation::apply(&state.api, caller, req.headers()))
    {
        Ok(user) => user,
        Err(e) => return error_response(&e),
    };
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parse_query(parts.uri.query());
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    if !user.is_master() {
        let attrs = auth::attributes::Attributes::from_request(&parts.method, &path, &segs, &query);
        let decision = state.api.auth.rbac.authorize(&state.api, &user, &attrs);
        if !decision.allowed {
            return error_response(&auth::attributes::forbidden(
                &user,
                &attrs,
                &decision.reason,
            ));
        }
    }
    if let Some(resp) =
        crate::sandbox::transport::exec::route(&state, &user, &mut parts, &segs).await
    {
        return resp;
    }
    if matches!(segs.first(), Some(&("api" | "apis"))) && !acceptable(&parts.headers) {
        return error_response(&ApiError::new(
            406,
            "NotAcceptable",
            "the server was unable to respond with a content type that the client supports",
        ));
    }
    if let Some(review) = auth::reviews::route(&segs) {
        return serve_review(&state, &user, &parts, &review, body).await;
    }

    // Non-resource paths.
    match (parts.method.clone(), segs.as_slice()) {
        (Method::GET, ["version"]) => return json_response(StatusCode::OK, &discovery::version()),
        (Method::GET, ["healthz" | "livez" | "readyz", ..]) => {
            return (StatusCode::OK, "ok").into_response();
        }
        (Method::GET, ["openapi", "v2"]) => return openapi_v2(&state, &parts.headers),
        (Method::GET, ["openapi", "v3"]) => {
            return json_response(StatusCode::OK, &openapi::root(&state.api.registry()));
        }
        (Method::GET, ["openapi", "v3", rest @ ..]) => {
            return openapi_v3(&state, rest, &query);
        }
        (Method::GET, ["api" | "apis"]) if aggregated::negotiate(&parts.headers).is_some() => {
            let version = aggregated::negotiate(&parts.headers).unwrap_or("v2");
            let doc = aggregated::document(&state.api.registry(), segs[0] == "api", version);
            let mut resp = json_response(StatusCode::OK, &doc);
            if let Ok(ct) = HeaderValue::from_str(&aggregated::content_type(version)) {
                resp.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            resp.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Accept"));
            return resp;
        }
        (Method::GET, ["api"]) => {
            return json_response(StatusCode::OK, &discovery::api_versions(&state.address));
        }
        (Method::GET, ["apis"]) => {
            return json_response(
                StatusCode::OK,
                &discovery::api_group_list(&state.api.registry()),
            );
        }
        (Method::GET, ["api", "v1"]) => {
            return match discovery::resource_list(&state.api.registry(), "", "v1") {
                Some(doc) => json_response(StatusCode::OK, &doc),
                None => error_response(&ApiError::no_route()),
            };
        }
        (Method::GET, ["apis", group]) => {
            return match discovery::api_group(&state.api.registry(), group) {
                Some(doc) => json_response(StatusCode::OK, &doc),
                None => error_response(&ApiError::no_route()),
            };
        }
        (Method::GET, ["apis", group, version]) => {
            return match discovery::resource_list(&state.api.registry(), group, version) {
                Some(doc) => json_response(StatusCode::OK, &doc),
                None => error_response(&ApiError::no_route()),
            };
        }
        _ => {}
    }

    let Some(route) = Route::parse(&segs) else {
        return error_response(&ApiError::no_route());
    };
    let Some(rt) = state
        .api
        .registry()
        .get(route.group, route.version, route.plural)
    else {
        return error_response(&ApiError::no_route());
    };
    if let Some(fault) = state.api.faults.roll() {
        return error_response(&match fault {
            FaultKind::ServerError => {
                ApiError::internal("injected fault: the sandbox failed this request on purpose")
            }
            FaultKind::Conflict => ApiError::conflict(
                &rt.group,
                &rt.plural,
                route.name.unwrap_or(""),
                "injected fault: please retry",
            ),
        });
    }
    let format = negotiate(&parts.headers);
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return error_response(&ApiError::too_large()),
    };
    // The body is decoded once, here; the handlers take the object (DELETE's options are their own).
    let decoded = if matches!(parts.method, Method::POST | Method::PUT | Method::PATCH) {
        match parse_body(&parts.headers, &body, &parts.method) {
            Ok(d) => Some(d),
            Err(e) => return error_response(&e),
        }
    } else {
        None
    };
    let ctx = Ctx {
        state: &state,
        user: &user,
        rt: &rt,
        route: &route,
        query: &query,
        headers: &parts.headers,
        format,
    };
    let result = match (&parts.method, route.sub) {
        (&Method::POST, Some("token")) if rt.plural == "serviceaccounts" => {
            token_request(&ctx, decoded)
        }
        _ => dispatch(&ctx, &parts.method, &body, decoded).await,
    };
    if rt.group == auth::rbac::GROUP && parts.method != Method::GET {
        // Read-your-writes for authorization: the next request sees the new rules.
        state.api.auth.rbac.invalidate();
    }
    match result {
        Ok(resp) => resp,
        Err(err) => error_response(&err),
    }
}

/// `/openapi/v2`: JSON Swagger for clients asking for JSON; kubectl asks for the protobuf encoding and gets an
/// empty protobuf document (it then reads `/openapi/v3`, which has the schemas).
fn openapi_v2(state: &HttpState, headers: &HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let first = accept.split(',').next().unwrap_or_default();
    if first.contains("protobuf") {
        let mut resp = (StatusCode::OK, Vec::<u8>::new()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/com.github.proto-openapi.spec.v2.v1.0+protobuf"),
        );
        return resp;
    }
    json_response(StatusCode::OK, &openapi::swagger(&state.api.registry()))
}

/// `/openapi/v3/<api/v1 | apis/group/version>`: the group-version's document. A URL with the current
/// `hash` may be cached for good, as kube-openapi's handler3 allows; anything else must be revalidated.
fn openapi_v3(state: &HttpState, rest: &[&str], query: &Query) -> Response {
    let (group, version) = match rest {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return error_response(&ApiError::no_route()),
    };
    let Some(doc) = openapi::served(&state.api.registry(), group, version) else {
        return error_response(&ApiError::no_route());
    };
    let immutable = query.get("hash").is_some_and(|h| *h == doc.hash);
    let mut resp = (StatusCode::OK, doc.bytes.as_ref().clone()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", doc.hash)) {
        h.insert(header::ETAG, etag);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable {
            "public, immutable"
        } else {
            "no-cache, private"
        }),
    );
    resp
}

/// POST `.../serviceaccounts/{name}/token`.
fn token_request(ctx: &Ctx<'_>, decoded: Option<Decoded>) -> Result<Response, ApiError> {
    let (Some(_), Some(name)) = (ctx.route.namespace, ctx.route.name) else {
        return Err(ApiError::no_route());
    };
    let (body, _) = take(decoded)?;
    let review = auth::tokens::token_request(ctx.api(), ctx.ns(), name, &body)?;
    Ok(json_response(StatusCode::CREATED, &review))
}

/// A POST of an access or identity review (never stored).
async fn serve_review(
    state: &HttpState,
    user: &auth::User,
    parts: &axum::http::request::Parts,
    review: &auth::reviews::ReviewRoute,
    body: Body,
) -> Response {
    if parts.method != Method::POST {
        return error_response(&ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return error_response(&ApiError::too_large()),
    };
    let result = parse_body(&parts.headers, &body, &Method::POST)
        .and_then(|(body, _)| auth::reviews::serve(&state.api, &state.token, user, review, &body));
    match result {
        Ok(v) => json_response(StatusCode::CREATED, &v),
        Err(e) => error_response(&e),
    }
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// A parsed resource path.
#[derive(Debug)]
pub struct Route<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub namespace: Option<&'a str>,
    pub plural: &'a str,
    pub name: Option<&'a str>,
    pub sub: Option<&'a str>,
}

impl<'a> Route<'a> {
    pub fn parse(segs: &[&'a str]) -> Option<Self> {
        let (group, version, mut rest) = match segs {
            ["api", v, rest @ ..] => ("", *v, rest),
            ["apis", g, v, rest @ ..] => (*g, *v, rest),
            _ => return None,
        };
        if rest.first() == Some(&"watch") {
            rest = &rest[1..];
        }
        let (namespace, rest) = match rest {
            ["namespaces", ns, r @ ..]
                if !r.is_empty() && (r.len() != 1 || !matches!(r[0], "status" | "finalize")) =>
            {
                (Some(*ns), r)
            }
            _ => (None, rest),
        };
        let (plural, name, sub) = match rest {
            [p] => (*p, None, None),
            [p, n] => (*p, Some(*n), None),
            [p, n, s] => (*p, Some(*n), Some(*s)),
            _ => return None,
        };
        Some(Self {
            group,
            version,
            namespace,
            plural,
            name,
            sub,
        })
    }
}

struct Ctx<'a> {
    state: &'a Arc<HttpState>,
    user: &'a auth::User,
    rt: &'a Arc<ResourceType>,
    route: &'a Route<'a>,
    query: &'a Query,
    headers: &'a HeaderMap,
    format: Format,
}

impl Ctx<'_> {
    fn api(&self) -> &Api {
        &self.state.api
    }

    fn ns(&self) -> &str {
        self.route.namespace.unwrap_or("")
    }

    fn write_opts(&self, default_manager: bool) -> Result<WriteOpts, ApiError> {
        let validation = match self.query.get("fieldValidation").map(String::as_str) {
            None | Some("") | Some("Warn") => FieldValidation::Warn,
            Some("Strict") => FieldValidation::Strict,
            Some("Ignore") => FieldValidation::Ignore,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "fieldValidation: Unsupported value: \"{other}\": supported values: \"Ignore\", \"Strict\", \"Warn\""
                )));
            }
        };
        let dry_run = match self.query.get("dryRun").map(String::as_str) {
            None | Some("") => false,
            Some("All") => true,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
                )));
            }
        };
        let manager = match self.query.get("fieldManager").filter(|m| !m.is_empty()) {
            Some(m) => m.clone(),
            None if default_manager => self
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .and_then(|ua| ua.split('/').next())
                .filter(|s| !s.is_empty())
                .unwrap_or("unknown")
                .to_string(),
            None => String::new(),
        };
        let force = self
            .query
            .get("force")
            .is_some_and(|f| f == "true" || f == "1");
        Ok(WriteOpts {
            dry_run,
            manager,
            validation,
            force,
            user: Some(self.user.clone()),
        })
    }

    /// Renders one object for the client's requested format.
    fn render_one(&self, obj: &Value) -> Value {
        match self.format {
            Format::Json => obj.clone(),
            Format::Metadata => partial_metadata(obj),
            Format::Table => self.render_table(
                &[obj],
                json!({"resourceVersion": obj["metadata"]["resourceVersion"]}),
                true,
            ),
        }
    }

    fn render_table(&self, objects: &[&Value], list_meta: Value, with_columns: bool) -> Value {
        render_table(
            self.rt,
            include_object(self.query),
            objects,
            list_meta,
            with_columns,
        )
    }

    fn written(&self, w: Written) -> Response {
        let code = if w.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        with_warnings(
            json_response(code, &self.render_one(&w.object)),
            &w.warnings,
        )
    }
}

/// Subresources that stream over an upgraded connection (handled by the transport, not by the kind).
fn is_stream(sub: &str) -> bool {
    matches!(sub, "exec" | "attach" | "portforward")
}

/// A decoded request body and its patch type.
type Decoded = (Value, Option<PatchType>);

/// The decoded body of a POST, PUT or PATCH.
fn take(decoded: Option<Decoded>) -> Result<Decoded, ApiError> {
    decoded.ok_or_else(|| ApiError::bad_request("the request has no body"))
}

async fn dispatch(
    ctx: &Ctx<'_>,
    method: &Method,
    body: &[u8],
    decoded: Option<Decoded>,
) -> Result<Response, ApiError> {
    let rt = ctx.rt;
    let route = ctx.route;
    if rt.namespaced && route.namespace.is_none() && route.name.is_some() {
        return Err(ApiError::no_route());
    }
    if !rt.namespaced && route.namespace.is_some() {
        return Err(ApiError::no_route());
    }
    if let Some(sub) = route.sub
        && !rt.has_sub(sub)
    {
        return Err(ApiError::no_route());
    }
    let ns = ctx.ns();
    let watching = ctx
        .query
        .get("watch")
        .is_some_and(|w| w == "true" || w == "1");
    match (method.clone(), route.name, route.sub) {
        (Method::GET, None, None) if watching => {
            let (labels, fields) = selectors(ctx)?;
            watch::serve(
                ctx.state.api.clone(),
                rt.clone(),
                route.namespace.map(String::from),
                labels,
                fields,
                ctx.query,
                ctx.format,
            )
        }
        (Method::GET, None, None) => list(ctx),
        (Method::POST, None, None) => {
            let (body, _) = take(decoded)?;
            let w = ctx.api().create(rt, ns, body, &ctx.write_opts(true)?)?;
            Ok(ctx.written(w))
        }
        (Method::POST | Method::PUT | Method::PATCH | Method::DELETE, _, _)
            if rt.builtin.is_some() && rt.kind == "ComponentStatus" =>
        {
            Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            ))
        }
        (Method::DELETE, None, None) => delete_collection(ctx, body),
        (Method::GET, Some(name), None) => Ok(json_response(
            StatusCode::OK,
            &ctx.render_one(&ctx.api().get(rt, ns, name)?),
        )),
        (Method::PUT, Some(name), None | Some("status")) => {
            let (body, _) = take(decoded)?;
            let w = ctx
                .api()
                .replace(rt, ns, name, body, &ctx.write_opts(true)?, route.sub)?;
            Ok(ctx.written(w))
        }
        (Method::PATCH, Some(name), None | Some("status")) => {
            let (body, ptype) = take(decoded)?;
            let ptype = ptype.unwrap_or(PatchType::Merge);
            let opts = ctx.write_opts(ptype != PatchType::Apply)?;
            if ptype == PatchType::Apply && opts.manager.is_empty() {
                return Err(ApiError::bad_request(
                    "PATCH /apply requires fieldManager to be set (fieldManager is required for apply requests)",
                ));
            }
            let w = ctx
                .api()
                .patch(rt, ns, name, ptype, body, &opts, route.sub)?;
            Ok(ctx.written(w))
        }
        (Method::PUT, Some(name), Some("approval")) => {
            // The approval subresource writes the CSR's conditions only
            // (pkg/registry/certificates/certificates/strategy.go, csrApprovalStrategy).
            let (body, _) = parse_body(ctx.headers, body, method)?;
            let mut current = ctx.api().get(rt, ns, name)?;
            current["status"]["conditions"] = body["status"]["conditions"].clone();
            if let Some(rv) = body["metadata"]["resourceVersion"].as_str() {
                current["metadata"]["resourceVersion"] = json!(rv);
            }
            let w = ctx.api().replace(
                rt,
                ns,
                name,
                current,
                &ctx.write_opts(true)?,
                Some("status"),
            )?;
            Ok(ctx.written(w))
        }
        (Method::PUT | Method::PATCH, Some(name), Some("ephemeralcontainers")) => {
            // Only spec.ephemeralContainers changes through this subresource, and containers are only
            // added (pkg/registry/core/pod/strategy.go podEphemeralContainersStrategy,
            // pkg/apis/core/validation/validation.go ValidatePodEphemeralContainersUpdate).
            let (body, ptype) = parse_body(ctx.headers, body, method)?;
            let current = ctx.api().get(rt, ns, name)?;
            let ty = crate::sandbox::patch::TypeRef {
                group: "",
                kind: "Pod",
                builtin: true,
            };
            let candidate = match ptype {
                None => body,
                Some(PatchType::Strategic) => {
                    crate::sandbox::patch::strategic::strategic_merge_patch(ty, &current, &body)
                        .map_err(|e| ApiError::bad_request(e.to_string()))?
                }
                Some(PatchType::Merge) => {
                    let mut doc = current.clone();
                    json_patch::merge(&mut doc, &body);
                    doc
                }
                Some(PatchType::Json) => {
                    let ops: json_patch::Patch = serde_json::from_value(body)
                        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
                    let mut doc = current.clone();
                    json_patch::patch(&mut doc, &ops)
                        .map_err(|e| ApiError::new(422, "Invalid", e.to_string()))?;
                    doc
                }
                Some(PatchType::Apply) => {
                    return Err(ApiError::unsupported_media_type(
                        "apply patches are not supported on pods/ephemeralcontainers",
                    ));
                }
            };
            let before = current["spec"]["ephemeralContainers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let after = candidate["spec"]["ephemeralContainers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if after.len() < before.len() || before.iter().zip(&after).any(|(b, a)| b != a) {
                return Err(ApiError::invalid(
                    "",
                    "Pod",
                    name,
                    format!(
                        "Pod \"{name}\" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers may not be removed or changed"
                    ),
                    json!([{"reason": "FieldValueForbidden", "message": "Forbidden: existing ephemeral containers may not be removed or changed", "field": "spec.ephemeralContainers"}]),
                ));
            }
            for (i, c) in after.iter().enumerate().skip(before.len()) {
                if c["name"].as_str().is_none_or(str::is_empty)
                    || c["image"].as_str().is_none_or(str::is_empty)
                {
                    return Err(ApiError::invalid(
                        "",
                        "Pod",
                        name,
                        format!(
                            "Pod \"{name}\" is invalid: spec.ephemeralContainers[{i}]: Required value: name and image are required"
                        ),
                        json!([{"reason": "FieldValueRequired", "message": "Required value", "field": format!("spec.ephemeralContainers[{i}]")}]),
                    ));
                }
            }
            let opts = ctx.write_opts(true)?;
            if opts.dry_run {
                let mut shown = current;
                shown["spec"]["ephemeralContainers"] = json!(after);
                return Ok(json_response(StatusCode::OK, &ctx.render_one(&shown)));
            }
            let obj = ctx
                .api()
                .mutate(&rt.storage_key(), ns, name, |p| {
                    p["spec"]["ephemeralContainers"] = json!(after);
                    true
                })
                .unwrap_or(current);
            Ok(json_response(StatusCode::OK, &ctx.render_one(&obj)))
        }
        (Method::GET, Some(name), Some("ephemeralcontainers" | "approval")) => Ok(json_response(
            StatusCode::OK,
            &ctx.render_one(&ctx.api().get(rt, ns, name)?),
        )),
        (Method::GET, Some(name), Some("status")) => Ok(json_response(
            StatusCode::OK,
            &ctx.render_one(&ctx.api().get(rt, ns, name)?),
        )),
        (Method::DELETE, Some(name), None) => {
            let opts = delete_opts(ctx, body)?;
            let d = ctx.api().delete(rt, ns, name, &opts)?;
            if !d.gone {
                return Ok(json_response(StatusCode::OK, &ctx.render_one(&d.object)));
            }
            if rt.is_builtin() && rt.kind != "CustomResourceDefinition" {
                return Ok(json_response(StatusCode::OK, &ctx.render_one(&d.object)));
            }
            let uid = d.object["metadata"]["uid"].as_str().unwrap_or_default();
            Ok(json_response(
                StatusCode::OK,
                &status::success(&rt.group, &rt.plural, name, uid),
            ))
        }
        (Method::GET, Some(name), Some("scale")) => Ok(json_response(
            StatusCode::OK,
            &ctx.api().get_scale(rt, ns, name)?,
        )),
        (Method::PUT | Method::PATCH, Some(name), Some("scale")) => {
            let (body, ptype) = take(decoded)?;
            let update = match ptype {
                None => Update::Replace(body),
                Some(ptype) => Update::Patch(ptype, body),
            };
            let scale = ctx
                .api()
                .write_scale(rt, ns, name, update, &ctx.write_opts(true)?)?;
            Ok(json_response(StatusCode::OK, &scale))
        }
        (Method::GET, Some(name), Some(sub)) if rt.has_sub(sub) && !is_stream(sub) => {
            let obj = ctx.api().get(rt, ns, name)?;
            // A process-backed container's log streams from its process (a transport of its own).
            if sub == "log"
                && let Some(resp) =
                    crate::sandbox::controllers::procs::logs::serve(ctx.api(), &obj, ctx.query)
            {
                return Ok(resp);
            }
            match kinds::strategy(rt).subresource_text(sub, &obj, ctx.query) {
                Some(text) => {
                    let mut resp = (StatusCode::OK, text?).into_response();
                    resp.headers_mut()
                        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                    Ok(resp)
                }
                None => Err(ApiError::method_not_allowed(
                    "the server does not allow this method on the requested resource",
                )),
            }
        }
        (_, Some(name), Some(sub @ ("exec" | "attach" | "portforward"))) => {
            ctx.api().get(rt, ns, name)?;
            Err(ApiError::bad_request(format!(
                "pods in the oplab sandbox are simulated: {sub} is not available (pod {ns}/{name} runs no containers). Use a real cluster (kind, minikube, k3d) for tasks that need {sub}."
            )))
        }
        (Method::POST | Method::PUT, Some(name), Some(sub))
            if rt.has_sub(sub) && !is_stream(sub) =>
        {
            let (body, _) = take(decoded)?;
            let written =
                ctx.api()
                    .write_subresource(rt, ns, name, sub, body, &ctx.write_opts(true)?)?;
            Ok(match written {
                SubWritten::Object(obj) => json_response(StatusCode::OK, &obj),
                SubWritten::Success => json_response(
                    StatusCode::CREATED,
                    &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
                ),
            })
        }
        _ => Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    }
}

fn selectors(ctx: &Ctx<'_>) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(
        ctx.query
            .get("labelSelector")
            .map(String::as_str)
            .unwrap_or(""),
    )?;
    let supported = ctx.rt.builtin.map(|b| b.field_labels).unwrap_or(&[]);
    let fields = FieldSelector::parse(
        ctx.query
            .get("fieldSelector")
            .map(String::as_str)
            .unwrap_or(""),
        supported,
    )?;
    Ok((labels, fields))
}

fn list(ctx: &Ctx<'_>) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(ctx)?;
    let (items, rv) = match list_version(ctx.api(), ctx.query)? {
        Some(exact) => (
            ctx.api()
                .list_at(ctx.rt, ctx.route.namespace, &labels, &fields, exact)?,
            exact,
        ),
        None => ctx
            .api()
            .list(ctx.rt, ctx.route.namespace, &labels, &fields),
    };
    // Pagination: `continue` is the name to start after.
    let start = match ctx.query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => decode_continue(token)?,
        None => None,
    };
    let mut items: Vec<Arc<Stored>> = match &start {
        Some((ns, name)) => items
            .into_iter()
            .filter(|o| (o.namespace(), o.name()) > (ns.as_str(), name.as_str()))
            .collect(),
        None => items,
    };
    let limit = ctx
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(limit) = limit
        && items.len() > limit
    {
        let remaining = items.len() - limit;
        items.truncate(limit);
        if let Some(last) = items.last() {
            meta["continue"] = json!(encode_continue(last.namespace(), last.name(), rv));
            meta["remainingItemCount"] = json!(remaining);
        }
    }
    Ok(match ctx.format {
        Format::Table => {
            let layout = table_layout(ctx.rt);
            let mut table = table::Writer::new(
                &layout,
                include_object(ctx.query),
                &meta,
                true,
                jiff::Timestamp::now(),
                64 + items.len() * 512,
            );
            for item in &items {
                table.row(&layout.stored_row(item), item.json());
            }
            bytes_response(table.finish())
        }
        Format::Metadata => bytes_response(list_bytes(
            "PartialObjectMetadataList",
            "meta.k8s.io/v1",
            &meta,
            &items,
            |out, item| push_partial_metadata(out, item),
        )),
        Format::Json => bytes_response(list_bytes(
            &ctx.rt.list_kind(),
            &ctx.rt.api_version(),
            &meta,
            &items,
            |out, item| out.extend_from_slice(item.json().as_bytes()),
        )),
    })
}

/// `resourceVersion` + `resourceVersionMatch` of a list: Some(rv) for a list at exactly `rv`, None for the
/// current state; the combinations kube-apiserver refuses are refused with its messages
/// (staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation/validation.go), and a version
/// the sandbox has not reached yet answers 504 as the watch cache does after its wait.
fn list_version(api: &Api, query: &Query) -> Result<Option<u64>, ApiError> {
    let rv = query.get("resourceVersion").filter(|v| !v.is_empty());
    let matching = query.get("resourceVersionMatch").filter(|v| !v.is_empty());
    let Some(matching) = matching else {
        return Ok(None);
    };
    let Some(rv) = rv else {
        return Err(ApiError::bad_request(
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
        ));
    };
    if query.get("continue").is_some_and(|c| !c.is_empty()) {
        return Err(ApiError::bad_request(
            "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided",
        ));
    }
    let parsed: u64 = rv
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?;
    let current = api.store.current_rv();
    match matching.as_str() {
        "Exact" if parsed == 0 => Err(ApiError::bad_request(
            "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
        )),
        "Exact" | "NotOlderThan" if parsed > current => Err(ApiError::new(
            504,
            "Timeout",
            format!("Timeout: Too large resource version: {parsed}, current: {current}"),
        )),
        "Exact" => Ok(Some(parsed)),
        "NotOlderThan" => Ok(None),
        other => Err(ApiError::bad_request(format!(
            "resourceVersionMatch: Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\""
        ))),
    }
}

/// A List reply, `{"kind":…,"apiVersion":…,"metadata":…,"items":[…]}`, each item written by `write_item`
/// (lists are written from the stored bytes, never built as one big value).
fn list_bytes<T>(
    kind: &str,
    api_version: &str,
    meta: &Value,
    items: &[T],
    mut write_item: impl FnMut(&mut Vec<u8>, &T),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + items.iter().len() * 2048);
    out.extend_from_slice(b"{\"kind\":");
    let _ = serde_json::to_writer(&mut out, kind);
    out.extend_from_slice(b",\"apiVersion\":");
    let _ = serde_json::to_writer(&mut out, api_version);
    out.extend_from_slice(b",\"metadata\":");
    let _ = serde_json::to_writer(&mut out, meta);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_item(&mut out, item);
    }
    out.extend_from_slice(b"]}");
    out
}

/// A 200 reply with a JSON body.
fn bytes_response(mut body: Vec<u8>) -> Response {
    body.push(b'\n');
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn encode_continue(namespace: &str, name: &str, rv: u64) -> String {
    use base64::Engine;
    let raw = json!({"ns": namespace, "name": name, "rv": rv}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str) -> Result<Option<(String, String)>, ApiError> {
    use base64::Engine;
    let bad = || ApiError::bad_request("continue key is not valid: illegal base64 data");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    Ok(Some((
        v["ns"].as_str().unwrap_or_default().to_string(),
        v["name"].as_str().unwrap_or_default().to_string(),
    )))
}

fn delete_opts(ctx: &Ctx<'_>, body: &[u8]) -> Result<DeleteOpts, ApiError> {
    let parsed: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?
    };
    let q = ctx.query;
    let propagation = parsed["propagationPolicy"]
        .as_str()
        .map(String::from)
        .or_else(|| q.get("propagationPolicy").cloned())
        .or_else(|| match parsed["orphanDependents"].as_bool() {
            Some(true) => Some("Orphan".into()),
            _ => None,
        });
    if let Some(p) = &propagation
        && !matches!(p.as_str(), "Background" | "Foreground" | "Orphan")
    {
        return Err(ApiError::bad_request(format!(
            "propagationPolicy: Unsupported value: \"{p}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
        )));
    }
    let grace_period = parsed["gracePeriodSeconds"]
        .as_i64()
        .or_else(|| q.get("gracePeriodSeconds").and_then(|g| g.parse().ok()));
    let dry_run = parsed["dryRun"]
        .as_array()
        .is_some_and(|a| a.iter().any(|d| d == "All"))
        || q.get("dryRun").is_some_and(|d| d == "All");
    Ok(DeleteOpts {
        dry_run,
        propagation,
        grace_period,
        precondition_uid: parsed["preconditions"]["uid"].as_str().map(String::from),
        precondition_rv: parsed["preconditions"]["resourceVersion"]
            .as_str()
            .map(String::from),
    })
}

fn delete_collection(ctx: &Ctx<'_>, body: &[u8]) -> Result<Response, ApiError> {
    let (labels, fields) = selectors(ctx)?;
    let opts = delete_opts(ctx, body)?;
    let (items, rv) = ctx
        .api()
        .list(ctx.rt, ctx.route.namespace, &labels, &fields);
    let mut deleted = Vec::new();
    for item in items {
        match ctx
            .api()
            .delete(ctx.rt, item.namespace(), item.name(), &opts)
        {
            Ok(d) => deleted.push(d.object),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(bytes_response(list_bytes(
        &ctx.rt.list_kind(),
        &ctx.rt.api_version(),
        &json!({"resourceVersion": rv.to_string()}),
        &deleted,
        |out, obj| {
            let _ = serde_json::to_writer(&mut *out, obj);
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r =
            Route::parse(&["api", "v1", "namespaces", "default", "pods", "p", "status"]).unwrap();
        assert_eq!(
            (r.namespace, r.plural, r.name, r.sub),
            (Some("default"), "pods", Some("p"), Some("status"))
        );
        let r = Route::parse(&["api", "v1", "namespaces", "default"]).unwrap();
        assert_eq!(
            (r.namespace, r.plural, r.name),
            (None, "namespaces", Some("default"))
        );
        let r = Route::parse(&["api", "v1", "namespaces", "x", "finalize"]).unwrap();
        assert_eq!(
            (r.plural, r.name, r.sub),
            ("namespaces", Some("x"), Some("finalize"))
        );
        let r = Route::parse(&["apis", "apps", "v1", "deployments"]).unwrap();
        assert_eq!(
            (r.group, r.plural, r.namespace),
            ("apps", "deployments", None)
        );
    }

    #[test]
    fn accept_negotiation() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"));
        assert_eq!(negotiate(&h), Format::Table);
        h.insert(header::ACCEPT, HeaderValue::from_static("application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"));
        assert_eq!(negotiate(&h), Format::Metadata);
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.kubernetes.protobuf, */*"),
        );
        assert_eq!(negotiate(&h), Format::Json);
    }
}
