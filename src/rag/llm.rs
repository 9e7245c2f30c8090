/*!
Client for an OpenAI-compatible `/v1/chat/completions` endpoint (llama.cpp server, vLLM, Ollama, ...).

It owns one thing: turning a list of chat requests into answers, robustly. Each attempt has a timeout;
connect errors, timeouts, HTTP 429 and 5xx are retried a bounded number of times with exponential
backoff; anything else (4xx, a body that is not the expected JSON, an empty answer) fails that item
at once with a message that says what came back. Requests run on at most `concurrency` std threads.
Answers are cached on disk under the sha256 of the endpoint URL and the full request body, written
atomically (temp file + rename), so a rerun of the same requests sends nothing. The API key is read
from the named environment variable at send time and is never part of the cache key, the cache, a
log line or an error message.

Only plain `http://` is built in (ureq without TLS): put a local reverse proxy in front of an https
service.
*/
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::config::LlmConfig;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub(crate) role: String,
    pub(crate) content: String,
}

impl Message {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Message {
            role: role.to_owned(),
            content: content.into(),
        }
    }
}

#[derive(Debug, Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [Message],
    temperature: f64,
    max_tokens: u32,
    stream: bool,
}

#[derive(Debug, Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: ResponseMessage,
}

#[derive(Debug, Deserialize)]
struct ResponseMessage {
    content: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    content: String,
}

/// Why one request produced no answer.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LlmError {
    #[error(
        "{url}: {attempts} attempt(s) failed, last: {last} (is the server running? raise llm.timeout_s or llm.retries)"
    )]
    Unavailable {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("{url}: HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url}: unexpected response ({reason}); first bytes: {snippet:?}")]
    BadResponse {
        url: String,
        reason: String,
        snippet: String,
    },
    #[error(
        "{url}: only http:// endpoints are supported (put a local reverse proxy in front of https)"
    )]
    Scheme { url: String },
    #[error("environment variable {0} (llm.api_key_env) is not set")]
    MissingKey(String),
}

/// Cache and network counts of one batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LlmStats {
    pub cache_hits: usize,
    pub sent: usize,
    pub failed: usize,
}

/// A configured client.
#[derive(Debug, Clone)]
pub struct LlmClient {
    url: String,
    cfg: LlmConfig,
    cache_dir: Option<PathBuf>,
}

impl LlmClient {
    /// A client for `cfg`; `cache_dir` `None` disables caching.
    pub fn new(cfg: &LlmConfig, cache_dir: Option<PathBuf>) -> Self {
        LlmClient {
            url: endpoint_url(&cfg.url),
            cfg: cfg.clone(),
            cache_dir,
        }
    }

    /// The exact request body sent for `messages`.
    pub(crate) fn request_body(&self, messages: &[Message]) -> String {
        serde_json::to_string(&ChatRequest {
            model: &self.cfg.model,
            messages,
            temperature: self.cfg.temperature,
            max_tokens: self.cfg.max_tokens,
            stream: false,
        })
        .expect("chat request serialises")
    }

