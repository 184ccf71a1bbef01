//! One sandbox per state directory: an exclusive `flock` on the directory itself, held for the sandbox's life.
//!
//! The lock is taken on the directory (not on a file in it), so a new state directory stays empty until the
//! state opens it. The holder records its process id and address in `sandbox.json` (mode 0600), which tells a
//! second `oplab` where the running sandbox answers and lets every refusal name the holder. The kernel drops
//! the lock when the holder exits, however it exits; a stale `sandbox.json` is only read while the lock is held.

use anyhow::Context;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The file the holder of the lock records itself in.
pub const HOLDER_FILE: &str = "sandbox.json";

/// The exclusive lock of a state directory; dropping it releases the lock.
#[derive(Debug)]
pub struct StateLock {
    // Closing the descriptor releases the flock.
    _dir_fd: File,
    dir: PathBuf,
}

/// Who holds a state directory's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The holding process, when known (from `sandbox.json` or `/proc/locks`).
    pub pid: Option<u32>,
    /// Where its sandbox answers (`https://127.0.0.1:PORT`), once it has recorded it.
    pub url: Option<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self.pid.and_then(process_name);
        match (self.pid, name) {
            (Some(pid), Some(name)) => write!(f, "process {pid} ({name})")?,
            (Some(pid), None) => write!(f, "process {pid}")?,
            (None, _) => f.write_str("another process")?,
        }
        if let Some(url) = &self.url {
            write!(f, " serving {url}")?;
        }
        Ok(())
    }
}

/// The state directory is held by another sandbox.
#[derive(Debug, Clone, thiserror::Error)]
#[error("another sandbox runs on the state directory {}: {holder}", dir.display())]
pub struct Locked {
    pub dir: PathBuf,
    pub holder: Holder,
}

impl StateLock {
    /// Takes the lock of `dir` (created with mode 0700 when missing) without waiting: fails with [`Locked`]
    /// (downcast the error) naming the holder when another process has it.
    pub fn acquire(dir: &Path) -> anyhow::Result<Self> {
        if !dir.exists() {
            create_private_dir(dir)?;
        }
        let fd = File::open(dir)
            .with_context(|| format!("opening the sandbox state directory {}", dir.display()))?;
        if !fd.metadata()?.is_dir() {
            anyhow::bail!(
                "the sandbox state path {} is not a directory. Pass a directory with --state.",
                dir.display()
            );
        }
        if try_flock(&fd)? {
            return Ok(Self {
                _dir_fd: fd,
                dir: dir.to_path_buf(),
            });
        }
        Err(Locked {
            dir: dir.to_path_buf(),
            holder: read_holder(dir, &fd),
        }
        .into())
    }

    /// Records this process and the sandbox's `url` in `sandbox.json` (mode 0600, replaced atomically).
    pub fn record(&self, url: &str) -> anyhow::Result<()> {
        let body = serde_json::json!({"pid": std::process::id(), "url": url}).to_string();
        crate::files::write_new(&self.dir.join(HOLDER_FILE), body.as_bytes(), 0o600)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The holder of `dir`'s lock, or `None` when no sandbox runs on it (nothing is created or kept).
pub fn holder(dir: &Path) -> Option<Holder> {
    let fd = File::open(dir).ok()?;
    match try_flock(&fd) {
        // Got it: nobody holds it. Closing `fd` releases it again.
        Ok(true) => None,
        Ok(false) => Some(read_holder(dir, &fd)),
        Err(_) => None,
    }
}

/// The address the last sandbox on `dir` listened on, to listen there again (a stable address).
pub fn last_address(dir: &Path) -> Option<SocketAddr> {
    let (_, url) = read_record(dir)?;
    url?.strip_prefix("https://")?.parse().ok()
}

fn read_record(dir: &Path) -> Option<(Option<u32>, Option<String>)> {
    let text = std::fs::read_to_string(dir.join(HOLDER_FILE)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let pid = v["pid"].as_u64().and_then(|p| u32::try_from(p).ok());
    let url = v["url"].as_str().map(String::from);
    Some((pid, url))
}

/// The holder as recorded, checked against the kernel's lock table where there is one: a record left by an
/// earlier holder (still starting, or gone) does not name the wrong process.
fn read_holder(dir: &Path, fd: &File) -> Holder {
    let locker = lock_owner(fd);
    match read_record(dir) {
        Some((pid, url)) if locker.is_none() || locker == pid => Holder { pid, url },
        _ => Holder {
            pid: locker,
            url: None,
        },
    }
}

/// `true` when the lock was taken, `false` when another open file holds it.
fn try_flock(fd: &File) -> anyhow::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor this function borrows; no memory is touched.
        let rc = unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Ok(false);
        }
        Err(err).context("locking the sandbox state directory")
    }
    #[cfg(not(unix))]
    {
        let _ = fd;
        Ok(true)
    }
}

/// The pid holding a flock on `fd`'s inode, from `/proc/locks` (Linux).
fn lock_owner(fd: &File) -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = fd.metadata().ok()?;
        let dev = meta.dev();
        // /proc/locks writes MAJOR:MINOR:INODE with the device numbers in hex.
        let (major, minor) = (libc::major(dev), libc::minor(dev));
        let want = format!("{major:02x}:{minor:02x}:{}", meta.ino());
        let table = std::fs::read_to_string("/proc/locks").ok()?;
        table.lines().find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
            let at = fields.iter().position(|f| *f == "FLOCK")?;
            let pid = fields.get(at + 3)?.parse().ok()?;
            (fields.get(at + 4) == Some(&want.as_str())).then_some(pid)
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = fd;
        None
    }
}

fn process_name(pid: u32) -> Option<String> {
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    crate::files::make_dirs(dir)
        .with_context(|| format!("creating the sandbox state directory {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_is_refused_naming_the_holder() {
        let dir = std::env::temp_dir().join(format!("oplab-lock-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = StateLock::acquire(&dir).expect("first lock");
        first.record("https://127.0.0.1:4321").expect("record");
        let err = StateLock::acquire(&dir).expect_err("second lock must be refused");
        let locked = err.downcast_ref::<Locked>().expect("a Locked error");
        assert_eq!(locked.holder.pid, Some(std::process::id()));
        assert_eq!(locked.holder.url.as_deref(), Some("https://127.0.0.1:4321"));
        assert!(err.to_string().contains(&std::process::id().to_string()));
        assert!(holder(&dir).is_some());
        drop(first);
        assert!(holder(&dir).is_none());
        assert_eq!(
            last_address(&dir),
            Some("127.0.0.1:4321".parse().expect("addr"))
        );
        let again = StateLock::acquire(&dir).expect("free after drop");
        drop(again);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
