//! One lossless engine for the line-oriented credential files: `.pgpass` and `.pcppass`
//! ([`PassFile`](crate::pgpass::PassFile)), Pgpool-II's `pool_passwd`
//! ([`PoolPasswd`](crate::pool_passwd::PoolPasswd)) and `pcp.conf`
//! ([`PcpConf`](crate::pcp::PcpConf)).
//!
//! In these files every physical line stands alone: it is an entry, a comment, a blank line,
//! or a line the reader cannot use. A [`LineStore`] keeps each line's bytes, so writing an
//! unedited file ([`std::fmt::Display`]) gives the input back byte for byte, CRLF endings, a
//! missing final newline and unreadable lines included. An edit rewrites, inserts or removes
//! whole lines and touches no other line (but for giving a last line without a line break one
//! when a line is appended after it).
//!
//! What differs between the formats is stated once by their [`Entry`] type: how one line
//! reads, how an entry is written, what identifies it, what makes a readable entry unusable,
//! and whether the reader takes a CR before the LF as data.

use std::fmt;

use crate::edit::lines;
use crate::edit::{Change, Issue};

/// What one physical line of a file is, as the format's reader sees it.
#[derive(Debug, Clone)]
pub enum LineKind<E: Entry> {
    /// An empty line, or one of blanks only.
    Blank,
    /// A comment line.
    Comment,
    /// An entry.
    Entry(E),
    /// A line the reader cannot use, and why.
    Invalid(E::Error),
}

/// An entry of a line-oriented file: the rules of its format that the engine follows.
pub trait Entry: Clone + PartialEq + fmt::Debug {
    /// The variants of the format that read lines differently (`.pgpass` or `.pcppass`);
    /// `()` for a format that has one.
    type Format: Copy + fmt::Debug;
    /// What is wrong with a line or an entry.
    type Error: Clone + fmt::Debug;
    /// What identifies an entry: a user name, or every field but the password.
    type Key: ?Sized;
    /// The file type's name in `Debug` output.
    const NAME: &'static str;

    /// Reads one physical line (with its line break, if any) as the format's reader does.
    fn read(raw: &str, format: Self::Format) -> LineKind<Self>;

    /// The entry's identity.
    fn key(&self) -> &Self::Key;

    /// Whether the entry has the identity `key`.
    fn has_key(&self, key: &Self::Key) -> bool;

    /// The line for this entry, without a line break.
    fn render(&self) -> String;

    /// The line that replaces `old_raw`, a line holding an entry with the same key, without a
    /// line break: [`Entry::render`] unless the format keeps part of the old line.
    fn render_over(&self, old_raw: &str) -> String {
        let _ = old_raw;
        self.render()
    }

    /// Whether the line `raw`, read as `self`, already is what writing `new` gives: by default
    /// when the two entries are equal.
    fn unchanged(&self, new: &Self, raw: &str) -> bool {
        let _ = raw;
        self == new
    }

    /// Why the reader cannot use this entry as intended although the line `raw` reads as one;
    /// reported by [`LineStore::issues`]. Nothing by default.
    fn problem(&self, raw: &str) -> Option<Self::Error> {
        let _ = raw;
        None
    }

    /// Whether the reader takes a CR before the LF as data. Then new lines end with LF alone
    /// and a rewritten line loses its CR; otherwise new lines end as most lines of the file do
    /// and a rewritten line keeps its own ending.
    fn lf_only(format: Self::Format) -> bool {
        let _ = format;
        false
    }
}

#[derive(Clone)]
struct Line<E: Entry> {
    /// The line exactly as read, line break included.
    raw: String,
    kind: LineKind<E>,
}

impl<E: Entry> Line<E> {
    fn read(raw: String, format: E::Format) -> Self {
        let kind = E::read(&raw, format);
        Line { raw, kind }
    }

    fn entry(&self) -> Option<&E> {
        match &self.kind {
            LineKind::Entry(e) => Some(e),
            _ => None,
        }
    }
}

/// A line-oriented file kept line for line. The format's own type is an alias of this one
/// ([`PassFile`](crate::pgpass::PassFile), [`PoolPasswd`](crate::pool_passwd::PoolPasswd),
/// [`PcpConf`](crate::pcp::PcpConf)), which adds its `parse` and `upsert`. `Debug` shows the
/// entries (through their own `Debug`, which hides secrets) and the number of lines, never the
/// lines' text.
#[derive(Clone)]
pub struct LineStore<E: Entry> {
    format: E::Format,
    lines: Vec<Line<E>>,
}

impl<E: Entry> Default for LineStore<E>
where
    E::Format: Default,
{
    fn default() -> Self {
        LineStore {
            format: E::Format::default(),
            lines: Vec::new(),
        }
    }
}

