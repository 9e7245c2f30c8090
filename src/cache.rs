/*!
The embedding cache: embeddings computed once are read back instead of recomputed, across runs.

Layout: `<cache dir>/v1/<namespace>/<chunk>.emb`. A *namespace* is the SHA-256 of everything that
determines an embedding apart from the input itself: for images the `image.onnx` hash and the
preprocessing settings, for texts the `text.onnx` and `tokenizer.json` hashes and the tokenisation
settings. Inside a namespace every entry is keyed by the SHA-256 of the row's content (image file
bytes, report text), so an edited image or report is re-embedded and a renamed one is not.

Each chunk file holds one embedding batch and is written to a temporary file and renamed into
place, so a killed run leaves only whole chunks behind and the next run resumes after them. Chunk
names are the first 24 hex digits of the chunk's own checksum and temporary names carry the process
id plus a random 64-bit tag, so several processes (on one machine or on many sharing a file system
with atomic rename, e.g. NFS or Lustre) can write into one cache directory at once: they never
write the same temporary file, a reader never sees a half-written chunk, and two writers of the
same chunk produce the same name and bytes. [`EmbeddingCache::verify`] checks every chunk without
changing anything; [`EmbeddingCache::merge_from`] copies the valid chunks of another cache
directory (e.g. one per shard, see docs/scale.md) into this one. A chunk
carries its namespace, dimension and a trailing SHA-256 over all preceding bytes; one that fails any
check is reported as a [`CacheProblem`], deleted and its entries recomputed, never used.

Chunk format (little endian): `b"ECLIPEMB"`, `u32` version (1), 32-byte namespace, `u32` dim,
`u32` n, then n × (32-byte content key, dim × `f32`), then the 32-byte SHA-256 of everything before.
*/
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

const MAGIC: &[u8; 8] = b"ECLIPEMB";
const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 32 + 4 + 4;

/// SHA-256 digest used for namespaces and content keys.
pub(crate) type Key = [u8; 32];

pub(crate) fn sha256(bytes: &[u8]) -> Key {
    Sha256::digest(bytes).into()
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    #[error(
        "embedding cache: cannot {what} {path}: {source}. Use --cache-dir to put the cache elsewhere or --no-cache"
    )]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "embedding cache: no user cache directory could be determined; pass --cache-dir DIR or --no-cache"
    )]
    NoCacheDir,
}

/// A cache file that was found broken or mismatched, deleted, and will be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheProblem {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for CacheProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cache file {} was {}; deleted, its embeddings will be recomputed",
            self.path.display(),
            self.reason
        )
    }
}

/// The cache root, or a disabled cache (`--no-cache`) that stores nothing.
#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    root: Option<PathBuf>,
    /// Set once when the cache turned out unusable (not creatable, read-only, full): the run goes on
    /// uncached and this says why, once (shared by every clone and namespace).
    fault: Arc<Mutex<Option<String>>>,
}

/// What [`EmbeddingCache::open_or_warn`] says when the cache cannot be used.
fn fault_message(what: &str, path: &Path, e: &std::io::Error) -> String {
    format!(
        "embedding cache {}: cannot {what} ({e}); continuing without the cache (nothing of this run is saved for the next one; use --cache-dir DIR elsewhere or --no-cache)",
        path.display()
    )
}

impl EmbeddingCache {
    /// `dir` or the user cache directory (`~/.cache/eclip-workbench` on Linux).
    pub fn open(dir: Option<&Path>) -> Result<EmbeddingCache, CacheError> {
        let root = match dir {
            Some(d) => d.to_path_buf(),
            None => default_dir().ok_or(CacheError::NoCacheDir)?,
        };
        Ok(EmbeddingCache {
            root: Some(root),
            fault: Arc::default(),
        })
    }

    pub fn disabled() -> EmbeddingCache {
        EmbeddingCache {
            root: None,
            fault: Arc::default(),
        }
    }

