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
//! # Memory
//!
//! An [`HbaFile`] keeps the text it read (borrowed with [`HbaFile::parse_borrowed`], copied
//! by [`HbaFile::parse`]) and, per logical line, where it is, what it is and a digest of a
//! rule's identity: 32 bytes a line, no parsed copy of any line. Every line is read once to
//! classify it (and to find the lines the server would reject); a rule is read again only
//! when it is asked for: by [`HbaFile::rules`], or when its digest is that of a key looked
//! for. Edits never change the text read: a rewritten or new line is written after the text
//! of earlier edits, and [`HbaFile::pieces`] gives the new file as runs of the old text and
//! the lines written, to compare or write without putting the file together.
//!
//! # Layout of this module
//!
//! This file holds [`HbaFile`] and its reading API; the value types (rules, addresses,
//! errors) are in `model`, the field tokenizer in `lex`, the reading of one record in
//! `record`, and the edits ([`HbaFile::upsert`], [`HbaFile::remove`]) with the column
//! layout of new lines in `edit`. All public items are re-exported here.

use std::borrow::Cow;
use std::fmt;

use crate::edit::lines;
pub use crate::edit::{Change, IncludeKind, Issue};

mod edit;
mod lex;
mod model;
mod record;
#[cfg(test)]
mod tests;

#[cfg(test)]
use lex::owned::tokenize;
use lex::{lex, lex_into, Lexed};
pub use model::{Address, AuthOption, ConnectionType, Format, HbaError, Include, Mask, Method, Position, Rule, RuleKey, Token};
use record::{parse_record, Record, RuleView};

/// What a logical line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Blank,
    Comment,
    Rule,
    /// An include directive; [`Line::include`] says which.
    Include,
    Invalid,
}

/// One logical line: one or more physical lines (joined by `\` continuations). Only where its
/// text is and what it is are kept: a rule is read again from the text when it is needed.
#[derive(Debug, Clone, Copy)]
struct Line {
    /// The byte range of the physical lines with their line breaks, exactly as read: in the
    /// text read, or (`added`) in the text an edit wrote.
    start: usize,
    end: usize,
    /// For a rule, [`RuleKey::digest`] of its identity: only a line with the digest of a key
    /// is read again to compare it with the key.
    digest: u64,
    /// For an include directive, its index in [`HbaFile::includes`] (`u32`: a file of more
    /// include directives would be over 40 GB).
    include: u32,
    kind: Kind,
    /// For a rule, the index of its method field (3, 4 or 5).
    method: u8,
    added: bool,
    /// The text the server tokenizes is not simply the line without its line break: the line
    /// is continued, or ends with a backslash that is dropped.
    joined: bool,
}

/// What reading a logical line found: what it is, and what a [`Line`] keeps of it.
struct Read {
    kind: Kind,
    include: Option<Include>,
    digest: u64,
    method: u8,
}

/// A pg_hba.conf or pool_hba.conf file, kept line for line: the text as read (borrowed with
/// [`HbaFile::parse_borrowed`]), the text of the lines edits wrote, and where each line is and
/// what it is. Rules are read from the text again when they are asked for, so a file of
/// 10,000 rules costs its text and a few words a line.
#[derive(Debug, Clone)]
pub struct HbaFile<'a> {
    format: Format,
    /// The text read; never changed.
    text: Cow<'a, str>,
    /// The lines edits wrote (new and rewritten lines, and a last line given its line break).
    added: String,
    lines: Vec<Line>,
    /// Include directives as read.
    includes: Vec<Include>,
}

/// Reads one logical line from `text` at `start` as the server does; returns where it ends
/// (after its last line break), how many physical lines it spans and the text the server
/// tokenizes. PostgreSQL (15+) appends the next line while the text (trailing CR/LF removed)
/// ends with a backslash that is past the previous join point, and drops that backslash, also
/// at the end of the file. Pgpool-II has no continuations.
fn logical_at(text: &str, start: usize, format: Format) -> (usize, usize, Cow<'_, str>) {
    let line_end = |from: usize| text[from..].find('\n').map_or(text.len(), |i| from + i + 1);
    if start >= text.len() {
        return (start, 0, Cow::Borrowed(""));
    }
    let end = line_end(start);
    let first = text[start..end].trim_end_matches(['\r', '\n']);
    if format != Format::PgHba || !first.ends_with('\\') {
        return (end, 1, Cow::Borrowed(first));
    }
    let mut buf = String::new();
    let mut last_backslash = 0;
    let mut used = 0;
    let mut pos = start;
    while pos < text.len() {
        let next = line_end(pos);
        used += 1;
        buf.push_str(&text[pos..next]);
        pos = next;
        let keep = buf.trim_end_matches(['\r', '\n']).len();
        buf.truncate(keep);
        if buf.len() > last_backslash && buf.ends_with('\\') {
            buf.pop();
            last_backslash = buf.len();
            continue;
        }
        break;
    }
    (pos, used, Cow::Owned(buf))
}

