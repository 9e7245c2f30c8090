/*!
ONNX Runtime: finding the shared library, loading it once, and building sessions on the requested
execution provider.

The crate links ONNX Runtime dynamically (`ort`'s `load-dynamic`), so nothing is downloaded at build
time. The library is looked for, in order, at

1. `ORT_DYLIB_PATH` (environment),
2. `[runtime] ort_dylib` in the config file or `--ort-dylib` on the command line,
3. the install location of `scripts/install-onnxruntime.sh`:
   `<user data dir>/eclip-workbench/onnxruntime/<version>/libonnxruntime.so.<version>`
   (`~/.local/share/...` on Linux, from the `directories` crate).

A missing, non-library or too-old file is a [`RuntimeError`] that prints the command that fixes it.

Execution providers: `ort` falls back to the CPU silently when a provider fails to register. We do
not rely on that: [`Runtime::session`] registers CUDA with `error_on_failure`, and for
[`Device::Auto`] catches the failure, builds a CPU session instead and returns a [`ProviderInfo`]
saying which provider ran and why, so the UI and the report can state it.
*/
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::ep;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

/// The ONNX Runtime version the install script pins and the workbench was tested with.
pub(crate) const ORT_VERSION: &str = "1.31.1";
/// Oldest ONNX Runtime minor version `ort` 2.0.0-rc.15 (`api-23`) accepts: 1.23.
pub(crate) const ORT_MIN_MINOR: u32 = 23;
/// The command that installs the pinned library where [`find_library`] looks.
pub(crate) const INSTALL_HINT: &str = "./scripts/install-onnxruntime.sh";

/// Which execution provider to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// Try CUDA, fall back to the CPU and say why.
    #[default]
    Auto,
    Cpu,
    /// CUDA or a loud error.
    Cuda,
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Device::Auto => "auto",
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        })
    }
}

/// The provider a session actually runs on, and why that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInfo {
    /// "CUDAExecutionProvider" or "CPUExecutionProvider".
    pub(crate) provider: String,
    /// Why: "requested", or the CUDA error that made `auto` fall back.
    pub(crate) reason: String,
}

impl fmt::Display for ProviderInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.provider, self.reason)
    }
}

/// Where the library was found and by which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryLocation {
    pub path: PathBuf,
    /// "ORT_DYLIB_PATH", "config/--ort-dylib" or "install dir".
    pub source: &'static str,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    #[error(transparent)]
    Threads(#[from] crate::limits::ThreadsError),
    #[error(
        "ONNX Runtime library not found (looked at: {tried}).\n  Fix: run `{INSTALL_HINT}` (installs onnxruntime {ORT_VERSION} into {install}), or set ORT_DYLIB_PATH to libonnxruntime.so.<version>"
    )]
    NotFound { tried: String, install: String },
    #[error(
        "{path} (from {source_name}) is not a shared library: {why}.\n  Fix: run `{INSTALL_HINT}` or point ORT_DYLIB_PATH at libonnxruntime.so.{ORT_VERSION}"
    )]
    NotALibrary {
        path: PathBuf,
        source_name: &'static str,
        why: String,
    },
    #[error(
        "could not load ONNX Runtime from {path}: {message}.\n  Fix: run `{INSTALL_HINT}` (onnxruntime {ORT_VERSION}; at least 1.{ORT_MIN_MINOR} is needed) or point ORT_DYLIB_PATH at a newer library"
    )]
    Load { path: PathBuf, message: String },
    #[error(
        "ONNX Runtime is already loaded from {loaded}; cannot switch to {requested} in the same process"
    )]
    AlreadyLoaded { loaded: PathBuf, requested: PathBuf },
    #[error("creating the ONNX Runtime environment failed")]
    Environment(#[source] ort::Error),
    #[error(
        "--device cuda: the CUDA execution provider could not be used for {model}: {message}.\n  Fix: install the GPU library with `{INSTALL_HINT} --gpu`, put the CUDA 13 / cuDNN 9 libraries on LD_LIBRARY_PATH, or run with --device cpu"
    )]
    Cuda { model: String, message: String },
    #[error("ONNX Runtime could not open {path}: {source}")]
    Session {
        path: PathBuf,
        #[source]
        source: ort::Error,
    },
}

/// Session settings shared by every model.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    pub device: Device,
    /// Intra-op threads; 0 = ONNX Runtime's default.
    pub threads: usize,
    /// Explicit library path from the config or the command line.
    pub ort_dylib: Option<PathBuf>,
}

