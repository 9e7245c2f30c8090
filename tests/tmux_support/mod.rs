//! A private tmux server driving the real `eclip` binary, shared by the tmux tests: start a
//! session, read the screen, send keys, wait for text.
#![allow(dead_code)] // each test binary uses its own subset
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub socket: String,
    pub session: String,
}

impl Tmux {
    /// A detached session `eclip` of `size` (columns, rows) on a private server (named after
    /// `socket` and this process) running `script`, with the variables eclip needs passed in.
    pub fn start(socket: &str, script: &str, size: (u16, u16)) -> Tmux {
        let t = Tmux {
            socket: format!("{socket}-{}", std::process::id()),
            session: "eclip".into(),
        };
        let (w, h) = (size.0.to_string(), size.1.to_string());
        let mut new = vec!["new-session", "-d", "-s", "eclip", "-x", &w, "-y", &h];
        let env: Vec<String> = ["ORT_DYLIB_PATH", "ECLIP_ORT_DIR", "PATH", "HOME"]
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| format!("{k}={v}")))
            .collect();
        for e in &env {
            new.push("-e");
            new.push(e);
        }
        new.push(script);
        let out = t.cmd(&new);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        t
    }

    pub fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs (install it: apt-get install tmux)")
    }

    pub fn screen(&self) -> String {
        let out = self.cmd(&["capture-pane", "-p", "-t", &self.session]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend_from_slice(keys);
        let out = self.cmd(&args);
        assert!(out.status.success(), "send-keys {keys:?}");
    }

    /// Literal text (no key-name lookup).
    pub fn type_text(&self, text: &str) {
        let out = self.cmd(&["send-keys", "-t", &self.session, "-l", text]);
        assert!(out.status.success());
    }

    /// Waits until `pred(screen)` holds; panics with the last screen after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A tmux format variable of the pane, e.g. `#{alternate_on}`.
    pub fn flag(&self, name: &str) -> String {
        let out = self.cmd(&["display-message", "-p", "-t", &self.session, name]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn wait_text(&self, text: &str, timeout: Duration) -> String {
        self.wait_for(&format!("'{text}'"), timeout, |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}