/// What the logical line `text` is, its tokens read into `lexed`.
fn classify<'t>(text: &'t str, format: Format, lexed: &mut Lexed<'t>) -> Read {
    let kind = |kind| Read {
        kind,
        include: None,
        digest: 0,
        method: 0,
    };
    if lex_into(text, format, lexed).is_err() {
        return kind(Kind::Invalid);
    }
    if lexed.is_empty() {
        return kind(if lexed.comment.is_some() { Kind::Comment } else { Kind::Blank });
    }
    match parse_record(lexed, format) {
        Ok(Record::Rule(rule)) => Read {
            kind: Kind::Rule,
            include: None,
            digest: RuleKey::digest_of(&rule),
            // The method is the 4th, 5th or 6th field.
            method: u8::try_from(rule.method_index).unwrap_or(u8::MAX),
        },
        Ok(Record::Include(inc)) => Read {
            include: Some(inc),
            ..kind(Kind::Include)
        },
        Ok(Record::Empty) => kind(Kind::Blank),
        Err(_) => kind(Kind::Invalid),
    }
}

impl HbaFile<'static> {
    /// Reads a file (a copy of `text`). Never fails: unreadable lines are kept and reported by
    /// [`HbaFile::issues`].
    pub fn parse(text: &str, format: Format) -> Self {
        HbaFile::read(Cow::Owned(text.to_owned()), format)
    }
}

impl<'a> HbaFile<'a> {
    /// Reads a file as [`HbaFile::parse`] does, keeping `text` borrowed (an editor of a large
    /// file then holds no second copy of it).
    pub fn parse_borrowed(text: &'a str, format: Format) -> Self {
        HbaFile::read(Cow::Borrowed(text), format)
    }

    fn read(text: Cow<'a, str>, format: Format) -> Self {
        let mut lines = Vec::new();
        let mut includes = Vec::new();
        {
            let t: &str = &text;
            let mut lexed = Lexed::default();
            let mut pos = 0;
            while pos < t.len() {
                let (end, physical, logical) = logical_at(t, pos, format);
                let joined = matches!(logical, Cow::Owned(_)) || physical > 1;
                let read = match logical {
                    Cow::Borrowed(s) => classify(s, format, &mut lexed),
                    Cow::Owned(s) => classify(&s, format, &mut Lexed::default()),
                };
                lines.push(Line::new(pos, end, false, joined, read, &mut includes));
                pos = end;
            }
        }
        HbaFile {
            format,
            text,
            added: String::new(),
            lines,
            includes,
        }
    }

    /// The file's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The raw text of a line, line breaks included.
    fn raw(&self, l: &Line) -> &str {
        if l.added {
            &self.added[l.start..l.end]
        } else {
            &self.text[l.start..l.end]
        }
    }

    /// How many physical lines a line spans.
    fn physical(&self, l: &Line) -> usize {
        if l.joined {
            self.raw(l).split_inclusive('\n').count().max(1)
        } else {
            1
        }
    }

    /// A line for `raw` (one logical line), written after the text edits wrote before.
    fn new_line(&mut self, raw: &str) -> Line {
        let start = self.added.len();
        self.added.push_str(raw);
        let (_, _, logical) = logical_at(raw, 0, self.format);
        let physical = raw.split_inclusive('\n').count();
        let joined = matches!(logical, Cow::Owned(_)) || physical > 1;
        let read = classify(&logical, self.format, &mut Lexed::default());
        Line::new(start, self.added.len(), true, joined, read, &mut self.includes)
    }

