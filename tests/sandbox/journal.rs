//! The `--state` journal: a full disk mid-record loses nothing acknowledged and is cut back before the next
//! write; a failed compaction leaves log and snapshot byte for byte as they were; checksums and counts find
//! every kind of damage at load (file, line, what to do); a torn last record is still recovered; a deleted
//! credentials.json is reported. Ends with a bounded property test of the loader over random damage.

use oplab::sandbox::registry::StorageKey;
use oplab::sandbox::state::{self, Credentials, Loaded};
use oplab::sandbox::store::{Event, EventType, Journal, Stored};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

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
        object: Arc::new(Stored::new(&json!({
            "metadata": {"name": name, "namespace": "default", "resourceVersion": rv.to_string()},
            "data": {"k": name}
        }))),
        old: None,
    }
}

/// A state with `n` ConfigMaps c1..cn at rv 1..n (and credentials, as a sandbox writes them).
fn state_with(dir: &Path, n: u64) -> Loaded {
    let mut loaded = state::open(dir, 1000).expect("open");
    state::write_credentials(
        dir,
        &Credentials {
            ca_pem: "ca".into(),
            cert_pem: "cert".into(),
            key_pem: "key".into(),
            token: "t".into(),
            signing_key: None,
        },
    )
    .expect("credentials");
    for i in 1..=n {
        loaded
            .journal
            .record(&ev(i, &format!("c{i}"), EventType::Added))
            .expect("record");
    }
    loaded
}

fn names(loaded: &Loaded) -> Vec<String> {
    let mut v: Vec<String> = loaded
        .objects
        .iter()
        .map(|(_, o)| o.name().to_string())
        .collect();
    v.sort();
    v
}

fn damaged(dir: &Path) -> String {
    match state::open(dir, 1000) {
        Ok(l) => panic!(
            "damage in {} not found at load: {} objects loaded",
            dir.display(),
            l.objects.len()
        ),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn a_full_disk_mid_record_is_cut_back_and_nothing_acknowledged_is_lost() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("s");
    let mut loaded = state_with(&dir, 5);
    // The disk fills in the middle of record 6: refused, and the half record is cut away at once.
    loaded.journal.faults.tear_writes.store(1, Ordering::SeqCst);
    let err = loaded
        .journal
        .record(&ev(6, "lost", EventType::Added))
        .expect_err("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
    // The store reuses rv 6 for the next write (the refused one never happened): acknowledged.
    loaded.journal.faults.fail_writes.store(1, Ordering::SeqCst);
    assert!(
        loaded
            .journal
            .record(&ev(6, "also-lost", EventType::Added))
            .is_err()
    );
    loaded
        .journal
        .record(&ev(6, "kept", EventType::Added))
        .expect("acknowledged");
    drop(loaded);
    let loaded = state::open(&dir, 1000).expect("loads after a full disk");
    assert_eq!(loaded.last_rv, 6);
    let got = names(&loaded);
    assert!(
        got.contains(&"kept".to_string()) && !got.contains(&"lost".to_string()),
        "{got:?}"
    );
    assert_eq!(got.len(), 6);
}

#[test]
fn a_failed_compaction_leaves_log_and_snapshot_exactly_as_they_were() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("s");
    let mut loaded = state_with(&dir, 20);
    loaded.journal.compact(20).expect("a first compaction");
    loaded
        .journal
        .record(&ev(21, "c21", EventType::Added))
        .expect("record");
    let before: Vec<(String, Vec<u8>)> = ["log.jsonl", "snapshot.jsonl"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).expect("read")))
        .collect();
    loaded
        .journal
        .faults
        .fail_compactions
        .store(1, Ordering::SeqCst);
    assert!(loaded.journal.compact(21).is_err());
    for (f, bytes) in &before {
        assert_eq!(
            &std::fs::read(dir.join(f)).expect("read"),
            bytes,
            "{f} changed"
        );
    }
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    // Writing goes on after it, with the next resourceVersion, and all of it loads.
    loaded
        .journal
        .record(&ev(22, "c22", EventType::Added))
        .expect("record");
    drop(loaded);
    let loaded = state::open(&dir, 1000).expect("loads");
    assert_eq!(loaded.last_rv, 22);
    assert_eq!(loaded.objects.len(), 22);
}

