//! Durable sandbox state (`--state DIR`): an fsynced append-only log of committed changes plus a snapshot.
//!
//! Layout of a state directory:
//! - `oplab-sandbox-state`: the marker and format version; a directory without it is never touched.
//! - `snapshot.jsonl`: a header line `{"format":1,"rv":S}`, then one line per object at resourceVersion S.
//! - `log.jsonl`: one line per committed change (`rv`, type, resource, object). Records with `rv <= S` are
//!   history only (so watches resumed from before a restart replay); later ones are applied over the snapshot.
//! - `credentials.json` (mode 0600): the CA, server certificate, token and ServiceAccount token signing key,
//!   so kubeconfigs and issued ServiceAccount tokens keep working.
//!
//! Every record is written and `fdatasync`ed under the store lock before the write is acknowledged. When the
//! log grows past a few times the live object count, it is compacted: a new snapshot is written beside the old
//! one and renamed into place, then a new log holding only the recent history. A torn last line (a crash in
//! the middle of a write that was never acknowledged) is dropped; any other unreadable line is corruption.

use crate::sandbox::kinds::registry::StorageKey;
use crate::sandbox::store::{Event, EventType, Journal, Stored};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The marker file's name and its expected first line.
pub const MARKER: &str = "oplab-sandbox-state";
const MARKER_CONTENT: &str = "oplab-sandbox-state format 2\n";
/// States written before records carried checksums: read, lines without a checksum accepted.
const MARKER_CONTENT_V1: &str = "oplab-sandbox-state format 1\n";
const SNAPSHOT: &str = "snapshot.jsonl";
const LOG: &str = "log.jsonl";
const CREDENTIALS: &str = "credentials.json";

/// What a state directory holds.
pub struct Loaded {
    pub objects: Vec<(StorageKey, Arc<Stored>)>,
    pub last_rv: u64,
    /// The recent changes, oldest first, contiguous up to `last_rv`.
    pub history: Vec<Event>,
    pub credentials: Option<Credentials>,
    pub journal: FileJournal,
}

/// The TLS material and token of a sandbox, kept so existing kubeconfigs stay valid.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub token: String,
    /// The key ServiceAccount tokens are signed with (base64); absent in states written before it existed.
    pub signing_key: Option<String>,
}

type Ident = (StorageKey, String, String);

/// The journal behind `--state`: appends every committed change and fsyncs it.
pub struct FileJournal {
    dir: PathBuf,
    log: File,
    live: HashMap<Ident, Arc<Stored>>,
    recent: VecDeque<Arc<Event>>,
    history_cap: usize,
    records: usize,
    buf: Vec<u8>,
    /// The log's length after its last good record: a failed write is cut back to it.
    good_len: u64,
    /// Why the log could not be cut back after a failed write: every write is refused until it can.
    broken: Option<String>,
    /// No compaction before this many records (after a failed one).
    next_compaction: usize,
    /// Injected failures (tests).
    pub faults: Arc<JournalFaults>,
}

/// Failures to inject into a journal (tests of a full disk): each counter fails that many operations.
#[derive(Debug, Default)]
pub struct JournalFaults {
    /// Appends that fail before writing anything.
    pub fail_writes: std::sync::atomic::AtomicUsize,
    /// Appends that write half their record, then fail (a full disk mid-record).
    pub tear_writes: std::sync::atomic::AtomicUsize,
    /// Compactions that fail after writing the new snapshot's temporary file.
    pub fail_compactions: std::sync::atomic::AtomicUsize,
}

fn take(counter: &std::sync::atomic::AtomicUsize) -> bool {
    use std::sync::atomic::Ordering;
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn full_disk() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::StorageFull,
        "no space left on device (injected)",
    )
}

/// What a line's checksum says.
enum Seal {
    Valid,
    Mismatch,
    Missing,
}

/// `,"c":"xxxxxxxx"}`: the CRC-32 of the record before it, closing the record.
const SEAL_LEN: usize = 16;

/// Closes the record in `buf[start..]` (which ends with `}\n`) with its checksum.
fn seal(buf: &mut Vec<u8>, start: usize) {
    buf.truncate(buf.len() - 2);
    let crc = crc32fast::hash(&buf[start..]);
    buf.extend_from_slice(format!(",\"c\":\"{crc:08x}\"}}\n").as_bytes());
}

