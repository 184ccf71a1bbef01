//! Files oplab writes are its own: the state directory 0700 with files 0600, a state directory or a
//! temporary directory someone else owns is refused, a kubeconfig path that is a symbolic link is never
//! written through (the one kubeconfig writer, for the sandbox and the classroom alike).

use crate::common;

use common::*;
use oplab::sandbox::{Options, Sandbox};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Gives `p` to another user, as a second local user who created it first would.
fn give_away(p: &Path) {
    let c = std::ffi::CString::new(p.to_string_lossy().as_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::lchown(c.as_ptr(), 4242, 4242) };
    assert_eq!(
        rc,
        0,
        "modelling another user's file needs root (chown {}): {}",
        p.display(),
        std::io::Error::last_os_error()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_directory_is_0700_and_every_state_file_0600() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let sandbox = Sandbox::start(Options {
        state_dir: Some(state.clone()),
        ..Default::default()
    })
    .await
    .expect("sandbox");
    let kc = dir.path().join("kubeconfig");
    sandbox.write_kubeconfig(&kc).expect("kubeconfig");
    let out = std::process::Command::new(kubectl_default())
        .args([
            "create",
            "secret",
            "generic",
            "s1",
            "--from-literal=password=hunter2",
        ])
        .env("KUBECONFIG", &kc)
        .output()
        .expect("kubectl");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&kc), 0o600);
    let files: Vec<_> = std::fs::read_dir(&state)
        .expect("state")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("log.jsonl")), "{files:?}");
    assert!(
        files.iter().any(|f| f.ends_with("credentials.json")),
        "{files:?}"
    );
    for f in &files {
        let want = if f.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(f), want, "{}", f.display());
    }
    drop(sandbox);

    // A state written by an older oplab (0755 directory, 0644 files) is made private when opened.
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let files: Vec<_> = files.into_iter().filter(|f| f.is_file()).collect();
    for f in &files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let sandbox = Sandbox::start(Options {
        state_dir: Some(state.clone()),
        ..Default::default()
    })
    .await
    .expect("reopened");
    assert_eq!(mode(&state), 0o700);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    drop(sandbox);
}

#[tokio::test]
async fn a_state_directory_owned_by_another_user_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    std::fs::create_dir(&state).expect("mkdir");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    give_away(&state);
    let err = Sandbox::start(Options {
        state_dir: Some(state.clone()),
        ..Default::default()
    })
    .await
    .err()
    .expect("refused");
    let msg = format!("{err:#}");
    assert!(msg.contains("belongs to another user"), "{msg}");
    assert_eq!(
        std::fs::read_dir(&state).expect("dir").count(),
        0,
        "nothing written into it"
    );
    assert_eq!(mode(&state), 0o777, "left as it was");

    // A link to someone else's directory is no better.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&state, &link).expect("symlink");
    assert!(oplab::files::private_dir(&link).is_err());
}

#[tokio::test]
async fn a_kubeconfig_path_that_is_a_symlink_is_not_written_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").expect("victim");
    let link = dir.path().join("link.kubeconfig");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let sandbox = Sandbox::start(Options::default()).await.expect("sandbox");
    let err = sandbox.write_kubeconfig(&link).expect_err("refused");
    assert!(format!("{err:#}").contains("symbolic link"), "{err:#}");
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );

    // The classroom's attendee kubeconfigs go through the same writer.
    let entry = oplab::classroom::kubeconfig::ClusterEntry {
        server: sandbox.url.clone(),
        cluster: oplab::kubeconfig::cluster(&sandbox.url, &sandbox.ca_pem),
    };
    let kc = oplab::classroom::kubeconfig::render(&entry, "alice", "token", "alice");
    assert!(oplab::classroom::kubeconfig::write(&link, &kc).is_err());
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );

    // A real path gets a 0600 kubeconfig that kubectl reads.
    let good = dir.path().join("alice.kubeconfig");
    oplab::classroom::kubeconfig::write(&good, &kc).expect("written");
    assert_eq!(mode(&good), 0o600);
    let text = std::fs::read_to_string(&good).expect("read");
    assert!(
        text.contains("oplab-alice") && text.contains(&sandbox.url),
        "{text}"
    );
}

#[test]
fn a_temporary_directory_someone_else_prepared_is_never_used() {
    // `labs test` works in a fresh private directory with an unpredictable name.
    let a = oplab::files::private_temp_dir("oplab-labs-test-x-").expect("temp");
    let b = oplab::files::private_temp_dir("oplab-labs-test-x-").expect("temp");
    assert_ne!(a.path(), b.path());
    for d in [a.path(), b.path()] {
        assert_eq!(mode(d), 0o700);
        // SAFETY: geteuid cannot fail.
        assert_eq!(std::fs::metadata(d).expect("meta").uid(), unsafe {
            libc::geteuid()
        });
    }
    // A directory of oplab's own that another user created first is refused.
    let dir = tempfile::tempdir().expect("tempdir");
    let theirs = dir.path().join("oplab-labs-test-1-ch1");
    std::fs::create_dir(&theirs).expect("mkdir");
    give_away(&theirs);
    let err = oplab::files::private_dir(&theirs).expect_err("refused");
    assert!(err.to_string().contains("uid 4242"), "{err}");
}
