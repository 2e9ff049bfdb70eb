//! The flow every file module follows, written once.
//!
//! 1. Open the file: [`ManagedFile::open`] refuses links a less privileged user made, FIFOs
//!    and devices, and a missing file unless it may be created.
//! 2. Refuse a file with a line its reader would reject ([`refuse_line`]): editing around it
//!    would hide it.
//! 3. Apply the task's edits to the text, recording what the service needs ([`Effect`]).
//! 4. Save: [`ManagedFile::save_masked`] honours check and diff mode; the diff masks secrets.
//!    An editor that keeps a large file's text in place saves it as parts ([`save_parts`]).
//! 5. Report: `restart_required`, `reload_required`, `previous`, `includes` and a message
//!    ([`Effect::message`]).
//!
//! [`Settings`] does steps 2, 4 and 5 for the three `name = value` formats (postgresql.conf,
//! pgpool.conf, repmgr.conf).

use ansible_module::{fail, Error, ManagedFile, Module, Response};
use pgconf::kv::{Applied, Dialect, Edit, KvFile};
use serde_json::{Map, Value};
use std::fmt::Display;
use std::path::Path;

/// What the edits of a file need to take effect.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    /// The service must restart.
    pub restart: bool,
    /// A reload (SIGHUP) applies the change.
    pub reload: bool,
}

impl Effect {
    /// Adds an edit: when it changed the file, it needs a restart (`restart`) or a reload.
    pub fn add(&mut self, changed: bool, restart: bool) {
        if changed {
            if restart {
                self.restart = true;
            } else {
                self.reload = true;
            }
        }
    }

    /// Adds what a checked edit said it needs.
    pub fn merge(&mut self, restart: bool, reload: bool) {
        self.restart |= restart;
        self.reload |= reload;
    }

    /// A restart applies what a reload would: `reload` is then not reported.
    pub fn restart_covers_reload(self) -> Effect {
        Effect {
            restart: self.restart,
            reload: self.reload && !self.restart,
        }
    }

    /// Sets `restart_required` and `reload_required`.
    pub fn report(&self, resp: &mut Response) {
        resp.set("restart_required", self.restart);
        resp.set("reload_required", self.reload);
    }

    /// The result's message: `unchanged` when nothing changed; otherwise what `service`
    /// needs (`"configuration changed; repmgrd restart required"`), or `attributes` when only
    /// the file's attributes (or text that needs nothing) changed.
    pub fn message(&self, changed: bool, unchanged: String, service: &str, attributes: &str) -> String {
        let service = if service.is_empty() { String::new() } else { format!("{service} ") };
        match changed {
            false => unchanged,
            true if self.restart => format!("configuration changed; {service}restart required"),
            true if self.reload => format!("configuration changed; {service}reload required"),
            true => attributes.to_string(),
        }
    }
}

/// The failure for a file with a line its reader rejects: the module does not edit around it.
/// `what` names the format for the hint (`".pgpass"`), or is empty.
pub fn refuse_line(path: &Path, line: usize, error: impl Display, what: &str) -> Error {
    let hint = if what.is_empty() {
        "fix or remove that line first".to_string()
    } else {
        format!("not a valid {what} line; fix or remove it first")
    };
    fail!("{}: line {line}: {error} ({hint}; the file was not changed)", path.display())
}

/// Saves `text` (check and diff mode honoured, `mask` applied to both sides of the diff) and
/// returns the response with `changed` set.
pub fn save(m: &Module, f: &ManagedFile, text: &str, mask: impl Fn(&str) -> String) -> Result<Response, Error> {
    let mut resp = Response::new(false);
    resp.changed = f.save_masked(m, text, &mut resp, mask)?;
    Ok(resp)
}

/// Saves the text given as consecutive parts (see [`ManagedFile::save_parts`]; check and diff
/// mode honoured, nothing to mask) and returns the response with `changed` set.
pub fn save_parts(m: &Module, f: &ManagedFile, parts: &[&str]) -> Result<Response, Error> {
    let mut resp = Response::new(false);
    resp.changed = f.save_parts(m, parts, &mut resp, None)?;
    Ok(resp)
}

