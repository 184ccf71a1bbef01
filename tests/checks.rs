//! The check engine and `oplab check`.

#[path = "checks/cli.rs"]
mod cli;
mod common;
#[path = "checks/engine.rs"]
mod engine;
#[path = "checks/grading.rs"]
mod grading;
#[path = "checks/messages.rs"]
mod messages;