impl<E: Entry> fmt::Debug for LineStore<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(E::NAME)
            .field("format", &self.format)
            .field("entries", &self.entries().collect::<Vec<_>>())
            .field("lines", &self.lines.len())
            .finish()
    }
}

impl<E: Entry> fmt::Display for LineStore<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            f.write_str(&l.raw)?;
        }
        Ok(())
    }
}

impl<E: Entry> LineStore<E> {
    /// Reads a file in `format`. Never fails: lines that are not entries are kept and reported
    /// by [`LineStore::issues`].
    pub fn read(text: &str, format: E::Format) -> Self {
        let lines = lines::split(text).into_iter().map(|raw| Line::read(raw, format)).collect();
        LineStore { format, lines }
    }

    /// The file's format.
    pub fn format(&self) -> E::Format {
        self.format
    }

    /// The entries with their 1-based line numbers, in file order.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &E)> {
        self.lines.iter().enumerate().filter_map(|(i, l)| Some((i + 1, l.entry()?)))
    }

    /// Lines the reader cannot use (as intended), with their 1-based numbers.
    pub fn issues(&self) -> Vec<Issue<E::Error>> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let error = match &l.kind {
                    LineKind::Invalid(e) => e.clone(),
                    LineKind::Entry(e) => e.problem(&l.raw)?,
                    LineKind::Blank | LineKind::Comment => return None,
                };
                Some(Issue { line: i + 1, error })
            })
            .collect()
    }

    /// The first entry with identity `key` and its line number (the one the reader uses).
    pub fn find(&self, key: &E::Key) -> Option<(usize, &E)> {
        self.entries().find(|(_, e)| e.has_key(key))
    }

    /// The first entry with identity `key` (the one the reader uses).
    pub fn get(&self, key: &E::Key) -> Option<&E> {
        self.find(key).map(|(_, e)| e)
    }

    /// Removes every entry with identity `key`.
    pub fn remove(&mut self, key: &E::Key) -> Change {
        let mut removed = Vec::new();
        let mut number = 0;
        self.lines.retain(|l| {
            number += 1;
            let hit = l.entry().is_some_and(|e| e.has_key(key));
            if hit {
                removed.push(number);
            }
            !hit
        });
        if removed.is_empty() {
            Change::Unchanged
        } else {
            Change::Removed { lines: removed }
        }
    }

    /// The raw text of every line, line breaks included, in file order.
    pub(crate) fn raw_lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|l| l.raw.as_str())
    }

    /// The 0-based index of the first entry line for which `pred(raw, entry)` holds.
    pub(crate) fn position(&self, pred: impl Fn(&str, &E) -> bool) -> Option<usize> {
        self.lines.iter().position(|l| l.entry().is_some_and(|e| pred(&l.raw, e)))
    }

    /// Makes `entry` present (the caller has validated it): the first entry with its key is
    /// rewritten in place, unless it already reads as `entry`; without one, a line is inserted
    /// before the 0-based line `at` (at the end for `None`).
    pub(crate) fn put(&mut self, entry: &E, at: Option<usize>) -> Change {
        let Some(index) = self.position(|_, e| e.has_key(entry.key())) else {
            let line = self.insert(at.unwrap_or(self.lines.len()), &entry.render());
            return Change::Added { line: line + 1 };
        };
        let old = &self.lines[index];
        if old.entry().is_some_and(|e| e.unchanged(entry, &old.raw)) {
            return Change::Unchanged;
        }
        let body = entry.render_over(&old.raw);
        let raw = if E::lf_only(self.format) {
            if old.raw.ends_with('\n') {
                format!("{body}\n")
            } else {
                body
            }
        } else {
            lines::replace(&old.raw, &body)
        };
        self.lines[index] = Line::read(raw, self.format);
        Change::Updated { line: index + 1 }
    }

    /// Takes the entry line at the 0-based index `from` out and writes `entry` anew before the
    /// line `to` (`to < from`).
    pub(crate) fn move_to(&mut self, from: usize, to: usize, entry: &E) -> Change {
        self.lines.remove(from);
        let to = self.insert(to, &entry.render());
        Change::Moved {
            from: from + 1,
            to: to + 1,
        }
    }

    /// Inserts a line with `body` before the 0-based line `index` (appends when past the end),
    /// ending it as the format wants; returns where it went.
    fn insert(&mut self, index: usize, body: &str) -> usize {
        let nl = if E::lf_only(self.format) {
            "\n"
        } else {
            lines::newline(self.raw_lines())
        };
        let index = index.min(self.lines.len());
        let format = self.format;
        let at_end = index == self.lines.len();
        let last = self.lines.last_mut().filter(|_| at_end);
        let raw = match last {
            Some(last) => {
                let raw = lines::new_line(Some(&mut last.raw), body, nl);
                // The last line may just have got its line break.
                *last = Line::read(std::mem::take(&mut last.raw), format);
                raw
            }
            None => lines::new_line(None, body, nl),
        };
        self.lines.insert(index, Line::read(raw, format));
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy format: `key=value` lines, `;` comments; `Crlf` readers keep a CR as data.
    #[derive(Debug, Clone, PartialEq)]
    struct Toy {
        key: String,
        value: String,
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Dialect {
        Plain,
        CrIsData,
    }

    impl Entry for Toy {
        type Format = Dialect;
        type Error = &'static str;
        type Key = str;
        const NAME: &'static str = "Toy";

        fn read(raw: &str, format: Dialect) -> LineKind<Self> {
            let body = match format {
                Dialect::Plain => lines::strip_crlf(raw),
                Dialect::CrIsData => lines::body(raw),
            };
            if body.trim().is_empty() {
                return LineKind::Blank;
            }
            if body.starts_with(';') {
                return LineKind::Comment;
            }
            match body.split_once('=') {
                Some((k, v)) => LineKind::Entry(Toy {
                    key: k.to_owned(),
                    value: v.to_owned(),
                }),
                None => LineKind::Invalid("no '='"),
            }
        }
        fn key(&self) -> &str {
            &self.key
        }
        fn has_key(&self, key: &str) -> bool {
            self.key == key
        }
        fn render(&self) -> String {
            format!("{}={}", self.key, self.value)
        }
        fn problem(&self, _raw: &str) -> Option<&'static str> {
            self.value.is_empty().then_some("empty value")
        }
        fn lf_only(format: Dialect) -> bool {
            format == Dialect::CrIsData
        }
    }

    fn toy(key: &str, value: &str) -> Toy {
        Toy {
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn keeps_every_byte_and_reports_lines() {
        for text in ["", "\n", "a=1", "a=1\r\n; c\n\n  \njunk\r\nb=\n", "\r", "x=1\rb=2"] {
            let s = LineStore::<Toy>::read(text, Dialect::Plain);
            assert_eq!(s.to_string(), text);
        }
        let s = LineStore::<Toy>::read("a=1\r\n; c\njunk\nb=\na=2", Dialect::Plain);
        assert_eq!(
            s.entries().map(|(n, e)| (n, e.key.as_str())).collect::<Vec<_>>(),
            [(1, "a"), (4, "b"), (5, "a")]
        );
        assert_eq!(s.get("a").map(|e| e.value.as_str()), Some("1"));
        assert_eq!(s.find("b").map(|(n, _)| n), Some(4));
        assert_eq!(
            s.issues(),
            [
                Issue { line: 3, error: "no '='" },
                Issue {
                    line: 4,
                    error: "empty value"
                }
            ]
        );
        assert!(format!("{s:?}").starts_with("Toy { format: Plain, entries: "));
    }

    #[test]
    fn put_rewrites_in_place_or_appends_in_the_file_style() {
        let mut s = LineStore::<Toy>::read("; c\r\na=1\r\nb=2", Dialect::Plain);
        assert_eq!(s.put(&toy("a", "1"), None), Change::Unchanged);
        assert_eq!(s.put(&toy("a", "9"), None), Change::Updated { line: 2 });
        assert_eq!(s.put(&toy("c", "3"), None), Change::Added { line: 4 });
        assert_eq!(s.to_string(), "; c\r\na=9\r\nb=2\r\nc=3");
        assert_eq!(s.put(&toy("d", "4"), Some(1)), Change::Added { line: 2 });
        assert_eq!(s.to_string(), "; c\r\nd=4\r\na=9\r\nb=2\r\nc=3");
        assert_eq!(s.move_to(4, 0, &toy("c", "5")), Change::Moved { from: 5, to: 1 });
        assert_eq!(s.to_string(), "c=5\r\n; c\r\nd=4\r\na=9\r\nb=2\r\n");
        assert_eq!(s.remove("a"), Change::Removed { lines: vec![4] });
        assert_eq!(s.remove("a"), Change::Unchanged);
    }

    #[test]
    fn lf_only_formats_drop_the_cr_they_would_read_as_data() {
        let mut s = LineStore::<Toy>::read("a=1\r\nb=2\r\n", Dialect::CrIsData);
        assert_eq!(s.get("a").map(|e| e.value.as_str()), Some("1\r"));
        assert_eq!(s.put(&toy("a", "1"), None), Change::Updated { line: 1 });
        assert_eq!(s.put(&toy("c", "3"), None), Change::Added { line: 3 });
        assert_eq!(s.to_string(), "a=1\nb=2\r\nc=3\n");
    }
}
