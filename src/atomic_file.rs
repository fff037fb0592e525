//! Replacing a file the user owns without ever leaving it half-written.
//!
//! [`stage`] writes the new contents to a temporary file in the target's directory (a new
//! name, created with `O_EXCL` and mode 0600), flushes and fsyncs it and gives it its final
//! mode; [`Staged::commit`] renames it over the target and fsyncs the directory. Until the
//! rename the target is untouched; on any error, and when a [`Staged`] is dropped without
//! being committed, the temporary file is removed. Staging first lets the binary print its
//! script completely before the new config takes the old one's place.
//!
//! A symbolic link at the target is followed: the file it points to is replaced (atomically,
//! in that file's directory) and the link stays a link. A target that exists and is not a
//! regular file (a directory, `/dev/null`, a FIFO) is refused rather than replaced.
//!
//! The mode of the result is the mode of the file it replaces, narrowed to that of the
//! [`Mode::like`] file when one is given (the config the new one was made from), and never
//! more open than 0600 when [`Mode::secret`] says the contents hold a password. A new file
//! with neither gets the usual `0666 & !umask` (0600 when secret). When the replaced file
//! belongs to another user or group (the tool run as root on the postgres user's config),
//! its owner and group are given to the new file where the system allows it.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// How the new file's permission bits are chosen (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Mode<'a> {
    /// A file whose permission bits the new file must not exceed (the file it was made from).
    pub like: Option<&'a Path>,
    /// The contents hold a secret (a password): never more open than 0600.
    pub secret: bool,
}

/// New contents written and synced under a temporary name, waiting for [`Staged::commit`].
/// Dropping it removes the temporary file and leaves the target as it was.
#[derive(Debug)]
pub struct Staged {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

/// Longest chain of symbolic links followed at the target (as the kernel's `ELOOP` limit).
const MAX_LINKS: usize = 40;

/// Writes `contents` to `target` atomically: [`stage`] then [`Staged::commit`].
pub fn write(target: &Path, contents: &[u8], mode: Mode<'_>) -> io::Result<()> {
    stage(target, contents, mode)?.commit()
}

/// Writes `contents` to a new temporary file beside `target` (beside the file it links to,
/// for a symbolic link), synced to disk and with its final mode; the target is untouched
/// until [`Staged::commit`].
pub fn stage(target: &Path, contents: &[u8], mode: Mode<'_>) -> io::Result<Staged> {
    let target = resolve_links(target)?;
    let existing = match std::fs::metadata(&target) {
        Ok(meta) if meta.is_file() => Some(meta),
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} exists and is not a regular file; it is not replaced: write to a file",
                    target.display()
                ),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let (mut file, temp) = create_temp(&target, create_mode(existing.as_ref(), mode))?;
    let staged = Staged {
        temp,
        target,
        committed: false,
    };
    // On error `staged` is dropped here, which removes the temporary file.
    file.write_all(contents)?;
    file.flush()?;
    finish_metadata(&file, existing.as_ref(), mode)?;
    file.sync_all()?;
    drop(file);
    Ok(staged)
}

impl Staged {
    /// The file that [`Staged::commit`] replaces (the target with symbolic links resolved).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the temporary file over the target and syncs the directory, so the new
    /// contents survive a crash. Before the rename fails nothing has changed.
    pub fn commit(mut self) -> io::Result<()> {
        std::fs::rename(&self.temp, &self.target)?;
        self.committed = true;
        sync_dir(&self.target)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Follows symbolic links at the last component of `path` (also a dangling one: the file
/// it names is then created), returning the file that is really written.
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let to = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is a chain of more than {MAX_LINKS} symbolic links (a loop?)",
            path.display()
        ),
    ))
}

