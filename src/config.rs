/*!
The workbench config (`workbench.toml`, docs/formats.md §3): runtime settings, the models and the
datasets to compare, and the `[eval]` / `[rag]` sections.

Paths in the file are resolved relative to the file. `[eval]` and `[rag]` are kept as raw TOML tables
so the modules that own them define their own typed settings (with defaults) and read them through
[`Config::section`]; this module does not need to change when they grow.

Without `--config`, [`Config::discover`] uses the bundled demo, `fixtures/workbench.toml`, looked for
in the current directory, then above the executable (`target/release/eclip` → repository root), then
in the source tree the binary was built from.
*/
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::runtime::Device;

/// Relative location of the bundled demo config.
pub(crate) const DEFAULT_CONFIG: &str = "fixtures/workbench.toml";
/// Images per ONNX Runtime call unless the config or `--batch-size` says otherwise.
pub const DEFAULT_BATCH: usize = 32;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "no --config given and the bundled demo config was not found (looked for {tried}); pass --config FILE or run from the repository root"
    )]
    NoDefault { tried: String },
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuntimeSection {
    #[serde(default)]
    pub(crate) device: Device,
    /// Intra-op threads per session; 0 = ONNX Runtime's default.
    #[serde(default)]
    pub(crate) threads: usize,
    #[serde(default)]
    pub(crate) ort_dylib: Option<PathBuf>,
    /// Images/texts per ONNX Runtime call (default [`DEFAULT_BATCH`]).
    #[serde(default)]
    pub(crate) batch_size: Option<usize>,
    /// Largest image (width x height, from the header, before decoding) accepted; default
    /// [`crate::limits::DEFAULT_MAX_IMAGE_PIXELS`].
    #[serde(default)]
    pub(crate) max_image_pixels: Option<std::num::NonZeroU64>,
}

/// One model folder to load. A `[[models]]` entry with `replicates` gives one per replicate, named
/// `<name>#<i>` (`i` = position in the list, from 0) and carrying the entry's name as `group`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelEntry {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    /// The `[[models]]` entry's name when it lists `replicates`; `None` for a single `path`.
    pub(crate) group: Option<String>,
}

/// A `[[models]]` entry as written: `path` (one trained model) or `replicates` (the same recipe
/// trained with several seeds, one folder each), never both.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModelEntry {
    name: String,
    #[serde(default)]
    path: Option<PathBuf>,
    #[serde(default)]
    replicates: Option<Vec<PathBuf>>,
}

/// A `[[models]]` entry with `replicates`: its name and its replicates' model names (in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicateGroup {
    pub(crate) name: String,
    pub(crate) replicates: Vec<String>,
}