fn unseal(line: &[u8]) -> Seal {
    if line.len() < SEAL_LEN + 2 {
        return Seal::Missing;
    }
    let (body, tail) = line.split_at(line.len() - SEAL_LEN);
    if !tail.starts_with(b",\"c\":\"") || !tail.ends_with(b"\"}") {
        return Seal::Missing;
    }
    let hex = std::str::from_utf8(&tail[6..14]).ok();
    match hex.and_then(|h| u32::from_str_radix(h, 16).ok()) {
        Some(c) if c == crc32fast::hash(body) => Seal::Valid,
        Some(_) => Seal::Mismatch,
        None => Seal::Missing,
    }
}

/// A JSON error in words, without the library's phrasing of positions.
fn json_why(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Eof => "it ends in the middle of a record".into(),
        serde_json::error::Category::Syntax => format!("a syntax error at column {}", e.column()),
        serde_json::error::Category::Data => "an unexpected value".into(),
        serde_json::error::Category::Io => "unreadable".into(),
    }
}

/// Whether the log's first record comes after rv 1 (so a snapshot must hold what came before).
fn has_compacted_log(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut first = String::new();
    if BufReader::new(file).read_line(&mut first).is_err() {
        return false;
    }
    serde_json::from_str::<Value>(first.trim_end())
        .ok()
        .and_then(|v| v["rv"].as_u64())
        .is_some_and(|rv| rv > 1)
}

fn reset_hint(dir: &Path) -> String {
    format!(
        "Nothing was changed. To start over, run `oplab sandbox reset --state {}`, or pass another directory with --state.",
        dir.display()
    )
}