    /// Reads line `l` again: `f` gets the text the server tokenizes and its tokens (in
    /// `scratch` when that text is a slice of the file). `None` when the line does not
    /// tokenize.
    fn reread<'s, R>(&'s self, l: &Line, scratch: &mut Lexed<'s>, f: impl FnOnce(&str, &Lexed<'_>) -> R) -> Option<R> {
        let raw = self.raw(l);
        if !l.joined {
            let text = raw.trim_end_matches(['\r', '\n']);
            lex_into(text, self.format, scratch).ok()?;
            return Some(f(text, scratch));
        }
        let (_, _, text) = logical_at(raw, 0, self.format);
        let lexed = lex(&text, self.format).ok()?;
        Some(f(&text, &lexed))
    }

    /// Reads rule line `l` again and gives its rule to `f`.
    fn with_rule<'s, R>(&'s self, l: &Line, scratch: &mut Lexed<'s>, f: impl FnOnce(&RuleView<'_>) -> R) -> Option<R> {
        if l.kind != Kind::Rule {
            return None;
        }
        self.reread(l, scratch, |_, lexed| match parse_record(lexed, self.format) {
            Ok(Record::Rule(rule)) => Some(f(&rule)),
            _ => None,
        })
        .flatten()
    }

    /// Whether line `l` is a rule with one of the identities `keys` (whose digests are
    /// `digests`). Only a line with one of the digests is read again.
    fn has_key<'s>(&'s self, l: &Line, keys: &[RuleKey], digests: &[u64], scratch: &mut Lexed<'s>) -> bool {
        l.kind == Kind::Rule
            && digests.contains(&l.digest)
            && self.with_rule(l, scratch, |r| keys.iter().any(|k| k.matches(r))) == Some(true)
    }

    /// 1-based physical line number of each logical line.
    fn numbers(&self) -> impl Iterator<Item = (usize, &Line)> {
        self.lines.iter().scan(1usize, |n, l| {
            let here = *n;
            *n += self.physical(l);
            Some((here, l))
        })
    }

    /// The rules with the 1-based number of their (first) line, in file order. Each is read
    /// from the text as the iterator reaches it.
    pub fn rules(&self) -> impl Iterator<Item = (usize, Rule)> + '_ {
        let mut scratch = Lexed::default();
        self.numbers()
            .filter_map(move |(n, l)| Some((n, self.with_rule(l, &mut scratch, |r| r.to_rule())?)))
    }

    /// The rules with one of these identities, with their line numbers, in file order. Only
    /// those rules are built.
    pub fn rules_matching<'s>(&'s self, keys: &'s [RuleKey]) -> impl Iterator<Item = (usize, Rule)> + 's {
        let mut scratch = Lexed::default();
        let digests: Vec<u64> = keys.iter().map(RuleKey::digest).collect();
        self.numbers().filter_map(move |(n, l)| {
            if !self.has_key(l, keys, &digests, &mut scratch) {
                return None;
            }
            Some((n, self.with_rule(l, &mut scratch, |r| r.to_rule())?))
        })
    }

    /// Include directives (PostgreSQL 16+) with their line numbers; the included files are
    /// not read.
    pub fn includes(&self) -> Vec<(usize, &Include)> {
        self.numbers()
            .filter(|(_, l)| l.kind == Kind::Include)
            .filter_map(|(n, l)| Some((n, self.includes.get(l.include as usize)?)))
            .collect()
    }

    /// Lines that could not be read, with the number of their first physical line.
    pub fn issues(&self) -> Vec<Issue<HbaError>> {
        self.numbers()
            .filter(|(_, l)| l.kind == Kind::Invalid)
            .filter_map(|(n, l)| {
                let (_, _, text) = logical_at(self.raw(l), 0, self.format);
                let error = match lex(&text, self.format) {
                    Err(e) => e,
                    Ok(lexed) => parse_record(&lexed, self.format).err()?,
                };
                Some(Issue { line: n, error })
            })
            .collect()
    }

    /// The first rule with this identity.
    pub fn find(&self, key: &RuleKey) -> Option<(usize, Rule)> {
        let mut scratch = Lexed::default();
        let (n, l) = self
            .numbers()
            .find(|(_, l)| self.has_key(l, std::slice::from_ref(key), &[key.digest()], &mut scratch))?;
        Some((n, self.with_rule(l, &mut scratch, |r| r.to_rule())?))
    }

    /// The file's text as consecutive slices: each run of lines that are still as read is one
    /// slice of the text read, each line an edit wrote one slice. Joined, they are
    /// [`HbaFile::to_string`](ToString::to_string); unedited, one slice, the text read.
    pub fn pieces(&self) -> impl Iterator<Item = &str> {
        let mut lines = self.lines.iter().peekable();
        std::iter::from_fn(move || {
            let first = lines.next()?;
            let mut end = first.end;
            if !first.added {
                while let Some(next) = lines.next_if(|n| !n.added && n.start == end) {
                    end = next.end;
                }
            }
            Some(self.raw(&Line { end, ..*first }))
        })
    }
}

impl Line {
    /// The line `start..end` (in the text read, or `added`) read as `read`; an include
    /// directive goes into `includes`.
    fn new(start: usize, end: usize, added: bool, joined: bool, read: Read, includes: &mut Vec<Include>) -> Line {
        let include = match read.include {
            Some(inc) => {
                includes.push(inc);
                u32::try_from(includes.len() - 1).unwrap_or(u32::MAX)
            }
            None => 0,
        };
        Line {
            start,
            end,
            digest: read.digest,
            include,
            kind: read.kind,
            method: read.method,
            added,
            joined,
        }
    }
}

impl fmt::Display for HbaFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in self.pieces() {
            f.write_str(piece)?;
        }
        Ok(())
    }
}
