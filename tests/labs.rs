//! The bundled labs, their parser diagnostics and `oplab labs`.

#[path = "labs/bundled.rs"]
mod bundled;
#[path = "labs/cli.rs"]
mod cli;
mod common;
#[path = "labs/diagnostics.rs"]
mod diagnostics;
#[path = "labs/messages.rs"]
mod messages;
#[path = "labs/python_operator.rs"]
mod python_operator;
