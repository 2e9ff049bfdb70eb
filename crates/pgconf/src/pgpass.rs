//! `.pgpass` (libpq) and `.pcppass` (Pgpool-II's PCP tools) password files.
//!
//! A `.pgpass` line is `host:port:database:user:password`; a `.pcppass` line is
//! `host:port:user:password`. In every field `\:` is a colon and `\\` a backslash (any
//! character after a backslash stands for itself). A field that is exactly `*` matches
//! anything. Lines starting with `#` are comments. Entries are identified by all fields but
//! the password.
//!
//! The two readers differ in details this module follows: libpq strips a trailing `\r\n`,
//! Pgpool-II's PCP library strips only the `\n` (so a `\r` ends up in the password, and this
//! module writes `.pcppass` lines with `\n` alone).

use std::fmt;

use crate::edit::lines;
pub use crate::edit::{Change, Issue};
use crate::line_store::{Entry, LineKind, LineStore};

/// Which password file a [`PassFile`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PassFormat {
    /// libpq's `.pgpass`: `host:port:database:user:password`.
    PgPass,
    /// Pgpool-II's `.pcppass`: `host:port:user:password`.
    PcpPass,
}

impl PassFormat {
    fn key_fields(self) -> usize {
        match self {
            PassFormat::PgPass => 4,
            PassFormat::PcpPass => 3,
        }
    }
}

/// What is wrong with a password-file line or entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PassError {
    /// The line has fewer `:`-separated fields than the format needs.
    #[error("expected {expected} ':'-separated fields, found {found}")]
    MissingFields {
        /// Fields the format needs.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A value holds a line break, which the format cannot store.
    #[error("the {0} holds a line break")]
    LineBreak(&'static str),
    /// A value holds a NUL byte or another control character, which no reader keeps.
    #[error("the {0} holds a NUL byte or another control character")]
    ControlChar(&'static str),
    /// A `.pgpass` entry without a database, or a `.pcppass` entry with one.
    #[error("a {format:?} entry {problem}")]
    WrongShape {
        /// The file's format.
        format: PassFormat,
        /// What does not fit.
        problem: &'static str,
    },
}

/// One entry of a password file. A field value of `*` is the wildcard.
#[derive(Clone, PartialEq, Eq)]
pub struct PassEntry {
    /// Host name, address or socket directory (`*` for any).
    pub host: String,
    /// Port (`*` for any).
    pub port: String,
    /// Database (`*` for any); `None` in a `.pcppass` entry.
    pub database: Option<String>,
    /// User name (`*` for any).
    pub user: String,
    /// The password, unescaped.
    pub password: String,
}

impl fmt::Debug for PassEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassEntry")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .finish()
    }
}

impl PassEntry {
    /// A `.pgpass` entry.
    pub fn pgpass(host: &str, port: &str, database: &str, user: &str, password: &str) -> Self {
        PassEntry {
            host: host.to_owned(),
            port: port.to_owned(),
            database: Some(database.to_owned()),
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// A `.pcppass` entry.
    pub fn pcppass(host: &str, port: &str, user: &str, password: &str) -> Self {
        PassEntry {
            host: host.to_owned(),
            port: port.to_owned(),
            database: None,
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// Whether `other` has the same host, port, database and user (the password is ignored).
    pub fn same_key(&self, other: &PassEntry) -> bool {
        self.host == other.host && self.port == other.port && self.database == other.database && self.user == other.user
    }

    fn key_values(&self) -> Vec<&str> {
        let mut v = vec![self.host.as_str(), self.port.as_str()];
        if let Some(db) = &self.database {
            v.push(db);
        }
        v.push(&self.user);
        v
    }

    fn check(&self, format: PassFormat) -> Result<(), PassError> {
        match (format, &self.database) {
            (PassFormat::PgPass, None) => {
                return Err(PassError::WrongShape {
                    format,
                    problem: "needs a database",
                })
            }
            (PassFormat::PcpPass, Some(_)) => {
                return Err(PassError::WrongShape {
                    format,
                    problem: "has no database field",
                })
            }
            _ => {}
        }
        let named = [
            ("host", Some(&self.host)),
            ("port", Some(&self.port)),
            ("database", self.database.as_ref()),
            ("user", Some(&self.user)),
            ("password", Some(&self.password)),
        ];
        for (name, value) in named {
            if value.is_some_and(|v| v.contains(['\n', '\r'])) {
                return Err(PassError::LineBreak(name));
            }
            if value.is_some_and(|v| crate::edit::forbidden_char(v).is_some()) {
                return Err(PassError::ControlChar(name));
            }
        }
        Ok(())
    }
}

/// Escapes `\` and `:` with a backslash.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '\\' || c == ':' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Splits a line body into unescaped fields at unescaped colons.
fn split_fields(body: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => push_char(&mut fields, next),
                None => push_char(&mut fields, '\\'),
            },
            ':' => fields.push(String::new()),
            _ => push_char(&mut fields, c),
        }
    }
    fields
}

fn push_char(fields: &mut [String], c: char) {
    if let Some(last) = fields.last_mut() {
        last.push(c);
    }
}

/// A `.pgpass` or `.pcppass` file, kept line for line by the [`LineStore`] engine. `Debug`
/// shows no password.
pub type PassFile = LineStore<PassEntry>;

impl Entry for PassEntry {
    type Format = PassFormat;
    type Error = PassError;
    type Key = PassEntry;
    const NAME: &'static str = "PassFile";