/// Opens (or initialises) a state directory and loads what it holds.
pub fn open(dir: &Path, history_cap: usize) -> anyhow::Result<Loaded> {
    let marker = dir.join(MARKER);
    // The state holds every Secret in clear: a private directory of this user's own, files 0600.
    crate::files::private_dir(dir).with_context(|| {
        format!(
            "using {} as the sandbox state directory (--state)",
            dir.display()
        )
    })?;
    if marker.exists() {
        let content = std::fs::read_to_string(&marker)
            .with_context(|| format!("reading {}", marker.display()))?;
        if content != MARKER_CONTENT && content != MARKER_CONTENT_V1 {
            bail!(
                "{} is not a sandbox state this oplab can read: its marker {} says {:?} (expected {:?}). {}",
                dir.display(),
                marker.display(),
                content.trim(),
                MARKER_CONTENT.trim(),
                reset_hint(dir)
            );
        }
    } else {
        let mut entries = std::fs::read_dir(dir)
            .with_context(|| format!("reading the sandbox state directory {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty and is not an oplab sandbox state (no {MARKER} file): refusing to use it. \
                 Pass an empty or new directory with --state.",
                dir.display()
            );
        }
        write_synced(&marker, MARKER_CONTENT.as_bytes(), true)?;
    }
    for name in [MARKER, SNAPSHOT, LOG, CREDENTIALS] {
        crate::files::tighten_file(&dir.join(name))?;
    }
    let strict = std::fs::read_to_string(&marker).is_ok_and(|c| c == MARKER_CONTENT);
    let corrupt = |what: String| {
        anyhow::anyhow!(
            "the sandbox state in {} is damaged: {what}. Nothing was loaded and nothing was changed. \
             Restore the file from a backup, or start over with `oplab sandbox reset --state {}` \
             (everything in that cluster is lost).",
            dir.display(),
            dir.display()
        )
    };
    // Lines of a file must carry a valid checksum from the first one that does (all of them in a
    // format 2 state).
    let check_line = |file: &str, line_no: usize, line: &[u8], sealed: &mut bool| match unseal(line)
    {
        Seal::Valid => {
            *sealed = true;
            Ok(())
        }
        Seal::Mismatch => Err(corrupt(format!(
            "{file} line {line_no}: the checksum does not match (the line was altered)"
        ))),
        Seal::Missing if strict || *sealed => Err(corrupt(format!(
            "{file} line {line_no}: the line has no checksum (it was altered or inserted)"
        ))),
        Seal::Missing => Ok(()),
    };
    // Snapshot.
    let mut live: HashMap<Ident, Arc<Stored>> = HashMap::new();
    let mut snapshot_rv = 0;
    let snap_path = dir.join(SNAPSHOT);
    if snap_path.exists() {
        crate::files::regular_file(&snap_path)?;
        let file =
            File::open(&snap_path).with_context(|| format!("opening {}", snap_path.display()))?;
        let mut sealed = false;
        let mut expected: Option<u64> = None;
        let mut seen = 0u64;
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.with_context(|| format!("reading {}", snap_path.display()))?;
            check_line(SNAPSHOT, i + 1, line.as_bytes(), &mut sealed)?;
            let v: Value = serde_json::from_str(&line).map_err(|e| {
                corrupt(format!(
                    "{SNAPSHOT} line {}: not JSON ({})",
                    i + 1,
                    json_why(&e)
                ))
            })?;
            if i == 0 {
                if v["format"] != 1 {
                    return Err(corrupt(format!("{SNAPSHOT} has an unknown header")));
                }
                snapshot_rv = v["rv"].as_u64().unwrap_or(0);
                expected = v["count"].as_u64();
                if expected.is_none() && strict {
                    return Err(corrupt(format!(
                        "{SNAPSHOT} line 1: the header has no object count"
                    )));
                }
                continue;
            }
            seen += 1;
            let (key, obj) = parse_object(&v).ok_or_else(|| {
                corrupt(format!("{SNAPSHOT} line {}: not an object record", i + 1))
            })?;
            let (ns, name) = crate::sandbox::store::ns_name(&obj);
            live.insert((key, ns, name), Arc::new(Stored::new(&obj)));
        }
        if let Some(n) = expected
            && n != seen
        {
            return Err(corrupt(format!(
                "{SNAPSHOT} holds {seen} objects but its header says {n}: objects are missing (the file was cut or lines removed)"
            )));
        }
    } else if strict && dir.join(LOG).exists() && has_compacted_log(&dir.join(LOG)) {
        return Err(corrupt(format!(
            "{SNAPSHOT} is missing but {LOG} starts after a compaction"
        )));
    }
    // Log.
    let log_path = dir.join(LOG);
    let mut last_rv = snapshot_rv;
    let mut history: Vec<Event> = Vec::new();
    let mut records = 0;
    if log_path.exists() {
        crate::files::regular_file(&log_path)?;
        let mut sealed = false;
        let data =
            std::fs::read(&log_path).with_context(|| format!("reading {}", log_path.display()))?;
        let mut good_len = 0usize;
        let mut pos = 0usize;
        let mut line_no = 0;
        while pos < data.len() {
            line_no += 1;
            let end = data[pos..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|i| pos + i);
            let Some(end) = end else {
                // A torn last write: never acknowledged, dropped below.
                break;
            };
            check_line(LOG, line_no, &data[pos..end], &mut sealed)?;
            let v: Value = match serde_json::from_slice(&data[pos..end]) {
                Ok(v) => v,
                Err(e) => {
                    return Err(corrupt(format!(
                        "{LOG} line {line_no}: not JSON ({})",
                        json_why(&e)
                    )));
                }
            };
            let ev = parse_event(&v)
                .ok_or_else(|| corrupt(format!("{LOG} line {line_no}: not a change record")))?;
            if let Some(h) = history.last()
                && h.rv + 1 != ev.rv
                && h.rv < ev.rv
            {
                return Err(corrupt(format!(
                    "{LOG} line {line_no}: resourceVersion {} follows {}: the records between are missing",
                    ev.rv, h.rv
                )));
            }
            if history.last().is_some_and(|h: &Event| h.rv >= ev.rv) {
                return Err(corrupt(format!(
                    "{LOG} line {line_no}: resourceVersion {} goes backwards",
                    ev.rv
                )));
            }
            if ev.rv > snapshot_rv {
                let ident = (ev.key.clone(), ev.namespace.clone(), ev.name.clone());
                if ev.kind == EventType::Deleted {
                    live.remove(&ident);
                } else {
                    live.insert(ident, ev.object.clone());
                }
                last_rv = ev.rv;
            }
            history.push(ev);
            records += 1;
            pos = end + 1;
            good_len = pos;
        }
        if good_len < data.len() {
            let f = OpenOptions::new().write(true).open(&log_path)?;
            f.set_len(good_len as u64).with_context(|| {
                format!("dropping a torn last record from {}", log_path.display())
            })?;
            f.sync_all()?;
        }
    }
    if history.len() > history_cap {
        history.drain(..history.len() - history_cap);
    }
    let log = crate::files::open_append(&log_path, crate::files::PRIVATE)?;
    sync_dir(dir)?;
    let credentials = read_credentials(dir)?;
    if credentials.is_none() && (records > 0 || snap_path.exists()) {
        // Replacing them would make every kubeconfig and ServiceAccount token of this cluster fail.
        return Err(corrupt(format!(
            "{CREDENTIALS} is missing, so the kubeconfigs and tokens already handed out could not be trusted again; \
             restore {CREDENTIALS} from a backup"
        )));
    }
    let objects = live
        .iter()
        .map(|((k, _, _), o)| (k.clone(), o.clone()))
        .collect();
    let recent = history.iter().map(|e| Arc::new(clone_event(e))).collect();
    Ok(Loaded {
        objects,
        last_rv,
        history,
        credentials,
        journal: FileJournal {
            dir: dir.to_path_buf(),
            log,
            live,
            recent,
            history_cap,
            records,
            buf: Vec::with_capacity(4096),
            good_len: std::fs::metadata(&log_path).map_or(0, |m| m.len()),
            broken: None,
            next_compaction: 0,
            faults: Arc::new(JournalFaults::default()),
        },
    })
}

