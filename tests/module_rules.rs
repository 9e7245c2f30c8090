//! The dependency rules of `docs/architecture.md`, checked over the sources: every `crate::<module>`
//! path in a file's code (comments and doc comments skipped) and every use of an external crate
//! that a layer must not touch. A rule broken here names the file, the line and the rule.
use std::path::{Path, PathBuf};

/// (module prefix of a file, crate modules it must never name, why).
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "data",
        &[
            "cache",
            "config",
            "embed",
            "eval",
            "model",
            "rag",
            "report",
            "run",
            "runtime",
            "tui",
            "workbench",
        ],
        "data is the bottom layer",
    ),
    (
        "eval",
        &[
            "cache",
            "config",
            "embed",
            "model",
            "rag",
            "report",
            "run",
            "runtime",
            "tui",
            "workbench",
        ],
        "eval is pure: arrays and datasets in, numbers out",
    ),
    (
        "rag",
        &[
            "cache",
            "config",
            "embed",
            "model",
            "report",
            "run",
            "runtime",
            "tui",
            "workbench",
        ],
        "rag takes embeddings, it does not open a workbench (run::rag does)",
    ),
    (
        "run",
        &["report", "tui"],
        "run is the application layer that report and tui consume",
    ),
    (
        "report",
        &["tui"],
        "the two front ends import nothing of each other",
    ),
    (
        "tui",
        &["report"],
        "the two front ends import nothing of each other",
    ),
    (
        "model",
        &["eval", "rag", "report", "run", "tui", "workbench", "embed"],
        "model only wraps ONNX Runtime sessions",
    ),
    (
        "runtime",
        &[
            "eval",
            "rag",
            "report",
            "run",
            "tui",
            "workbench",
            "embed",
            "model",
        ],
        "runtime is the bottom of the inference stack",
    ),
    (
        "cache",
        &["eval", "rag", "report", "run", "tui", "workbench"],
        "the cache stores bytes",
    ),
    (
        "config",
        &["eval", "rag", "report", "run", "tui", "workbench", "embed"],
        "config reads workbench.toml; typed sections are resolved by run",
    ),
    (
        "embed",
        &["rag", "report", "run", "tui", "workbench"],
        "embed runs models over datasets",
    ),
    (
        "workbench",
        &["rag", "report", "run", "tui"],
        "workbench loads models and datasets and embeds",
    ),
];

/// (module prefix, external crates it must not use, why).
const EXTERNAL: &[(&str, &[&str], &str)] = &[
    ("eval", &["ort", "ratatui", "crossterm"], "eval is pure"),
    (
        "data",
        &["ort", "ratatui", "crossterm"],
        "data is I/O of datasets only",
    ),
    (
        "rag",
        &["ort", "ratatui", "crossterm"],
        "rag takes embeddings",
    ),
    ("report", &["ratatui", "crossterm"], "report writes files"),
    (
        "run",
        &["ratatui", "crossterm"],
        "run serves both front ends",
    ),
];

