//! Classroom: attendees on one shared cluster, each in namespaces of their own, seen live by the instructor.
//!
//! This module holds the names both sides agree on: the attendee side (`oplab --attendee NAME`) labels the
//! namespaces it uses, the instructor side (`oplab classroom`) finds attendees by those labels.

use crate::lab::Lab;

pub mod board;
pub mod export;
pub mod kubeconfig;
pub mod roster;
pub mod setup;
pub mod snapshot;
pub mod teardown;
pub mod view;

pub use board::Board;
pub use snapshot::{Cell, Column, Connection, Row, Snapshot, TaskKind};

/// Label on every namespace that belongs to an attendee; its value is the attendee's name.
pub const ATTENDEE_LABEL: &str = "oplab.dev/attendee";
/// Label on everything `oplab classroom setup` creates, so that teardown finds it all.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`] on classroom objects.
pub const MANAGED_BY: &str = "oplab-classroom";
/// The namespace that holds the attendees' ServiceAccounts.
pub const CLASSROOM_NAMESPACE: &str = "oplab-classroom";
/// The longest attendee name: `NAME-` plus the longest lab namespace default must stay a DNS label.
pub const MAX_ATTENDEE_NAME: usize = 20;

/// Checks that `name` can prefix namespaces: a DNS-1123 label of at most [`MAX_ATTENDEE_NAME`] characters.
pub fn validate_attendee_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if name.is_empty()
        || name.len() > MAX_ATTENDEE_NAME
        || !ok_chars
        || name.starts_with('-')
        || name.ends_with('-')
    {
        return Err(format!(
            "`{name}` is not a usable attendee name: use 1 to {MAX_ATTENDEE_NAME} lowercase letters, digits \
             and dashes, starting and ending with a letter or digit (e.g. `alice`, `attendee-7`)"
        ));
    }
    Ok(())
}

/// Every namespace an attendee works in across `labs` (`alice` gets `alice-gordon` for `ns: gordon`),
/// sorted and without duplicates.
pub fn attendee_namespaces<'a>(
    labs: impl IntoIterator<Item = &'a Lab>,
    attendee: &str,
) -> Vec<String> {
    let mut out: Vec<String> = labs
        .into_iter()
        .flat_map(|lab| lab.attendee_vars(attendee).0.into_values())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attendee_names_are_dns_labels() {
        assert!(validate_attendee_name("alice").is_ok());
        assert!(validate_attendee_name("attendee-7").is_ok());
        for bad in [
            "",
            "Alice",
            "-a",
            "a-",
            "a_b",
            "a.b",
            "abcdefghijklmnopqrstu",
        ] {
            assert!(validate_attendee_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn attendee_namespaces_cover_every_lab() {
        let set = crate::lab::load_embedded();
        let ns = attendee_namespaces(set.labs.iter(), "alice");
        assert!(ns.contains(&"alice-gordon".to_string()), "{ns:?}");
        assert!(ns.contains(&"alice-etc2".to_string()), "{ns:?}");
        assert!(ns.iter().all(|n| n.starts_with("alice-") && n.len() <= 63));
    }
}
