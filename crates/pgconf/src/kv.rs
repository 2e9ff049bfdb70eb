//! One lossless engine for `name = value` configuration files.
//!
//! postgresql.conf, pgpool.conf and repmgr.conf share one lexical syntax (Pgpool-II and
//! repmgr copied PostgreSQL's `guc-file.l`): a line is `name = value` or `name value`,
//! `#` starts a comment, a value is a single-quoted string, a number with an optional unit
//! (`128MB`, `5min`), or a bare word. The three differ in a few rules that a [`Dialect`]
//! states: whether names are case-sensitive, whether a name may be qualified (`repmgr.x`),
//! how quoted strings escape, which `include` directives exist, when two values are the
//! same, and how a value should be quoted.
//!
//! A [`KvFile`] keeps every line's bytes. Writing an unedited file ([`std::fmt::Display`])
//! gives back the input byte for byte, CRLF, tabs, a missing final newline and lines it
//! could not parse included (those are listed by [`KvFile::issues`] with their line
//! numbers). [`KvFile::set`] and [`KvFile::remove`] rewrite only the lines they must.
//!
//! The dialect-specific types are aliases of [`KvFile`]:
//! [`PostgresqlConf`](crate::postgresql::PostgresqlConf),
//! [`PgpoolConf`](crate::pgpool::PgpoolConf) and [`RepmgrConf`](crate::repmgr::RepmgrConf).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

mod lex;
#[cfg(test)]
mod tests;

use lex::{check_value, classify, lex, render, unquote, Tok};

/// How a dialect writes a single-quoted string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringSyntax {
    /// PostgreSQL and repmgr: `''` is a quote, and backslash escapes (`\n`, `\t`, `\\`,
    /// `\'`, octal `\ooo`) are decoded.
    Escaped,
    /// Pgpool-II: everything between the quotes is taken as-is (no escapes are decoded), so
    /// a value containing `'` cannot be written.
    Raw,
}

/// How [`KvFile::set`] writes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// Always single-quoted (repmgr and Pgpool-II strings).
    Always,
    /// Bare when the value is a plain number, unit-number or identifier; quoted otherwise
    /// (repmgr and Pgpool-II numbers and booleans).
    WhenNeeded,
    /// As the line being edited had it: a quoted value stays quoted, a bare value stays bare
    /// when it can; a new line quotes only when needed (postgresql.conf).
    KeepStyle,
}

pub use crate::edit::IncludeKind;

/// The rules in which the three `name = value` formats differ.
///
/// Implemented by [`Postgresql`](crate::postgresql::Postgresql),
/// [`Pgpool`](crate::pgpool::Pgpool) and [`Repmgr`](crate::repmgr::Repmgr).
pub trait Dialect {
    /// The format's name for messages, e.g. `"postgresql.conf"`.
    const NAME: &'static str;
    /// Whether `Port` and `port` are different names.
    const CASE_SENSITIVE: bool;
    /// Whether a name may have one dot (`pg_stat_statements.max`).
    const QUALIFIED_NAMES: bool;
    /// How quoted strings are written.
    const STRINGS: StringSyntax;
    /// The directive names that include other files.
    const DIRECTIVES: &'static [(&'static str, IncludeKind)];

    /// A canonical form of `value` for `name`, so that `set` leaves the file alone when the
    /// new value means the same as the old one (`on` and `true`, `128MB` and `131072kB`).
    /// `value` is already unquoted.
    fn normalize(name: &str, value: &str) -> String {
        let _ = name;
        value.to_string()
    }

    /// How `set` writes a value for `name`.
    fn quoting(name: &str) -> Quoting {
        let _ = name;
        Quoting::KeepStyle
    }

    /// Whether the value of `name` is, or holds, a secret ([`KvFile::masked`]).
    fn secret(name: &str) -> Secret {
        let _ = name;
        Secret::No
    }
}

/// Whether a setting's value is a secret to keep out of diffs and results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// Not a secret.
    No,
    /// The whole value is a password or key.
    Whole,
    /// A libpq connection string: its `password` is ([`crate::conninfo`]).
    Conninfo,
}

impl Secret {
    /// The value with the secret replaced by [`conninfo::MASK`](crate::conninfo::MASK).
    pub fn mask(self, value: &str) -> String {
        match self {
            Secret::No => value.to_string(),
            Secret::Whole if value.is_empty() => String::new(),
            Secret::Whole => crate::conninfo::MASK.to_string(),
            Secret::Conninfo => crate::conninfo::mask(value),
        }
    }

    /// The secrets in the value, as read and as written, for scrubbing output.
    pub fn secrets(self, value: &str) -> Vec<String> {
        match self {
            Secret::No => Vec::new(),
            Secret::Whole if value.is_empty() => Vec::new(),
            Secret::Whole => vec![value.to_string()],
            Secret::Conninfo => crate::conninfo::passwords(value),
        }
    }
}

