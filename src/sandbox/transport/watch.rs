//! Watch streams: initial events, history replay, bookmarks, 410 Expired, selector transitions, timeouts.

use crate::sandbox::kinds::registry::ResourceType;
use crate::sandbox::kinds::table;
use crate::sandbox::meta::{FieldSelector, LabelSelector};
use crate::sandbox::status::ApiError;
use crate::sandbox::store::api::Api;
use crate::sandbox::store::convert::from_storage_shared;
use crate::sandbox::store::{Event, EventType, Stored};
use crate::sandbox::transport::codec::{
    Format, Query, include_object, push_partial_metadata, table_layout,
};
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Where a watch starts.
enum Start {
    /// Send the current objects as ADDED, then live events.
    Snapshot { end_bookmark: bool },
    /// Replay history after this resourceVersion, then live events.
    After(u64),
}

struct Filter {
    rt: Arc<ResourceType>,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    /// The client-side view of a stored object, if it matches.
    fn view(&self, stored: &Arc<Stored>) -> Option<Arc<Stored>> {
        if !self.labels.matches(stored.labels()) {
            return None;
        }
        let obj = from_storage_shared(&self.rt, stored.clone());
        (self.fields.is_empty() || self.fields.matches(&obj.value())).then_some(obj)
    }

    /// What a watcher with selectors sees of a change: objects leaving the selection are DELETED for it.
    fn translate(&self, ev: &Event) -> Option<(EventType, Arc<Stored>)> {
        if ev.key != self.rt.storage_key() {
            return None;
        }
        if let Some(ns) = &self.namespace
            && &ev.namespace != ns
        {
            return None;
        }
        let now = self.view(&ev.object);
        match ev.kind {
            EventType::Modified => {
                let before = ev.old.as_ref().and_then(|o| self.view(o));
                match (before.is_some(), now) {
                    (true, Some(obj)) => Some((EventType::Modified, obj)),
                    (false, Some(obj)) => Some((EventType::Added, obj)),
                    (true, None) => Some((
                        EventType::Deleted,
                        from_storage_shared(&self.rt, ev.object.clone()),
                    )),
                    (false, None) => None,
                }
            }
            kind => now.map(|obj| (kind, obj)),
        }
    }
}

struct Renderer {
    rt: Arc<ResourceType>,
    format: Format,
    include: table::IncludeObject,
    /// The Table layout, for watches of Tables.
    layout: Option<table::Layout>,
    columns_sent: bool,
}

