//! The program's allocator: mimalloc, built without transparent huge pages.
//!
//! mimalloc keeps the sandbox's memory low under churn (big list replies, watch history). Backing
//! its arenas with transparent huge pages nearly doubled the peak of a small process such as the
//! operator, so the `no_thp` feature of `libmimalloc-sys` is on (Cargo.toml). The binary and the
//! benchmarks use [`Allocator`].

pub use mimalloc::MiMalloc as Allocator;
