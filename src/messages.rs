//! What Concord says to its users wherever more than one place says it: each
//! sentence is written here once, so a change of wording is one change. A
//! message only one place says stays beside the check that says it; the test
//! below fails when a sentence is written out in two places.

/// A text longer than a field takes.
pub fn at_most(chars: usize) -> String {
    format!("Use at most {chars} characters.")
}

pub const NO_SUCH_THEME: &str = "No such theme in this project.";
pub const NO_SUCH_AGREED_CODE: &str = "No such agreed code in this project.";
pub const NO_SUCH_VARIABLE: &str = "No such participant variable.";
pub const NO_SUCH_PARTICIPANT: &str = "Choose a participant of this project.";
pub const DATE_FORMAT: &str = "A date is written YYYY-MM-DD.";
pub const SEND_VERSION: &str = "Send the version you read.";
pub const DECIDED_MEANWHILE: &str = "Someone decided on this discrepancy meanwhile.";
pub const EMAIL_TAKEN: &str = "An account with this email address exists already.";
pub const TOO_LARGE: &str = "The request is larger than this server accepts.";
pub const NOT_ASSIGNED: &str = "You are not assigned to code this transcript.";
pub const NOT_YOUR_CODE: &str = "This is not one of the codes you can use here.";
pub const CHOOSE_AGREED_CODE: &str = "Choose a code of the agreed codebook.";
pub const CHOOSE_CONSENSUS_CODING: &str = "Choose a consensus coding.";
pub const CHOOSE_OTHER_CODE: &str = "Choose another code to merge into.";
pub const SEND_FILES: &str = "Send one or more files in the multipart field `files`.";
pub const TEXT_TOO_LONG: &str = "The text is too long.";
pub const ROUND_CLOSED: &str = "This round is closed.";
pub const AUDIT_LOG_BLIND: &str = "You are still coding a transcript of this project: the audit log, which records everyone's codes and codings, opens once you have submitted it.";

/// Sign-in refused for a while after too many failures.
pub fn throttled(retry_after_secs: u64) -> String {
    format!(
        "Too many failed attempts. Try again in {} minute(s).",
        retry_after_secs.div_ceil(60).max(1)
    )
}

/// How a REFI-QDA file's offsets were read, and why.
pub fn offsets_read_as(convention: &str, reason: &str) -> String {
    format!("Offsets read as {convention}: {reason}.")
}

/// A variable the write-up cannot order participants by.
pub fn cannot_order_by(variable: &str) -> String {
    format!(
        "Order by a number variable or one whose values are dates (YYYY-MM-DD); {variable} has other values."
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    /// Every Rust source below `dir`.
    pub(crate) fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("an entry of src/").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The sentences written in a source, outside its tests: string literals
    /// that start with a capital, hold a space and end with a full stop.
    fn sentences(text: &str) -> Vec<(usize, String)> {
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let mut found = Vec::new();
        for (n, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            let mut parts = line.split('"');
            parts.next();
            while let Some(literal) = parts.next() {
                let sentence = literal.len() >= 20
                    && literal.starts_with(|c: char| c.is_ascii_uppercase())
                    && literal.contains(' ')
                    && literal.ends_with(['.', '?', '!']);
                if sentence {
                    found.push((n + 1, literal.to_owned()));
                }
                parts.next();
            }
        }
        found
    }

    #[test]
    fn no_sentence_is_written_out_in_two_places() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        assert!(files.len() > 50, "found the sources");
        let mut seen: HashMap<String, Vec<String>> = HashMap::new();
        for file in files.iter().filter(|f| {
            !f.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("test"))
        }) {
            let text = std::fs::read_to_string(file).expect("a readable source");
            for (line, sentence) in sentences(&text) {
                seen.entry(sentence)
                    .or_default()
                    .push(format!("{}:{line}", file.display()));
            }
        }
        let mut twice: Vec<_> = seen.into_iter().filter(|(_, at)| at.len() > 1).collect();
        twice.sort();
        assert!(
            twice.is_empty(),
            "say these once, in src/messages.rs: {twice:#?}"
        );
        assert!(
            sentences("let a = \"Name the project, please.\";")
                == vec![(1, "Name the project, please.".to_owned())],
            "the check finds a sentence"
        );
    }
}
