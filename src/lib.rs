//! oplab: the Kubernetes Operators workshop as one terminal program.
//!
//! The binary (`src/main.rs`) is a thin shell over this library so that tests and
//! benchmarks drive the same code the attendee runs.

pub mod alloc;
pub mod checks;
pub mod classroom;
pub mod cli;
pub mod cluster;
pub mod explain;
pub mod files;
pub mod kubeconfig;
pub mod lab;
pub mod operator;
pub mod sandbox;
pub mod selector;
pub mod tui;
