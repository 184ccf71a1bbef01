//! Sandbox benchmark: pod writes/s, list latency (JSON and Table), watch fan-out latency, memory at 10,000 pods.
//!
//! Run with `cargo bench --bench sandbox`. Everything goes over real HTTPS with the kube-rs client.
//! The server, the client and the benchmark share one process and the program's allocator (mimalloc); the
//! allocator below also counts the bytes in use, so the memory report can tell the heap from the RSS.

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// mimalloc, as in the `oplab` binary, counting the bytes allocated and not yet freed.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        IN_USE.fetch_add(new_size, Ordering::Relaxed);
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn heap_mb() -> f64 {
    IN_USE.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
}

fn pod(name: &str, sent_ns: u128) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"bench": "yes"}, "annotations": {"sent": sent_ns.to_string()}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }))
    .expect("pod")
}

fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

async fn create_pods(api: &Api<Pod>, prefix: &str, n: usize, concurrency: usize) -> Duration {
    let start = Instant::now();
    futures::stream::iter(0..n)
        .for_each_concurrent(concurrency, |i| {
            let api = api.clone();
            let name = format!("{prefix}-{i}");
            async move {
                if let Err(e) = api
                    .create(&PostParams::default(), &pod(&name, now_ns()))
                    .await
                {
                    eprintln!("create {name}: {e}");
                }
            }
        })
        .await;
    start.elapsed()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let mut options = oplab::sandbox::Options::default();
    options.config.pod_start_delay = Duration::from_millis(300);
    let sandbox = oplab::sandbox::Sandbox::start(options)
        .await
        .expect("sandbox");
    let client = sandbox.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    println!("oplab sandbox benchmark (2 tokio workers, kube-rs over HTTPS, in one process)");

    // 1. Writes.
    let n = 5_000;
    let took = create_pods(&pods, "w", n, 32).await;
    println!(
        "create {n} pods: {:.2} s, {:.0} writes/s (target 2,000+)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_millis(800)).await;

    // 2. Lists of 5,000 pods, as JSON and as a Table.
    for (label, table) in [("JSON", false), ("Table", true)] {
        let mut samples = Vec::new();
        for _ in 0..40 {
            let mut req = http::Request::builder().uri("/api/v1/namespaces/default/pods");
            if table {
                req = req.header(
                    "Accept",
                    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
                );
            }
            let req = req.body(Vec::new()).expect("request");
            let t = Instant::now();
            let text = client.request_text(req).await.expect("list");
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(text.len() > 1000);
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        println!(
            "list 5,000 pods as {label}: p50 {:.1} ms, p99 {:.1} ms (target p50 < 50 ms)",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99)
        );
    }
    let typed = Instant::now();
    let list = pods.list(&ListParams::default()).await.expect("typed list");
    println!(
        "typed kube-rs list of {} pods incl. decoding: {:.1} ms",
        list.items.len(),
        typed.elapsed().as_secs_f64() * 1000.0
    );
    // The decoded pods are the client's, not the server's: they must not count in the memory below.
    drop(list);

    // 3. Watch fan-out: 50 watchers, delivery latency from the create call to each watcher.
    let watchers = 50;
    let events_per = 200;
    let rv = pods
        .list_metadata(&ListParams::default().limit(1))
        .await
        .expect("rv")
        .metadata
        .resource_version
        .unwrap_or_default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<f64>();
    let fanout_api: Api<Pod> = Api::namespaced(client.clone(), "fanout");
    kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "fanout"}})).expect("ns"),
        )
        .await
        .expect("namespace");
    let _ = rv;
    let mut handles = Vec::new();
    for _ in 0..watchers {
        let api = fanout_api.clone();
        let tx = tx.clone();
        handles.push(tokio::spawn(async move {
            let stream = api
                .watch(&WatchParams::default().timeout(120), "0")
                .await
                .expect("watch");
            let mut stream = std::pin::pin!(stream);
            let mut added = 0;
            while let Some(ev) = stream.next().await {
                if let Ok(WatchEvent::Added(p)) = ev {
                    if let Some(sent) = p
                        .metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get("sent"))
                        .and_then(|s| s.parse::<u128>().ok())
                    {
                        let _ = tx.send((now_ns().saturating_sub(sent)) as f64 / 1e6);
                    }
                    added += 1;
                    if added == events_per {
                        return;
                    }
                }
            }
        }));
    }
    drop(tx);
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..events_per {
        let _ = fanout_api
            .create(&PostParams::default(), &pod(&format!("f-{i}"), now_ns()))
            .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut lat = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while lat.len() < watchers * events_per {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(l)) => lat.push(l),
            _ => break,
        }
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    println!(
        "watch fan-out to {watchers} watchers: {} deliveries, p50 {:.2} ms, p99 {:.2} ms (target p99 < 20 ms)",
        lat.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    for h in handles {
        h.abort();
    }

    // 4. Memory with 10,000 pods and their events (server, client and benchmark in one process).
    let more = 10_000 - n;
    create_pods(&pods, "m", more, 32).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    println!(
        "memory (VmRSS) with {} objects stored: {:.0} MB (target < 200 MB); heap in use {:.0} MB",
        sandbox.api.store.count(),
        rss_mb(),
        heap_mb()
    );
    sandbox.shutdown();
}