/// An edit that could not be made. The file is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The name is not a name in this format.
    #[error("{format}: {name:?} is not a valid parameter name")]
    InvalidName {
        /// The format, e.g. `pgpool.conf`.
        format: &'static str,
        /// The name given.
        name: String,
    },
    /// The name is an include directive; those are reported, not edited.
    #[error("{format}: {name:?} is an include directive, which this editor does not change")]
    Directive {
        /// The format.
        format: &'static str,
        /// The directive name.
        name: String,
    },
    /// A line that the service would reject (see [`KvFile::check_syntax`]).
    #[error("{format} line {line}: {message}")]
    Syntax {
        /// The format.
        format: &'static str,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The value cannot be written in this format (e.g. a `'` in a Pgpool-II string).
    #[error("{format}: the value for {name:?} cannot be written: {reason}")]
    Unrepresentable {
        /// The format.
        format: &'static str,
        /// The parameter name.
        name: String,
        /// Why not.
        reason: &'static str,
    },
}

/// A line that is not a setting, a comment or blank. It is kept as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIssue {
    /// 1-based line number.
    pub line: usize,
    /// The line as it is in the file (without its line ending).
    pub text: String,
    /// What is wrong, in the words PostgreSQL uses.
    pub message: String,
}

impl fmt::Display for LineIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// An include directive found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// 1-based line number.
    pub line: usize,
    /// What it includes.
    pub kind: IncludeKind,
    /// The file or directory, as written (unquoted).
    pub path: String,
}

/// An active (not commented-out) setting line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// 1-based line number.
    pub line: usize,
    /// The name as written.
    pub name: String,
    /// The value, unquoted and unescaped.
    pub value: String,
}

/// The outcome of [`KvFile::set`] or [`KvFile::remove`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Edit {
    /// Whether the file's text changed.
    pub changed: bool,
    /// The effective value before the edit (`None`: the name was not set).
    pub previous: Option<String>,
}

/// The outcome of a checked edit (`set_checked` of the three dialects): the edit, what the
/// service needs to apply it (neither flag is set when nothing changed), and warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Applied {
    /// Whether the file changed, and the value before.
    pub edit: Edit,
    /// The service must restart to apply the change.
    pub restart_required: bool,
    /// A reload (SIGHUP) applies the change.
    pub reload_required: bool,
    /// Things the caller should tell the user (e.g. a key the target version ignores).
    pub warnings: Vec<String>,
}

impl Applied {
    /// Wraps `edit`: restart when `restart` (and something changed), reload otherwise.
    pub fn new(edit: Edit, restart: bool) -> Applied {
        Applied {
            restart_required: edit.changed && restart,
            reload_required: edit.changed && !restart,
            edit,
            warnings: Vec::new(),
        }
    }
}

/// A parsed `name = value` file that writes back exactly what it read, plus its edits.
pub struct KvFile<D> {
    lines: Vec<Line>,
    dialect: PhantomData<D>,
}

// Not derived: a derive would require `D: Clone` etc. of the marker type.
impl<D> Clone for KvFile<D> {
    fn clone(&self) -> Self {
        KvFile {
            lines: self.lines.clone(),
            dialect: PhantomData,
        }
    }
}

impl<D> PartialEq for KvFile<D> {
    fn eq(&self, other: &Self) -> bool {
        self.lines == other.lines
    }
}

impl<D> Eq for KvFile<D> {}

impl<D> fmt::Debug for KvFile<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KvFile").field("lines", &self.lines).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    /// The line without its `\n` (a CRLF line keeps its `\r`).
    text: String,
    /// Whether a `\n` followed it (only the last line may lack one).
    newline: bool,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Blank or comment-only, and not a commented-out setting.
    Other,
    /// An active `name = value`.
    Active(Spans),
    /// `#name = value`: a commented-out setting. `hash` is where the `#` is, `body` where
    /// the name starts.
    Commented { hash: usize, spans: Spans },
    /// Not parseable; the message says why.
    Invalid(String),
}

/// Byte ranges of the name and of the raw value token in the line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spans {
    name: Range<usize>,
    value: Range<usize>,
}

impl<D: Dialect> KvFile<D> {
    /// Parses a whole file. Never fails: lines it cannot parse are kept and reported by
    /// [`issues`](Self::issues).
    pub fn parse(text: &str) -> Self {
        let mut pieces: Vec<&str> = text.split('\n').collect();
        let last_unterminated = pieces.pop().filter(|s| !s.is_empty());
        let mut lines: Vec<Line> = pieces.into_iter().map(|t| Line::new::<D>(t.to_string(), true)).collect();
        if let Some(t) = last_unterminated {
            lines.push(Line::new::<D>(t.to_string(), false));
        }
        KvFile {
            lines,
            dialect: PhantomData,
        }
    }

