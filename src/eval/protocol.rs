/*!
Evaluation protocol presets (`[eval] protocol`, `docs/protocols.md`): the definitions in which
published evaluations of medical CLIP models differ silently, as one named, typed bundle.

A preset fixes how class embeddings are built from prompt embeddings, the logit scale of the
CheXzero positive/negative softmax, the key that makes two reports "the same" in the unique-report
retrieval gallery, the median-rank convention, and the RAG settings the protocol expects (candidate
count, clustering encoder, headline BLEU flavour). [`Protocol::settings`] is the one table; each
entry's source (file and line of the original code) is in `docs/protocols.md`.

The preset is chosen per run (`[eval] protocol`) and may be overridden per dataset
(`[eval.dataset_protocols]`, dataset name → preset); [`super::config::EvalConfig::protocol_for`]
resolves it, and every summary carries its resolved [`ProtocolSettings`] for the record and review.
*/
use serde::{Deserialize, Serialize};

use super::retrieval::MedianRankConvention;

/// A named evaluation protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// The workbench's own defaults (CLIP_benchmark-style class embeddings, exact-string gallery).
    #[default]
    Workbench,
    /// ykumards/eCLIP's evaluation scripts (zero-shot, Open-I retrieval, Open-I RAG).
    EclipPaper,
    /// LAION-AI/CLIP_benchmark.
    ClipBenchmark,
    /// rajpurkarlab/CheXzero.
    Chexzero,
}

impl Protocol {
    /// Every preset, default first.
    pub const ALL: [Protocol; 4] = [
        Protocol::Workbench,
        Protocol::EclipPaper,
        Protocol::ClipBenchmark,
        Protocol::Chexzero,
    ];

    /// The config spelling (also the serde name).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Workbench => "workbench",
            Protocol::EclipPaper => "eclip-paper",
            Protocol::ClipBenchmark => "clip-benchmark",
            Protocol::Chexzero => "chexzero",
        }
    }

    /// The resolved definitions of this preset (sources: `docs/protocols.md`).
    pub fn settings(self) -> ProtocolSettings {
        use BleuFlavour::*;
        use ClassEmbedding::*;
        use GalleryKey::*;
        let base = ProtocolSettings {
            protocol: self,
            class_embedding: Renormalised,
            logit_scale: 1.0,
            gallery: Exact,
            median_rank: MedianRankConvention::MedianOfOneBased,
            rag_candidates: 100,
            rag_cluster_encoder: ClusterEncoder::ModelText,
            rag_bleu: Corpus,
        };
        match self {
            Protocol::Workbench => base,
            Protocol::EclipPaper => ProtocolSettings {
                class_embedding: MeanOfNormalised,
                gallery: LowercaseTrimmed,
                rag_cluster_encoder: ClusterEncoder::BioClinicalBert,
                rag_bleu: SentenceAveraged,
                ..base
            },
            Protocol::ClipBenchmark => ProtocolSettings {
                logit_scale: 100.0,
                median_rank: MedianRankConvention::OpenClipFloor,
                ..base
            },
            Protocol::Chexzero => base,
        }
    }
}

/// How a class embedding is formed from its prompts' embeddings (every preset first L2-normalises
/// each prompt embedding and averages them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassEmbedding {
    /// normalize(mean of normalised prompts): CLIP_benchmark, CheXzero, the workbench.
    Renormalised,
    /// mean of normalised prompts, not re-normalised: the eCLIP authors. A class with many
    /// dissimilar prompts gets a shorter vector, so its cosines shrink and the argmax can change.
    MeanOfNormalised,
}

/// When two report strings are the same gallery entry in `i2t_unique`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GalleryKey {
    /// Byte-identical strings.
    Exact,
    /// Equal after lower-casing and trimming surrounding white space (eCLIP's Open-I gallery).
    LowercaseTrimmed,
}

impl GalleryKey {
    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            GalleryKey::Exact => "exact",
            GalleryKey::LowercaseTrimmed => "lowercase-trimmed",
        }
    }

    /// The gallery key of `report`.
    pub fn key(self, report: &str) -> String {
        match self {
            GalleryKey::Exact => report.to_owned(),
            GalleryKey::LowercaseTrimmed => report.trim().to_lowercase(),
        }
    }
}

/// The text encoder whose embeddings the RAG KMeans clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterEncoder {
    /// The evaluated model's own text encoder (what the workbench runs).
    ModelText,
    /// `emilyalsentzer/Bio_ClinicalBERT`, attention-masked mean pooling (eCLIP); the workbench has
    /// no such encoder, so RAG numbers under this preset are flagged as not comparable.
    BioClinicalBert,
}