/// A loaded ONNX Runtime: the library, its version and the environment sessions are built in.
pub struct Runtime {
    env: Environment,
    pub library: LibraryLocation,
    pub version: String,
    pub options: RuntimeOptions,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("library", &self.library)
            .field("version", &self.version)
            .field("options", &self.options)
            .finish()
    }
}

/// The folder `scripts/install-onnxruntime.sh` installs into (same rule as the script).
pub(crate) fn install_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "eclip-workbench")
        .map(|d| d.data_dir().join("onnxruntime").join(ORT_VERSION))
}

/// Applies the lookup order of the module docs; the first rule that names a path wins, and that path
/// must exist (a wrong `ORT_DYLIB_PATH` is an error, not a reason to look elsewhere).
pub(crate) fn find_library(explicit: Option<&Path>) -> Result<LibraryLocation, RuntimeError> {
    let from_env = std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty());
    let candidate = if let Some(p) = from_env {
        Some(LibraryLocation {
            path: PathBuf::from(p),
            source: "ORT_DYLIB_PATH",
        })
    } else {
        explicit.map(|p| LibraryLocation {
            path: p.to_path_buf(),
            source: "config/--ort-dylib",
        })
    };
    let install = install_dir();
    let install_str = install.as_ref().map_or_else(
        || "<no home directory>".to_string(),
        |d| d.display().to_string(),
    );
    let loc = match candidate {
        Some(loc) => loc,
        None => {
            let path = install
                .as_ref()
                .map(|d| d.join(format!("libonnxruntime.so.{ORT_VERSION}")))
                .ok_or_else(|| RuntimeError::NotFound {
                    tried: "no user data directory".into(),
                    install: install_str.clone(),
                })?;
            LibraryLocation {
                path,
                source: "install dir",
            }
        }
    };
    if !loc.path.is_file() {
        return Err(RuntimeError::NotFound {
            tried: format!("{} ({})", loc.path.display(), loc.source),
            install: install_str,
        });
    }
    check_elf(&loc)?;
    Ok(loc)
}

/// Refuses files that cannot be a Linux shared library before handing them to `dlopen`, whose own
/// message for e.g. a text file is cryptic.
fn check_elf(loc: &LibraryLocation) -> Result<(), RuntimeError> {
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    let mut magic = [0u8; 4];
    let read = std::fs::File::open(&loc.path).and_then(|mut f| f.read_exact(&mut magic));
    let why = match read {
        Err(e) => Some(format!("cannot read it ({e})")),
        Ok(()) if &magic != b"\x7fELF" => Some("no ELF header".to_string()),
        Ok(()) => None,
    };
    match why {
        Some(why) => Err(RuntimeError::NotALibrary {
            path: loc.path.clone(),
            source_name: loc.source,
            why,
        }),
        None => Ok(()),
    }
}

static LOADED: OnceLock<(PathBuf, String)> = OnceLock::new();
static ENV: std::sync::Mutex<Option<Environment>> = std::sync::Mutex::new(None);

/// ONNX Runtime allows one environment per process; every [`Runtime`] shares it (device and
/// threads are session options, so runtimes with different settings can coexist).
fn environment() -> Result<Environment, RuntimeError> {
    let mut slot = ENV
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(env) = slot.as_ref() {
        return Ok(env.clone());
    }
    let env = ort::init()
        .with_name("eclip")
        .build()
        .map_err(RuntimeError::Environment)?;
    *slot = Some(env.clone());
    Ok(env)
}

impl Runtime {
    /// Finds and loads the library (once per process) and creates the environment.
    pub fn load(options: RuntimeOptions) -> Result<Runtime, RuntimeError> {
        crate::limits::check_threads(options.threads)?;
        let library = find_library(options.ort_dylib.as_deref())?;
        let version = load_once(&library.path)?;
        let env = environment()?;
        Ok(Runtime {
            env,
            library,
            version,
            options,
        })
    }

