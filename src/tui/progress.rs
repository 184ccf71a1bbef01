//! Progress (current step, done tasks, hints revealed) as JSON in the state dir, written atomically.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Everything oplab remembers between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    pub version: u32,
    /// The lab and step the attendee was on.
    #[serde(default)]
    pub current: Option<Position>,
    /// Per lab id.
    #[serde(default)]
    pub labs: BTreeMap<String, LabProgress>,
    /// The classroom attendee whose namespaces the labs use (`oplab --attendee NAME` saves it here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendee: Option<String>,
    /// Choices that stick across runs (issue 15).
    #[serde(default, skip_serializing_if = "Preferences::is_empty")]
    pub preferences: Preferences,
}

/// The attendee's choices kept in the progress file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// The built-in operator on (the default) or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<bool>,
    /// Where the terminal pane goes: `side` or `below`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal: Option<String>,
}

impl Preferences {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub lab: String,
    /// 0-based step index.
    pub step: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabProgress {
    /// Ids of tasks seen passing.
    #[serde(default)]
    pub done: BTreeSet<String>,
    /// Task id to the number of hints revealed.
    #[serde(default)]
    pub hints: BTreeMap<String, usize>,
    /// Task ids whose solution was shown.
    #[serde(default)]
    pub solutions: BTreeSet<String>,
    /// Edited text of editable code blocks, by block key (`id`, or `line N`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub edits: BTreeMap<String, String>,
    /// When each task first passed, and for whom ("done"; `done` above keeps the ids).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub passed: BTreeMap<String, DoneRecord>,
    /// The last submitted answer of each quiz: the picked choices, 0-based, as `oplab check`
    /// grades them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub answers: BTreeMap<String, Vec<usize>>,
}

/// When a task first passed, and for whom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneRecord {
    /// RFC 3339, UTC.
    pub at: String,
    /// The classroom attendee, if one was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl DoneRecord {
    /// A record of now.
    pub fn now(by: Option<&str>) -> Self {
        Self {
            at: jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string()),
            by: by.map(str::to_string),
        }
    }

    /// `10:42` (UTC) for the TUI.
    pub fn short_time(&self) -> String {
        self.at
            .parse::<jiff::Timestamp>()
            .map(|t| t.strftime("%H:%M").to_string())
            .unwrap_or_else(|_| self.at.clone())
    }
}

/// The current file format.
pub const VERSION: u32 = 1;

impl Progress {
    pub fn new() -> Self {
        Self {
            version: VERSION,
            ..Self::default()
        }
    }

    pub fn lab(&self, id: &str) -> Option<&LabProgress> {
        self.labs.get(id)
    }

    pub fn lab_mut(&mut self, id: &str) -> &mut LabProgress {
        self.labs.entry(id.to_string()).or_default()
    }

    pub fn is_done(&self, lab: &str, task: &str) -> bool {
        self.lab(lab).is_some_and(|l| l.done.contains(task))
    }

    /// When the task first passed, if it did.
    pub fn done_record(&self, lab: &str, task: &str) -> Option<&DoneRecord> {
        self.lab(lab).and_then(|l| l.passed.get(task))
    }

    /// Marks a task done (once: the first pass is kept); true when it was not done before.
    pub fn mark_done(&mut self, lab: &str, task: &str, by: Option<&str>) -> bool {
        let l = self.lab_mut(lab);
        let new = l.done.insert(task.to_string());
        if !l.passed.contains_key(task) {
            l.passed.insert(task.to_string(), DoneRecord::now(by));
        }
        new
    }

    /// The last submitted answer of a quiz (0-based choices).
    pub fn answer(&self, lab: &str, task: &str) -> Option<&[usize]> {
        self.lab(lab)
            .and_then(|l| l.answers.get(task))
            .map(Vec::as_slice)
    }

    pub fn hints(&self, lab: &str, task: &str) -> usize {
        self.lab(lab)
            .and_then(|l| l.hints.get(task).copied())
            .unwrap_or(0)
    }

    pub fn solution_shown(&self, lab: &str, task: &str) -> bool {
        self.lab(lab).is_some_and(|l| l.solutions.contains(task))
    }