fn clone_event(e: &Event) -> Event {
    Event {
        rv: e.rv,
        key: e.key.clone(),
        namespace: e.namespace.clone(),
        name: e.name.clone(),
        kind: e.kind,
        object: e.object.clone(),
        old: None,
    }
}

fn parse_object(v: &Value) -> Option<(StorageKey, Value)> {
    let key = StorageKey {
        group: v["g"].as_str()?.to_string(),
        plural: v["p"].as_str()?.to_string(),
    };
    let obj = v.get("o")?.clone();
    obj.get("metadata")?;
    Some((key, obj))
}

fn parse_event(v: &Value) -> Option<Event> {
    let (key, obj) = parse_object(v)?;
    let kind = match v["t"].as_str()? {
        "A" => EventType::Added,
        "M" => EventType::Modified,
        "D" => EventType::Deleted,
        _ => return None,
    };
    let (namespace, name) = crate::sandbox::store::ns_name(&obj);
    Some(Event {
        rv: v["rv"].as_u64()?,
        key,
        namespace,
        name,
        kind,
        object: Arc::new(Stored::new(&obj)),
        old: None,
    })
}

fn type_code(kind: EventType) -> &'static str {
    match kind {
        EventType::Added => "A",
        EventType::Modified => "M",
        EventType::Deleted => "D",
    }
}

/// One log line: `{"rv":…,"t":…,"g":…,"p":…,"o":…}`, the object written from its stored JSON.
fn encode_event(buf: &mut Vec<u8>, e: &Event) -> std::io::Result<()> {
    let start = buf.len();
    buf.extend_from_slice(format!("{{\"rv\":{},\"t\":\"{}\",", e.rv, type_code(e.kind)).as_bytes());
    encode_object(buf, &e.key, &e.object)?;
    seal(buf, start);
    Ok(())
}

/// The `"g":…,"p":…,"o":…}` end of a record, and its newline.
fn encode_object(buf: &mut Vec<u8>, key: &StorageKey, obj: &Stored) -> std::io::Result<()> {
    buf.extend_from_slice(b"\"g\":");
    serde_json::to_writer(&mut *buf, &key.group)?;
    buf.extend_from_slice(b",\"p\":");
    serde_json::to_writer(&mut *buf, &key.plural)?;
    buf.extend_from_slice(b",\"o\":");
    buf.extend_from_slice(obj.json().as_bytes());
    buf.extend_from_slice(b"}\n");
    Ok(())
}

impl Journal for FileJournal {
    fn record(&mut self, event: &Event) -> std::io::Result<()> {
        if let Some(why) = self.broken.clone() {
            // Try again to cut the log back; until then nothing more is appended after a torn record.
            self.cut_back().map_err(|e| {
                std::io::Error::other(format!(
                    "the sandbox state's log could not be repaired after a failed write ({why}; {e}): writes are refused until it can"
                ))
            })?;
        }
        if self.records >= self.next_compaction
            && self.records > 4 * self.live.len() + 4 * self.history_cap + 10_000
            && let Err(e) = self.compact(event.rv - 1)
        {
            // The old log and snapshot are untouched: the write goes on into the old log.
            tracing::warn!("sandbox state: compaction failed, kept the log as it was: {e}");
            self.next_compaction = self.records + 1_000;
        }
        self.buf.clear();
        encode_event(&mut self.buf, event)?;
        if let Err(e) = self.append() {
            if let Err(cut) = self.cut_back() {
                self.broken = Some(format!("{e}; cutting back: {cut}"));
            }
            return Err(e);
        }
        self.good_len += self.buf.len() as u64;
        let ident = (
            event.key.clone(),
            event.namespace.clone(),
            event.name.clone(),
        );
        if event.kind == EventType::Deleted {
            self.live.remove(&ident);
        } else {
            self.live.insert(ident, event.object.clone());
        }
        self.recent.push_back(Arc::new(clone_event(event)));
        while self.recent.len() > self.history_cap {
            self.recent.pop_front();
        }
        self.records += 1;
        Ok(())
    }
}

