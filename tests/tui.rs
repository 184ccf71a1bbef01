//! The TUI: whole-app snapshots, services, progress, attendee mode, and the binary under tmux.

#[path = "tui/attendee.rs"]
mod attendee;
#[path = "tui/attendee_rbac.rs"]
mod attendee_rbac;
#[path = "tui/cluster.rs"]
mod cluster;
mod common;
#[path = "tui/grading.rs"]
mod grading;
#[path = "tui/hostile_paths.rs"]
mod hostile_paths;
#[path = "tui/live_checks.rs"]
mod live_checks;
#[path = "tui/messages.rs"]
mod messages;
#[path = "tui/progress.rs"]
mod progress;
#[path = "tui/services.rs"]
mod services;
#[path = "tui/shared_sandbox.rs"]
mod shared_sandbox;
#[path = "tui/snapshots.rs"]
mod snapshots;
#[path = "tui/terminal.rs"]
mod terminal;
#[path = "tui/tmux.rs"]
mod tmux;