/// Inside the TUI: (module prefix, TUI modules it must not name, why).
const TUI: &[(&str, &[&str], &str)] = &[
    (
        "tui::view",
        &["app", "worker", "launch"],
        "views draw state; layout constants and events have their own modules",
    ),
    (
        "tui::tabs",
        &["app", "worker", "launch"],
        "a tab module holds its state, lines, drawing and export rows; the app drives it",
    ),
    (
        "tui::worker",
        &["app"],
        "the event type lives in tui::event",
    ),
    (
        "tui::state",
        &["app", "view", "worker"],
        "state is plain data",
    ),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/eval/suite/mod.rs` → `eval::suite`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    parts.join("::")
}

fn within(module: &str, prefix: &str) -> bool {
    module == prefix || module.starts_with(&format!("{prefix}::"))
}

/// Code lines (1-based number, text) with comments removed.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        let mut l = line.to_string();
        if in_block {
            match l.find("*/") {
                Some(end) => {
                    l = l[end + 2..].to_string();
                    in_block = false;
                }
                None => continue,
            }
        }
        if let Some(start) = l.find("/*") {
            if !l[start..].contains("*/") {
                in_block = true;
            }
            l.truncate(start);
        }
        if let Some(c) = l.find("//") {
            l.truncate(c);
        }
        out.push((i + 1, l));
    }
    out
}

/// The module named right after `prefix` (`crate::eval::x` → `eval`), at every occurrence. Also
/// catches grouped imports (`use crate::{eval, rag}`).
fn named_after(line: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(prefix) {
        let after = &rest[i + prefix.len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
        rest = after;
    }
    out
}

#[test]
fn module_dependency_rules_hold() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 30, "found only {} sources", files.len());
    let mut broken = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = std::fs::read_to_string(file).expect("readable source");
        for (n, line) in code_lines(&text) {
            for (prefix, banned, why) in RULES {
                if !within(&module, prefix) {
                    continue;
                }
                for m in named_after(&line, "crate::") {
                    if banned.contains(&m.as_str()) {
                        broken.push(format!(
                            "{}:{n}: {module} uses crate::{m} ({why})",
                            file.display()
                        ));
                    }
                }
            }
            for (prefix, banned, why) in EXTERNAL {
                if !within(&module, prefix) {
                    continue;
                }
                for ext in *banned {
                    let used = line.trim_start().starts_with(&format!("use {ext}::"))
                        || line.contains(&format!(" {ext}::"))
                        || line.contains(&format!("({ext}::"));
                    if used {
                        broken.push(format!(
                            "{}:{n}: {module} uses the {ext} crate ({why})",
                            file.display()
                        ));
                    }
                }
            }
            for (prefix, banned, why) in TUI {
                if !within(&module, prefix) {
                    continue;
                }
                let mut named = named_after(&line, "crate::tui::");
                named.extend(named_after(&line, "super::"));
                for m in named {
                    if banned.contains(&m.as_str()) {
                        broken.push(format!(
                            "{}:{n}: {module} uses tui::{m} ({why})",
                            file.display()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "module rules broken (docs/architecture.md):\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_checker_sees_grouped_and_plain_paths() {
    assert_eq!(
        named_after("use crate::{eval, rag::x};", "crate::"),
        ["eval", "rag"]
    );
    assert_eq!(
        named_after(
            "let x = crate::report::csv::cell(crate::run::y);",
            "crate::"
        ),
        ["report", "run"]
    );
    let lines = code_lines("// crate::tui\n/* crate::report\n */ use crate::eval;\n");
    let named: Vec<String> = lines
        .iter()
        .flat_map(|(_, l)| named_after(l, "crate::"))
        .collect();
    assert_eq!(named, ["eval"]);
}

/// Modules the binary, the tests and the examples name by path (`eclip_workbench::<module>::…`);
/// every other module of `lib.rs` is crate-internal.
const PUBLIC_MODULES: &[&str] = &[
    "cache",
    "config",
    "data",
    "embed",
    "eval",
    "interrupt",
    "items",
    "limits",
    "model",
    "output",
    "rag",
    "report",
    "run",
    "runtime",
    "saliency",
    "tui",
    "workbench",
];

/// Modules still exempt from `unreachable_pub` (not yet narrowed); the list may only shrink.
const NOT_YET_NARROWED: &[&str] = &["embed", "eval", "report", "run", "tui"];

/// (module, visibility as written, attribute lines above it) for each `mod` of `lib.rs`.
fn lib_modules(text: &str) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    let mut attrs = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with("#[") {
            attrs.push(line.to_string());
            continue;
        }
        let decl = line.strip_suffix(';').unwrap_or("");
        if let Some((vis, name)) = decl.rsplit_once("mod ") {
            if !name.contains(' ') && !name.is_empty() {
                out.push((
                    name.to_string(),
                    vis.trim().to_string(),
                    std::mem::take(&mut attrs),
                ));
                continue;
            }
        }
        attrs.clear();
    }
    out
}

#[test]
fn lib_exposes_only_the_public_modules_and_lints_the_rest() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs");
    assert!(
        text.contains("#![warn(unreachable_pub)]"),
        "src/lib.rs must keep #![warn(unreachable_pub)] (docs/architecture.md §Visibility)"
    );
    let modules = lib_modules(&text);
    assert!(modules.len() > PUBLIC_MODULES.len(), "{modules:?}");
    let mut broken = Vec::new();
    for (name, vis, attrs) in &modules {
        if vis == "pub" && !PUBLIC_MODULES.contains(&name.as_str()) {
            broken.push(format!(
                "src/lib.rs: `pub mod {name}` but nothing outside the crate names it: make it pub(crate), or add it to PUBLIC_MODULES if the binary, a test or an example needs its path"
            ));
        }
        let exempt = attrs.iter().any(|a| a.contains("allow(unreachable_pub)"));
        if exempt && !NOT_YET_NARROWED.contains(&name.as_str()) {
            broken.push(format!(
                "src/lib.rs: `{name}` allows unreachable_pub; narrow its items to pub(crate) instead"
            ));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_lib_parser_reads_visibility_and_attributes() {
    let m = lib_modules(
        "/*! doc */\n#[allow(unreachable_pub)] // later\npub mod a;\npub(crate) mod b;\nmod c;\n",
    );
    assert_eq!(
        m,
        [
            (
                "a".into(),
                "pub".into(),
                vec!["#[allow(unreachable_pub)] // later".to_string()]
            ),
            ("b".into(), "pub(crate)".into(), vec![]),
            ("c".into(), String::new(), vec![]),
        ]
    );
}
