/*!
The Porter stemmer exactly as NLTK 3.10's `PorterStemmer()` runs it (its default `NLTK_EXTENSIONS`
mode), for METEOR's stem stage ([`super::text_metrics::meteor`]).

Porter (1980) with NLTK's departures from the original: a small pool of irregular forms
("dying" → "die", "skies" → "sky", ...), words of at most two characters returned as they are,
"ies"/"ied" on four-letter words → "ie", step 1c's "y" → "i" only after a consonant that is not the
first letter, "alli" → "al" applied before the rest of step 2, the "bli" → "ble", "fulli" → "ful" and
"logi" → "log" rules, and two-letter vowel–consonant words counting as *cvc*.
`tests/rag_text_metrics.rs` compares it with NLTK on every word of the reference corpora.
*/

/// Irregular forms NLTK maps directly (word → stem).
const POOL: [(&str, &str); 16] = [
    ("sky", "sky"),
    ("skies", "sky"),
    ("dying", "die"),
    ("lying", "lie"),
    ("tying", "tie"),
    ("news", "news"),
    ("innings", "inning"),
    ("inning", "inning"),
    ("outings", "outing"),
    ("outing", "outing"),
    ("cannings", "canning"),
    ("canning", "canning"),
    ("howe", "howe"),
    ("proceed", "proceed"),
    ("exceed", "exceed"),
    ("succeed", "succeed"),
];

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// Per character: is it a consonant? `y` is a consonant at the start or after a vowel, a vowel after
/// a consonant.
fn consonants(w: &[char]) -> Vec<bool> {
    let mut out: Vec<bool> = Vec::with_capacity(w.len());
    for (i, &c) in w.iter().enumerate() {
        let cons = if is_vowel(c) {
            false
        } else if c == 'y' {
            i == 0 || !out[i - 1]
        } else {
            true
        };
        out.push(cons);
    }
    out
}

/// Porter's m: the number of vowel→consonant transitions.
fn measure(w: &[char]) -> usize {
    consonants(w).windows(2).filter(|p| !p[0] && p[1]).count()
}

fn contains_vowel(w: &[char]) -> bool {
    consonants(w).iter().any(|c| !c)
}

fn ends_double_consonant(w: &[char]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && consonants(w)[n - 1]
}

fn ends_cvc(w: &[char]) -> bool {
    let n = w.len();
    let c = consonants(w);
    (n >= 3 && c[n - 3] && !c[n - 2] && c[n - 1] && !matches!(w[n - 1], 'w' | 'x' | 'y'))
        || (n == 2 && !c[0] && c[1])
}

fn ends_with(w: &[char], suffix: &str) -> bool {
    let s: Vec<char> = suffix.chars().collect();
    w.len() >= s.len() && w[w.len() - s.len()..] == s[..]
}

fn strip(w: &[char], suffix: &str) -> Vec<char> {
    w[..w.len() - suffix.chars().count()].to_vec()
}

fn with(mut stem: Vec<char>, replacement: &str) -> Vec<char> {
    stem.extend(replacement.chars());
    stem
}

type Cond<'a> = &'a dyn Fn(&[char]) -> bool;

/// The first rule whose suffix `w` ends with decides: its replacement when its condition holds on
/// the stem, `w` unchanged otherwise. No matching suffix: `w` unchanged.
fn apply_rules(w: &[char], rules: &[(&str, &str, Option<Cond>)]) -> Vec<char> {
    for (suffix, replacement, cond) in rules {
        if ends_with(w, suffix) {
            let stem = strip(w, suffix);
            return if cond.is_none_or(|c| c(&stem)) {
                with(stem, replacement)
            } else {
                w.to_vec()
            };
        }
    }
    w.to_vec()
}

fn positive(s: &[char]) -> bool {
    measure(s) > 0
}

fn step1a(w: &[char]) -> Vec<char> {
    if ends_with(w, "ies") && w.len() == 4 {
        return with(strip(w, "ies"), "ie");
    }
    apply_rules(
        w,
        &[
            ("sses", "ss", None),
            ("ies", "i", None),
            ("ss", "ss", None),
            ("s", "", None),
        ],
    )
}