    /// The effective value of `name` (the last active line wins), unquoted; `None` when no
    /// active line sets it.
    pub fn get(&self, name: &str) -> Option<String> {
        let i = self.last_active(name)?;
        self.lines[i].value::<D>()
    }

    /// Every active setting in file order, duplicates included; include directives are not
    /// settings (see [`includes`](Self::includes)).
    pub fn settings(&self) -> Vec<Setting> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match &l.kind {
                Kind::Active(s) if directive::<D>(&l.text[s.name.clone()]).is_none() => Some(Setting {
                    line: i + 1,
                    name: l.text[s.name.clone()].to_string(),
                    value: l.value::<D>().unwrap_or_default(),
                }),
                _ => None,
            })
            .collect()
    }

    /// The include directives in the file, in order. They are reported, not followed.
    pub fn includes(&self) -> Vec<Include> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match &l.kind {
                Kind::Active(s) => directive::<D>(&l.text[s.name.clone()]).map(|kind| Include {
                    line: i + 1,
                    kind,
                    path: l.value::<D>().unwrap_or_default(),
                }),
                _ => None,
            })
            .collect()
    }

    /// The lines that could not be parsed, with their 1-based numbers.
    pub fn issues(&self) -> Vec<LineIssue> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match &l.kind {
                Kind::Invalid(message) => Some(LineIssue {
                    line: i + 1,
                    text: l.text.clone(),
                    message: message.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Fails with the first line that cannot be parsed, for callers that refuse to edit a
    /// file the service would reject (edits themselves never need this: they keep such lines).
    pub fn check_syntax(&self) -> Result<(), KvError> {
        match self.issues().into_iter().next() {
            Some(issue) => Err(KvError::Syntax {
                format: D::NAME,
                line: issue.line,
                message: issue.message,
            }),
            None => Ok(()),
        }
    }

    /// Sets `name` to `value` (given unquoted), changing as little as possible:
    ///
    /// 1. the last active line for `name` gets the new value in place, keeping its
    ///    indentation, its spacing around `=` and its trailing comment; nothing changes when
    ///    the old value means the same ([`Dialect::normalize`]);
    /// 2. otherwise the last commented-out line for it (`#name = default  # comment`) is
    ///    uncommented with the new value, keeping its trailing comment;
    /// 3. otherwise `name = value` is appended (after adding the missing final newline).
    ///
    /// The value is quoted as [`Dialect::quoting`] says. Earlier duplicate lines are left
    /// alone: the last one wins.
    pub fn set(&mut self, name: &str, value: &str) -> Result<Edit, KvError> {
        self.check_name(name)?;
        check_value::<D>(name, value)?;
        if let Some(i) = self.last_active(name) {
            let line = &self.lines[i];
            let previous = line.value::<D>();
            let old = previous.as_deref().unwrap_or_default();
            if D::normalize(name, old) == D::normalize(name, value) {
                return Ok(Edit { changed: false, previous });
            }
            let Kind::Active(spans) = &line.kind else {
                return Ok(Edit { changed: false, previous });
            };
            let was_quoted = line.text.as_bytes().get(spans.value.start) == Some(&b'\'');
            let text = splice(&line.text, &spans.value, &render::<D>(name, value, was_quoted));
            self.replace(i, text);
            return Ok(Edit { changed: true, previous });
        }
        if let Some(i) = self.last_commented(name) {
            let line = &self.lines[i];
            if let Kind::Commented { hash, spans } = &line.kind {
                let was_quoted = line.text.as_bytes().get(spans.value.start) == Some(&b'\'');
                let rendered = render::<D>(name, value, was_quoted);
                let mut text = line.text[..*hash].to_string();
                text.push_str(&line.text[spans.name.start..spans.value.start]);
                text.push_str(&rendered);
                text.push_str(&line.text[spans.value.end..]);
                self.replace(i, text);
                return Ok(Edit {
                    changed: true,
                    previous: None,
                });
            }
        }
        // Line endings follow the file's last complete line.
        let crlf = self.lines.iter().rev().find(|l| l.newline).is_some_and(|l| l.text.ends_with('\r'));
        if let Some(last) = self.lines.last() {
            if !last.newline {
                let mut text = last.text.clone();
                if crlf {
                    text.push('\r');
                }
                let i = self.lines.len() - 1;
                self.replace(i, text);
                self.lines[i].newline = true;
            }
        }
        let mut text = format!("{name} = {}", render::<D>(name, value, false));
        if crlf {
            text.push('\r');
        }
        self.lines.push(Line::new::<D>(text, true));
        Ok(Edit {
            changed: true,
            previous: None,
        })
    }

    /// Comments out every active line for `name` by putting `#` before the name
    /// (`#name = value`), so the default applies again and the old value stays visible.
    pub fn remove(&mut self, name: &str) -> Result<Edit, KvError> {
        self.check_name(name)?;
        let previous = self.get(name);
        let mut changed = false;
        for i in 0..self.lines.len() {
            let line = &self.lines[i];
            if let Kind::Active(spans) = &line.kind {
                if name_eq::<D>(&line.text[spans.name.clone()], name) {
                    let mut text = line.text.clone();
                    text.insert(spans.name.start, '#');
                    self.replace(i, text);
                    changed = true;
                }
            }
        }
        Ok(Edit { changed, previous })
    }

    /// The file's text with every secret value ([`Dialect::secret`]) masked, in active and
    /// commented-out lines alike: what a diff may show.
    pub fn masked(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            let (spans, name) = match &l.kind {
                Kind::Active(s) => (Some(s), &l.text[s.name.clone()]),
                Kind::Commented { spans, .. } => (Some(spans), &l.text[spans.name.clone()]),
                _ => (None, ""),
            };
            match spans {
                Some(s) if D::secret(name) != Secret::No => {
                    let raw = &l.text[s.value.clone()];
                    let was_quoted = raw.starts_with('\'');
                    let masked = D::secret(name).mask(&unquote(raw, D::STRINGS));
                    out.push_str(&splice(&l.text, &s.value, &render::<D>(name, &masked, was_quoted)));
                }
                _ => out.push_str(&l.text),
            }
            if l.newline {
                out.push('\n');
            }
        }
        out
    }

    /// Every secret in the file (see [`masked`](Self::masked)), as read and as written, for
    /// scrubbing output.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for l in &self.lines {
            let spans = match &l.kind {
                Kind::Active(s) | Kind::Commented { spans: s, .. } => s,
                _ => continue,
            };
            let secret = D::secret(&l.text[spans.name.clone()]);
            if secret == Secret::No {
                continue;
            }
            let raw = &l.text[spans.value.clone()];
            out.extend(secret.secrets(&unquote(raw, D::STRINGS)));
        }
        out.retain(|s| !s.is_empty());
        out.dedup();
        out
    }

    /// Number of lines (a final line without `\n` counts).
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    fn check_name(&self, name: &str) -> Result<(), KvError> {
        let b = name.as_bytes();
        let ok = match lex(b, 0, D::QUALIFIED_NAMES, D::STRINGS) {
            Some((Tok::Id, n)) | Some((Tok::QualifiedId, n)) => n == b.len(),
            _ => false,
        };
        if !ok {
            return Err(KvError::InvalidName {
                format: D::NAME,
                name: name.to_string(),
            });
        }
        if directive::<D>(name).is_some() {
            return Err(KvError::Directive {
                format: D::NAME,
                name: name.to_string(),
            });
        }
        Ok(())
    }

    fn last_active(&self, name: &str) -> Option<usize> {
        self.lines.iter().rposition(|l| match &l.kind {
            Kind::Active(s) => name_eq::<D>(&l.text[s.name.clone()], name),
            _ => false,
        })
    }

    fn last_commented(&self, name: &str) -> Option<usize> {
        self.lines.iter().rposition(|l| match &l.kind {
            Kind::Commented { spans, .. } => name_eq::<D>(&l.text[spans.name.clone()], name),
            _ => false,
        })
    }

    fn replace(&mut self, i: usize, text: String) {
        let newline = self.lines[i].newline;
        self.lines[i] = Line::new::<D>(text, newline);
    }
}