    fn read(raw: &str, format: PassFormat) -> LineKind<Self> {
        let body = match format {
            // libpq strips trailing CR and LF.
            PassFormat::PgPass => lines::strip_crlf(raw),
            // Pgpool-II's pcp library strips the '\n' only: a '\r' ends up in the password.
            PassFormat::PcpPass => lines::body(raw),
        };
        if body.starts_with('#') {
            return LineKind::Comment;
        }
        if body.trim().is_empty() {
            return LineKind::Blank;
        }
        let fields = split_fields(body);
        let n = format.key_fields();
        if fields.len() < n + 1 {
            return LineKind::Invalid(PassError::MissingFields {
                expected: n + 1,
                found: fields.len(),
            });
        }
        let mut it = fields.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let host = next();
        let port = next();
        let database = match format {
            PassFormat::PgPass => Some(next()),
            PassFormat::PcpPass => None,
        };
        let user = next();
        let password = next();
        LineKind::Entry(PassEntry {
            host,
            port,
            database,
            user,
            password,
        })
    }

    /// An entry is identified by all fields but the password ([`PassEntry::same_key`]).
    fn key(&self) -> &PassEntry {
        self
    }

    fn has_key(&self, key: &PassEntry) -> bool {
        self.same_key(key)
    }

    fn render(&self) -> String {
        let mut fields: Vec<String> = self
            .key_values()
            .into_iter()
            .map(|v| if v == "*" { "*".to_owned() } else { escape(v) })
            .collect();
        // A line starting with '#' would be a comment: escape a leading '#' of the host.
        if fields[0].starts_with('#') {
            fields[0].insert(0, '\\');
        }
        fields.push(escape(&self.password));
        fields.join(":")
    }

    /// The PCP tools keep a '\r' as part of the password: `.pcppass` lines end with '\n' only.
    fn lf_only(format: PassFormat) -> bool {
        format == PassFormat::PcpPass
    }
}

impl PassFile {
    /// Reads a password file. Never fails: lines that are not entries are kept and reported by
    /// [`PassFile::issues`].
    pub fn parse(text: &str, format: PassFormat) -> Self {
        Self::read(text, format)
    }

    /// Sets the password of the entry with `entry`'s host, port, database and user, or adds the
    /// entry. A new entry goes before the first existing entry that would shadow it (a wildcard
    /// line libpq would match first), else at the end; an existing one is rewritten in place,
    /// or moved before the first entry that shadows it.
    pub fn upsert(&mut self, entry: &PassEntry) -> Result<Change, PassError> {
        let format = self.format();
        entry.check(format)?;
        let shadow = self.position(|raw, e| shadows(raw, e, entry, format));
        let existing = self.position(|_, e| e.same_key(entry));
        if let (Some(from), Some(to)) = (existing, shadow) {
            if to < from {
                return Ok(self.move_to(from, to, entry));
            }
        }
        Ok(self.put(entry, shadow))
    }