/// The BLEU a protocol reports as its headline RAG number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BleuFlavour {
    /// sacrebleu corpus BLEU (13a tokens): the `bleu2` / `bleu4` rows.
    Corpus,
    /// NLTK `sentence_bleu` with weights (0.5, 0.5), unsmoothed, averaged over reports: the
    /// `sentence_bleu2` row.
    SentenceAveraged,
}

impl BleuFlavour {
    /// The RAG metric row that carries this flavour's BLEU-2.
    pub fn row(self) -> &'static str {
        match self {
            BleuFlavour::Corpus => "bleu2",
            BleuFlavour::SentenceAveraged => "sentence_bleu2",
        }
    }
}

/// The definitions one preset resolves to, recorded with every summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProtocolSettings {
    pub protocol: Protocol,
    pub class_embedding: ClassEmbedding,
    /// Factor on the cosines before the CheXzero positive/negative softmax (argmax, AUROC and
    /// ranks are invariant to it; the probabilities are not).
    pub logit_scale: f64,
    pub gallery: GalleryKey,
    pub median_rank: MedianRankConvention,
    /// Reports retrieved per RAG query before clustering (`[rag] k * m`).
    pub rag_candidates: usize,
    pub rag_cluster_encoder: ClusterEncoder,
    pub rag_bleu: BleuFlavour,
}

impl Default for ProtocolSettings {
    fn default() -> Self {
        Protocol::Workbench.settings()
    }
}

impl ProtocolSettings {
    /// The resolved settings in one line, for the review.
    pub fn describe(&self) -> String {
        format!(
            "class embedding {}, logit scale {}, unique gallery key {}, median rank {}, RAG: {} candidates, clustering on {}, headline BLEU `{}`",
            serde_name(&self.class_embedding),
            self.logit_scale,
            serde_name(&self.gallery),
            self.median_rank.name(),
            self.rag_candidates,
            serde_name(&self.rag_cluster_encoder),
            self.rag_bleu.row()
        )
    }

    /// The settings in which `self` and `other` differ, by name (empty when the numbers share
    /// every definition a preset fixes).
    pub fn differences(&self, other: &ProtocolSettings) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.class_embedding != other.class_embedding {
            out.push("class_embedding");
        }
        if self.logit_scale != other.logit_scale {
            out.push("logit_scale");
        }
        if self.gallery != other.gallery {
            out.push("gallery");
        }
        if self.median_rank != other.median_rank {
            out.push("median_rank");
        }
        if self.rag_candidates != other.rag_candidates {
            out.push("rag_candidates");
        }
        if self.rag_cluster_encoder != other.rag_cluster_encoder {
            out.push("rag_cluster_encoder");
        }
        if self.rag_bleu != other.rag_bleu {
            out.push("rag_bleu");
        }
        out
    }
}

/// One dataset's protocol as the review states it: dataset name, resolved settings, and the RAG
/// candidate count `k * m` actually run (when the dataset has RAG rows) with the separate text
/// encoder its KMeans ran on (`None`: the model's own text embeddings).
pub struct ProtocolUse<'a> {
    pub dataset: &'a str,
    pub settings: &'a ProtocolSettings,
    pub rag_candidates: Option<usize>,
    pub rag_text_encoder: Option<&'a str>,
}

