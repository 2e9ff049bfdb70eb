//! What the editors of every format share: [`Change`] (what an edit did), [`Issue`] (a line
//! that could not be read), [`IncludeKind`], the characters no file may hold, and the physical
//! line handling of the line-based formats.

use std::fmt;

/// Which include directive a line is: the same three in postgresql.conf, pgpool.conf,
/// repmgr.conf and (PostgreSQL 16+) pg_hba.conf. They are reported, never followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncludeKind {
    /// `include 'file'`: the file must exist.
    File,
    /// `include_if_exists 'file'`: skipped when missing.
    FileIfExists,
    /// `include_dir 'dir'`: every `*.conf` in the directory, in name order.
    Directory,
}

impl IncludeKind {
    /// The directive as written: `include`, `include_if_exists`, `include_dir`.
    pub fn directive(self) -> &'static str {
        match self {
            IncludeKind::File => "include",
            IncludeKind::FileIfExists => "include_if_exists",
            IncludeKind::Directory => "include_dir",
        }
    }

    /// The directive named `name` (exactly as written; callers decide on case).
    pub fn from_directive(name: &str) -> Option<IncludeKind> {
        [IncludeKind::File, IncludeKind::FileIfExists, IncludeKind::Directory]
            .into_iter()
            .find(|k| k.directive() == name)
    }
}

/// The first character of `value` that no configuration file here can carry: a NUL byte
/// (PostgreSQL's and Pgpool-II's readers stop at it, so the rest of the line, or of the file,
/// silently disappears) or another ASCII control character but tab, line feed and carriage
/// return (line breaks are each format's own rule). DEL counts as a control character.
pub fn forbidden_char(value: &str) -> Option<char> {
    value
        .chars()
        .find(|&c| (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}')
}

/// How a forbidden character is named in messages.
pub fn describe_char(c: char) -> String {
    match c {
        '\0' => "a NUL byte".to_string(),
        c => format!("the control character U+{:04X}", c as u32),
    }
}

/// What an edit did to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Change {
    /// Nothing had to change: the file is byte-for-byte the same.
    Unchanged,
    /// A line was added; its 1-based line number in the edited file.
    Added {
        /// 1-based line number of the new line.
        line: usize,
    },
    /// An existing line was rewritten in place; its 1-based line number.
    Updated {
        /// 1-based line number of the rewritten line.
        line: usize,
    },
    /// An entry shadowed by an earlier wildcard line was taken out of its place and written
    /// again just before that line, so that it is the one libpq finds.
    Moved {
        /// 1-based line number of the entry before the edit.
        from: usize,
        /// 1-based line number of the entry after the edit.
        to: usize,
    },
    /// Lines were removed; their 1-based line numbers in the file before the edit.
    Removed {
        /// 1-based line numbers (before the edit) of the removed lines.
        lines: Vec<usize>,
    },
}

impl Change {
    /// Whether the file changed.
    pub fn is_changed(&self) -> bool {
        !matches!(self, Change::Unchanged)
    }
}

/// A line that could not be read: it is kept as it is and reported with its 1-based number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue<E> {
    /// 1-based line number (of the first physical line, for continued lines).
    pub line: usize,
    /// What is wrong with it.
    pub error: E,
}

impl<E: fmt::Display> fmt::Display for Issue<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

/// Line handling shared by the line-based formats of this crate.
pub(crate) mod lines {
    /// Splits `text` into physical lines, each keeping its `\n` (the last one may have none).
    /// Joining the pieces gives `text` back.
    pub(crate) fn split(text: &str) -> Vec<String> {
        text.split_inclusive('\n').map(str::to_owned).collect()
    }

    /// A line without its `\n` terminator (a `\r` before it stays).
    pub(crate) fn body(raw: &str) -> &str {
        raw.strip_suffix('\n').unwrap_or(raw)
    }

    /// A line without trailing `\r` and `\n` characters.
    pub(crate) fn strip_crlf(raw: &str) -> &str {
        raw.trim_end_matches(['\r', '\n'])
    }

    /// The line ending the file mostly uses: `"\r\n"` if most terminated lines end that way.
    pub(crate) fn newline<'a>(raws: impl Iterator<Item = &'a str>) -> &'static str {
        let (mut crlf, mut lf) = (0usize, 0usize);
        for raw in raws {
            if raw.ends_with("\r\n") {
                crlf += 1;
            } else if raw.ends_with('\n') {
                lf += 1;
            }
        }
        if crlf > lf {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// Makes the raw text of a new line. `last` is the file's current last line when the new
    /// line goes after it (`None` otherwise, or for an empty file): it gets a line break first
    /// if it has none, and then the new line has none either, so the file keeps its style.
    pub(crate) fn new_line(last: Option<&mut String>, body: &str, nl: &str) -> String {
        match last {
            Some(last) if !last.ends_with('\n') => {
                last.push_str(nl);
                body.to_owned()
            }
            _ => format!("{body}{nl}"),
        }
    }

    /// The raw text replacing an existing line: the new body with the old line's ending.
    pub(crate) fn replace(old_raw: &str, body: &str) -> String {
        let ending = if old_raw.ends_with("\r\n") {
            "\r\n"
        } else if old_raw.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        format!("{body}{ending}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_controls_but_not_whitespace() {
        assert_eq!(forbidden_char("a\0b"), Some('\0'));
        assert_eq!(forbidden_char("\u{1b}[1m"), Some('\u{1b}'));
        assert_eq!(forbidden_char("x\u{7f}"), Some('\u{7f}'));
        assert_eq!(forbidden_char("tab\tnl\ncr\ré"), None);
        assert_eq!(describe_char('\0'), "a NUL byte");
    }
}
