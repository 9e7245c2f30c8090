/*!
Strict files: the one place that turns serde's "unknown field" / "unknown variant" message into
one that also says which known name was probably meant (docs/limits.md, issue 13).

Every strict parser (`workbench.toml` and its sections, `dataset.toml`, `prompts.json`,
`model.json`) rejects unknown keys with `#[serde(deny_unknown_fields)]`; serde's message names the
key and lists the known ones (`unknown field `single_positve`, expected one of `train`, ...`). The
callers pass that message through [`explain`], which appends ``did you mean `single_positive`?``
when one known name is close (Jaro–Winkler similarity from `strsim`, at least
[`MIN_SIMILARITY`]). The file name is added by each caller's error type, which already names it.

This module imports no other crate module, so every layer (the bottom `data` included) may use it.
*/

/// The smallest Jaro–Winkler similarity at which a known name is suggested.
pub(crate) const MIN_SIMILARITY: f64 = 0.8;

/// The known name closest to `unknown`, when it is close enough to be a typo.
pub(crate) fn closest<'a>(
    unknown: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = unknown.to_lowercase();
    known
        .into_iter()
        .map(|k| (k, strsim::jaro_winkler(&lower, &k.to_lowercase())))
        .filter(|(_, s)| *s >= MIN_SIMILARITY)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

/// `message` (a serde / toml / serde_json error text) with ``; did you mean `X`?`` appended when it
/// reports an unknown field or variant and one of the names it lists as expected is close.
/// Other messages are returned unchanged.
pub(crate) fn explain(message: &str) -> String {
    let Some((unknown, expected)) = unknown_and_expected(message) else {
        return message.to_string();
    };
    match closest(unknown, expected.iter().copied()) {
        Some(k) if k != unknown => format!("{}; did you mean `{k}`?", message.trim_end()),
        _ => message.to_string(),
    }
}

/// The unknown name and the expected names of serde's `unknown field` / `unknown variant` text:
/// "unknown field `x`, expected one of `a`, `b`" (or "expected `a` or `b`", "expected `a`").
fn unknown_and_expected(message: &str) -> Option<(&str, Vec<&str>)> {
    let start = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.find(p).map(|i| i + p.len()))?;
    let rest = &message[start..];
    let end = rest.find('`')?;
    let unknown = &rest[..end];
    let tail = &rest[end + 1..];
    let expected_at = tail.find("expected")?;
    // The expected list ends at the line's end (toml and serde_json add position text after it
    // on the same line only as "at line N column M", which holds no backticks).
    let list = tail[expected_at..].lines().next().unwrap_or_default();
    let names = list.split('`').skip(1).step_by(2).collect();
    Some((unknown, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Splits {
        train: Option<String>,
        single_positive: Option<String>,
    }

    #[test]
    fn toml_and_json_typos_get_the_closest_known_key() {
        let e = toml::from_str::<Splits>("single_positve = \"x\"")
            .expect_err("typo")
            .to_string();
        let x = explain(&e);
        assert!(x.contains("single_positve"), "{x}");
        assert!(x.ends_with("did you mean `single_positive`?"), "{x}");
        let e = serde_json::from_str::<Splits>(r#"{"trian": "x"}"#)
            .expect_err("typo")
            .to_string();
        assert!(explain(&e).ends_with("did you mean `train`?"), "{e}");
    }

    #[test]
    fn nothing_close_or_no_unknown_key_adds_nothing() {
        let e = toml::from_str::<Splits>("colour = 1")
            .expect_err("unknown")
            .to_string();
        assert_eq!(explain(&e), e);
        assert_eq!(explain("missing field `train`"), "missing field `train`");
        assert_eq!(closest("qqq", ["train", "val"]), None);
        assert_eq!(closest("Seed", ["seed", "bootstrap"]), Some("seed"));
    }

    #[test]
    fn unknown_variants_are_explained_too() {
        let m = "unknown variant `cdua`, expected one of `auto`, `cpu`, `cuda`";
        assert!(explain(m).ends_with("did you mean `cuda`?"));
    }
}