#[test]
fn a_torn_last_record_is_recovered_and_later_writes_survive() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("s");
    drop(state_with(&dir, 3));
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("log.jsonl"))
        .expect("log");
    std::io::Write::write_all(&mut log, b"{\"torn\":").expect("torn");
    drop(log);
    let mut loaded = state::open(&dir, 1000).expect("a torn tail is a crash mid-write");
    assert_eq!(loaded.last_rv, 3);
    loaded
        .journal
        .record(&ev(4, "after-torn", EventType::Added))
        .expect("record");
    drop(loaded);
    let loaded = state::open(&dir, 1000).expect("loads");
    assert!(names(&loaded).contains(&"after-torn".to_string()));
}

#[test]
fn every_kind_of_damage_is_found_at_load_with_the_file_and_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = tmp.path();
    let fresh = |name: &str| {
        let dir = base.join(name);
        let mut loaded = state_with(&dir, 10);
        loaded.journal.compact(10).expect("compact");
        for i in 11..=15 {
            loaded
                .journal
                .record(&ev(i, &format!("c{i}"), EventType::Added))
                .expect("record");
        }
        drop(loaded);
        dir
    };
    let lines = |p: &Path| -> Vec<String> {
        std::fs::read_to_string(p)
            .expect("read")
            .lines()
            .map(String::from)
            .collect()
    };
    let write_lines = |p: &Path, l: &[String]| {
        std::fs::write(p, l.iter().map(|x| format!("{x}\n")).collect::<String>()).expect("write")
    };

    // A bit flip inside a log record.
    let d = fresh("flip");
    let log = d.join("log.jsonl");
    let mut l = lines(&log);
    l[2] = l[2].replacen("\"k\":\"c", "\"k\":\"d", 1);
    write_lines(&log, &l);
    let msg = damaged(&d);
    assert!(
        msg.contains("log.jsonl line 3") && msg.contains("checksum"),
        "{msg}"
    );
    assert!(msg.contains("oplab sandbox reset --state"), "{msg}");

    // A record removed from the middle of the log.
    let d = fresh("gap");
    let log = d.join("log.jsonl");
    let mut l = lines(&log);
    l.remove(l.len() - 3);
    write_lines(&log, &l);
    let msg = damaged(&d);
    assert!(
        msg.contains("log.jsonl") && msg.contains("missing"),
        "{msg}"
    );

    // A snapshot cut at a line boundary, and one with a line removed.
    for (name, cut) in [("cut", true), ("removed", false)] {
        let d = fresh(name);
        let snap = d.join("snapshot.jsonl");
        let mut l = lines(&snap);
        if cut {
            l.truncate(l.len() - 2);
        } else {
            l.remove(3);
        }
        write_lines(&snap, &l);
        let msg = damaged(&d);
        assert!(
            msg.contains("snapshot.jsonl") && msg.contains("objects are missing"),
            "{msg}"
        );
    }

    // A snapshot deleted under a log that no longer starts at the beginning (a short history).
    let d = base.join("nosnap");
    drop(state_with(&d, 0));
    let mut loaded = state::open(&d, 3).expect("open");
    for i in 1..=10 {
        loaded
            .journal
            .record(&ev(i, &format!("c{i}"), EventType::Added))
            .expect("record");
    }
    loaded.journal.compact(10).expect("compact");
    drop(loaded);
    std::fs::remove_file(d.join("snapshot.jsonl")).expect("rm");
    let msg = damaged(&d);
    assert!(msg.contains("snapshot.jsonl is missing"), "{msg}");

    // credentials.json deleted: reported, not silently replaced.
    let d = fresh("nocreds");
    std::fs::remove_file(d.join("credentials.json")).expect("rm");
    let msg = damaged(&d);
    assert!(msg.contains("credentials.json is missing"), "{msg}");
    assert!(!d.join("credentials.json").exists());

    // Damage is never repaired behind the user's back: the files are as the damage left them.
    let before = std::fs::read(d.join("log.jsonl")).expect("read");
    let _ = state::open(&d, 1000);
    assert_eq!(std::fs::read(d.join("log.jsonl")).expect("read"), before);
}

