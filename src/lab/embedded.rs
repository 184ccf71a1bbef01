//! The bundled lab files, compiled into the binary.

/// `(file name, text)` of every bundled lab; a test checks this matches `labs/*.md`.
pub(crate) const LABS: &[(&str, &str)] = &[
    (
        "01-custom-resources.md",
        include_str!("../../labs/01-custom-resources.md"),
    ),
    (
        "02-olm-and-etcd.md",
        include_str!("../../labs/02-olm-and-etcd.md"),
    ),
    (
        "03-gordon-operator.md",
        include_str!("../../labs/03-gordon-operator.md"),
    ),
    (
        "04-operator-sdk.md",
        include_str!("../../labs/04-operator-sdk.md"),
    ),
];

/// The Python reference solution of the Gordon exercise.
pub const GORDON_OPERATOR_PY: &str = include_str!("../../labs/solutions/gordon_operator.py");

/// The controller-loop diagram of chapter 4.
pub const CONTROLLER_LOOP: &str = include_str!("../../assets/controller-loop.txt");
