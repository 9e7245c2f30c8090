/*!
Output files: every file the workbench writes (report CSV, record, `--json`, `--review`, `--plots`
figures, `--items`, `.npz` exports, TUI exports, cache chunks) goes through [`AtomicFile`] /
[`write_atomic`]: it is written to a temporary file in the same directory, flushed and synced, then
renamed over the destination. A full disk or a killed run leaves the previous file (or none), never a
truncated one, and the temporary file is removed on failure.

[`check_output`] checks an output path before any work starts (the parent directory exists or can be
created, and is writable), so that a typo in `--report` does not cost a whole evaluation
(docs/limits.md).

Temporary names ([`temp_name`]) carry the process id, a counter and a random tag, so concurrent
writers (several `--shard` processes on one cache, docs/scale.md) never share one; the cache's
clean-up of stale temporary files ([`is_stale_temp`]) relies on that prefix.

This module imports no other crate module, so every layer may use it.
*/
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Prefix of every temporary file name.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// A temporary file older than this is no longer being written (no writer keeps one open this
/// long: a cache chunk is one batch) and may be removed.
pub(crate) const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file name no other writer uses: process id, a counter, and a random tag (process
/// ids repeat across machines that share a directory).
pub(crate) fn temp_name() -> String {
    format!(
        "{TEMP_PREFIX}{}-{}-{:016x}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u64>()
    )
}

/// Whether `path` is one of our temporary files that no live writer still owns: named with
/// [`TEMP_PREFIX`] and last modified more than `max_age` ago. Age alone decides: a writer on another
/// machine sharing the folder (`--shard`, docs/scale.md) may have any pid, and every writer finishes
/// a temporary file within seconds (one batch), so an hour-old one is abandoned.
pub(crate) fn is_stale_temp(path: &Path, max_age: Duration) -> bool {
    let temp = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(TEMP_PREFIX));
    temp && std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > max_age)
}

/// A file being written: a temporary file beside `dest`, renamed onto it by [`AtomicFile::commit`];
/// dropped without commit, the temporary file is removed and `dest` is untouched.
pub(crate) struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file (and `dest`'s parent folders).
    pub(crate) fn create(dest: &Path) -> std::io::Result<AtomicFile> {
        let dir = parent_dir(dest);
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(temp_name());
        let file = File::create(&tmp)?;
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            tmp,
            file: Some(BufWriter::new(file)),
        })
    }

    /// Flushes, syncs and renames the temporary file onto the destination. On failure (the last
    /// buffered bytes do not fit on a full disk, the rename is refused) the temporary file is
    /// removed and the destination is untouched.
    pub(crate) fn commit(mut self) -> std::io::Result<()> {
        let Some(w) = self.file.take() else {
            return Err(std::io::Error::other("file already committed"));
        };
        let done = w
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&self.tmp, &self.dest));
        if done.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        done
    }

    fn writer(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("file already committed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer()?.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer()?.flush()
    }
}

impl std::io::Seek for AtomicFile {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.writer()?.seek(pos)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `dest` atomically: `fill` writes the content into the temporary file, which is then
/// renamed onto `dest` (see the module docs). On any error `dest` is untouched.
pub(crate) fn write_atomic<E: From<std::io::Error>>(
    dest: &Path,
    fill: impl FnOnce(&mut AtomicFile) -> Result<(), E>,
) -> Result<(), E> {
    let mut f = AtomicFile::create(dest)?;
    fill(&mut f)?;
    f.commit()?;
    Ok(())
}

/// Writes `bytes` to `dest` atomically.
pub(crate) fn write_bytes(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic(dest, |f| f.write_all(bytes))
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What an output flag names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    File,
    Dir,
}

/// An output path that cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag} {}: {reason}; nothing was computed yet, fix the path and rerun", path.display())]
pub struct OutputError {
    pub(crate) flag: String,
    pub(crate) path: PathBuf,
    pub(crate) reason: String,
}

/// Checks that `path` (given with `flag`) can be written before any work starts: for a file, it is
/// not a folder and its parent folder exists or can be created and is writable; for a folder, it is
/// a writable folder or can be created. Nothing is created; writability is probed by creating and
/// removing a temporary file in the nearest existing folder.
pub fn check_output(flag: &str, path: &Path, kind: OutputKind) -> Result<(), OutputError> {
    let fail = |reason: String| OutputError {
        flag: flag.to_string(),
        path: path.to_path_buf(),
        reason,
    };
    if path.as_os_str().is_empty() {
        return Err(fail("the path is empty".into()));
    }
    let meta = std::fs::metadata(path);
    let dir = match (kind, &meta) {
        (OutputKind::File, Ok(m)) if m.is_dir() => {
            return Err(fail("is a folder, not a file".into()));
        }
        (OutputKind::Dir, Ok(m)) if !m.is_dir() => {
            return Err(fail("exists and is not a folder".into()));
        }
        (OutputKind::Dir, Ok(_)) => path.to_path_buf(),
        _ => parent_dir(path),
    };
    // The nearest folder that exists: the one the missing ones would be created in.
    let mut existing = dir.as_path();
    loop {
        match std::fs::metadata(existing) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(fail(format!(
                    "{} is a file, so the folder cannot be created",
                    existing.display()
                )));
            }
            Err(_) => match existing.parent() {
                Some(p) if !p.as_os_str().is_empty() => existing = p,
                _ => {
                    existing = Path::new(".");
                    break;
                }
            },
        }
    }
    let probe = existing.join(temp_name());
    match File::create(&probe) {
        Ok(f) => {
            drop(f);
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(fail(format!(
            "cannot write into {} ({e})",
            existing.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_replaces_whole_or_not_at_all() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub").join("out.csv");
        write_bytes(&p, b"first").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        let r: Result<(), std::io::Error> = write_atomic(&p, |f| {
            f.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"first", "old content kept");
        let left: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
    }

    #[test]
    fn output_paths_are_checked_without_creating_anything() {
        let d = tempfile::tempdir().unwrap();
        let ok = d.path().join("new").join("deeper").join("out.csv");
        check_output("--report", &ok, OutputKind::File).unwrap();
        assert!(!d.path().join("new").exists(), "nothing created");
        check_output("--plots", &d.path().join("figs"), OutputKind::Dir).unwrap();
        let e = check_output("--report", d.path(), OutputKind::File).unwrap_err();
        assert!(e.to_string().contains("--report") && e.to_string().contains("folder"));
        let file = d.path().join("f.txt");
        std::fs::write(&file, "x").unwrap();
        let e = check_output("--json", &file.join("x.json"), OutputKind::File).unwrap_err();
        assert!(e.to_string().contains("is a file"), "{e}");
        let e = check_output("--plots", &file, OutputKind::Dir).unwrap_err();
        assert!(e.to_string().contains("not a folder"), "{e}");
    }

    #[test]
    fn only_old_temporary_files_are_stale() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join(temp_name());
        std::fs::write(&t, "x").unwrap();
        assert!(
            !is_stale_temp(&t, STALE_TEMP_AGE),
            "fresh: a writer may own it"
        );
        let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
        File::options()
            .write(true)
            .open(&t)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        assert!(is_stale_temp(&t, STALE_TEMP_AGE));
        let other = d.path().join("chunk.emb");
        std::fs::write(&other, "x").unwrap();
        File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        assert!(
            !is_stale_temp(&other, STALE_TEMP_AGE),
            "not a temporary file"
        );
    }
}