fn step1b(w: &[char]) -> Vec<char> {
    if ends_with(w, "ied") {
        let rep = if w.len() == 4 { "ie" } else { "i" };
        return with(strip(w, "ied"), rep);
    }
    if ends_with(w, "eed") {
        let stem = strip(w, "eed");
        return if measure(&stem) > 0 {
            with(stem, "ee")
        } else {
            w.to_vec()
        };
    }
    let Some(stem) = ["ed", "ing"]
        .into_iter()
        .filter(|s| ends_with(w, s))
        .map(|s| strip(w, s))
        .find(|stem| contains_vowel(stem))
    else {
        return w.to_vec();
    };
    for (suffix, replacement) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] {
        if ends_with(&stem, suffix) {
            return with(strip(&stem, suffix), replacement);
        }
    }
    if ends_double_consonant(&stem) {
        let last = stem[stem.len() - 1];
        // Undouble unless the consonant is l, s or z (then the doubled form stays).
        return if matches!(last, 'l' | 's' | 'z') {
            stem
        } else {
            stem[..stem.len() - 1].to_vec()
        };
    }
    if measure(&stem) == 1 && ends_cvc(&stem) {
        return with(stem, "e");
    }
    stem
}

fn step1c(w: &[char]) -> Vec<char> {
    let cond = |s: &[char]| s.len() > 1 && consonants(s)[s.len() - 1];
    apply_rules(w, &[("y", "i", Some(&cond))])
}

fn step2(w: &[char]) -> Vec<char> {
    if ends_with(w, "alli") && positive(&strip(w, "alli")) {
        return step2(&with(strip(w, "alli"), "al"));
    }
    let logi = |_: &[char]| positive(&w[..w.len() - 3]);
    let p: Cond = &positive;
    apply_rules(
        w,
        &[
            ("ational", "ate", Some(p)),
            ("tional", "tion", Some(p)),
            ("enci", "ence", Some(p)),
            ("anci", "ance", Some(p)),
            ("izer", "ize", Some(p)),
            ("bli", "ble", Some(p)),
            ("alli", "al", Some(p)),
            ("entli", "ent", Some(p)),
            ("eli", "e", Some(p)),
            ("ousli", "ous", Some(p)),
            ("ization", "ize", Some(p)),
            ("ation", "ate", Some(p)),
            ("ator", "ate", Some(p)),
            ("alism", "al", Some(p)),
            ("iveness", "ive", Some(p)),
            ("fulness", "ful", Some(p)),
            ("ousness", "ous", Some(p)),
            ("aliti", "al", Some(p)),
            ("iviti", "ive", Some(p)),
            ("biliti", "ble", Some(p)),
            ("fulli", "ful", Some(p)),
            ("logi", "log", Some(&logi)),
        ],
    )
}

fn step3(w: &[char]) -> Vec<char> {
    let p: Cond = &positive;
    apply_rules(
        w,
        &[
            ("icate", "ic", Some(p)),
            ("ative", "", Some(p)),
            ("alize", "al", Some(p)),
            ("iciti", "ic", Some(p)),
            ("ical", "ic", Some(p)),
            ("ful", "", Some(p)),
            ("ness", "", Some(p)),
        ],
    )
}

fn step4(w: &[char]) -> Vec<char> {
    let m2 = |s: &[char]| measure(s) > 1;
    let ion = |s: &[char]| measure(s) > 1 && matches!(s.last(), Some('s' | 't'));
    let m: Cond = &m2;
    let rules: Vec<(&str, &str, Option<Cond>)> = [
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
        "ou", "ism", "ate", "iti", "ous", "ive", "ize",
    ]
    .into_iter()
    .map(|s| (s, "", Some(if s == "ion" { &ion as Cond } else { m })))
    .collect();
    apply_rules(w, &rules)
}

fn step5a(w: &[char]) -> Vec<char> {
    if ends_with(w, "e") {
        let stem = strip(w, "e");
        let m = measure(&stem);
        if m > 1 || (m == 1 && !ends_cvc(&stem)) {
            return stem;
        }
    }
    w.to_vec()
}

fn step5b(w: &[char]) -> Vec<char> {
    if ends_with(w, "ll") && measure(&w[..w.len() - 1]) > 1 {
        return w[..w.len() - 1].to_vec();
    }
    w.to_vec()
}

/// NLTK's `PorterStemmer().stem(word)` (lower-cases first).
pub fn stem(word: &str) -> String {
    let lower = word.to_lowercase();
    if let Some((_, s)) = POOL.iter().find(|(w, _)| *w == lower) {
        return (*s).to_owned();
    }
    if word.chars().count() <= 2 {
        return lower;
    }
    let w: Vec<char> = lower.chars().collect();
    let w = step1a(&w);
    let w = step1b(&w);
    let w = step1c(&w);
    let w = step2(&w);
    let w = step3(&w);
    let w = step4(&w);
    let w = step5a(&w);
    let w = step5b(&w);
    w.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_examples() {
        // NLTK 3.10 PorterStemmer().stem on each word (venv).
        for (w, s) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "tie"),
            ("cats", "cat"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("hopping", "hop"),
            ("falling", "fall"),
            ("filing", "file"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("effusions", "effus"),
            ("dying", "die"),
            ("is", "is"),
        ] {
            assert_eq!(stem(w), s, "{w}");
        }
    }
}