impl FileJournal {
    fn append(&mut self) -> std::io::Result<()> {
        if take(&self.faults.fail_writes) {
            return Err(full_disk());
        }
        if take(&self.faults.tear_writes) {
            let half = self.buf.len() / 2;
            self.log.write_all(&self.buf[..half])?;
            return Err(full_disk());
        }
        self.log.write_all(&self.buf)?;
        self.log.sync_data()
    }

    /// Cuts the log back to its last good record (after a failed append).
    fn cut_back(&mut self) -> std::io::Result<()> {
        self.log.set_len(self.good_len)?;
        self.log.sync_data()?;
        self.broken = None;
        Ok(())
    }

    /// Writes a snapshot of every live object at `rv` and a log of only the recent history. Both new files
    /// are written and synced before either replaces the old one, so a failure leaves the state as it was.
    pub fn compact(&mut self, rv: u64) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(1 << 20);
        let start = out.len();
        serde_json::to_writer(
            &mut out,
            &json!({"format": 1, "rv": rv, "count": self.live.len()}),
        )?;
        out.push(b'\n');
        seal(&mut out, start);
        for ((key, _, _), obj) in &self.live {
            let start = out.len();
            out.push(b'{');
            encode_object(&mut out, key, obj)?;
            seal(&mut out, start);
        }
        let snap_tmp = self.write_temp(SNAPSHOT, &out)?;
        let result = (|| {
            if take(&self.faults.fail_compactions) {
                return Err(full_disk());
            }
            let mut log = Vec::new();
            for e in &self.recent {
                encode_event(&mut log, e)?;
            }
            let log_tmp = self.write_temp(LOG, &log)?;
            Ok((log_tmp, log.len() as u64))
        })();
        let (log_tmp, log_len) = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_file(&snap_tmp);
                return Err(e);
            }
        };
        // The snapshot first: with it in place the old log is only history, so the state stays whole
        // between the two renames.
        if let Err(e) = std::fs::rename(&snap_tmp, self.dir.join(SNAPSHOT)) {
            let _ = std::fs::remove_file(&snap_tmp);
            let _ = std::fs::remove_file(&log_tmp);
            return Err(e);
        }
        if let Err(e) = std::fs::rename(&log_tmp, self.dir.join(LOG)) {
            let _ = std::fs::remove_file(&log_tmp);
            crate::files::sync_dir(&self.dir);
            return Err(e);
        }
        crate::files::sync_dir(&self.dir);
        self.log = crate::files::open_append(&self.dir.join(LOG), crate::files::PRIVATE)
            .map_err(std::io::Error::other)?;
        self.good_len = log_len;
        self.records = self.recent.len();
        Ok(())
    }

    /// A new file beside `name`, created exclusively (mode 0600) with an unpredictable name, synced.
    fn write_temp(&self, name: &str, data: &[u8]) -> std::io::Result<PathBuf> {
        let tmp = self
            .dir
            .join(format!(".{name}.{}.tmp", crate::files::random_suffix()));
        let result = (|| {
            let mut f = crate::files::create_exclusive(&tmp, crate::files::PRIVATE)?;
            f.write_all(data)?;
            f.sync_all()
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(tmp)
    }
}

/// Replaces `path` atomically (an exclusively created temporary beside it, mode 0600, synced, renamed).
fn write_synced(path: &Path, data: &[u8], _private: bool) -> anyhow::Result<()> {
    crate::files::write_new(path, data, crate::files::PRIVATE)
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

pub fn read_credentials(dir: &Path) -> anyhow::Result<Option<Credentials>> {
    let path = dir.join(CREDENTIALS);
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "the sandbox state in {} is corrupt: {CREDENTIALS}: {e}. {}",
            dir.display(),
            reset_hint(dir)
        )
    })?;
    let field = |k: &str| v[k].as_str().map(String::from);
    match (
        field("caPem"),
        field("certPem"),
        field("keyPem"),
        field("token"),
    ) {
        (Some(ca_pem), Some(cert_pem), Some(key_pem), Some(token)) => Ok(Some(Credentials {
            ca_pem,
            cert_pem,
            key_pem,
            token,
            signing_key: field("signingKey"),
        })),
        _ => bail!(
            "the sandbox state in {} is corrupt: {CREDENTIALS} lacks a field. {}",
            dir.display(),
            reset_hint(dir)
        ),
    }
}

