/*!
The `[rag]` section of `workbench.toml` (docs/formats.md §3) with serde defaults, so an empty or
partial section works and only the values a user cares about need writing.
*/
use std::path::PathBuf;

use serde::Deserialize;

/// Retrieval, generation and metric settings of the RAG task.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RagConfig {
    /// Snippets per query (KMeans clusters).
    pub k: usize,
    /// Retrieved reports per snippet: the top `k * m` reports are clustered.
    pub m: usize,
    /// Manifest split whose unique reports form the corpus; `None` = the dataset's train role.
    pub corpus_split: Option<String>,
    /// A text-only corpus CSV with a `report` column (e.g. `eclip-iu-xray` output) to retrieve from
    /// instead of the corpus split; the caller embeds it ([`super::load_corpus_csv`],
    /// [`super::run_with_corpus`]).
    pub corpus_csv: Option<PathBuf>,
    /// Manifest split of the queries; `None` = the dataset's test role.
    pub query_split: Option<String>,
    /// At most this many queries (the first ones of the split); `None` = all.
    pub limit: Option<usize>,
    /// Seed of KMeans and of the few-shot example choice.
    pub seed: u64,
    /// Generators to run: `top1`, `centroid`, `llm` (uses `llm.model`) or `llm:<model>`.
    pub generators: Vec<String>,
    /// Bootstrap resamples for the confidence intervals and paired deltas.
    pub bootstrap: usize,
    /// The compared pairs: `[eval] compare`, copied by `run::rag::resolve` (not a `[rag]` key).
    #[serde(skip)]
    pub compare: crate::eval::groups::Compare,
    /// Folder to write CXR-Report-Metric CSVs (`study_id,report`) into; `None` = don't write.
    pub export_dir: Option<PathBuf>,
    /// A text-encoder folder (`text_encoder.json`, docs/formats.md §2.3, e.g. Bio_ClinicalBERT
    /// exported by `eclip-export text-encoder`): adds the BERTScore and embedding-cosine rows, and
    /// is what `cluster_with = "text_encoder"` clusters on. `None` = neither.
    pub text_encoder: Option<PathBuf>,
    /// Which embeddings the KMeans on the top `k * m` candidates uses.
    pub cluster_with: ClusterWith,
    pub llm: LlmConfig,
}

/// `[rag] cluster_with`: the embeddings the snippet KMeans clusters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterWith {
    /// The evaluated model's own (L2-normalised) text embeddings.
    #[default]
    Model,
    /// The pooled embeddings of `[rag] text_encoder` (not normalised, as the eCLIP authors cluster
    /// Bio_ClinicalBERT's mean-pooled states).
    TextEncoder,
}

impl ClusterWith {
    /// The config spelling.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ClusterWith::Model => "model",
            ClusterWith::TextEncoder => "text_encoder",
        }
    }
}

impl Default for RagConfig {
    fn default() -> Self {
        RagConfig {
            k: 5,
            m: 20,
            corpus_split: None,
            corpus_csv: None,
            query_split: None,
            limit: None,
            seed: 0,
            generators: vec!["top1".into(), "centroid".into()],
            bootstrap: 1000,
            compare: Default::default(),
            export_dir: None,
            text_encoder: None,
            cluster_with: ClusterWith::Model,
            llm: LlmConfig::default(),
        }
    }
}

/// An OpenAI-compatible chat-completions endpoint (llama.cpp server, vLLM, Ollama, ...).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// Server base URL (`http://127.0.0.1:8080`) or the full `.../v1/chat/completions` URL.
    pub url: String,
    pub model: String,
    pub temperature: f64,
    pub max_tokens: u32,
    /// Name of the environment variable holding the API key (sent as a bearer token); the key
    /// itself is never logged, cached or written.
    pub api_key_env: Option<String>,
    /// Per-attempt timeout, connect + response, in seconds.
    pub timeout_s: f64,
    /// Retries after the first attempt on connect errors, timeouts, 429 and 5xx.
    pub retries: u32,
    /// First backoff in milliseconds; doubles per retry.
    pub backoff_ms: u64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Response cache folder; `None` = the platform cache dir (`eclip-workbench/llm`).
    pub cache_dir: Option<PathBuf>,
    /// Prompt template file; `None` = the built-in copy of `templates/rag_prompt.txt`.
    pub template: Option<PathBuf>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            url: "http://127.0.0.1:8080".into(),
            model: "local".into(),
            temperature: 0.0,
            max_tokens: 256,
            api_key_env: None,
            timeout_s: 120.0,
            retries: 3,
            backoff_ms: 500,
            concurrency: 2,
            cache_dir: None,
            template: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_section_uses_defaults() {
        let c: RagConfig = toml::from_str("k = 3\n[llm]\nmodel = \"mistral\"\n").expect("parses");
        assert_eq!(c.k, 3);
        assert_eq!(c.m, 20);
        assert_eq!(c.llm.model, "mistral");
        assert_eq!(c.llm.retries, 3);
        assert!(toml::from_str::<RagConfig>("kk = 3").is_err());
        assert_eq!(c.cluster_with, ClusterWith::Model);
        let c: RagConfig = toml::from_str("cluster_with = \"text_encoder\"").expect("parses");
        assert_eq!(c.cluster_with, ClusterWith::TextEncoder);
        let e = toml::from_str::<RagConfig>("cluster_with = \"bert\"").expect_err("unknown");
        let e = e.to_string();
        assert!(
            e.contains("cluster_with") && e.contains("text_encoder"),
            "{e}"
        );
    }
}
