/*! The typed key of a row: its task family ([`Task`]) and setting ([`Setting`]), with the CSV
strings they are written as ([`Task::name`], [`Setting::label`]) and read back from
([`Task::parse`], [`Setting::parse`]). */
use std::fmt;

use serde::{Deserialize, Serialize};

/// The task families, in the order the suite runs them (RAG last, after the suite). Serialised as
/// its CSV name ([`Task::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Task {
    Zeroshot,
    Retrieval,
    Geometry,
    GapShift,
    LinearProbe,
    Rag,
    /// Saliency agreement with expert heatmaps (a run-layer step, like RAG).
    Saliency,
}

impl Task {
    /// Every task, in report order.
    pub const ALL: [Task; 7] = [
        Task::Zeroshot,
        Task::Retrieval,
        Task::Geometry,
        Task::GapShift,
        Task::LinearProbe,
        Task::Rag,
        Task::Saliency,
    ];

    /// The `task` column of the CSV.
    pub const fn name(self) -> &'static str {
        match self {
            Task::Zeroshot => "zeroshot",
            Task::Retrieval => "retrieval",
            Task::Geometry => "geometry",
            Task::GapShift => "gap_shift",
            Task::LinearProbe => "linear_probe",
            Task::Rag => "rag",
            Task::Saliency => "saliency",
        }
    }

    /// The task of a `task` column value.
    pub fn parse(name: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The progress stage that finishes the task's rows (`Progress::stage`).
    pub const fn stage(self) -> &'static str {
        match self {
            Task::Zeroshot => "zero-shot",
            Task::Retrieval => "retrieval",
            Task::Geometry => "geometry",
            Task::GapShift => "gap shift",
            Task::LinearProbe => "linear probe",
            Task::Rag => "rag",
            Task::Saliency => "saliency",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Task {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Task::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown task `{name}` (expected one of {})",
                Task::ALL.map(Task::name).join(", ")
            ))
        })
    }
}

/// The setting of a row: which variant of its task produced it. Serialised as its CSV label
/// ([`Setting::label`]); reading one back needs the row's task ([`Setting::parse`]), which
/// `MetricRow`'s deserialiser supplies. Two settings are equal when their labels are (so
/// `Lambda(0.0)` and `Lambda(-0.0)` differ, as `lambda=0` and `lambda=-0` do), which makes them
/// usable as map keys.
#[derive(Debug, Clone)]
pub enum Setting {
    /// No variant (geometry).
    None,
    /// Zero-shot argmax over class embeddings, single-positive split.
    Argmax,
    /// Zero-shot CheXzero positive/negative softmax, test split.
    Posneg,
    I2t,
    T2i,
    I2tUnique,
    /// Gap-shift sweep point.
    Lambda(f64),
    /// Linear-probe label fraction.
    Fraction(f64),
    /// RAG generator (`top1`, `centroid`, `llm:<model>`).
    Generator(String),
    /// Saliency method and target (`occlusion:class`, `rise:report`).
    Saliency(String),
}

impl Setting {
    /// The `setting` column of the CSV (f64s in Rust's shortest round-trip form).
    pub fn label(&self) -> String {
        match self {
            Setting::None => String::new(),
            Setting::Argmax => "argmax".into(),
            Setting::Posneg => "posneg".into(),
            Setting::I2t => "i2t".into(),
            Setting::T2i => "t2i".into(),
            Setting::I2tUnique => "i2t_unique".into(),
            Setting::Lambda(l) => format!("lambda={l}"),
            Setting::Fraction(f) => format!("fraction={f}"),
            Setting::Generator(g) | Setting::Saliency(g) => g.clone(),
        }
    }

    /// The typed setting of a row of `task` (the inverse of [`Setting::label`]).
    pub fn parse(task: Task, label: &str) -> Option<Setting> {
        let num = |prefix: &str| label.strip_prefix(prefix)?.parse::<f64>().ok();
        Some(match (task, label) {
            (Task::Geometry, "") => Setting::None,
            (Task::Zeroshot, "argmax") => Setting::Argmax,
            (Task::Zeroshot, "posneg") => Setting::Posneg,
            (Task::Retrieval, "i2t") => Setting::I2t,
            (Task::Retrieval, "t2i") => Setting::T2i,
            (Task::Retrieval, "i2t_unique") => Setting::I2tUnique,
            (Task::GapShift, _) => Setting::Lambda(num("lambda=")?),
            (Task::LinearProbe, _) => Setting::Fraction(num("fraction=")?),
            (Task::Rag, g) => Setting::Generator(g.to_owned()),
            (Task::Saliency, s) => Setting::Saliency(s.to_owned()),
            _ => return None,
        })
    }
}

impl Setting {
    /// Variant order, the bits of a number, a name: the identity that `Eq`, `Hash` and `Ord` use.
    fn identity(&self) -> (u8, u64, &str) {
        match self {
            Setting::None => (0, 0, ""),
            Setting::Argmax => (1, 0, ""),
            Setting::Posneg => (2, 0, ""),
            Setting::I2t => (3, 0, ""),
            Setting::T2i => (4, 0, ""),
            Setting::I2tUnique => (5, 0, ""),
            Setting::Lambda(l) => (6, l.to_bits(), ""),
            Setting::Fraction(f) => (7, f.to_bits(), ""),
            Setting::Generator(g) => (8, 0, g),
            Setting::Saliency(s) => (9, 0, s),
        }
    }

    /// The number of a sweep point or label fraction.
    fn number(&self) -> f64 {
        match self {
            Setting::Lambda(v) | Setting::Fraction(v) => *v,
            _ => 0.0,
        }
    }
}

impl PartialEq for Setting {
    fn eq(&self, other: &Self) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for Setting {}

impl std::hash::Hash for Setting {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.identity().hash(h);
    }
}

impl PartialOrd for Setting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Variant order, then numbers by value (`total_cmp`), then names.
impl Ord for Setting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let (a, b) = (self.identity(), other.identity());
        a.0.cmp(&b.0)
            .then_with(|| self.number().total_cmp(&other.number()))
            .then_with(|| a.2.cmp(b.2))
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl Serialize for Setting {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}
