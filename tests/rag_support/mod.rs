//! A bounded local test server on 127.0.0.1 imitating llama.cpp's server (`POST /v1/chat/completions`,
//! OpenAI-style JSON), shared by the RAG tests. The behaviour per request is chosen by a `MODE:` word in
//! the last user message (default `ok`): ok, slowok, 500s then ok, 429 then ok, always 503, malformed
//! JSON, no content, 400, a hang past the timeout, a body streamed slower than the timeout.
#![allow(dead_code)]
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
pub struct ServerState {
    pub requests: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    pub per_mode: Mutex<HashMap<String, usize>>,
    pub auth: Mutex<Vec<String>>,
}

pub struct TestServer {
    pub port: u16,
    pub state: Arc<ServerState>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(ServerState::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let handle = std::thread::spawn(move || {
            // Bounded: at most 500 connections per server.
            for conn in listener.incoming().take(500) {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || handle_conn(stream, &st));
            }
        });
        TestServer {
            port,
            state,
            stop,
            handle: Some(handle),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn read_request(stream: &mut TcpStream) -> Option<(String, String)> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > 1 << 20 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((
        head,
        String::from_utf8_lossy(&buf[header_end..]).to_string(),
    ))
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn ok_body(content: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-test", "object": "chat.completion", "model": "test",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
    .to_string()
}

fn handle_conn(mut stream: TcpStream, st: &ServerState) {
    let Some((head, body)) = read_request(&mut stream) else {
        return;
    };
    st.requests.fetch_add(1, Ordering::SeqCst);
    let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    st.max_in_flight.fetch_max(now, Ordering::SeqCst);
    if let Some(a) = head.lines().find_map(|l| {
        l.strip_prefix("Authorization: ")
            .or(l.strip_prefix("authorization: "))
    }) {
        st.auth.lock().expect("lock").push(a.to_owned());
    }
    let req: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let last = req["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_owned();
    let mode = last
        .split_whitespace()
        .find_map(|w| w.strip_prefix("MODE:"))
        .unwrap_or("ok")
        .to_owned();
    let seen = {
        let mut pm = st.per_mode.lock().expect("lock");
        let c = pm.entry(last.clone()).or_insert(0);
        *c += 1;
        *c
    };
    if !head.starts_with("POST /v1/chat/completions ") {
        respond(&mut stream, "404 Not Found", "{\"error\":\"not found\"}");
    } else {
        match mode.as_str() {
            "ok" => respond(
                &mut stream,
                "200 OK",
                &ok_body(&format!("report for: {last}")),
            ),
            "slowok" => {
                std::thread::sleep(Duration::from_millis(250));
                respond(&mut stream, "200 OK", &ok_body("slow but fine"));
            }
            "fail500x2" if seen <= 2 => respond(
                &mut stream,
                "500 Internal Server Error",
                "{\"error\":\"busy\"}",
            ),
            "fail500x2" => respond(&mut stream, "200 OK", &ok_body("recovered")),
            "fail429" if seen <= 1 => respond(
                &mut stream,
                "429 Too Many Requests",
                "{\"error\":\"slow down\"}",
            ),
            "fail429" => respond(&mut stream, "200 OK", &ok_body("after 429")),
            "always500" => respond(
                &mut stream,
                "503 Service Unavailable",
                "{\"error\":\"loading model\"}",
            ),
            "malformed" => respond(&mut stream, "200 OK", "{\"choices\": [ {\"message\": oops"),
            "nocontent" => respond(&mut stream, "200 OK", "{\"choices\": []}"),
            "bad400" => respond(
                &mut stream,
                "400 Bad Request",
                "{\"error\":\"context too long\"}",
            ),
            "hang" => std::thread::sleep(Duration::from_millis(1500)),
            "slowstream" => {
                let body = ok_body("never arrives in time");
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                // Dribble the body: 10 bytes every 100 ms, bounded by the body length.
                for part in body.as_bytes().chunks(10).take(50) {
                    if stream.write_all(part).is_err() {
                        break;
                    }
                    let _ = stream.flush();
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            _ => respond(&mut stream, "200 OK", &ok_body("unknown mode")),
        }
    }
    st.in_flight.fetch_sub(1, Ordering::SeqCst);
}
