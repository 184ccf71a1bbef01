//! The built-in Gordon operator against the sandbox.

#[path = "operator/behaviour.rs"]
mod behaviour;
#[path = "operator/chaos.rs"]
mod chaos;
mod common;
#[path = "operator/rbac.rs"]
mod rbac;
