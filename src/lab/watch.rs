//! Live reload of a `--labs DIR`: reparse the directory whenever a lab file changes.

use super::load::{LabSet, is_lab_file, load_dir};
use notify_debouncer_full::notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long file events are gathered before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Keeps the watch alive; dropping it stops watching.
pub struct LabWatcher {
    _debouncer: Debouncer<notify_debouncer_full::notify::RecommendedWatcher, RecommendedCache>,
    pub dir: PathBuf,
}

/// Watches `dir` and calls `on_reload` with the freshly loaded labs after every change to a lab
/// file (on the watcher's thread: send it on to the UI through a channel).
pub fn watch_dir(
    dir: &Path,
    mut on_reload: impl FnMut(LabSet) + Send + 'static,
) -> Result<LabWatcher, notify_debouncer_full::notify::Error> {
    let root = dir.to_path_buf();
    let reload_dir = root.clone();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let Ok(events) = result else { return };
        let relevant = events
            .iter()
            .any(|e| e.paths.iter().any(|p| is_lab_file(p)));
        if relevant {
            on_reload(load_dir(&reload_dir));
        }
    })?;
    debouncer.watch(&root, RecursiveMode::NonRecursive)?;
    Ok(LabWatcher {
        _debouncer: debouncer,
        dir: root,
    })
}
