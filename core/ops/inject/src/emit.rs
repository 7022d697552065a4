//! Writing a transformed object back as YAML that `kubectl` reads the same.
//!
//! kubectl's YAML reader follows YAML 1.1, where plain `on`, `yes`, `12:30`
//! or `0777` are booleans and numbers, not strings; a label `enabled: "on"`
//! written back unquoted would no longer be a string and the object would
//! be refused. Strings that any YAML version could read as something else
//! are therefore written double-quoted.

use serde_norway::{Mapping, Value};

/// `value` as YAML, with ambiguous strings double-quoted.
pub fn to_yaml(value: &Value) -> Result<String, serde_norway::Error> {
    // Ambiguous strings are swapped for unique plain tokens, the value is
    // written, and each token is replaced by its string, quoted.
    let plain = serde_norway::to_string(value)?;
    let mut prefix = String::from("strait-quoted-");
    while plain.contains(&prefix) {
        prefix.push('z');
    }
    let mut quoted = Vec::new();
    let marked = mark(value, &prefix, &mut quoted);
    if quoted.is_empty() {
        return Ok(plain);
    }
    let mut text = serde_norway::to_string(&marked)?;
    for (index, original) in quoted.iter().enumerate().rev() {
        let token = format!("{prefix}{index}x");
        let json = serde_json::to_string(original).unwrap_or_else(|_| format!("{original:?}"));
        text = text.replace(&token, &json);
    }
    Ok(text)
}

fn mark(value: &Value, prefix: &str, quoted: &mut Vec<String>) -> Value {
    match value {
        Value::String(s) if ambiguous(s) => {
            let token = format!("{prefix}{}x", quoted.len());
            quoted.push(s.clone());
            Value::String(token)
        }
        Value::Sequence(items) => {
            Value::Sequence(items.iter().map(|v| mark(v, prefix, quoted)).collect())
        }
        Value::Mapping(map) => {
            let mut out = Mapping::new();
            for (k, v) in map {
                let key = mark(k, prefix, quoted);
                let value = mark(v, prefix, quoted);
                out.insert(key, value);
            }
            Value::Mapping(out)
        }
        Value::Tagged(tagged) => {
            let mut tagged = tagged.clone();
            tagged.value = mark(&tagged.value, prefix, quoted);
            Value::Tagged(tagged)
        }
        other => other.clone(),
    }
}

/// Whether a plain scalar `s` could be read as a boolean, null, number or
/// timestamp by a YAML 1.1 or 1.2 reader.
fn ambiguous(s: &str) -> bool {
    const WORDS: [&str; 14] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", "+.inf", "-.inf",
        ".nan",
    ];
    if WORDS.contains(&s.to_ascii_lowercase().as_str()) {
        return true;
    }
    let starts_numeric = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'));
    starts_numeric
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().all(|c| {
            c.is_ascii_hexdigit()
                || matches!(
                    c,
                    '_' | ':'
                        | '.'
                        | '+'
                        | '-'
                        | 'x'
                        | 'X'
                        | 'o'
                        | 'O'
                        | 'i'
                        | 'I'
                        | 'n'
                        | 'N'
                        | 't'
                        | 'T'
                        | 'z'
                        | 'Z'
                        | ' '
                )
        })
}

#[cfg(test)]
mod tests;
