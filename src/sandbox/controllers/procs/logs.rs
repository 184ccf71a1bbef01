//! `kubectl logs` of a process-backed container: the process's real output (`previous`, `tailLines`,
//! `follow`).

use crate::sandbox::api::Api;
use crate::sandbox::status::ApiError;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;

/// The log response for a process-backed pod; `None` when the pod is simulated.
pub fn serve(api: &Api, pod: &Value, query: &HashMap<String, String>) -> Option<Response> {
    let ns = pod["metadata"]["namespace"].as_str()?;
    let name = pod["metadata"]["name"].as_str()?;
    let proc = api.procs.by_name(ns, name)?;
    if proc.uid != pod["metadata"]["uid"].as_str().unwrap_or_default() {
        return None;
    }
    if let Some(c) = query.get("container")
        && *c != proc.container
    {
        return Some(crate::sandbox::transport::codec::error_response(
            &ApiError::bad_request(format!("container {c} is not valid for pod {name}")),
        ));
    }
    let previous = query.get("previous").is_some_and(|v| v == "true");
    let follow = query.get("follow").is_some_and(|v| v == "true") && !previous;
    let rx = follow.then(|| proc.log_tx.subscribe());
    let mut text = api.procs.logs(ns, name, previous).unwrap_or_default();
    if let Some(n) = query.get("tailLines").and_then(|n| n.parse::<usize>().ok()) {
        text = tail(&text, n);
    }
    if let Some(n) = query
        .get("limitBytes")
        .and_then(|n| n.parse::<usize>().ok())
    {
        text.truncate(n);
    }
    let mut resp = match rx {
        None => (StatusCode::OK, text).into_response(),
        Some(rx) => {
            let cancel = proc.cancel.clone();
            let first =
                futures::stream::once(
                    async move { Ok::<_, std::io::Error>(bytes::Bytes::from(text)) },
                );
            let rest = futures::stream::unfold((rx, cancel), |(mut rx, cancel)| async move {
                loop {
                    tokio::select! {
                        _ = cancel.cancelled() => return None,
                        m = rx.recv() => match m {
                            Ok(b) => return Some((Ok(b), (rx, cancel))),
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(_) => return None,
                        }
                    }
                }
            });
            use futures::StreamExt;
            (StatusCode::OK, Body::from_stream(first.chain(rest))).into_response()
        }
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Some(resp)
}

fn tail(text: &[u8], n: usize) -> Vec<u8> {
    let mut seen = 0;
    for (i, b) in text.iter().enumerate().rev() {
        if *b == b'\n' && i + 1 != text.len() {
            seen += 1;
            if seen == n {
                return text[i + 1..].to_vec();
            }
        }
    }
    if n == 0 { Vec::new() } else { text.to_vec() }
}