    /// The password libpq (for `.pgpass`) or the PCP tools (for `.pcppass`) would use for this
    /// connection: the first line whose fields match, `*` matching anything, read exactly as
    /// they read the file. An empty `host` means `localhost`, and so, for `.pgpass`, does
    /// Debian's default socket directory `/var/run/postgresql`; an empty `port` means the
    /// default (5432, or 9898 for PCP). `database` is ignored for `.pcppass`.
    pub fn lookup(&self, host: &str, port: &str, database: &str, user: &str) -> Option<String> {
        let format = self.format();
        let host = match (format, host) {
            (_, "") => "localhost",
            (PassFormat::PgPass, "/var/run/postgresql") => "localhost",
            (_, h) => h,
        };
        let port = match (format, port) {
            (PassFormat::PgPass, "") => "5432",
            (PassFormat::PcpPass, "") => "9898",
            (_, p) => p,
        };
        let tokens: Vec<&str> = match format {
            PassFormat::PgPass => vec![host, port, database, user],
            PassFormat::PcpPass => vec![host, port, user],
        };
        self.raw_lines().find_map(|raw| lookup_line(raw, format, &tokens))
    }
}

/// Whether the existing line `raw` (entry `existing`) would be matched by libpq before a new
/// entry `new` for every connection `new` matches.
fn shadows(raw: &str, existing: &PassEntry, new: &PassEntry, format: PassFormat) -> bool {
    let wild = raw_wildcards(raw, format);
    existing
        .key_values()
        .iter()
        .zip(new.key_values())
        .zip(wild)
        .all(|((e, n), e_wild)| e_wild || (n != "*" && *e == n))
}

/// For each key field of a line, whether it is written as the bare `*` wildcard.
fn raw_wildcards(raw: &str, format: PassFormat) -> Vec<bool> {
    let mut out = Vec::new();
    let mut rest = lines::strip_crlf(raw);
    for _ in 0..format.key_fields() {
        out.push(rest.starts_with("*:"));
        rest = skip_field(rest);
    }
    out
}

fn skip_field(s: &str) -> &str {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b':' => return &s[i + 1..],
            _ => i += 1,
        }
    }
    ""
}

/// libpq's `pwdfMatchesString`: if the field at the start of `buf` matches `token`, the rest of
/// `buf` after the field's colon.
fn match_field<'a>(buf: &'a [u8], token: &[u8]) -> Option<&'a [u8]> {
    if buf.len() >= 2 && buf[0] == b'*' && buf[1] == b':' {
        return Some(&buf[2..]);
    }
    let (mut i, mut t) = (0usize, 0usize);
    let mut bslash = false;
    while i < buf.len() {
        if buf[i] == b'\\' && !bslash {
            i += 1;
            bslash = true;
        }
        let c = buf.get(i).copied();
        if c == Some(b':') && t == token.len() && !bslash {
            return Some(&buf[i + 1..]);
        }
        bslash = false;
        if t == token.len() {
            return None;
        }
        if c == Some(token[t]) {
            i += 1;
            t += 1;
        } else {
            return None;
        }
    }
    None
}

