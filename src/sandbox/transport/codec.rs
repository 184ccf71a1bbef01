//! The codec: query parameters, content negotiation, request bodies (JSON, YAML, protobuf) decoded once,
//! and the replies' encodings (JSON, Table, PartialObjectMetadata) shared by the handlers and watch.

use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::kinds::table::{self, IncludeObject};
use crate::sandbox::patch::PatchType;
use crate::sandbox::status::ApiError;
use crate::sandbox::store::Stored;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

/// How the client wants objects rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Table,
    Metadata,
}

/// Query parameters, last value wins.
pub type Query = HashMap<String, String>;

pub fn parse_query(q: Option<&str>) -> Query {
    form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// The first rendering in the Accept header that the sandbox offers.
pub fn negotiate(headers: &HeaderMap) -> Format {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        let params: HashMap<&str, &str> = parts.filter_map(|p| p.split_once('=')).collect();
        match media {
            "application/json" | "*/*" | "application/*" | "application/yaml" => {}
            _ => continue,
        }
        match params.get("as") {
            Some(&"Table") if params.get("g") == Some(&"meta.k8s.io") => return Format::Table,
            Some(&"PartialObjectMetadata") | Some(&"PartialObjectMetadataList")
                if params.get("g") == Some(&"meta.k8s.io") =>
            {
                return Format::Metadata;
            }
            Some(_) => continue,
            None => return Format::Json,
        }
    }
    Format::Json
}

/// Whether the Accept header names anything the server can answer with (else 406, as kube-apiserver's
/// negotiation does: staging/src/k8s.io/apiserver/pkg/endpoints/handlers/negotiation/negotiate.go).
pub fn acceptable(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|range| {
        let media = range.split(';').next().unwrap_or_default().trim();
        matches!(
            media,
            "*/*"
                | "application/*"
                | "application/json"
                | "application/yaml"
                | "application/vnd.kubernetes.protobuf"
                | "application/json-patch+json"
                | "application/merge-patch+json"
                | "application/apply-patch+yaml"
                | "text/plain"
                | "text/*"
        )
    })
}

pub fn json_response(code: StatusCode, body: &Value) -> Response {
    let mut bytes = serde_json::to_vec(body).unwrap_or_default();
    // Go's JSON encoder ends every document with a newline; strict clients compare bodies.
    bytes.push(b'\n');
    let mut resp = (code, bytes).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

pub fn error_response(err: &ApiError) -> Response {
    json_response(
        StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &err.to_status(),
    )
}

pub fn with_warnings(mut resp: Response, warnings: &[String]) -> Response {
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('"', "\\\""));
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append("Warning", v);
        }
    }
    resp
}

/// What Table rows carry, from `includeObject`.
pub fn include_object(query: &Query) -> IncludeObject {
    match query.get("includeObject").map(String::as_str) {
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        _ => IncludeObject::Metadata,
    }
}

/// A Table of objects of `rt`; watch events after the first leave out the column definitions.
pub fn render_table(
    rt: &ResourceType,
    include: IncludeObject,
    objects: &[&Value],
    list_meta: Value,
    with_columns: bool,
) -> Value {
    let columns = rt.crd.as_ref().and_then(|c| c.printer_columns.as_ref());
    let mut t = table::render(
        &rt.group,
        &rt.kind,
        columns,
        crate::sandbox::kinds::strategy(rt).printer(),
        objects,
        include,
        list_meta,
        jiff::Timestamp::now(),
    );
    if !with_columns && let Some(m) = t.as_object_mut() {
        m.remove("columnDefinitions");
    }
    t
}

/// PartialObjectMetadata of an object.
pub fn partial_metadata(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]})
}

pub fn parse_body(
    headers: &HeaderMap,
    body: &[u8],
    method: &Method,
) -> Result<(Value, Option<PatchType>), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let media = ct.split(';').next().unwrap_or_default().trim();
    let patch_type = match media {
        "application/json-patch+json" => Some(PatchType::Json),
        "application/merge-patch+json" => Some(PatchType::Merge),
        "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => Some(PatchType::Apply),
        _ => None,
    };
    if media == "application/vnd.kubernetes.protobuf" && *method != Method::PATCH {
        let value = crate::sandbox::proto::decode(body).map_err(|e| {
            ApiError::bad_request(format!("error decoding the protobuf request body: {e}"))
        })?;
        return Ok((value, None));
    }
    if media == "application/vnd.kubernetes.protobuf" || media == "application/cbor" {
        return Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {media})"
        )));
    }
    if *method != Method::PATCH
        && !matches!(
            media,
            "application/json" | "application/yaml" | "application/x-yaml" | "" | "*/*"
        )
    {
        return Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/cbor (got {media})"
        )));
    }
    if *method == Method::PATCH && patch_type.is_none() {
        return Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {media})"
        )));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((Value::Null, patch_type));
    }
    let yaml = matches!(
        media,
        "application/yaml" | "application/apply-patch+yaml" | "application/x-yaml"
    );
    let value = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v,
        Err(_) if yaml => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("the body is not valid UTF-8"))?;
            serde_saphyr::from_str::<Value>(text).map_err(|e| {
                ApiError::bad_request(format!(
                    "error converting YAML to JSON: {}",
                    first_line(&e.to_string())
                ))
            })?
        }
        Err(e) => {
            return Err(ApiError::bad_request(format!(
                "error decoding the request body: {e} (the body must be {})",
                if patch_type == Some(PatchType::Json) {
                    "a JSON array of patch operations"
                } else {
                    "a JSON object"
                }
            )));
        }
    };
    Ok((value, patch_type))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The Table layout of a resource (its CRD version's printer columns, or the built-in kind's columns).
pub fn table_layout(rt: &ResourceType) -> table::Layout {
    let columns = rt.crd.as_ref().and_then(|c| c.printer_columns.as_ref());
    table::Layout::with_printer(
        &rt.group,
        &rt.kind,
        columns,
        crate::sandbox::kinds::strategy(rt).printer(),
    )
}

/// Writes the PartialObjectMetadata of a stored object.
pub fn push_partial_metadata(out: &mut Vec<u8>, obj: &Stored) {
    out.extend_from_slice(
        b"{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":",
    );
    out.extend_from_slice(obj.metadata_json().as_bytes());
    out.push(b'}');
}