/// The review's protocol paragraph: each preset with its datasets and definitions, which presets
/// are not comparable with each other and why, and where a dataset's RAG run departs from its
/// protocol.
pub fn review_paragraph(uses: &[ProtocolUse]) -> String {
    let mut groups: Vec<(&ProtocolSettings, Vec<&str>)> = Vec::new();
    for u in uses {
        match groups.iter_mut().find(|(s, _)| *s == u.settings) {
            Some((_, ds)) => ds.push(u.dataset),
            None => groups.push((u.settings, vec![u.dataset])),
        }
    }
    let mut out = String::new();
    for (s, ds) in &groups {
        out.push_str(&format!(
            "Protocol **{}** on {}: {}.\n",
            s.protocol.name(),
            ds.join(", "),
            s.describe()
        ));
    }
    for (i, (a, _)) in groups.iter().enumerate() {
        for (b, _) in &groups[i + 1..] {
            let d = a.differences(b);
            if !d.is_empty() {
                out.push_str(&format!(
                    "Numbers under `{}` and `{}` are not comparable: they differ in {}.\n",
                    a.protocol.name(),
                    b.protocol.name(),
                    d.join(", ")
                ));
            }
        }
    }
    for u in uses {
        let Some(n) = u.rag_candidates else {
            continue;
        };
        if n != u.settings.rag_candidates {
            out.push_str(&format!(
                "RAG on {}: {} candidates per query (`[rag] k * m`), protocol `{}` expects {}: not the protocol's setting.\n",
                u.dataset,
                n,
                u.settings.protocol.name(),
                u.settings.rag_candidates
            ));
        }
        match (u.settings.rag_cluster_encoder, u.rag_text_encoder) {
            (ClusterEncoder::BioClinicalBert, None) => out.push_str(&format!(
                "RAG on {}: KMeans ran on the model's own text embeddings; protocol `{}` clusters Bio_ClinicalBERT embeddings (set [rag] text_encoder and cluster_with = \"text_encoder\"), so the RAG rows are not comparable with its published numbers.\n",
                u.dataset,
                u.settings.protocol.name()
            )),
            (ClusterEncoder::ModelText, Some(enc)) => out.push_str(&format!(
                "RAG on {}: KMeans ran on the text encoder `{enc}`; protocol `{}` clusters the model's own text embeddings: not the protocol's setting.\n",
                u.dataset,
                u.settings.protocol.name()
            )),
            (ClusterEncoder::BioClinicalBert, Some(enc)) => out.push_str(&format!(
                "RAG on {}: KMeans on the pooled embeddings of the text encoder `{enc}`, as protocol `{}` clusters (its authors use Bio_ClinicalBERT; the name is the encoder folder's own).\n",
                u.dataset,
                u.settings.protocol.name()
            )),
            (ClusterEncoder::ModelText, None) => {}
        }
    }
    out.push_str("Published numbers are comparable only with rows computed under the protocol that produced them (definitions and sources: `docs/protocols.md`).\n");
    out
}

/// The serde (config) spelling of a unit enum value.
fn serde_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_by_name_and_differ_where_documented() {
        for p in Protocol::ALL {
            let parsed: Protocol = serde_json::from_value(serde_json::json!(p.name())).unwrap();
            assert_eq!(parsed, p);
            assert_eq!(p.settings().protocol, p);
        }
        assert!(serde_json::from_value::<Protocol>(serde_json::json!("eclip")).is_err());
        let w = Protocol::Workbench.settings();
        assert_eq!(
            w.differences(&Protocol::EclipPaper.settings()),
            vec![
                "class_embedding",
                "gallery",
                "rag_cluster_encoder",
                "rag_bleu"
            ]
        );
        assert_eq!(
            w.differences(&Protocol::ClipBenchmark.settings()),
            vec!["logit_scale", "median_rank"]
        );
        assert!(w.differences(&Protocol::Chexzero.settings()).is_empty());
        assert!(
            Protocol::EclipPaper
                .settings()
                .describe()
                .contains("mean-of-normalised")
        );
    }

    #[test]
    fn the_review_paragraph_flags_mixed_protocols_and_rag_departures() {
        let (w, e) = (
            Protocol::Workbench.settings(),
            Protocol::EclipPaper.settings(),
        );
        let uses = [
            ProtocolUse {
                dataset: "demo",
                settings: &w,
                rag_candidates: Some(100),
                rag_text_encoder: None,
            },
            ProtocolUse {
                dataset: "openi",
                settings: &e,
                rag_candidates: Some(60),
                rag_text_encoder: None,
            },
        ];
        let p = review_paragraph(&uses);
        assert!(p.contains("Protocol **eclip-paper** on openi"), "{p}");
        assert!(
            p.contains("`workbench` and `eclip-paper` are not comparable: they differ in class_embedding, gallery"),
            "{p}"
        );
        assert!(p.contains("RAG on openi: 60 candidates"), "{p}");
        assert!(!p.contains("RAG on demo"), "{p}");
        assert!(
            p.contains("RAG on openi: KMeans ran on the model's own"),
            "{p}"
        );
        let one = review_paragraph(&uses[..1]);
        assert!(!one.contains("not comparable"), "{one}");
        // Clustering on a text encoder removes the eclip-paper departure and is one under
        // workbench.
        let with_encoder = [
            ProtocolUse {
                rag_text_encoder: Some("Bio_ClinicalBERT"),
                ..uses[1]
            },
            ProtocolUse {
                rag_text_encoder: Some("tiny"),
                ..uses[0]
            },
        ];
        let p = review_paragraph(&with_encoder);
        assert!(!p.contains("KMeans ran on the model's own"), "{p}");
        assert!(
            p.contains("RAG on demo: KMeans ran on the text encoder `tiny`"),
            "{p}"
        );
    }

    #[test]
    fn lowercase_gallery_keys_fold_case_and_outer_space_only() {
        let k = GalleryKey::LowercaseTrimmed;
        assert_eq!(k.key("  No Acute Disease. "), "no acute disease.");
        assert_ne!(k.key("no  acute"), k.key("no acute"));
        assert_eq!(GalleryKey::Exact.key(" A "), " A ");
    }
}