/// Reads one line as libpq (`.pgpass`) or Pgpool-II's pcp library (`.pcppass`) does and
/// returns its password if its key fields match `tokens`.
fn lookup_line(raw: &str, format: PassFormat, tokens: &[&str]) -> Option<String> {
    let body = match format {
        // libpq: skip lines starting with '#', strip trailing CR/LF, skip empty lines.
        PassFormat::PgPass => {
            if raw.starts_with('#') {
                return None;
            }
            lines::strip_crlf(raw)
        }
        // pcp.c: strip one trailing '\n' only; no comments.
        PassFormat::PcpPass => lines::body(raw),
    };
    if body.is_empty() {
        return None;
    }
    let mut rest = body.as_bytes();
    for token in tokens {
        rest = match_field(rest, token.as_bytes())?;
    }
    // De-escape the password up to the next unescaped ':'.
    let mut out = Vec::with_capacity(rest.len());
    let mut i = 0;
    while i < rest.len() && rest[i] != b':' {
        if rest[i] == b'\\' && i + 1 < rest.len() {
            i += 1;
        }
        out.push(rest[i]);
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// `text` with the password of every entry line replaced by `********` (for diffs); a line
/// that is not an entry is masked whole, since it may hold a secret.
pub fn mask_passwords(text: &str, format: PassFormat) -> String {
    let key_fields = match format {
        PassFormat::PgPass => 4,
        PassFormat::PcpPass => 3,
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        if body.trim().is_empty() || body.starts_with('#') {
            out.push_str(line);
            continue;
        }
        let mut colons = 0;
        let mut escaped = false;
        let mut cut = None;
        for (i, c) in body.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == ':' {
                colons += 1;
                if colons == key_fields {
                    cut = Some(i + 1);
                    break;
                }
            }
        }
        match cut {
            Some(i) => {
                out.push_str(&body[..i]);
                out.push_str("********");
                out.push_str(ending);
            }
            // Not an entry: nothing to hide but the whole line, which may hold a secret.
            None => {
                out.push_str("********");
                out.push_str(ending);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(text: &str) -> PassFile {
        PassFile::parse(text, PassFormat::PgPass)
    }

    #[test]
    fn round_trip_is_byte_identical() {
        for text in [
            "",
            "\n",
            "a:b:c:d:e",
            "a:b:c:d:e\n",
            "# comment\r\nh:5432:*:u:p\\:w\r\n\r\n",
            "garbage line\nx:y\n",
            "  \t \n",
        ] {
            assert_eq!(pg(text).to_string(), text);
        }
    }

    #[test]
    fn parses_escapes_and_reports_bad_lines() {
        let f = pg("# c\nh\\:x:5432:db:u\\\\ser:p\\:w\\\\d:extra\nbad:line\n\n");
        let entries: Vec<_> = f.entries().collect();
        assert_eq!(entries.len(), 1);
        let (line, e) = entries[0];
        assert_eq!(line, 2);
        assert_eq!(e.host, "h:x");
        assert_eq!(e.user, "u\\ser");
        assert_eq!(e.password, "p:w\\d");
        assert_eq!(
            f.issues(),
            vec![Issue {
                line: 3,
                error: PassError::MissingFields { expected: 5, found: 2 }
            }]
        );
    }

    #[test]
    fn upsert_updates_in_place_and_keeps_other_lines() {
        let mut f = pg("# top\r\nh:5432:db:u:old\r\nother:1:2:3:4\r\n");
        let e = PassEntry::pgpass("h", "5432", "db", "u", "new:pw");
        assert_eq!(f.upsert(&e), Ok(Change::Updated { line: 2 }));
        assert_eq!(f.to_string(), "# top\r\nh:5432:db:u:new\\:pw\r\nother:1:2:3:4\r\n");
        assert_eq!(f.upsert(&e), Ok(Change::Unchanged));
    }

    #[test]
    fn upsert_appends_keeping_the_file_style() {
        let mut f = pg("a:1:b:c:d");
        let e = PassEntry::pgpass("h", "5432", "*", "u", "pw");
        assert_eq!(f.upsert(&e), Ok(Change::Added { line: 2 }));
        assert_eq!(f.to_string(), "a:1:b:c:d\nh:5432:*:u:pw");
        let mut f = pg("a:1:b:c:d\r\n");
        assert_eq!(f.upsert(&e), Ok(Change::Added { line: 2 }));
        assert_eq!(f.to_string(), "a:1:b:c:d\r\nh:5432:*:u:pw\r\n");
        let mut f = pg("");
        assert_eq!(f.upsert(&e), Ok(Change::Added { line: 1 }));
        assert_eq!(f.to_string(), "h:5432:*:u:pw\n");
    }

    #[test]
    fn upsert_goes_before_a_shadowing_wildcard() {
        let mut f = pg("# c\nx:1:y:z:w\n*:*:*:repl:old\n");
        let e = PassEntry::pgpass("10.0.0.1", "5432", "replication", "repl", "new");
        assert_eq!(f.upsert(&e), Ok(Change::Added { line: 3 }));
        assert_eq!(f.lookup("10.0.0.1", "5432", "replication", "repl").as_deref(), Some("new"));
        assert_eq!(f.lookup("10.0.0.2", "5432", "replication", "repl").as_deref(), Some("old"));
    }

    #[test]
    fn leading_hash_is_escaped() {
        let mut f = pg("");
        let e = PassEntry::pgpass("#odd", "1", "d", "u", "p");
        assert!(f.upsert(&e).unwrap().is_changed());
        assert_eq!(f.to_string(), "\\#odd:1:d:u:p\n");
        assert_eq!(f.entries().next().map(|(_, e)| e.host.as_str()), Some("#odd"));
        assert_eq!(f.lookup("#odd", "1", "d", "u").as_deref(), Some("p"));
    }

    #[test]
    fn remove_drops_only_matching_lines() {
        let mut f = pg("a:1:b:c:d\nx:1:y:z:w\na:1:b:c:other\n");
        let key = PassEntry::pgpass("a", "1", "b", "c", "");
        assert_eq!(f.remove(&key), Change::Removed { lines: vec![1, 3] });
        assert_eq!(f.to_string(), "x:1:y:z:w\n");
        assert_eq!(f.remove(&key), Change::Unchanged);
    }

    #[test]
    fn lookup_follows_libpq() {
        let f = pg(concat!(
            "#h:5432:db:u:commented\n",
            "h:5432:db:u:first\\:one:ignored\n",
            "h:5432:db:u:second\n",
            "\\*:5432:db:v:literal-star\n",
            "*:*:*:w:wild\n",
            "localhost:5432:db:x:local\r\n",
        ));
        assert_eq!(f.lookup("h", "5432", "db", "u").as_deref(), Some("first:one"));
        assert_eq!(f.lookup("h", "5433", "db", "u"), None);
        assert_eq!(f.lookup("*", "5432", "db", "v").as_deref(), Some("literal-star"));
        assert_eq!(f.lookup("other", "5432", "db", "v"), None);
        assert_eq!(f.lookup("any", "1", "x", "w").as_deref(), Some("wild"));
        assert_eq!(f.lookup("", "", "db", "x").as_deref(), Some("local"));
        assert_eq!(f.lookup("/var/run/postgresql", "5432", "db", "x").as_deref(), Some("local"));
    }

    #[test]
    fn pcppass_format() {
        let mut f = PassFile::parse("localhost:9898:pcp:pw\n", PassFormat::PcpPass);
        assert_eq!(f.lookup("", "", "ignored", "pcp").as_deref(), Some("pw"));
        let e = PassEntry::pcppass("10.0.0.180", "9898", "pcp", "p:w");
        assert_eq!(f.upsert(&e), Ok(Change::Added { line: 2 }));
        assert_eq!(f.to_string(), "localhost:9898:pcp:pw\n10.0.0.180:9898:pcp:p\\:w\n");
        assert_eq!(f.lookup("10.0.0.180", "9898", "", "pcp").as_deref(), Some("p:w"));
        assert!(f.upsert(&PassEntry::pgpass("h", "1", "d", "u", "p")).is_err());
        assert!(pg("").upsert(&e).is_err());
    }

    #[test]
    fn pcppass_crlf_lines_are_fixed_on_rewrite() {
        let mut f = PassFile::parse("localhost:9898:pcp:pw\r\n", PassFormat::PcpPass);
        // The PCP tools would read "pw\r".
        assert_eq!(f.lookup("localhost", "9898", "", "pcp").as_deref(), Some("pw\r"));
        assert_eq!(f.entries().next().map(|(_, e)| e.password.as_str()), Some("pw\r"));
        let e = PassEntry::pcppass("localhost", "9898", "pcp", "pw");
        assert_eq!(f.upsert(&e), Ok(Change::Updated { line: 1 }));
        assert_eq!(f.to_string(), "localhost:9898:pcp:pw\n");
        assert_eq!(
            f.upsert(&PassEntry::pcppass("h", "9898", "pcp", "x")),
            Ok(Change::Added { line: 2 })
        );
        assert_eq!(f.to_string(), "localhost:9898:pcp:pw\nh:9898:pcp:x\n");
    }

    #[test]
    fn line_breaks_are_refused() {
        let mut f = pg("");
        let e = PassEntry::pgpass("h", "1", "d", "u", "a\nb");
        assert_eq!(f.upsert(&e), Err(PassError::LineBreak("password")));
        assert_eq!(f.to_string(), "");
    }

    #[test]
    fn debug_hides_password() {
        let e = PassEntry::pgpass("h", "1", "d", "u", "s3cr3t");
        assert!(!format!("{e:?}").contains("s3cr3t"));
        let f = pg("h:1:d:u:s3cr3t\n");
        assert!(!format!("{f:?}").contains("s3cr3t"));
    }

    #[test]
    fn an_entry_shadowed_by_a_wildcard_moves_before_it() {
        let mut f = PassFile::parse("*:9898:replication:*:\nlocalhost:9898:replication:u\\:1:old\n", PassFormat::PgPass);
        let e = PassEntry::pgpass("localhost", "9898", "replication", "u:1", "new");
        assert_eq!(f.upsert(&e), Ok(Change::Moved { from: 2, to: 1 }));
        assert_eq!(f.to_string(), "localhost:9898:replication:u\\:1:new\n*:9898:replication:*:\n");
        assert_eq!(f.lookup("localhost", "9898", "replication", "u:1"), Some("new".to_string()));
        assert_eq!(f.upsert(&e), Ok(Change::Unchanged));
    }

    #[test]
    fn masks_only_passwords() {
        let text = "# c\nh:5432:db:u\\:x:s3cret\r\nh:9898:pcp:pw\n";
        assert_eq!(
            mask_passwords(text, PassFormat::PgPass),
            "# c\nh:5432:db:u\\:x:********\r\n********\n"
        );
        assert_eq!(mask_passwords("h:9898:pcp:pw", PassFormat::PcpPass), "h:9898:pcp:********");
    }
}