/// The model name of replicate `i` of the `[[models]]` entry `name`.
pub(crate) fn replicate_name(name: &str, i: usize) -> String {
    format!("{name}#{i}")
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DatasetEntry {
    pub(crate) path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    runtime: RuntimeSection,
    #[serde(default)]
    models: Vec<RawModelEntry>,
    #[serde(default)]
    datasets: Vec<DatasetEntry>,
    #[serde(default)]
    eval: toml::Table,
    #[serde(default)]
    rag: toml::Table,
    #[serde(default)]
    saliency: toml::Table,
}

/// A parsed config with every path made absolute.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    pub(crate) runtime: RuntimeSection,
    /// Every model folder to load, replicates expanded, in file order.
    pub(crate) models: Vec<ModelEntry>,
    /// The `[[models]]` entries that list `replicates`.
    pub(crate) groups: Vec<ReplicateGroup>,
    pub(crate) datasets: Vec<DatasetEntry>,
    pub(crate) eval: toml::Table,
    pub(crate) rag: toml::Table,
    /// `[saliency]`, read by `saliency::SaliencySettings::from_table`.
    pub(crate) saliency: toml::Table,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        Self::parse(&text, &path)
    }

    /// Parses config text as if it were the file at `path` (paths resolve against its folder).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| invalid(crate::strict::explain(&e.to_string())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        if raw.models.is_empty() {
            return Err(invalid(
                "no [[models]] entries; add at least one model folder".into(),
            ));
        }
        if raw.datasets.is_empty() {
            return Err(invalid(
                "no [[datasets]] entries; add at least one dataset.toml".into(),
            ));
        }
        let mut names: Vec<&str> = raw.models.iter().map(|m| m.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(invalid(format!(
                "model name {:?} is used twice; names must be unique",
                w[0]
            )));
        }
        let mut paths: Vec<&Path> = raw.datasets.iter().map(|d| d.path.as_path()).collect();
        paths.sort_unstable();
        if let Some(w) = paths.windows(2).find(|w| w[0] == w[1]) {
            return Err(invalid(format!(
                "dataset {} is listed twice in [[datasets]]; its rows would be indistinguishable, list it once",
                w[0].display()
            )));
        }
        if raw.runtime.batch_size == Some(0) {
            return Err(invalid("[runtime] batch_size must be at least 1".into()));
        }
        let mut runtime = raw.runtime;
        runtime.ort_dylib = runtime.ort_dylib.map(|p| base.join(p));
        let (models, groups) = expand_models(raw.models, base).map_err(invalid)?;
        Ok(Config {
            path: path.to_path_buf(),
            runtime,
            models,
            groups,
            datasets: raw
                .datasets
                .into_iter()
                .map(|d| DatasetEntry {
                    path: base.join(d.path),
                })
                .collect(),
            eval: raw.eval,
            rag: raw.rag,
            saliency: raw.saliency,
        })
    }

    /// `explicit` if given, else the bundled demo config (see module docs).
    pub fn discover(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        if let Some(p) = explicit {
            return Self::load(p);
        }
        let candidates = default_candidates();
        match candidates.iter().find(|p| p.is_file()) {
            Some(p) => Self::load(p),
            None => Err(ConfigError::NoDefault {
                tried: candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Deserialises a raw section (`[eval]`, `[rag]`) into the owner's typed settings; missing
    /// keys take the type's serde defaults.
    pub(crate) fn section<T: DeserializeOwned>(
        &self,
        name: &str,
        table: &toml::Table,
    ) -> Result<T, ConfigError> {
        T::deserialize(toml::Value::Table(table.clone())).map_err(|e| ConfigError::Invalid {
            path: self.path.clone(),
            message: format!("[{name}]: {}", crate::strict::explain(&e.to_string())),
        })
    }

    pub(crate) fn batch_size(&self) -> usize {
        self.runtime.batch_size.unwrap_or(DEFAULT_BATCH)
    }
}

/// The model folders of the `[[models]]` entries, replicates expanded, and the replicate groups.
/// Replicate folders must exist (a missing seed would silently shrink the group), be listed once,
/// and an entry gives `path` or a non-empty `replicates`, not both.
fn expand_models(
    raw: Vec<RawModelEntry>,
    base: &Path,
) -> Result<(Vec<ModelEntry>, Vec<ReplicateGroup>), String> {
    let mut models = Vec::new();
    let mut groups = Vec::new();
    for m in raw {
        match (m.path, m.replicates) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "[[models]] {:?} gives both `path` and `replicates`; give `path` for one trained model or `replicates` for several seeds of it",
                    m.name
                ));
            }
            (None, None) => {
                return Err(format!(
                    "[[models]] {:?} has neither `path` nor `replicates`; add the model folder",
                    m.name
                ));
            }
            (Some(p), None) => models.push(ModelEntry {
                name: m.name,
                path: base.join(p),
                group: None,
            }),
            (None, Some(reps)) => {
                if reps.is_empty() {
                    return Err(format!(
                        "[[models]] {:?}: `replicates` is empty; list at least one model folder",
                        m.name
                    ));
                }
                let mut names = Vec::new();
                for (i, rel) in reps.iter().enumerate() {
                    let path = base.join(rel);
                    if reps[..i].contains(rel) {
                        return Err(format!(
                            "[[models]] {:?}: replicate {} is listed twice in `replicates`; each seed's folder once",
                            m.name,
                            rel.display()
                        ));
                    }
                    if !path.join("model.json").is_file() {
                        return Err(format!(
                            "[[models]] {:?}: replicate {} ({}) has no model.json; fix the path or remove it from `replicates`",
                            m.name,
                            rel.display(),
                            path.display()
                        ));
                    }
                    let name = replicate_name(&m.name, i);
                    names.push(name.clone());
                    models.push(ModelEntry {
                        name,
                        path,
                        group: Some(m.name.clone()),
                    });
                }
                groups.push(ReplicateGroup {
                    name: m.name,
                    replicates: names,
                });
            }
        }
    }
    let mut all: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
    all.extend(groups.iter().map(|g| g.name.as_str()));
    all.sort_unstable();
    if let Some(w) = all.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!(
            "model name {:?} is used twice (replicates are named <name>#<i>); names must be unique",
            w[0]
        ));
    }
    Ok((models, groups))
}

fn default_candidates() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        v.push(cwd.join(DEFAULT_CONFIG));
    }
    if let Ok(exe) = std::env::current_exe() {
        // target/<profile>/eclip → the repository root is three levels up.
        if let Some(root) = exe.ancestors().nth(3) {
            v.push(root.join(DEFAULT_CONFIG));
        }
    }
    v.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG));
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[runtime]
device = "cpu"
threads = 2

[[models]]
name = "CLIP"
path = "models/clip"

[[models]]
name = "eCLIP"
path = "models/eclip"

[[datasets]]
path = "data/dataset.toml"

