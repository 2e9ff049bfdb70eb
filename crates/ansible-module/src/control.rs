//! Control characters in parameters.
//!
//! No value of any module may hold a NUL byte or another ASCII control character (anything
//! below U+0020 but tab, line feed and carriage return, and DEL): PostgreSQL's and Pgpool-II's
//! file readers stop at a NUL (a pg_hba `comment` ending in NUL made the next line vanish from
//! `pg_hba_file_rules`; `archive_command: "/bin/true\0..."` was read as `/bin/tru`), text
//! values in PostgreSQL cannot hold one, and a command-line argument cannot either. The other
//! control characters have no meaning in any of the formats and only hide what a file says.
//! Line breaks are judged by each format (a `.pgpass` line cannot hold one; postgresql.conf
//! escapes it) where the value is written.

use serde_json::Value;
use std::fmt;

/// A parameter value (or name) holding a character no module accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlChar {
    /// The parameter, as `rules[0].comment`; for a name, the place of the name.
    pub argument: String,
    /// Whether the character is in a dict key rather than a value.
    pub in_name: bool,
    /// The character.
    pub ch: char,
}

impl fmt::Display for ControlChar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.ch {
            '\0' => "a NUL byte (\\0)".to_string(),
            c => format!("the control character U+{:04X}", c as u32),
        };
        let place = if self.in_name {
            format!("a key in argument '{}'", self.argument)
        } else {
            format!("argument '{}'", self.argument)
        };
        write!(
            f,
            "{place} holds {what}: no configuration file or PostgreSQL value can carry it; remove it"
        )
    }
}

/// Whether `c` is refused everywhere (see the module docs).
pub fn is_refused(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// The first refused character in `args` (every string and key at any depth), with where it is.
pub fn find(args: &serde_json::Map<String, Value>) -> Option<ControlChar> {
    for (k, v) in args {
        if let Some(found) = in_key(k, k).or_else(|| in_value(v, k.clone())) {
            return Some(found);
        }
    }
    None
}

fn in_key(key: &str, argument: &str) -> Option<ControlChar> {
    key.chars().find(|c| is_refused(*c)).map(|ch| ControlChar {
        argument: argument.escape_default().to_string(),
        in_name: true,
        ch,
    })
}

fn in_value(v: &Value, argument: String) -> Option<ControlChar> {
    match v {
        Value::String(s) => s.chars().find(|c| is_refused(*c)).map(|ch| ControlChar {
            argument,
            in_name: false,
            ch,
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| in_value(item, format!("{argument}[{i}]"))),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, item)| in_key(k, &argument).or_else(|| in_value(item, format!("{argument}.{}", k.escape_default())))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find_in(v: Value) -> Option<String> {
        find(v.as_object().unwrap()).map(|c| c.to_string())
    }

    #[test]
    fn nul_is_found_at_any_depth_and_named() {
        assert_eq!(
            find_in(json!({"path": "/x", "rules": [{"type": "host"}, {"comment": "a\u{0}b"}]})).unwrap(),
            "argument 'rules[1].comment' holds a NUL byte (\\0): no configuration file or PostgreSQL value can carry it; remove it"
        );
        assert!(find_in(json!({"settings": {"archive_command": "/bin/true\u{0}x"}}))
            .unwrap()
            .contains("'settings.archive_command'"));
        assert!(find_in(json!({"settings": {"a\u{0}": "x"}}))
            .unwrap()
            .starts_with("a key in argument 'settings'"));
    }

    #[test]
    fn other_controls_refused_but_whitespace_kept() {
        assert!(find_in(json!({"v": "a\u{1b}[31m"})).unwrap().contains("U+001B"));
        assert!(find_in(json!({"v": "a\u{7f}"})).unwrap().contains("U+007F"));
        assert_eq!(find_in(json!({"v": "tab\there\nline\r", "n": 5, "b": true, "u": "é €"})), None);
    }

    #[test]
    fn secrets_are_not_quoted() {
        let msg = find_in(json!({"password": "s3cret\u{0}"})).unwrap();
        assert!(!msg.contains("s3cret"), "{msg}");
    }
}