/// Saves the credentials (mode 0600).
pub fn write_credentials(dir: &Path, c: &Credentials) -> anyhow::Result<()> {
    let mut v =
        json!({"caPem": c.ca_pem, "certPem": c.cert_pem, "keyPem": c.key_pem, "token": c.token});
    if let Some(key) = &c.signing_key {
        v["signingKey"] = json!(key);
    }
    write_synced(&dir.join(CREDENTIALS), v.to_string().as_bytes(), true)
        .with_context(|| format!("saving {}", dir.join(CREDENTIALS).display()))
}

/// Empties a state directory; refuses one that is not a sandbox state (no marker) unless it is empty.
pub fn reset(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let has_marker = dir.join(MARKER).exists();
    let entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    if !has_marker && !entries.is_empty() {
        bail!(
            "{} is not an oplab sandbox state (no {MARKER} file): refusing to empty it",
            dir.display()
        );
    }
    // The marker goes last, so an interrupted reset still looks like a sandbox state.
    for e in entries.iter().filter(|e| e.file_name() != MARKER) {
        let p = e.path();
        if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        }
        .with_context(|| format!("removing {}", p.display()))?;
    }
    if has_marker {
        std::fs::remove_file(dir.join(MARKER))
            .with_context(|| format!("removing {}", dir.join(MARKER).display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(rv: u64, name: &str, kind: EventType) -> Event {
        Event {
            rv,
            key: StorageKey {
                group: String::new(),
                plural: "configmaps".into(),
            },
            namespace: "default".into(),
            name: name.into(),
            kind,
            object: Arc::new(Stored::new(
                &json!({"metadata": {"name": name, "namespace": "default", "resourceVersion": rv.to_string()}, "data": {"k": name}}),
            )),
            old: None,
        }
    }

    #[test]
    fn log_survives_reopen_torn_tail_and_compaction() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s");
        let mut loaded = open(&path, 100).expect("open");
        write_credentials(
            &path,
            &Credentials {
                ca_pem: "ca".into(),
                cert_pem: "cert".into(),
                key_pem: "key".into(),
                token: "t".into(),
                signing_key: None,
            },
        )
        .expect("credentials");
        for i in 1..=50 {
            loaded
                .journal
                .record(&ev(i, &format!("c{i}"), EventType::Added))
                .expect("record");
        }
        loaded
            .journal
            .record(&ev(51, "c1", EventType::Deleted))
            .expect("record");
        drop(loaded);
        let mut f = OpenOptions::new()
            .append(true)
            .open(path.join(LOG))
            .expect("log");
        f.write_all(b"{\"rv\":52,\"t\":\"A\"").expect("torn");
        drop(f);
        let mut loaded = open(&path, 100).expect("reopen");
        assert_eq!(loaded.objects.len(), 49);
        assert_eq!(loaded.last_rv, 51);
        assert_eq!(loaded.history.len(), 51);
        loaded.journal.compact(51).expect("compact");
        drop(loaded);
        let loaded = open(&path, 100).expect("reopen after compaction");
        assert_eq!(loaded.objects.len(), 49);
        assert_eq!(loaded.last_rv, 51);
        assert_eq!(loaded.history.first().map(|e| e.rv), Some(1));
    }

    #[test]
    fn foreign_and_corrupt_directories_are_refused_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("notes.txt"), "mine").expect("write");
        let err = open(dir.path(), 10).err().expect("refused").to_string();
        assert!(err.contains("not an oplab sandbox state"), "{err}");
        assert!(reset(dir.path()).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("notes.txt")).expect("kept"),
            "mine"
        );

        let s = dir.path().join("s");
        drop(open(&s, 10).expect("init"));
        std::fs::write(s.join(LOG), "garbage\n{}\n").expect("write");
        let err = open(&s, 10).err().expect("corrupt").to_string();
        assert!(
            err.contains("damaged") && err.contains("oplab sandbox reset"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(s.join(LOG)).expect("kept"),
            "garbage\n{}\n"
        );
        reset(&s).expect("reset");
        assert_eq!(std::fs::read_dir(&s).expect("dir").count(), 0);
    }
}