    /// The cache for a run: [`EmbeddingCache::open`], then a check that the folder can be created
    /// and written (a probe file) and the removal of stale temporary files
    /// ([`crate::output::is_stale_temp`]: older than [`crate::output::STALE_TEMP_AGE`], so a
    /// concurrent writer's files are left alone). When the folder is unusable the run goes on
    /// uncached: the returned cache stores nothing and [`EmbeddingCache::warning`] says why.
    pub(crate) fn open_or_warn(dir: Option<&Path>) -> EmbeddingCache {
        let cache = match Self::open(dir) {
            Ok(c) => c,
            Err(e) => {
                let c = Self::disabled();
                c.set_fault(format!("{e}; continuing without the cache"));
                return c;
            }
        };
        let Some(root) = cache.root.clone() else {
            return cache;
        };
        let v1 = root.join("v1");
        let probe = v1.join(crate::output::temp_name());
        let usable = std::fs::create_dir_all(&v1)
            .map_err(|e| fault_message("create it", &root, &e))
            .and_then(|()| {
                crate::output::write_bytes(&probe, b"probe")
                    .map_err(|e| fault_message("write into it", &root, &e))
            });
        let _ = std::fs::remove_file(&probe);
        match usable {
            Ok(()) => {
                cache.clean_stale_temps();
                cache
            }
            Err(message) => {
                let c = Self::disabled();
                c.set_fault(message);
                c
            }
        }
    }

    /// Why the cache is not being used (set at most once per run), if it is not.
    pub fn warning(&self) -> Option<String> {
        self.fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Records the first fault; later ones are dropped (one warning per run).
    fn set_fault(&self, message: String) {
        let mut f = self
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if f.is_none() {
            *f = Some(message);
        }
    }

    /// Removes temporary files left by killed writers (see [`EmbeddingCache::open_or_warn`]);
    /// returns how many.
    pub(crate) fn clean_stale_temps(&self) -> usize {
        let Some(root) = &self.root else { return 0 };
        walk_files(&root.join("v1"))
            .into_iter()
            .filter(|p| crate::output::is_stale_temp(p, crate::output::STALE_TEMP_AGE))
            .filter(|p| std::fs::remove_file(p).is_ok())
            .count()
    }

    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The namespace for everything described by `description` (hashed) with embeddings of `dim`.
    pub(crate) fn namespace(&self, description: &str, dim: usize) -> Namespace {
        let key = sha256(description.as_bytes());
        Namespace {
            dir: self
                .root
                .as_ref()
                .map(|r| r.join("v1").join(hex::encode(key))),
            key,
            dim,
            fault: self.fault.clone(),
        }
    }

    /// Deletes every cached embedding; returns the number of files removed.
    pub fn clean(&self) -> Result<usize, CacheError> {
        let Some(root) = &self.root else { return Ok(0) };
        let v1 = root.join("v1");
        if !v1.exists() {
            return Ok(0);
        }
        let count = walk_files(&v1).len();
        std::fs::remove_dir_all(&v1).map_err(|source| CacheError::Io {
            what: "remove",
            path: v1.clone(),
            source,
        })?;
        Ok(count)
    }
}

/// `~/.cache/eclip-workbench` on Linux (from the `directories` crate).
pub(crate) fn default_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "eclip-workbench").map(|d| d.cache_dir().to_path_buf())
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk_files(&p))
            } else {
                out.push(p)
            }
        }
    }
    out
}

/// Embeddings of one kind under one model configuration.
#[derive(Debug, Clone)]
pub(crate) struct Namespace {
    dir: Option<PathBuf>,
    key: Key,
    dim: usize,
    /// The cache's fault: once set, nothing more is written.
    fault: Arc<Mutex<Option<String>>>,
}

/// Cached embeddings of a namespace, by content key.
pub(crate) type Entries = HashMap<Key, Vec<f32>>;

