//! The embedded sandbox cluster: a Kubernetes-API-compatible server on loopback, in memory, with simulated pods.

pub mod patch;
pub mod schema;
pub mod table;