/// A `name = value` file under edit for a task: parsed, its secrets and the values asked for
/// kept out of the output, each edit's previous value and need recorded.
pub struct Settings<D> {
    /// The file's text, being edited.
    pub conf: KvFile<D>,
    previous: Map<String, Value>,
    /// What the edits need.
    pub effect: Effect,
}

impl<D: Dialect> Settings<D> {
    /// Scrubs the secrets in the values asked for ([`Dialect::secret`]) from everything the
    /// module prints; called before anything can fail and print a value.
    pub fn hide(m: &mut Module, wanted: &[(String, Option<String>)]) {
        for (name, value) in wanted {
            D::secret(name)
                .secrets(value.as_deref().unwrap_or(""))
                .into_iter()
                .for_each(|s| m.add_secret(s));
        }
    }

    /// Parses the file, scrubs the secrets it holds, and refuses a line the service would reject.
    pub fn parse(m: &mut Module, f: &ManagedFile) -> Result<Self, Error> {
        let conf = KvFile::<D>::parse(f.content());
        conf.secrets().into_iter().for_each(|s| m.add_secret(s));
        conf.check_syntax().map_err(|e| fail!("{}: {e}", f.path.display()))?;
        Ok(Settings {
            conf,
            previous: Map::new(),
            effect: Effect::default(),
        })
    }

    /// Records the value `name` had (masked when it is a secret).
    pub fn previous(&mut self, name: &str, value: Option<String>) {
        let masked = value.map(|v| D::secret(name).mask(&v));
        self.previous
            .insert(name.to_string(), masked.map(Value::String).unwrap_or(Value::Null));
    }

    /// Records an edit of `name` that needs a restart (`restart`) or a reload when it changed.
    pub fn record(&mut self, name: &str, edit: Edit, restart: bool) {
        self.effect.add(edit.changed, restart);
        self.previous(name, edit.previous);
    }

    /// Records a checked edit of `name`, with the needs it reported.
    pub fn record_applied(&mut self, m: &mut Module, name: &str, applied: Applied) {
        self.effect.merge(applied.restart_required, applied.reload_required);
        applied.warnings.into_iter().for_each(|w| m.warn(w));
        self.previous(name, applied.edit.previous);
    }

    /// Saves the file (diff masked) and reports `restart_required` and `reload_required` (as
    /// `effect` says), `previous`, and `includes` when the format has them.
    pub fn finish(self, m: &Module, f: &ManagedFile, effect: Effect, includes: bool) -> Result<Response, Error> {
        let mut resp = save(m, f, &self.conf.to_string(), |t| KvFile::<D>::parse(t).masked())?;
        effect.report(&mut resp);
        resp.set("previous", self.previous);
        if includes {
            resp.set(
                "includes",
                crate::describe_includes(self.conf.includes().iter().map(|i| (i.kind, i.path.as_str(), i.line))),
            );
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_combine_and_word_the_message() {
        let mut e = Effect::default();
        e.add(false, true);
        assert_eq!(e, Effect::default());
        e.add(true, false);
        assert_eq!(e.message(true, "x".into(), "", "attrs"), "configuration changed; reload required");
        e.add(true, true);
        assert_eq!(
            e.restart_covers_reload(),
            Effect {
                restart: true,
                reload: false
            }
        );
        assert_eq!(
            e.message(true, "x".into(), "repmgrd", "attrs"),
            "configuration changed; repmgrd restart required"
        );
        assert_eq!(e.message(false, "x already".into(), "", "attrs"), "x already");
        assert_eq!(Effect::default().message(true, "x".into(), "", "attrs"), "attrs");
    }

    #[test]
    fn refusals_name_the_line_and_say_nothing_changed() {
        let e = refuse_line(Path::new("/p"), 3, "bad", "");
        assert_eq!(e.msg, "/p: line 3: bad (fix or remove that line first; the file was not changed)");
        let e = refuse_line(Path::new("/p"), 3, "bad", ".pgpass");
        assert_eq!(
            e.msg,
            "/p: line 3: bad (not a valid .pgpass line; fix or remove it first; the file was not changed)"
        );
    }
}