    /// Opens one ONNX graph on the configured device. `what` names it in errors ("eCLIP image.onnx").
    pub(crate) fn session(
        &self,
        path: &Path,
        what: &str,
    ) -> Result<(Session, ProviderInfo), RuntimeError> {
        match self.options.device {
            Device::Cpu => Ok((
                self.cpu_session(path)?,
                ProviderInfo {
                    provider: "CPUExecutionProvider".into(),
                    reason: "requested (--device cpu)".into(),
                },
            )),
            Device::Cuda => match self.cuda_session(path) {
                Ok(s) => Ok((
                    s,
                    ProviderInfo {
                        provider: "CUDAExecutionProvider".into(),
                        reason: "requested (--device cuda)".into(),
                    },
                )),
                Err(e) => Err(RuntimeError::Cuda {
                    model: what.to_string(),
                    message: e.to_string().trim_end_matches('.').to_string(),
                }),
            },
            Device::Auto => match self.cuda_session(path) {
                Ok(s) => Ok((
                    s,
                    ProviderInfo {
                        provider: "CUDAExecutionProvider".into(),
                        reason: "auto: CUDA available".into(),
                    },
                )),
                Err(e) => {
                    let reason = format!("auto: CUDA unavailable ({})", first_line(&e.to_string()));
                    Ok((
                        self.cpu_session(path)?,
                        ProviderInfo {
                            provider: "CPUExecutionProvider".into(),
                            reason,
                        },
                    ))
                }
            },
        }
    }

    fn builder(&self) -> Result<ort::session::builder::SessionBuilder, ort::Error> {
        let mut b =
            Session::builder(&self.env)?.with_optimization_level(GraphOptimizationLevel::Level3)?;
        if self.options.threads > 0 {
            b = b.with_intra_threads(self.options.threads)?;
        }
        Ok(b)
    }

    fn cpu_session(&self, path: &Path) -> Result<Session, RuntimeError> {
        let err = |source| RuntimeError::Session {
            path: path.to_path_buf(),
            source,
        };
        self.builder()
            .and_then(|mut b| b.commit_from_file(path))
            .map_err(err)
    }

    fn cuda_session(&self, path: &Path) -> Result<Session, ort::Error> {
        let mut b = self
            .builder()?
            .with_execution_providers([ep::CUDA::default().build().error_on_failure()])?;
        b.commit_from_file(path)
    }

    /// Execution providers compiled into the loaded library (not necessarily usable).
    pub fn available_providers(&self) -> Vec<&'static str> {
        use ort::ep::ExecutionProvider;
        let mut v = vec!["CPUExecutionProvider"];
        if ep::CUDA::is_available().unwrap_or(false) {
            v.push("CUDAExecutionProvider");
        }
        v
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// `ort` loads the library into a process-wide slot; loading a second, different path would be
/// silently ignored, so we refuse it.
fn load_once(path: &Path) -> Result<String, RuntimeError> {
    if let Some((loaded, version)) = LOADED.get() {
        if loaded != path {
            return Err(RuntimeError::AlreadyLoaded {
                loaded: loaded.clone(),
                requested: path.to_path_buf(),
            });
        }
        return Ok(version.clone());
    }
    ort::init_from(path).map_err(|e| RuntimeError::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let version = version_from_info(ort::info())
        .or_else(|| version_from_file_name(path))
        .unwrap_or_else(|| format!(">= 1.{ORT_MIN_MINOR} (exact version not in the file name)"));
    let _ = LOADED.set((path.to_path_buf(), version.clone()));
    Ok(version)
}

/// "1.31.1" from `libonnxruntime.so.1.31.1` (the PyPI wheels' naming).
fn version_from_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let v = name.split(".so.").nth(1)?;
    (v.split('.').count() == 3 && v.split('.').all(|p| p.parse::<u32>().is_ok()))
        .then(|| v.to_string())
}

/// Pulls "1.31.1" out of ORT's build-info string ("ORT Build Info: git-branch=rel-1.31.1, ...").
fn version_from_info(info: &str) -> Option<String> {
    let start = info.find("rel-")? + 4;
    let rest = &info[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_read_from_build_info() {
        assert_eq!(
            version_from_info(
                "ORT Build Info: git-branch=rel-1.31.1, git-commit-id=abc, build type=Release"
            )
            .as_deref(),
            Some("1.31.1")
        );
        assert_eq!(
            version_from_info("ORT Build Info: git-branch=HEAD, git-commit-id=6af1a93"),
            None
        );
        assert_eq!(
            version_from_file_name(Path::new("/x/libonnxruntime.so.1.31.1")).as_deref(),
            Some("1.31.1")
        );
        assert_eq!(
            version_from_file_name(Path::new("/x/libonnxruntime.so")),
            None
        );
    }

    #[test]
    fn non_elf_file_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("libonnxruntime.so.1.31.1");
        std::fs::write(&p, b"not a library").unwrap();
        let err = check_elf(&LibraryLocation {
            path: p,
            source: "test",
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("no ELF header"), "{err}");
        assert!(err.contains(INSTALL_HINT), "{err}");
    }
}
