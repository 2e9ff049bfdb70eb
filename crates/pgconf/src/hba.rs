//! `pg_hba.conf` (PostgreSQL) and `pool_hba.conf` (Pgpool-II) client authentication files.
//!
//! # Reading
//!
//! Lines are split into fields exactly as the servers' tokenizers do (`next_token` in
//! PostgreSQL's `hba.c` and Pgpool-II's `pool_hba.c`): fields are separated by blanks (space,
//! tab, CR); a field is a comma list of tokens; `"..."` quotes a token (`""` inside is a quote);
//! an unquoted `#` starts a comment. In [`Format::PgHba`] a line ending in `\` goes on on the
//! next line (PostgreSQL 15+); such a record is one [`Rule`] spanning several physical lines.
//! `include`, `include_if_exists` and `include_dir` lines (PostgreSQL 16+) are kept and
//! listed by [`HbaFile::includes`]. A line that does not parse is kept verbatim and listed by
//! [`HbaFile::issues`] with its line number.
//!
//! Checked, as PostgreSQL 15 and Pgpool-II 4.3 check them (the oracle tests compare with
//! PostgreSQL's `pg_hba_file_rules`): connection types; the number of values where one is
//! expected; addresses (IPv4 in every `inet_aton` form such as `127.1`, IPv6 with an optional
//! `%zone`, a CIDR suffix read like `strtol` or a separate netmask column, `all`, `samehost`,
//! `samenet`, host names and `.suffix` names); authentication methods per format (PostgreSQL:
//! trust reject scram-sha-256 md5 password gss sspi ident peer ldap radius cert pam bsd;
//! Pgpool-II 4.3: trust reject md5 scram-sha-256 password cert pam ldap); the method and
//! connection-type combinations PostgreSQL refuses (`peer` off local sockets, `gss` on them,
//! `cert` off `hostssl`); options: `name=value` form, known names, the methods each goes with,
//! `clientcert`/`clientname` values and `hostssl`, the options `ldap` and `radius` require and
//! the RADIUS list lengths. Not checked: methods a particular server build leaves out (`sspi`
//! and `bsd` on Linux, for example), values of other options (`ldapport`, `ldapurl` syntax),
//! RADIUS server names (PostgreSQL resolves them), `@file` contents, regular-expression syntax
//! (PostgreSQL 16 `/regex` names), PostgreSQL 16's own additions beyond include directives.
//!
//! # Rule identity
//!
//! A rule is identified by its [`RuleKey`]: connection type, databases, users and address.
//! Database and user lists compare as sets (their order does not change which connections a
//! line matches); a quoted name equals the unquoted one unless quoting changes its meaning (a
//! keyword such as `all`, or a leading `+`, `@` or `/`). An address with a CIDR suffix equals
//! the same address with the equivalent netmask column (`10.0.0.0/24` = `10.0.0.0
//! 255.255.255.0`); addresses are compared as written otherwise (`10.0.0.5/24` is not
//! `10.0.0.0/24`); host names compare case-insensitively. The method and options are not part
//! of the identity: [`HbaFile::upsert`] changes them in place.
//!
//! # Writing
//!
//! Unedited files are written back byte for byte. An update rewrites only the method and
//! options of the matching line, keeping its spelling of the other fields and its trailing
//! comment. New lines are laid out like the file's existing rules: in the columns most rules
//! use (with tabs if they use tabs), or with single separators if the rules are written that
//! way; with PostgreSQL's or Pgpool-II's stock columns in a file without rules.
//!
//! # Layout of this module
//!
//! This file holds [`HbaFile`] and its reading API; the value types (rules, addresses,
//! errors) are in `model`, the field tokenizer in `lex`, the reading of one record in
//! `record`, and the edits ([`HbaFile::upsert`], [`HbaFile::remove`]) with the column
//! layout of new lines in `edit`. All public items are re-exported here.

use std::fmt;

use crate::edit::lines;
pub use crate::edit::{Change, IncludeKind, Issue};

mod edit;
mod lex;
mod model;
mod record;
#[cfg(test)]
mod tests;

use lex::tokenize;
pub use model::{Address, AuthOption, ConnectionType, Format, HbaError, Include, Mask, Method, Position, Rule, RuleKey, Token};
use record::{parse_record, Record};

#[derive(Debug, Clone)]
enum Kind {
    Blank,
    Comment,
    Rule(Rule),
    Include(Include),
    Invalid(HbaError),
}