impl Namespace {
    /// Reads every valid chunk; broken ones are deleted and reported.
    pub(crate) fn load(&self) -> (Entries, Vec<CacheProblem>) {
        let mut entries = Entries::new();
        let mut problems = Vec::new();
        let Some(dir) = &self.dir else {
            return (entries, problems);
        };
        let Ok(listing) = std::fs::read_dir(dir) else {
            return (entries, problems);
        };
        let mut paths: Vec<PathBuf> = listing
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "emb"))
            .collect();
        paths.sort();
        for path in paths {
            match std::fs::read(&path)
                .map_err(|e| format!("unreadable ({e})"))
                .and_then(|b| self.parse(&b))
            {
                Ok(chunk) => entries.extend(chunk),
                Err(reason) => {
                    // Best effort: if the file cannot be removed it is reported again next time.
                    let _ = std::fs::remove_file(&path);
                    problems.push(CacheProblem { path, reason });
                }
            }
        }
        (entries, problems)
    }

    fn parse(&self, b: &[u8]) -> Result<Vec<(Key, Vec<f32>)>, String> {
        if b.len() < HEADER + 32 || &b[..8] != MAGIC {
            return Err("not an embedding cache chunk (bad header or truncated)".into());
        }
        let (body, sum) = b.split_at(b.len() - 32);
        if sha256(body) != sum {
            return Err("corrupt (checksum mismatch)".into());
        }
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as usize;
        if u32_at(8) != VERSION as usize {
            return Err(format!("written by another cache version ({})", u32_at(8)));
        }
        if b[12..44] != self.key {
            return Err("from another model/settings (namespace mismatch)".into());
        }
        let (dim, n) = (u32_at(44), u32_at(48));
        if dim != self.dim {
            return Err(format!("of dimension {dim}, expected {}", self.dim));
        }
        let entry = 32 + 4 * dim;
        if body.len() != HEADER + n * entry {
            return Err(format!("of the wrong length for {n} entries"));
        }
        let mut out = Vec::with_capacity(n);
        for chunk in body[HEADER..].chunks_exact(entry) {
            let mut key = [0u8; 32];
            key.copy_from_slice(&chunk[..32]);
            let values: Vec<f32> = chunk[32..]
                .chunks_exact(4)
                .map(|x| f32::from_le_bytes([x[0], x[1], x[2], x[3]]))
                .collect();
            if values.iter().any(|v| !v.is_finite()) {
                return Err("holding non-finite values".into());
            }
            out.push((key, values));
        }
        Ok(out)
    }

    /// Writes one chunk atomically (temp file + rename). `values` is `keys.len() × dim`, row-major.
    /// A write that fails (read-only folder, full disk) does not stop the run: the first failure is
    /// kept as the cache's [`EmbeddingCache::warning`] and nothing more is written this run.
    pub(crate) fn write_chunk(&self, keys: &[Key], values: &[f32]) -> Result<(), CacheError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        if keys.is_empty() {
            return Ok(());
        }
        let mut fault = self
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if fault.is_some() {
            return Ok(());
        }
        if let Err(e) = self.write_chunk_to(dir, keys, values) {
            *fault = Some(format!(
                "{}; continuing without the cache (the rest of this run is not saved for the next one)",
                e
            ));
        }
        Ok(())
    }

    fn write_chunk_to(&self, dir: &Path, keys: &[Key], values: &[f32]) -> Result<(), CacheError> {
        debug_assert_eq!(values.len(), keys.len() * self.dim);
        let mut buf = Vec::with_capacity(HEADER + keys.len() * (32 + 4 * self.dim) + 32);
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&VERSION.to_le_bytes());
        buf.extend_from_slice(&self.key);
        buf.extend_from_slice(&(self.dim as u32).to_le_bytes());
        buf.extend_from_slice(&(keys.len() as u32).to_le_bytes());
        for (key, row) in keys.iter().zip(values.chunks_exact(self.dim)) {
            buf.extend_from_slice(key);
            for v in row {
                buf.extend_from_slice(&v.to_le_bytes());
            }
        }
        let sum = sha256(&buf);
        buf.extend_from_slice(&sum);
        let dest = dir.join(format!("{}.emb", &hex::encode(sum)[..24]));
        crate::output::write_bytes(&dest, &buf).map_err(io("write", &dest))
    }
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + use<> {
    let path = path.to_path_buf();
    move |source| CacheError::Io { what, path, source }
}

