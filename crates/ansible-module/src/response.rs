//! What a module prints: one JSON object with `changed`, `msg`, `diff`, `warnings` and
//! module-specific keys.

use serde::Serialize;
use serde_json::{Map, Value};

/// One `diff` entry as Ansible's callback plugins show it.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Diff {
    /// Text before the change.
    pub before: String,
    /// Text after the change.
    pub after: String,
    /// Header for `before` (usually the path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_header: Option<String>,
    /// Header for `after`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_header: Option<String>,
}

impl Diff {
    /// A diff of a file's text; both headers are the path.
    pub fn file(path: &str, before: impl Into<String>, after: impl Into<String>) -> Diff {
        Diff {
            before: before.into(),
            after: after.into(),
            before_header: Some(format!("{path} (content)")),
            after_header: Some(format!("{path} (content)")),
        }
    }
}

impl Diff {
    /// The entry as JSON, as its `Serialize` writes it, with the texts moved, not copied.
    pub fn into_value(self) -> Value {
        let mut map = Map::new();
        map.insert("before".into(), Value::String(self.before));
        map.insert("after".into(), Value::String(self.after));
        if let Some(h) = self.before_header {
            map.insert("before_header".into(), Value::String(h));
        }
        if let Some(h) = self.after_header {
            map.insert("after_header".into(), Value::String(h));
        }
        Value::Object(map)
    }
}

/// A successful result.
#[derive(Debug, Default)]
pub struct Response {
    /// Whether something changed (or would, in check mode).
    pub changed: bool,
    /// A sentence for people.
    pub msg: Option<String>,
    /// Diffs, shown with `--diff`.
    pub diffs: Vec<Diff>,
    /// Module-specific keys.
    pub extra: Map<String, Value>,
}

impl Response {
    /// A result that reports `changed`.
    pub fn new(changed: bool) -> Response {
        Response {
            changed,
            ..Default::default()
        }
    }

    /// Sets `msg`.
    pub fn msg(mut self, msg: impl Into<String>) -> Self {
        self.msg = Some(msg.into());
        self
    }

    /// Adds a module-specific key.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.set(key, value);
        self
    }

    /// Adds a module-specific key in place.
    pub fn set(&mut self, key: &str, value: impl Serialize) {
        self.extra
            .insert(key.to_string(), serde_json::to_value(value).unwrap_or(Value::Null));
    }

    /// Adds a diff entry.
    pub fn diff(&mut self, diff: Diff) {
        self.diffs.push(diff);
    }
}

/// A failed result: `failed: true`, a message a person can act on, and optional details.
#[derive(Debug)]
pub struct Error {
    /// What went wrong.
    pub msg: String,
    /// Extra keys (e.g. `stderr`, `rc`, `line`).
    pub extra: Map<String, Value>,
}

impl Error {
    /// A failure with a message.
    pub fn new(msg: impl Into<String>) -> Error {
        Error {
            msg: msg.into(),
            extra: Map::new(),
        }
    }

    /// Adds a detail key to the failure.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extra
            .insert(key.to_string(), serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }
}

/// Attaches what a module did (`commands`, `actions`, `queries`) to its result, whether it
/// succeeded or failed, so a failed run also tells what it ran:
/// `converge(m, &mut node).record("commands", node.runner.commands)`. A failure that already
/// holds the key (recorded where it happened) keeps its own.
pub trait Record {
    /// Adds `key` to the response, or to the failure unless it has one.
    fn record(self, key: &str, value: impl Serialize) -> Self;
}

impl Record for Result<Response, Error> {
    fn record(self, key: &str, value: impl Serialize) -> Self {
        match self {
            Ok(r) => Ok(r.with(key, value)),
            Err(e) if e.extra.contains_key(key) => Err(e),
            Err(e) => Err(e.with(key, value)),
        }
    }
}

// `Error` deliberately implements no `Display`, so any displayable error converts with `?`.
impl<E: std::fmt::Display> From<E> for Error {
    fn from(e: E) -> Error {
        Error::new(e.to_string())
    }
}

/// Fails the module with a formatted message: `return Err(fail!("no such file {}", p))`.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => { $crate::Error::new(format!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_moves_into_the_json_its_serialize_writes() {
        for d in [
            Diff::file("/p", "a\n", "b\n"),
            Diff {
                before: "x".into(),
                ..Default::default()
            },
        ] {
            assert_eq!(serde_json::to_string(&d).unwrap(), d.clone().into_value().to_string());
        }
    }

    #[test]
    fn records_go_on_results_and_failures_once() {
        let ok: Result<Response, Error> = Ok(Response::new(true));
        let r = ok.record("commands", ["a"]).unwrap();
        assert_eq!(r.extra["commands"], serde_json::json!(["a"]));
        let failed: Result<Response, Error> = Err(Error::new("x").with("commands", ["at the failure"]));
        let e = failed.record("commands", ["a", "b"]).record("actions", ["do"]).unwrap_err();
        assert_eq!(e.extra["commands"], serde_json::json!(["at the failure"]));
        assert_eq!(e.extra["actions"], serde_json::json!(["do"]));
    }
}