/// One logical line: one or more physical lines (joined by `\` continuations).
#[derive(Debug, Clone)]
struct Line {
    /// The physical lines with their line breaks, exactly as read.
    raw: String,
    /// How many physical lines.
    physical: usize,
    /// The text the server tokenizes (continuations joined, line break removed).
    text: String,
    kind: Kind,
}

impl Line {
    fn new(raw: String, format: Format) -> Line {
        let physical = lines::split(&raw);
        let (text, _) = join_logical(&physical, format);
        let kind = classify(&text, format);
        Line {
            physical: physical.len().max(1),
            raw,
            text,
            kind,
        }
    }
}

/// A pg_hba.conf or pool_hba.conf file, kept line for line.
#[derive(Debug, Clone)]
pub struct HbaFile {
    format: Format,
    lines: Vec<Line>,
}

/// Reads one logical line from the start of `physical` as the server does; returns its text
/// and how many physical lines it spans. PostgreSQL (15+) appends the next line while the text
/// (trailing CR/LF removed) ends with a backslash that is past the previous join point, and
/// drops that backslash, also at the end of the file. Pgpool-II has no continuations.
fn join_logical(physical: &[String], format: Format) -> (String, usize) {
    let mut buf = String::new();
    let mut last_backslash = 0;
    let mut used = 0;
    for p in physical {
        used += 1;
        buf.push_str(p);
        let keep = buf.trim_end_matches(['\r', '\n']).len();
        buf.truncate(keep);
        if format == Format::PgHba && buf.len() > last_backslash && buf.ends_with('\\') {
            buf.pop();
            last_backslash = buf.len();
            continue;
        }
        break;
    }
    (buf, used)
}

fn classify(text: &str, format: Format) -> Kind {
    let tokenized = match tokenize(text, format) {
        Ok(t) => t,
        Err(e) => return Kind::Invalid(e),
    };
    if tokenized.fields.is_empty() {
        return if tokenized.comment.is_some() { Kind::Comment } else { Kind::Blank };
    }
    match parse_record(&tokenized.fields, format) {
        Ok(Record::Rule(rule, _)) => Kind::Rule(rule),
        Ok(Record::Include(inc)) => Kind::Include(inc),
        Ok(Record::Empty) => Kind::Blank,
        Err(e) => Kind::Invalid(e),
    }
}

impl HbaFile {
    /// Reads a file. Never fails: unreadable lines are kept and reported by
    /// [`HbaFile::issues`].
    pub fn parse(text: &str, format: Format) -> Self {
        let physical = lines::split(text);
        let mut lines = Vec::new();
        let mut i = 0;
        while i < physical.len() {
            let (_, used) = join_logical(&physical[i..], format);
            let raw: String = physical[i..i + used].concat();
            lines.push(Line::new(raw, format));
            i += used;
        }
        HbaFile { format, lines }
    }

    /// The file's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// 1-based physical line number of each logical line.
    fn numbers(&self) -> impl Iterator<Item = (usize, &Line)> {
        self.lines.iter().scan(1usize, |n, l| {
            let here = *n;
            *n += l.physical;
            Some((here, l))
        })
    }

    /// The rules with the 1-based number of their (first) line, in file order.
    pub fn rules(&self) -> impl Iterator<Item = (usize, &Rule)> {
        self.numbers().filter_map(|(n, l)| match &l.kind {
            Kind::Rule(r) => Some((n, r)),
            _ => None,
        })
    }

    /// Include directives (PostgreSQL 16+) with their line numbers; the included files are
    /// not read.
    pub fn includes(&self) -> Vec<(usize, &Include)> {
        self.numbers()
            .filter_map(|(n, l)| match &l.kind {
                Kind::Include(i) => Some((n, i)),
                _ => None,
            })
            .collect()
    }

    /// Lines that could not be read, with the number of their first physical line.
    pub fn issues(&self) -> Vec<Issue<HbaError>> {
        self.numbers()
            .filter_map(|(n, l)| match &l.kind {
                Kind::Invalid(e) => Some(Issue { line: n, error: e.clone() }),
                _ => None,
            })
            .collect()
    }

    /// The first rule with this identity.
    pub fn find(&self, key: &RuleKey) -> Option<(usize, &Rule)> {
        self.rules().find(|(_, r)| r.key() == *key)
    }
}

impl fmt::Display for HbaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            f.write_str(&l.raw)?;
        }
        Ok(())
    }
}
