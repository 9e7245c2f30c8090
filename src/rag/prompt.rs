/*!
The editable RAG prompt: a template file with a `[system]` instruction and a `[user]` message in
which `{snippets}` stands for the numbered retrieved reports (`templates/rag_prompt.txt` is the
default, compiled in). [`PromptTemplate::messages`] builds the paper-style chat: system instruction,
two few-shot turns (an example's snippets → its own report), then the query's snippets.
*/
use std::path::Path;

use super::llm::Message;

/// The built-in template.
pub(crate) const DEFAULT_TEMPLATE: &str = include_str!("../../templates/rag_prompt.txt");

/// Why a template could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read prompt template {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("prompt template {path}: {reason}")]
    Invalid { path: String, reason: String },
}

/// A parsed prompt template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PromptTemplate {
    pub(crate) system: String,
    pub(crate) user: String,
}

/// A few-shot example: its snippets and its own report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FewShot {
    pub(crate) snippets: Vec<String>,
    pub(crate) report: String,
}

impl PromptTemplate {
    /// Parse template text; `origin` names it in errors.
    pub(crate) fn parse(text: &str, origin: &str) -> Result<Self, TemplateError> {
        let invalid = |reason: &str| TemplateError::Invalid {
            path: origin.to_owned(),
            reason: reason.to_owned(),
        };
        let (mut system, mut user) = (None::<String>, None::<String>);
        for line in text.lines() {
            match line.trim() {
                "[system]" if system.is_none() && user.is_none() => system = Some(String::new()),
                "[user]" if system.is_some() && user.is_none() => user = Some(String::new()),
                "[system]" | "[user]" => return Err(invalid("[system] then [user], each once")),
                _ if line.starts_with('#') => {}
                _ => {
                    if let Some(buf) = user.as_mut().or(system.as_mut()) {
                        buf.push_str(line);
                        buf.push('\n');
                    }
                }
            }
        }
        let (Some(system), Some(user)) = (system, user) else {
            return Err(invalid("needs a [system] line followed by a [user] line"));
        };
        if !user.contains("{snippets}") {
            return Err(invalid("the [user] part must contain {snippets}"));
        }
        Ok(PromptTemplate {
            system: system.trim().to_owned(),
            user: user.trim().to_owned(),
        })
    }

    /// The template at `path`, or the built-in one.
    pub(crate) fn load(path: Option<&Path>) -> Result<Self, TemplateError> {
        match path {
            None => Self::parse(DEFAULT_TEMPLATE, "templates/rag_prompt.txt (built in)"),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| TemplateError::Read {
                    path: p.display().to_string(),
                    source,
                })?;
                Self::parse(&text, &p.display().to_string())
            }
        }
    }

    /// The user message for `snippets`.
    pub(crate) fn user_message(&self, snippets: &[String]) -> String {
        let list: Vec<String> = snippets
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {}", i + 1, s.trim()))
            .collect();
        self.user.replace("{snippets}", &list.join("\n"))
    }

    /// System, few-shot user/assistant turns, then the query's user message.
    pub(crate) fn messages(&self, shots: &[FewShot], snippets: &[String]) -> Vec<Message> {
        let mut out = vec![Message::new("system", self.system.clone())];
        for s in shots {
            out.push(Message::new("user", self.user_message(&s.snippets)));
            out.push(Message::new("assistant", s.report.trim().to_owned()));
        }
        out.push(Message::new("user", self.user_message(snippets)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_template_builds_two_shot_chat() {
        let t = PromptTemplate::load(None).expect("built-in template parses");
        assert!(t.system.starts_with("You are an expert radiologist"));
        let shot = FewShot {
            snippets: vec!["No effusion.".into()],
            report: "Normal chest.".into(),
        };
        let m = t.messages(
            &[shot.clone(), shot],
            &["Cardiomegaly.".into(), "Edema.".into()],
        );
        assert_eq!(m.len(), 6);
        assert_eq!(m[2].role, "assistant");
        assert!(m[5].content.contains("1. Cardiomegaly.\n2. Edema."));
        assert!(!m[0].content.contains('#'));
    }

    #[test]
    fn template_errors_say_what_is_missing() {
        let e =
            PromptTemplate::parse("[system]\nx\n[user]\nno placeholder\n", "t.txt").unwrap_err();
        assert!(e.to_string().contains("{snippets}"));
        assert!(PromptTemplate::parse("just text", "t.txt").is_err());
    }
}