[eval]
seed = 0
probe_fractions = [0.01, 0.1, 1.0]

[rag]
k = 5
"#;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Rag {
        k: usize,
        #[serde(default)]
        m: Option<usize>,
    }

    #[test]
    fn paths_resolve_against_the_file_and_sections_stay_raw() {
        let cfg = Config::parse(EXAMPLE, Path::new("/x/y/workbench.toml")).unwrap();
        assert_eq!(cfg.runtime.device, Device::Cpu);
        assert_eq!(cfg.models[1].path, PathBuf::from("/x/y/models/eclip"));
        assert_eq!(
            cfg.datasets[0].path,
            PathBuf::from("/x/y/data/dataset.toml")
        );
        assert_eq!(cfg.eval["seed"].as_integer(), Some(0));
        let rag: Rag = cfg.section("rag", &cfg.rag).unwrap();
        assert_eq!(rag, Rag { k: 5, m: None });
        assert_eq!(cfg.batch_size(), DEFAULT_BATCH);
    }

    #[test]
    fn bad_configs_name_the_problem() {
        let p = Path::new("/w.toml");
        let dup = EXAMPLE.replace("eCLIP", "CLIP");
        assert!(
            Config::parse(&dup, p)
                .unwrap_err()
                .to_string()
                .contains("used twice")
        );
        let bad_device = EXAMPLE.replace("\"cpu\"", "\"tpu\"");
        assert!(
            Config::parse(&bad_device, p)
                .unwrap_err()
                .to_string()
                .contains("tpu")
        );
        assert!(
            Config::parse("[runtime]\n", p)
                .unwrap_err()
                .to_string()
                .contains("[[models]]")
        );
    }

    #[test]
    fn the_bundled_demo_config_parses() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG);
        let cfg = Config::load(&p).unwrap();
        // CLIP and eCLIP, three seeds each.
        assert_eq!(cfg.models.len(), 6);
        assert!(cfg.models[0].path.ends_with("fixtures/models/clip"));
        assert_eq!(cfg.models[4].name, "eCLIP#1");
        assert!(cfg.models[4].path.ends_with("fixtures/models/eclip-s1"));
        assert_eq!(cfg.models[4].group.as_deref(), Some("eCLIP"));
        assert_eq!(
            cfg.groups
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>(),
            ["CLIP", "eCLIP"]
        );
        assert_eq!(cfg.groups[1].replicates, ["eCLIP#0", "eCLIP#1", "eCLIP#2"]);
    }

    /// A config beside `fixtures/` (so `models/...` resolves to the fixture models) with `models`.
    fn with_models(models: &str) -> Result<Config, ConfigError> {
        let text = format!("{models}\n[[datasets]]\npath = \"data/dataset.toml\"\n");
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/w.toml");
        Config::parse(&text, &p)
    }

    #[test]
    fn replicates_expand_and_are_validated() {
        let cfg = with_models(
            "[[models]]\nname = \"A\"\npath = \"models/clip\"\n[[models]]\nname = \"B\"\nreplicates = [\"models/eclip\", \"models/eclip-s1\"]\n",
        )
        .unwrap();
        let names: Vec<&str> = cfg.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["A", "B#0", "B#1"]);
        assert_eq!(cfg.models[0].group, None);
        assert_eq!(cfg.groups.len(), 1);
        let err = |models: &str| with_models(models).unwrap_err().to_string();
        let e = err("[[models]]\nname = \"B\"\nreplicates = [\"models/eclip\", \"models/nope\"]\n");
        assert!(
            e.contains("\"B\"") && e.contains("models/nope") && e.contains("no model.json"),
            "{e}"
        );
        assert!(e.contains("fixtures/w.toml"), "names the file: {e}");
        let e =
            err("[[models]]\nname = \"B\"\nreplicates = [\"models/eclip\", \"models/eclip\"]\n");
        assert!(
            e.contains("listed twice") && e.contains("models/eclip"),
            "{e}"
        );
        let e = err("[[models]]\nname = \"B\"\nreplicates = []\n");
        assert!(e.contains("`replicates` is empty"), "{e}");
        let e = err(
            "[[models]]\nname = \"B\"\npath = \"models/clip\"\nreplicates = [\"models/eclip\"]\n",
        );
        assert!(e.contains("both `path` and `replicates`"), "{e}");
        let e = err("[[models]]\nname = \"B\"\n");
        assert!(e.contains("neither `path` nor `replicates`"), "{e}");
        // A plain model named like a replicate collides.
        let e = err(
            "[[models]]\nname = \"B#0\"\npath = \"models/clip\"\n[[models]]\nname = \"B\"\nreplicates = [\"models/eclip\"]\n",
        );
        assert!(e.contains("\"B#0\" is used twice"), "{e}");
    }
}
