//! Durability benchmark: ConfigMap writes/s in memory and with `--state` (ratio), restart time and memory at
//! 10,000 objects. Run with `cargo bench --bench durability`. Writes go through the API layer (admission,
//! the store and, with state, the fsynced log), not over HTTPS, so the cost of durability stands out.

use oplab::sandbox::{Options, Sandbox};
use serde_json::json;
use std::time::Instant;

// The allocator of the `oplab` binary.
#[global_allocator]
static ALLOCATOR: oplab::alloc::Allocator = oplab::alloc::Allocator;

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn write(sandbox: &Sandbox, n: usize, prefix: &str) -> f64 {
    let rt = sandbox
        .api
        .registry()
        .get("", "v1", "configmaps")
        .expect("configmaps");
    let opts = oplab::sandbox::store::api::WriteOpts::internal("bench");
    let start = Instant::now();
    for i in 0..n {
        let cm = json!({"metadata": {"name": format!("{prefix}-{i}")}, "data": {"k": format!("value {i}"), "more": "x".repeat(200)}});
        sandbox
            .api
            .create(&rt, "default", cm, &opts)
            .expect("create");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state");
        let n = 3_000;
        let memory = Sandbox::start(Options::default()).await.expect("sandbox");
        let in_memory = write(&memory, n, "m");
        drop(memory);
        let durable = Sandbox::start(Options {
            state_dir: Some(state.clone()),
            ..Default::default()
        })
        .await
        .expect("sandbox");
        let with_state = write(&durable, n, "d");
        println!("writes/s in memory:   {in_memory:>10.0}");
        println!(
            "writes/s with state:  {with_state:>10.0}  (ratio {:.2})",
            with_state / in_memory
        );
        write(&durable, 10_000 - n, "e");
        let objects = durable.api.store.count();
        drop(durable);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let size: u64 = std::fs::read_dir(&state)
            .expect("state")
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        let rss_before = rss_mib();
        let start = Instant::now();
        let restarted = Sandbox::start(Options {
            state_dir: Some(state.clone()),
            ..Default::default()
        })
        .await
        .expect("restart");
        let restart = start.elapsed();
        println!(
            "restart with {} objects: {:.0} ms (state on disk {:.1} MiB)",
            restarted.api.store.count(),
            restart.as_secs_f64() * 1000.0,
            size as f64 / (1 << 20) as f64
        );
        assert!(restarted.api.store.count() >= objects);
        println!(
            "memory: RSS {:.0} MiB after restart ({:.0} MiB before it)",
            rss_mib(),
            rss_before
        );
    });
}