/// What [`EmbeddingCache::verify`] or [`EmbeddingCache::merge_from`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheReport {
    /// Namespaces (model configurations) seen.
    pub namespaces: usize,
    /// Valid chunk files (verify) or chunk files copied (merge).
    pub chunks: usize,
    /// Embeddings in those chunks.
    pub entries: usize,
    /// Valid chunks that were already present (merge only).
    pub already_present: usize,
    /// Files that failed a check: left as they are, never used or copied.
    pub problems: Vec<CacheProblem>,
}

/// Every chunk under `<root>/v1`: (namespace directory, key from its name, chunk files sorted).
fn chunk_files(root: &Path) -> Vec<(PathBuf, Option<Key>, Vec<PathBuf>)> {
    let mut out = Vec::new();
    let Ok(listing) = std::fs::read_dir(root.join("v1")) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = listing
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let key = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| hex::decode(n).ok())
            .and_then(|b| Key::try_from(b.as_slice()).ok());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "emb"))
            .collect();
        files.sort();
        out.push((dir, key, files));
    }
    out
}

/// Checks one chunk file of the namespace `key`; returns its entry count.
fn check_chunk(key: Option<Key>, path: &Path) -> Result<(Vec<u8>, usize), String> {
    let key = key.ok_or("in a folder whose name is not a namespace hash")?;
    let bytes = std::fs::read(path).map_err(|e| format!("unreadable ({e})"))?;
    if bytes.len() < HEADER + 32 {
        return Err("not an embedding cache chunk (bad header or truncated)".into());
    }
    let dim = u32::from_le_bytes([bytes[44], bytes[45], bytes[46], bytes[47]]) as usize;
    let ns = Namespace {
        dir: None,
        key,
        dim,
        fault: Arc::default(),
    };
    let n = ns.parse(&bytes)?.len();
    Ok((bytes, n))
}

impl EmbeddingCache {
    /// Checks every chunk (header, namespace, dimension, length, checksum, finite values) and
    /// changes nothing; broken files are listed in [`CacheReport::problems`].
    pub fn verify(&self) -> CacheReport {
        let mut report = CacheReport::default();
        let Some(root) = &self.root else {
            return report;
        };
        for (_, key, files) in chunk_files(root) {
            report.namespaces += 1;
            for path in files {
                match check_chunk(key, &path) {
                    Ok((_, n)) => {
                        report.chunks += 1;
                        report.entries += n;
                    }
                    Err(reason) => report.problems.push(CacheProblem { path, reason }),
                }
            }
        }
        report
    }

