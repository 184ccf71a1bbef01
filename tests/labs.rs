//! The bundled labs, their parser diagnostics and `oplab labs`.

#[path = "labs/bundled.rs"]
mod bundled;
#[path = "labs/chapter2.rs"]
mod chapter2;
#[path = "labs/cli.rs"]
mod cli;
mod common;
#[path = "labs/diagnostics.rs"]
mod diagnostics;
#[path = "labs/messages.rs"]
mod messages;
#[path = "labs/python_operator.rs"]
mod python_operator;
#[path = "labs/sets.rs"]
mod sets;
#[path = "labs/walk.rs"]
mod walk;
