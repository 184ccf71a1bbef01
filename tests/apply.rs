//! Applying manifests: the engine and `oplab apply`.

#[path = "apply/cli.rs"]
mod cli;
mod common;
#[path = "apply/engine.rs"]
mod engine;
#[path = "apply/messages.rs"]
mod messages;
