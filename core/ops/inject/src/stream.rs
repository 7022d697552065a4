//! Splitting a YAML stream into its documents, keeping each one's text so
//! that documents the injector leaves alone are written back byte for byte
//! (comments included).

/// One document of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The document's position in the stream, from 1, counting only
    /// documents with content.
    pub number: usize,
    /// The line of the stream the document starts on, from 1.
    pub line: usize,
    /// Its text, ending in a newline.
    pub text: String,
}

/// The documents of `input`, split at `---` lines (a `---` followed by
/// nothing, spaces or a comment) and `...` end markers. Documents holding
/// only blank lines and comments are dropped.
pub fn documents(input: &str) -> Vec<Document> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        if let Some(rest) = separator(line) {
            finish(&mut current, start, &mut out);
            start = number;
            if !rest.is_empty() {
                current.push_str(rest);
                current.push('\n');
            } else {
                start = number + 1;
            }
        } else if line.trim_end() == "..." {
            finish(&mut current, start, &mut out);
            start = number + 1;
        } else {
            if current.is_empty() && line.trim().is_empty() {
                start = number + 1;
                continue;
            }
            current.push_str(line);
            current.push('\n');
        }
    }
    finish(&mut current, start, &mut out);
    out
}

fn finish(text: &mut String, start: usize, out: &mut Vec<Document>) {
    if has_content(text) {
        out.push(Document {
            number: out.len() + 1,
            line: start,
            text: std::mem::take(text),
        });
    } else {
        text.clear();
    }
}

/// For a document start line, what follows the marker (empty when only a
/// comment or nothing does).
fn separator(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("---")?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim();
    Some(if rest.starts_with('#') { "" } else { rest })
}

fn has_content(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#')
    })
}

#[cfg(test)]
mod tests;
