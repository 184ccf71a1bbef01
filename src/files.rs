//! How oplab writes files: never through a path someone else prepared.
//!
//! - [`write_new`] replaces a file atomically: a temporary file with an unpredictable name is created
//!   exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`) in the target's own directory with its final mode from the
//!   start, written, synced and renamed over the target. A symbolic link at the target is refused, never
//!   written through.
//! - [`private_dir`] makes (or checks) a directory of oplab's own: created fresh with mode 0700; an existing
//!   one must be a real directory owned by this user, and is made private (0700) if it was not.
//! - [`regular_file`] refuses FIFOs, devices and directories where oplab expects a file it reads, so a
//!   start never hangs on `open`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Mode of files holding secrets or state: owner read/write only.
pub const PRIVATE: u32 = 0o600;

/// Whether `e` is the error a refused symlink or foreign path gives (for tests and callers that explain it).
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error(
        "{0} is a symbolic link: oplab does not write through links. Remove it or pass another path."
    )]
    Symlink(PathBuf),
    #[error(
        "{path} belongs to another user (uid {owner}): oplab does not use a directory someone else owns. Remove it or pass another path."
    )]
    ForeignOwner { path: PathBuf, owner: u32 },
    #[error("{0} is not a directory. Pass a directory.")]
    NotADirectory(PathBuf),
    #[error(
        "{path} is {what}, not a regular file: oplab reads and writes only regular files there. Remove it or pass another path."
    )]
    NotRegular { path: PathBuf, what: &'static str },
}

fn io_context(what: &str, path: &Path, e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "{what} {}: {}",
        path.display(),
        crate::files::describe_io(&e)
    )
}

/// A short, library-free sentence for an I/O error.
pub fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "it does not exist".into(),
        K::PermissionDenied => "permission denied".into(),
        K::AlreadyExists => "it already exists".into(),
        K::StorageFull => "the disk is full".into(),
        K::ReadOnlyFilesystem => "the file system is read-only".into(),
        _ => {
            // The OS message without Rust's "(os error N)" suffix.
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

/// An unpredictable file-name suffix (128 random bits, hex).
pub fn random_suffix() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The directory a path's file lives in (`.` for a bare name).
pub fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Creates a new file exclusively: fails if anything (a file, a link) is at `path` already.
pub fn create_exclusive(path: &Path, mode: u32) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode).custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Opens an existing regular file for appending, refusing a link at `path`; creates it (exclusively,
/// with `mode`) when it is not there.
pub fn open_append(path: &Path, mode: u32) -> anyhow::Result<File> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => return Err(Refused::Symlink(path.into()).into()),
        Ok(m) if !m.is_file() => {
            return Err(Refused::NotRegular {
                path: path.into(),
                what: kind_of(&m),
            }
            .into());
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            drop(create_exclusive(path, mode).map_err(|e| io_context("creating", path, e))?);
        }
        Err(e) => return Err(io_context("reading", path, e)),
    }
    let mut options = OpenOptions::new();
    options.append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
        .open(path)
        .map_err(|e| io_context("opening", path, e))
}

/// Refuses a symbolic link at `path` (a missing path is fine).
pub fn refuse_symlink(path: &Path) -> anyhow::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Refused::Symlink(path.into()).into()),
        _ => Ok(()),
    }
}

/// Writes `data` to `path` atomically with `mode` from the start (see the module docs). The directory the
/// file goes in is created (mode 0700) if missing.
pub fn write_new(path: &Path, data: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = parent_of(path);
    if !dir.exists() {
        make_dirs(dir)?;
    }
    refuse_symlink(path)?;
    if let Ok(m) = std::fs::metadata(path)
        && !m.is_file()
    {
        return Err(Refused::NotRegular {
            path: path.into(),
            what: kind_of(&m),
        }
        .into());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", random_suffix()));
    let result = (|| {
        let mut f = create_exclusive(&tmp, mode).map_err(|e| io_context("creating", &tmp, e))?;
        f.write_all(data)
            .map_err(|e| io_context("writing", &tmp, e))?;
        f.sync_all().map_err(|e| io_context("syncing", &tmp, e))?;
        drop(f);
        // The rename replaces whatever is at `path` (a link put there meanwhile included) without
        // following it.
        std::fs::rename(&tmp, path)
            .map_err(|e| io_context("moving a new file into place at", path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir);
    Ok(())
}

/// Best-effort `fsync` of a directory so a rename in it is durable.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Creates `dir` and missing parents with mode 0700 (an existing directory is left as it is).
pub fn make_dirs(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| io_context("creating the directory", dir, e))
}

/// The effective uid of this process.
#[cfg(unix)]
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Makes `dir` a private directory of oplab's own: created with mode 0700 if missing; an existing one must
/// be a directory (not a link) owned by this user, and loses any group/other permission bits.
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => make_dirs(dir),
        Err(e) => Err(io_context("reading", dir, e)),
        Ok(m) if m.file_type().is_symlink() => {
            // A link to a directory of one's own is fine; to anyone else's is not.
            let target = std::fs::metadata(dir).map_err(|e| io_context("reading", dir, e))?;
            if !target.is_dir() {
                return Err(Refused::NotADirectory(dir.into()).into());
            }
            check_owner_and_tighten(dir, &target)
        }
        Ok(m) if !m.is_dir() => Err(Refused::NotADirectory(dir.into()).into()),
        Ok(m) => check_owner_and_tighten(dir, &m),
    }
}

fn check_owner_and_tighten(dir: &Path, m: &std::fs::Metadata) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if m.uid() != euid() {
            return Err(Refused::ForeignOwner {
                path: dir.into(),
                owner: m.uid(),
            }
            .into());
        }
        if m.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| io_context("making private", dir, e))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, m);
    Ok(())
}

