//! The chat-completions client against the loopback test server of `tests/rag_support` that imitates
//! llama.cpp's server: retries on 5xx/429, no retry on 400 or malformed JSON, timeouts and slow
//! streams, connection refused, the concurrency limit, per-item failures, cache reruns, the API key.
//! Everything stays on loopback; every loop is bounded.
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod rag_support;
use rag_support::TestServer;

use eclip_workbench::rag::LlmConfig;
use eclip_workbench::rag::llm::{LlmClient, LlmError, Message};

fn cfg(url: &str) -> LlmConfig {
    LlmConfig {
        url: url.to_owned(),
        model: "test-model".into(),
        timeout_s: 0.4,
        retries: 2,
        backoff_ms: 10,
        concurrency: 2,
        ..LlmConfig::default()
    }
}

fn req(text: &str) -> Vec<Message> {
    vec![
        Message::new("system", "be brief"),
        Message::new("user", text),
    ]
}

#[test]
fn success_retries_and_errors() {
    let server = TestServer::start();
    let client = LlmClient::new(&cfg(&server.url()), None);
    assert_eq!(
        client.complete_one(&req("MODE:ok a")).0,
        Ok("report for: MODE:ok a".to_owned())
    );
    assert_eq!(
        client.complete_one(&req("MODE:fail500x2 b")).0,
        Ok("recovered".to_owned())
    );
    assert_eq!(
        client.complete_one(&req("MODE:fail429 c")).0,
        Ok("after 429".to_owned())
    );

    let t = Instant::now();
    match client.complete_one(&req("MODE:always500 d")).0 {
        Err(LlmError::Unavailable { attempts, last, .. }) => {
            assert_eq!(attempts, 3);
            assert!(last.contains("503"), "{last}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // Backoff 10 ms then 20 ms: bounded.
    assert!(t.elapsed() < Duration::from_secs(3));

    match client.complete_one(&req("MODE:malformed e")).0 {
        Err(e @ LlmError::BadResponse { .. }) => assert!(e.to_string().contains("oops"), "{e}"),
        other => panic!("expected BadResponse, got {other:?}"),
    }
    assert!(matches!(
        client.complete_one(&req("MODE:nocontent f")).0,
        Err(LlmError::BadResponse { .. })
    ));
    match client.complete_one(&req("MODE:bad400 g")).0 {
        Err(LlmError::Status {
            status: 400, body, ..
        }) => assert!(body.contains("context too long")),
        other => panic!("expected Status 400, got {other:?}"),
    }
    // A 400 and malformed JSON are not retried; 500s are.
    let pm = server.state.per_mode.lock().expect("lock");
    assert_eq!(pm["MODE:bad400 g"], 1);
    assert_eq!(pm["MODE:malformed e"], 1);
    assert_eq!(pm["MODE:always500 d"], 3);
}

#[test]
fn timeouts_and_slow_streams_are_retried_then_reported() {
    let server = TestServer::start();
    let mut c = cfg(&server.url());
    c.retries = 1;
    let client = LlmClient::new(&c, None);
    for mode in ["hang", "slowstream"] {
        let t = Instant::now();
        let (r, _) = client.complete_one(&req(&format!("MODE:{mode} x")));
        match r {
            Err(LlmError::Unavailable { attempts: 2, .. }) => {}
            other => panic!("{mode}: expected Unavailable after 2 attempts, got {other:?}"),
        }
        // Two attempts of 0.4 s each, plus backoff and slack; not the 1.5 s / 5 s the server would take.
        assert!(
            t.elapsed() < Duration::from_millis(2500),
            "{mode}: {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn connection_refused_is_a_clear_error() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut c = cfg(&format!("http://127.0.0.1:{port}"));
    c.retries = 1;
    let (r, _) = LlmClient::new(&c, None).complete_one(&req("MODE:ok"));
    let e = r.expect_err("nothing listens");
    assert!(
        matches!(e, LlmError::Unavailable { attempts: 2, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("is the server running"), "{e}");
    let https = LlmClient::new(&cfg("https://127.0.0.1:1"), None)
        .complete_one(&req("x"))
        .0;
    assert!(matches!(https, Err(LlmError::Scheme { .. })));
}

#[test]
fn concurrency_limit_errors_per_item_and_cache_reruns() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = cfg(&server.url());
    c.concurrency = 3;
    // Generous per-attempt timeout: this test is about overlap, not timeouts.
    c.timeout_s = 10.0;
    c.api_key_env = Some("ECLIP_TEST_LLM_KEY".into());
    // SAFETY: set before any thread of this test reads the environment; the name is unique to this test.
    #[allow(unsafe_code)] // std::env::set_var is unsafe in edition 2024; see SAFETY above.
    unsafe {
        std::env::set_var("ECLIP_TEST_LLM_KEY", "sk-secret-test-key")
    };
    let client = LlmClient::new(&c, Some(dir.path().to_path_buf()));
    let mut requests: Vec<Vec<Message>> = (0..12)
        .map(|i| req(&format!("MODE:slowok item {i}")))
        .collect();
    requests.push(req("MODE:malformed item 12"));
    let calls = AtomicUsize::new(0);
    let (answers, stats) = client.complete_all(&requests, &|_| {
        calls.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(calls.load(Ordering::SeqCst), 13);
    assert_eq!(answers.len(), 13);
    assert!(
        answers[..12]
            .iter()
            .all(|a| a.as_deref() == Ok("slow but fine"))
    );
    assert!(
        answers[12].is_err(),
        "the bad item fails, the rest continue"
    );
    assert_eq!((stats.sent, stats.cache_hits, stats.failed), (13, 0, 1));
    let max = server.state.max_in_flight.load(Ordering::SeqCst);
    assert!(
        (2..=3).contains(&max),
        "max in flight {max} with concurrency 3"
    );
    assert!(
        server
            .state
            .auth
            .lock()
            .expect("lock")
            .iter()
            .all(|a| a == "Bearer sk-secret-test-key")
    );

    // Rerun: every successful answer comes from the cache, only the failed item is sent again.
    let before = server.state.requests.load(Ordering::SeqCst);
    let (again, stats2) = client.complete_all(&requests, &|_| {});
    assert_eq!((stats2.cache_hits, stats2.sent, stats2.failed), (12, 1, 1));
    assert_eq!(server.state.requests.load(Ordering::SeqCst), before + 1);
    assert_eq!(again[..12], answers[..12]);
    // The cache is keyed by the full request and never holds the key.
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("cache dir")
        .flatten()
        .collect();
    assert_eq!(files.len(), 12);
    for f in files {
        let text = std::fs::read_to_string(f.path()).expect("cache file");
        assert!(!text.contains("sk-secret"));
        assert!(f.file_name().to_string_lossy().ends_with(".json"));
    }
    let mut other = c.clone();
    other.temperature = 0.7;
    let (_, cached) =
        LlmClient::new(&other, Some(dir.path().to_path_buf())).complete_one(&requests[0]);
    assert!(
        !cached,
        "a different request (temperature) is not a cache hit"
    );
    // A missing key variable is an error naming the variable, not the key.
    let mut missing = c.clone();
    missing.api_key_env = Some("ECLIP_TEST_LLM_KEY_UNSET".into());
    let e = LlmClient::new(&missing, None)
        .complete_one(&req("MODE:ok"))
        .0
        .expect_err("no key");
    assert!(e.to_string().contains("ECLIP_TEST_LLM_KEY_UNSET"));
}