impl<D> fmt::Display for KvFile<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            f.write_str(&l.text)?;
            if l.newline {
                f.write_str("\n")?;
            }
        }
        Ok(())
    }
}

impl Line {
    fn new<D: Dialect>(text: String, newline: bool) -> Line {
        let kind = classify::<D>(&text);
        Line { text, newline, kind }
    }

    /// The unquoted value of an active line.
    fn value<D: Dialect>(&self) -> Option<String> {
        match &self.kind {
            Kind::Active(s) => Some(unquote(&self.text[s.value.clone()], D::STRINGS)),
            _ => None,
        }
    }
}

fn name_eq<D: Dialect>(a: &str, b: &str) -> bool {
    if D::CASE_SENSITIVE {
        a == b
    } else {
        a.eq_ignore_ascii_case(b)
    }
}

fn directive<D: Dialect>(name: &str) -> Option<IncludeKind> {
    D::DIRECTIVES.iter().find(|(d, _)| name_eq::<D>(d, name)).map(|(_, k)| *k)
}

fn splice(text: &str, range: &Range<usize>, with: &str) -> String {
    let mut s = String::with_capacity(text.len() + with.len());
    s.push_str(&text[..range.start]);
    s.push_str(with);
    s.push_str(&text[range.end..]);
    s
}
