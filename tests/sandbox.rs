//! The sandbox API server, driven over real HTTPS by kubectl, kube-rs and the Python client.

#[path = "sandbox/bad_input.rs"]
mod bad_input;
mod common;
#[path = "sandbox/durability.rs"]
mod durability;
#[path = "sandbox/etcd.rs"]
mod etcd;
#[path = "sandbox/exec.rs"]
mod exec;
#[path = "sandbox/fidelity.rs"]
mod fidelity;
#[path = "sandbox/journal.rs"]
mod journal;
#[path = "sandbox/kube_rs.rs"]
mod kube_rs;
#[path = "sandbox/kubectl.rs"]
mod kubectl;
#[path = "sandbox/olm.rs"]
mod olm;
#[path = "sandbox/private_files.rs"]
mod private_files;
#[path = "sandbox/protobuf.rs"]
mod protobuf;
#[path = "sandbox/python.rs"]
mod python;
#[path = "sandbox/rbac.rs"]
mod rbac;
#[path = "sandbox/semantics.rs"]
mod semantics;
#[path = "sandbox/subresources.rs"]
mod subresources;
#[path = "sandbox/workloads.rs"]
mod workloads;
