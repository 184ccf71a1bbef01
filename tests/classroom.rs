//! Classroom setup, teardown, RBAC and the instructor board.

#[path = "classroom/board.rs"]
mod board;
mod common;
#[path = "classroom/integrity.rs"]
mod integrity;
#[path = "classroom/messages.rs"]
mod messages;
#[path = "classroom/rbac.rs"]
mod rbac;
#[path = "classroom/setup.rs"]
mod setup;
#[path = "classroom/view.rs"]
mod view;