/// Bounded property test of the loader: random damage (cuts at any byte, byte flips, removed or
/// duplicated lines) to log and snapshot never panics; damage to the snapshot is always found, and a load
/// after damage to the log is the snapshot plus an unbroken prefix of the log (a cut at the end of the log
/// cannot be told from a crash before those writes: see the report).
#[test]
fn the_loader_survives_random_damage() {
    use rand::{Rng, SeedableRng};
    let tmp = tempfile::tempdir().expect("tempdir");
    let template = tmp.path().join("template");
    let mut loaded = state_with(&template, 12);
    loaded.journal.compact(12).expect("compact");
    for i in 13..=20 {
        loaded
            .journal
            .record(&ev(i, &format!("c{i}"), EventType::Added))
            .expect("record");
    }
    drop(loaded);
    let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&template)
        .expect("dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    for case in 0..300 {
        let dir = tmp.path().join(format!("case{case}"));
        std::fs::create_dir(&dir).expect("mkdir");
        let target = if rng.random_bool(0.5) {
            "log.jsonl"
        } else {
            "snapshot.jsonl"
        };
        let mut torn_tail_only = false;
        for (name, bytes) in &files {
            let mut b = bytes.clone();
            if name == target && !b.is_empty() {
                match rng.random_range(0..4) {
                    0 => {
                        let at = rng.random_range(0..b.len());
                        let last_line_start = b[..b.len() - 1]
                            .iter()
                            .rposition(|c| *c == b'\n')
                            .map_or(0, |i| i + 1);
                        torn_tail_only = name == "log.jsonl" && at > last_line_start;
                        b.truncate(at);
                    }
                    1 => {
                        let at = rng.random_range(0..b.len());
                        b[at] ^= 1 << rng.random_range(0..8);
                    }
                    2 => {
                        let text = String::from_utf8_lossy(&b).into_owned();
                        let mut l: Vec<&str> = text.lines().collect();
                        let at = rng.random_range(0..l.len());
                        l.remove(at);
                        b = l
                            .iter()
                            .map(|x| format!("{x}\n"))
                            .collect::<String>()
                            .into_bytes();
                    }
                    _ => {
                        let text = String::from_utf8_lossy(&b).into_owned();
                        let mut l: Vec<&str> = text.lines().collect();
                        let at = rng.random_range(0..l.len());
                        l.insert(at, l[at]);
                        b = l
                            .iter()
                            .map(|x| format!("{x}\n"))
                            .collect::<String>()
                            .into_bytes();
                    }
                }
            }
            std::fs::write(dir.join(name), b).expect("write");
        }
        let changed = files
            .iter()
            .any(|(n, b)| std::fs::read(dir.join(n)).ok().as_ref() != Some(b));
        match state::open(&dir, 1000) {
            Ok(l) if !changed => assert_eq!(l.objects.len(), 20),
            Ok(l) if torn_tail_only => assert_eq!(l.objects.len(), 19, "case {case}"),
            // Snapshot damage is always found (checksums, the count).
            Ok(l) if target == "snapshot.jsonl" => assert_eq!(
                l.objects.len(),
                20,
                "case {case}: damage to the snapshot loaded with objects missing"
            ),
            // A log cut short looks like a crash before its last writes: what loads is the snapshot plus
            // an unbroken prefix of the log, never a state with a hole in it.
            Ok(l) => {
                let n = l.objects.len() as u64;
                let want: Vec<String> = {
                    let mut v: Vec<String> = (1..=n).map(|i| format!("c{i}")).collect();
                    v.sort();
                    v
                };
                assert!(n >= 12, "case {case}: the snapshot's objects are there");
                assert_eq!(names(&l), want, "case {case}: a prefix of the history");
                assert_eq!(l.last_rv, n, "case {case}");
            }
            Err(e) => {
                let msg = format!("{e:#}");
                assert!(
                    msg.contains(target) || msg.contains("damaged"),
                    "case {case}: {msg}"
                );
            }
        }
    }
}