/// The directory a file at `path` lives in (`.` for a bare file name).
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A unique temporary file in `target`'s directory, created exclusively with `mode`.
fn create_temp(target: &Path, mode: u32) -> io::Result<(File, PathBuf)> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = dir_of(target);
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", target.display()),
        )
    })?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = None;
    for _ in 0..100 {
        let mut temp_name = OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(
            ".slonik-gen-{}-{}-{nanos:x}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let temp = dir.join(temp_name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        set_create_mode(&mut options, mode);
        match options.open(&temp) {
            Ok(file) => return Ok((file, temp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// The mode the temporary file is created with: 0600 when the final mode is set afterwards
/// (or is secret), else 0666 for the umask to narrow, as for any new file.
fn create_mode(existing: Option<&std::fs::Metadata>, mode: Mode<'_>) -> u32 {
    if existing.is_some() || mode.like.is_some() || mode.secret {
        0o600
    } else {
        0o666
    }
}

#[cfg(unix)]
fn set_create_mode(options: &mut OpenOptions, mode: u32) {
    use std::os::unix::fs::OpenOptionsExt;
    options.mode(mode);
}

#[cfg(not(unix))]
fn set_create_mode(_options: &mut OpenOptions, _mode: u32) {}

/// The permission bits the new file gets, where they are decided here (`None`: as created).
#[cfg(unix)]
fn final_mode(existing: Option<&std::fs::Metadata>, mode: Mode<'_>) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let like = mode
        .like
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.permissions().mode() & 0o777);
    let replaced = existing.map(|m| m.permissions().mode() & 0o777);
    let bits = match (replaced, like) {
        (Some(a), Some(b)) => Some(a & b),
        (a, b) => a.or(b),
    };
    match (bits, mode.secret) {
        (Some(bits), true) => Some(bits & 0o600),
        (None, true) => Some(0o600),
        (bits, false) => bits,
    }
}

/// Gives the temporary file its final mode, and the owner and group of the file it replaces.
#[cfg(unix)]
fn finish_metadata(file: &File, existing: Option<&std::fs::Metadata>, mode: Mode<'_>) -> io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if let Some(old) = existing {
        let mine = file.metadata()?;
        if (mine.uid(), mine.gid()) != (old.uid(), old.gid()) {
            // Only root may give a file away, and a user only to their own groups: where it
            // is not allowed the new file stays ours, with a mode no more open than before.
            let _ = std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()))
                .or_else(|_| std::os::unix::fs::fchown(file, None, Some(old.gid())));
        }
    }
    if let Some(bits) = final_mode(existing, mode) {
        file.set_permissions(std::fs::Permissions::from_mode(bits))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn finish_metadata(_file: &File, _existing: Option<&std::fs::Metadata>, _mode: Mode<'_>) -> io::Result<()> {
    Ok(())
}

/// Syncs the directory holding `path`, so a rename in it is on disk.
#[cfg(unix)]
fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(dir_of(path))?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".slonik-gen-"))
            .collect()
    }

    #[test]
    fn replaces_the_contents_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("c.toml");
        std::fs::write(&target, "old").unwrap();
        write(&target, b"new", Mode::default()).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_dropped_stage_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("c.toml");
        std::fs::write(&target, "old").unwrap();
        let staged = stage(&target, b"new", Mode::default()).unwrap();
        assert_eq!(leftovers(dir.path()).len(), 1);
        drop(staged);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_directory_at_the_target_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write(dir.path(), b"x", Mode::default()).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn modes_are_kept_narrowed_and_capped_for_secrets() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode_of = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let source = dir.path().join("source.toml");
        std::fs::write(&source, "x").unwrap();
        std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o640)).unwrap();

        let fresh = dir.path().join("fresh.toml");
        let like = Mode {
            like: Some(&source),
            secret: false,
        };
        write(&fresh, b"y", like).unwrap();
        assert_eq!(mode_of(&fresh), 0o640);
        write(&fresh, b"y", Mode { secret: true, ..like }).unwrap();
        assert_eq!(mode_of(&fresh), 0o600);

        let existing = dir.path().join("existing.toml");
        std::fs::write(&existing, "x").unwrap();
        std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o604)).unwrap();
        write(&existing, b"y", like).unwrap();
        assert_eq!(mode_of(&existing), 0o600, "0604 narrowed by 0640");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_followed_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.toml");
        let link = dir.path().join("link.toml");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.toml", &link).unwrap();
        write(&link, b"new", Mode::default()).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert!(leftovers(dir.path()).is_empty());
    }
}