/// Makes an existing file of oplab's own private (0600): used on state files written by older versions.
pub fn tighten_file(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::symlink_metadata(path)
            && m.is_file()
            && m.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE))
                .map_err(|e| io_context("making private", path, e))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn kind_of(m: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
    }
    if m.is_dir() {
        "a directory"
    } else if m.file_type().is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Checks that `path`, if it exists, is a regular file (links to one are followed): reading a FIFO or a
/// device would hang or never end. Returns whether it exists.
pub fn regular_file(path: &Path) -> anyhow::Result<bool> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(true),
        Ok(m) => Err(Refused::NotRegular {
            path: path.into(),
            what: kind_of(&m),
        }
        .into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_context("reading", path, e)),
    }
}

/// [`private_temp_dir`], kept: the caller removes it when done.
pub fn private_work_dir(prefix: &str) -> anyhow::Result<PathBuf> {
    Ok(private_temp_dir(prefix)?.keep())
}

/// The user's home directory from `HOME`: set, absolute and an existing directory. Never guessed from the
/// password database, so an unset `HOME` cannot make oplab overwrite files somewhere unexpected.
pub fn home() -> anyhow::Result<PathBuf> {
    let hint = "oplab keeps its progress, sandbox state and kubeconfig under it. Set HOME, or pass the paths \
                (--progress, --state, --kubeconfig)";
    let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
        anyhow::bail!("HOME is not set: {hint}.");
    };
    let home = PathBuf::from(home);
    if !home.is_absolute() {
        anyhow::bail!("HOME ({}) is not an absolute path: {hint}.", home.display());
    }
    if !home.is_dir() {
        anyhow::bail!(
            "HOME ({}) is not an existing directory: {hint}.",
            home.display()
        );
    }
    Ok(home)
}

fn xdg(var: &str, default: &str) -> anyhow::Result<PathBuf> {
    match std::env::var_os(var).map(PathBuf::from) {
        Some(p) if p.is_absolute() => Ok(p),
        _ => Ok(home()?.join(default)),
    }
}

/// `$XDG_DATA_HOME` or `~/.local/share`.
pub fn data_home() -> anyhow::Result<PathBuf> {
    xdg("XDG_DATA_HOME", ".local/share")
}

/// `$XDG_STATE_HOME` or `~/.local/state`.
pub fn state_home() -> anyhow::Result<PathBuf> {
    xdg("XDG_STATE_HOME", ".local/state")
}

/// A fresh private temporary directory (mode 0700, unpredictable name) under the system's temp dir;
/// removed when dropped.
pub fn private_temp_dir(prefix: &str) -> anyhow::Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    builder.tempdir().map_err(|e| {
        anyhow::anyhow!(
            "creating a private temporary directory: {}",
            describe_io(&e)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_new_replaces_atomically_with_the_mode_from_the_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub").join("f");
        write_new(&p, b"one", PRIVATE).expect("write");
        write_new(&p, b"two", PRIVATE).expect("rewrite");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dmode = std::fs::metadata(p.parent().expect("parent"))
                .expect("meta")
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dmode, 0o700);
        }
        // Only the file: no temporary left behind.
        assert_eq!(
            std::fs::read_dir(p.parent().expect("parent"))
                .expect("dir")
                .count(),
            1
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_target_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("victim");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).expect("link");
        let err = write_new(&link, b"evil", PRIVATE).expect_err("refused");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
        let err = open_append(&link, PRIVATE).expect_err("refused");
        assert!(err.to_string().contains("symbolic link"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_not_a_regular_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("fifo");
        let c = std::ffi::CString::new(p.to_string_lossy().as_bytes()).expect("cstr");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = regular_file(&p).expect_err("refused");
        assert!(err.to_string().contains("FIFO"), "{err}");
        assert!(!regular_file(&dir.path().join("none")).expect("missing is fine"));
    }
}