    /// Copies every valid chunk of the cache directory `source` that this cache lacks (temporary
    /// file + rename, so it is safe while other processes read or write here). Broken chunks in
    /// `source` are reported and not copied; `source` is never modified.
    pub fn merge_from(&self, source: &Path) -> Result<CacheReport, CacheError> {
        let mut report = CacheReport::default();
        let Some(root) = &self.root else {
            return Ok(report);
        };
        if !source.join("v1").is_dir() {
            return Err(CacheError::Io {
                what: "read",
                path: source.join("v1"),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "not an embedding cache directory (no v1/ folder)",
                ),
            });
        }
        for (dir, key, files) in chunk_files(source) {
            report.namespaces += 1;
            let Some(name) = dir.file_name() else {
                continue;
            };
            let dest_dir = root.join("v1").join(name);
            for path in files {
                let (bytes, n) = match check_chunk(key, &path) {
                    Ok(ok) => ok,
                    Err(reason) => {
                        report.problems.push(CacheProblem { path, reason });
                        continue;
                    }
                };
                let Some(file) = path.file_name() else {
                    continue;
                };
                let dest = dest_dir.join(file);
                if dest.exists() {
                    report.already_present += 1;
                    continue;
                }
                crate::output::write_bytes(&dest, &bytes).map_err(io("write", &dest))?;
                report.chunks += 1;
                report.entries += n;
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip_and_damage_is_detected_and_removed() {
        let d = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::open(Some(d.path())).unwrap();
        let ns = cache.namespace("model-a;pre", 2);
        let keys = [sha256(b"one"), sha256(b"two")];
        ns.write_chunk(&keys, &[1.0, 0.0, 0.0, 1.0]).unwrap();
        let (entries, problems) = ns.load();
        assert!(problems.is_empty());
        assert_eq!(entries[&keys[1]], vec![0.0, 1.0]);

        // Another namespace does not see these entries.
        assert!(cache.namespace("model-b;pre", 2).load().0.is_empty());

        // Flip one byte: checksum mismatch, reported, deleted.
        let file = walk_files(d.path())
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "emb"))
            .unwrap();
        let mut bytes = std::fs::read(&file).unwrap();
        bytes[HEADER + 40] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        let (entries, problems) = ns.load();
        assert!(entries.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].reason.contains("checksum"), "{}", problems[0]);
        assert!(!file.exists());

        // Truncated chunk.
        ns.write_chunk(&keys, &[1.0, 0.0, 0.0, 1.0]).unwrap();
        let file = walk_files(d.path())
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "emb"))
            .unwrap();
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(ns.load().1.len(), 1);

        ns.write_chunk(&keys, &[1.0, 0.0, 0.0, 1.0]).unwrap();
        assert_eq!(cache.clean().unwrap(), 1);
        assert!(ns.load().0.is_empty());
    }

    #[test]
    fn disabled_cache_stores_nothing() {
        let ns = EmbeddingCache::disabled().namespace("x", 1);
        ns.write_chunk(&[sha256(b"a")], &[1.0]).unwrap();
        assert!(ns.load().0.is_empty());
    }

    #[test]
    fn verify_reports_without_deleting_and_merge_copies_valid_chunks_once() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (ca, cb) = (
            EmbeddingCache::open(Some(a.path())).unwrap(),
            EmbeddingCache::open(Some(b.path())).unwrap(),
        );
        let ns_a = ca.namespace("model;pre", 2);
        ns_a.write_chunk(&[sha256(b"one")], &[1.0, 0.0]).unwrap();
        ns_a.write_chunk(&[sha256(b"two"), sha256(b"three")], &[0.0, 1.0, 0.6, 0.8])
            .unwrap();
        cb.namespace("model;pre", 2)
            .write_chunk(&[sha256(b"one")], &[1.0, 0.0])
            .unwrap();
        let v = ca.verify();
        assert_eq!((v.namespaces, v.chunks, v.entries), (1, 2, 3));
        assert!(v.problems.is_empty());

        // A damaged chunk in the source: reported by verify (kept), skipped by merge.
        let broken = a.path().join("v1").join("0badname").join("x.emb");
        std::fs::create_dir_all(broken.parent().unwrap()).unwrap();
        std::fs::write(&broken, b"ECLIPEMB garbage").unwrap();
        assert_eq!(ca.verify().problems.len(), 1);
        assert!(broken.exists(), "verify changes nothing");

        let m = cb.merge_from(a.path()).unwrap();
        assert_eq!((m.chunks, m.entries, m.already_present), (1, 2, 1));
        assert_eq!(m.problems.len(), 1);
        let (entries, problems) = cb.namespace("model;pre", 2).load();
        assert!(problems.is_empty());
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[&sha256(b"three")], vec![0.6, 0.8]);
        // Merging again copies nothing.
        assert_eq!(cb.merge_from(a.path()).unwrap().chunks, 0);
        // Not a cache directory: an error naming it.
        let e = cb
            .merge_from(&a.path().join("nothing"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("nothing"), "{e}");
    }
}