impl Renderer {
    /// The line of one event: `{"type":…,"object":…}`, the object written from its stored JSON.
    fn line(&mut self, kind: EventType, obj: &Stored) -> Bytes {
        let mut out = Vec::with_capacity(obj.json().len() + 64);
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(kind.as_str().as_bytes());
        out.extend_from_slice(b"\",\"object\":");
        match (self.format, &self.layout) {
            (Format::Table, Some(layout)) => {
                let first = !self.columns_sent;
                self.columns_sent = true;
                let meta = json!({"resourceVersion": obj.resource_version()});
                let mut t = table::Writer::new(
                    layout,
                    self.include,
                    &meta,
                    first,
                    jiff::Timestamp::now(),
                    1024,
                );
                t.row(&layout.stored_row(obj), obj.json());
                out.extend_from_slice(&t.finish());
            }
            (Format::Metadata, _) => push_partial_metadata(&mut out, obj),
            _ => out.extend_from_slice(obj.json().as_bytes()),
        }
        out.extend_from_slice(b"}\n");
        Bytes::from(out)
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Value {
        let (kind, api_version) = match self.format {
            Format::Metadata => (
                "PartialObjectMetadata".to_string(),
                "meta.k8s.io/v1".to_string(),
            ),
            _ => (self.rt.kind.clone(), self.rt.api_version()),
        };
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        json!({"kind": kind, "apiVersion": api_version, "metadata": meta})
    }
}

fn line(kind: &str, object: Value) -> Bytes {
    let mut bytes =
        serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// Starts a watch stream for a list request with `watch=true`.
#[allow(clippy::too_many_arguments)]
pub fn serve(
    api: Arc<Api>,
    rt: Arc<ResourceType>,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    query: &Query,
    format: Format,
) -> Result<Response, ApiError> {
    let bookmarks = query
        .get("allowWatchBookmarks")
        .is_some_and(|b| b == "true" || b == "1");
    let send_initial = query
        .get("sendInitialEvents")
        .is_some_and(|b| b == "true" || b == "1");
    let rv: Option<u64> = match query.get("resourceVersion").map(String::as_str) {
        None | Some("") | Some("0") => None,
        Some(s) => Some(
            s.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s}")))?,
        ),
    };
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|t| *t > 0)
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let start = match (send_initial, rv) {
        (true, _) => Start::Snapshot {
            end_bookmark: bookmarks,
        },
        (false, None) => Start::Snapshot {
            end_bookmark: false,
        },
        (false, Some(rv)) => Start::After(rv),
    };
    let filter = Filter {
        namespace: if rt.namespaced { namespace } else { None },
        rt: rt.clone(),
        labels,
        fields,
    };
    let renderer = Renderer {
        layout: (format == Format::Table).then(|| table_layout(&rt)),
        rt,
        format,
        include: include_object(query),
        columns_sent: false,
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(256);
    tokio::spawn(run(api, filter, renderer, start, bookmarks, timeout, tx));
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut resp = (StatusCode::OK, Body::from_stream(stream)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}

async fn run(
    api: Arc<Api>,
    filter: Filter,
    mut renderer: Renderer,
    start: Start,
    bookmarks: bool,
    timeout: Duration,
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
) {
    let key = filter.rt.storage_key();
    let send = |b: Bytes| tx.send(Ok(b));
    let mut last_rv;
    let mut live: broadcast::Receiver<Arc<Event>> = match start {
        Start::Snapshot { end_bookmark } => {
            let (objects, rv, rx) = api
                .store
                .snapshot_and_watch(&key, filter.namespace.as_deref());
            for obj in &objects {
                if let Some(view) = filter.view(obj)
                    && send(renderer.line(EventType::Added, &view)).await.is_err()
                {
                    return;
                }
            }
            if end_bookmark
                && send(line("BOOKMARK", renderer.bookmark(rv, true)))
                    .await
                    .is_err()
            {
                return;
            }
            last_rv = rv;
            rx
        }
        Start::After(from) => match api.store.watch_from(&key, Some(from)) {
            Ok((replay, rx)) => {
                last_rv = from;
                for ev in replay {
                    last_rv = ev.rv;
                    if let Some((kind, obj)) = filter.translate(&ev)
                        && send(renderer.line(kind, &obj)).await.is_err()
                    {
                        return;
                    }
                }
                rx
            }
            Err(expired) => {
                let status = ApiError::gone(format!(
                    "too old resource version: {} ({})",
                    expired.requested, expired.oldest
                ))
                .to_status();
                let _ = send(line("ERROR", status)).await;
                return;
            }
        },
    };
    let mut drops = api.faults.watch_drops();
    drops.mark_unchanged();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(api.config.bookmark_interval);
    tick.tick().await;
    loop {
        tokio::select! {
            ev = live.recv() => match ev {
                Ok(ev) => {
                    if ev.rv <= last_rv {
                        continue;
                    }
                    last_rv = ev.rv;
                    if let Some((kind, obj)) = filter.translate(&ev)
                        && send(renderer.line(kind, &obj)).await.is_err()
                    {
                        return;
                    }
                }
                // Too slow to keep up, or the store is gone: end the stream; the client resumes.
                Err(_) => return,
            },
            _ = tick.tick(), if bookmarks => {
                if send(line("BOOKMARK", renderer.bookmark(last_rv, false))).await.is_err() {
                    return;
                }
            }
            _ = drops.changed() => return,
            _ = &mut deadline => return,
            _ = tx.closed() => return,
        }
    }
}