    /// Cache key: sha256 of the endpoint URL and the full request body.
    pub(crate) fn cache_key(&self, body: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.url.as_bytes());
        h.update(b"\n");
        h.update(body.as_bytes());
        hex::encode(h.finalize())
    }

    /// Answers to every request, in order, running at most `concurrency` at once; `on_done` is
    /// called after each item (from worker threads).
    pub fn complete_all(
        &self,
        requests: &[Vec<Message>],
        on_done: &(dyn Fn(usize) + Sync),
    ) -> (Vec<Result<String, LlmError>>, LlmStats) {
        let next = AtomicUsize::new(0);
        let hits = AtomicUsize::new(0);
        let sent = AtomicUsize::new(0);
        let workers = self.cfg.concurrency.clamp(1, requests.len().max(1));
        let mut results: Vec<Option<Result<String, LlmError>>> = vec![None; requests.len()];
        let chunks: Vec<Vec<(usize, Result<String, LlmError>)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::SeqCst);
                            if i >= requests.len() {
                                break;
                            }
                            let (r, cached) = self.complete_one(&requests[i]);
                            if cached {
                                hits.fetch_add(1, Ordering::SeqCst);
                            } else {
                                sent.fetch_add(1, Ordering::SeqCst);
                            }
                            done.push((i, r));
                            on_done(i);
                        }
                        done
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for (i, r) in chunks.into_iter().flatten() {
            results[i] = Some(r);
        }
        let results: Vec<Result<String, LlmError>> = results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(LlmError::Unavailable {
                        url: self.url.clone(),
                        attempts: 0,
                        last: "worker thread panicked".into(),
                    })
                })
            })
            .collect();
        let failed = results.iter().filter(|r| r.is_err()).count();
        let stats = LlmStats {
            cache_hits: hits.into_inner(),
            sent: sent.into_inner(),
            failed,
        };
        (results, stats)
    }

    /// One answer and whether it came from the cache.
    pub fn complete_one(&self, messages: &[Message]) -> (Result<String, LlmError>, bool) {
        let body = self.request_body(messages);
        let key = self.cache_key(&body);
        if let Some(hit) = self.cache_dir.as_deref().and_then(|d| read_cache(d, &key)) {
            return (Ok(hit), true);
        }
        let r = self.send(&body);
        if let (Ok(content), Some(dir)) = (&r, self.cache_dir.as_deref()) {
            // A cache that cannot be written only costs a resend next time.
            let _ = write_cache(dir, &key, content);
        }
        (r, false)
    }

    fn send(&self, body: &str) -> Result<String, LlmError> {
        if !self.url.starts_with("http://") {
            return Err(LlmError::Scheme {
                url: self.url.clone(),
            });
        }
        let auth = match &self.cfg.api_key_env {
            Some(var) => match std::env::var(var) {
                Ok(k) => Some(format!("Bearer {k}")),
                Err(_) => return Err(LlmError::MissingKey(var.clone())),
            },
            None => None,
        };
        let timeout = Duration::from_secs_f64(self.cfg.timeout_s.max(0.001));
        let agent = ureq::AgentBuilder::new().timeout(timeout).build();
        let attempts = self.cfg.retries.saturating_add(1);
        let mut last = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                let factor = 1u64 << (attempt - 1).min(16);
                std::thread::sleep(Duration::from_millis(
                    self.cfg.backoff_ms.saturating_mul(factor),
                ));
            }
            let mut req = agent
                .post(&self.url)
                .set("Content-Type", "application/json");
            if let Some(a) = &auth {
                req = req.set("Authorization", a);
            }
            match req.send_string(body) {
                Ok(resp) => {
                    let mut text = String::new();
                    match resp.into_reader().take(16 << 20).read_to_string(&mut text) {
                        Ok(_) => return self.parse(&text),
                        // A body cut off by the timeout (slow stream) is retried like a timeout.
                        Err(e) => last = format!("reading the response: {e}"),
                    }
                }
                Err(ureq::Error::Status(status, resp)) => {
                    let text = resp.into_string().unwrap_or_default();
                    let snippet: String = text.chars().take(200).collect();
                    if status == 429 || status >= 500 {
                        last = format!("HTTP {status}: {snippet}");
                    } else {
                        return Err(LlmError::Status {
                            url: self.url.clone(),
                            status,
                            body: snippet,
                        });
                    }
                }
                Err(ureq::Error::Transport(t)) => last = t.to_string(),
            }
        }
        Err(LlmError::Unavailable {
            url: self.url.clone(),
            attempts,
            last,
        })
    }

    fn parse(&self, text: &str) -> Result<String, LlmError> {
        let bad = |reason: String| LlmError::BadResponse {
            url: self.url.clone(),
            reason,
            snippet: text.chars().take(200).collect(),
        };
        let resp: ChatResponse = serde_json::from_str(text)
            .map_err(|e| bad(format!("not chat-completions JSON: {e}")))?;
        let content = resp
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| bad("no choices[0].message.content".into()))?;
        let content = content.trim().to_owned();
        if content.is_empty() {
            return Err(bad("empty answer".into()));
        }
        Ok(content)
    }
}

/// `base` as given when it already ends in `/chat/completions`, else `base` + `/v1/chat/completions`.
pub(crate) fn endpoint_url(base: &str) -> String {
    let b = base.trim_end_matches('/');
    if b.ends_with("/chat/completions") {
        b.to_owned()
    } else if b.ends_with("/v1") {
        format!("{b}/chat/completions")
    } else {
        format!("{b}/v1/chat/completions")
    }
}

fn cache_path(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.json"))
}

fn read_cache(dir: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(cache_path(dir, key)).ok()?;
    serde_json::from_str::<CacheEntry>(&text)
        .ok()
        .map(|e| e.content)
}

fn write_cache(dir: &Path, key: &str, content: &str) -> std::io::Result<()> {
    let json = serde_json::to_string(&CacheEntry {
        content: content.to_owned(),
    })
    .map_err(std::io::Error::other)?;
    crate::output::write_bytes(&cache_path(dir, key), json.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(endpoint_url("http://h:1"), "http://h:1/v1/chat/completions");
        assert_eq!(
            endpoint_url("http://h:1/v1/"),
            "http://h:1/v1/chat/completions"
        );
        assert_eq!(
            endpoint_url("http://h:1/v1/chat/completions"),
            "http://h:1/v1/chat/completions"
        );
    }
}
