//! Issue 18 in the TUI: every line the attendee reads is true, located and readable.

use super::snapshots::harness;

/// `k` (nav pane) or `p` at the first step says "This is the first step." once, however often it is pressed.
#[tokio::test]
async fn k_at_the_first_step_says_so_once() {
    let mut h = harness(100, 30);
    h.keys("pppp").await;
    let log = h.log_text();
    assert_eq!(log.matches("This is the first step.").count(), 1, "{log}");
    // after another line, it is said again (once)
    h.keys(":nosuchcommand<enter>ppp").await;
    let log = h.log_text();
    assert_eq!(log.matches("This is the first step.").count(), 2, "{log}");
}