    /// Forgets everything about these tasks of a lab.
    pub fn reset_tasks<'a>(&mut self, lab: &str, tasks: impl IntoIterator<Item = &'a str>) {
        if let Some(l) = self.labs.get_mut(lab) {
            for t in tasks {
                l.done.remove(t);
                l.passed.remove(t);
                l.answers.remove(t);
                l.hints.remove(t);
                l.solutions.remove(t);
            }
        }
    }
}

impl Progress {
    /// Reads a progress file without changing it (`oplab check --progress`): `None` when there is
    /// none, an error naming the file when it cannot be read or is not a progress file.
    pub fn read_only(path: &Path) -> Result<Option<Progress>, String> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let p: Progress = serde_json::from_slice(&text)
            .map_err(|e| format!("{} is not an oplab progress file: {e}", path.display()))?;
        if p.version != VERSION {
            return Err(format!(
                "{} has progress format version {}, this oplab reads {VERSION}",
                path.display(),
                p.version
            ));
        }
        Ok(Some(p))
    }
}

/// Where progress lives; `None` keeps it in memory only.
#[derive(Debug, Clone, Default)]
pub struct ProgressStore {
    pub path: Option<PathBuf>,
}

/// The result of loading: the progress, and a sentence for the log when something was off.
#[derive(Debug)]
pub struct Loaded {
    pub progress: Progress,
    pub note: Option<String>,
}

impl ProgressStore {
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: Some(path.into()),
        }
    }

    pub fn in_memory() -> Self {
        Self { path: None }
    }

    /// `<state dir>/oplab/progress.json` (`~/.local/state/oplab` on Linux).
    pub fn default_path() -> Option<PathBuf> {
        Some(
            crate::files::state_home()
                .ok()?
                .join("oplab")
                .join("progress.json"),
        )
    }

    /// Reads the progress; a missing file is a fresh start, a corrupt one is moved aside
    /// (`progress.json.corrupt-<unix time>`) and reported, never fatal.
    pub fn load(&self) -> Loaded {
        let Some(path) = &self.path else {
            return Loaded {
                progress: Progress::new(),
                note: None,
            };
        };
        if let Err(e) = crate::files::regular_file(path) {
            return Loaded {
                progress: Progress::new(),
                note: Some(format!("{e} Starting without saved progress.")),
            };
        }
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Loaded {
                    progress: Progress::new(),
                    note: None,
                };
            }
            Err(e) => {
                return Loaded {
                    progress: Progress::new(),
                    note: Some(format!(
                        "cannot read {}: {e}; starting without saved progress",
                        path.display()
                    )),
                };
            }
        };
        match serde_json::from_slice::<Progress>(&text) {
            Ok(p) if p.version == VERSION => Loaded {
                progress: p,
                note: None,
            },
            Ok(p) => self.set_aside(path, &format!("unknown version {}", p.version)),
            Err(e) => self.set_aside(path, &e.to_string()),
        }
    }

    fn set_aside(&self, path: &Path, why: &str) -> Loaded {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut aside = path.as_os_str().to_owned();
        aside.push(format!(".corrupt-{stamp}"));
        let aside = PathBuf::from(aside);
        let note = match std::fs::rename(path, &aside) {
            Ok(()) => format!(
                "progress file {} is corrupt ({why}); moved it to {} and started afresh",
                path.display(),
                aside.display()
            ),
            Err(e) => format!(
                "progress file {} is corrupt ({why}) and could not be moved aside ({e}); started afresh",
                path.display()
            ),
        };
        Loaded {
            progress: Progress::new(),
            note: Some(note),
        }
    }

    /// Writes the progress atomically: a temporary file in the same directory, then a rename.
    pub fn save(&self, progress: &Progress) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut json = serde_json::to_vec_pretty(progress).map_err(std::io::Error::other)?;
        json.push(b'\n');
        crate::files::write_new(path, &json, crate::files::PRIVATE)
            .map_err(|e| std::io::Error::other(format!("{e:#}")))
    }
}
