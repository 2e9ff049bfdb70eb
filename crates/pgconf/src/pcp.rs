//! Pgpool-II's `pcp.conf`: one `user:md5hex(password)` line per PCP user.
//!
//! Pgpool-II 4.3 (`user_authenticate` in `pcp_worker.c`) skips lines that are empty or start
//! with `#`; in every other line it reads the user name up to the first `:` (no escapes; at
//! most 128 bytes) and the hash up to the end of the line, `\r` included. A line with no `:`
//! makes PCP authentication fail for everyone listed after it, so such lines are reported.

use std::fmt;

use crate::edit::lines;
pub use crate::edit::{Change, Issue};
use crate::line_store::{Entry, LineKind, LineStore};

/// The longest user name or hash Pgpool-II reads from pcp.conf (`MAX_USER_PASSWD_LEN`).
pub const MAX_FIELD_LEN: usize = 128;

/// What is wrong with a pcp.conf line or a new entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PcpError {
    /// The line has no `:` (Pgpool-II then fails every PCP login it reads past this line).
    #[error("no ':' between user name and password hash")]
    NoSeparator,
    /// The user name is empty.
    #[error("the user name is empty")]
    EmptyUser,
    /// The user name holds a character pcp.conf cannot store (`:`, a line break, a NUL or
    /// another control character), or starts with `#`.
    #[error("the user name cannot hold ':', line breaks or control characters, nor start with '#'")]
    BadUser,
    /// A user name or hash longer than Pgpool-II reads.
    #[error("the {0} is longer than {MAX_FIELD_LEN} bytes")]
    TooLong(&'static str),
    /// The stored value is not 32 lower-case hex digits (the md5 of the password), so no
    /// password can match it.
    #[error("the password hash is not 32 lower-case hex digits (md5 of the password)")]
    NotMd5,
    /// The line ends with `\r\n`: Pgpool-II reads the `\r` as part of the hash.
    #[error("the line ends with CR LF; Pgpool-II reads the CR as part of the hash")]
    CarriageReturn,
}

/// One pcp.conf entry. `Debug` does not show the hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PcpEntry {
    /// The PCP user name.
    pub user: String,
    /// The stored hash: md5hex of the password (what `pg_md5 PASSWORD` prints).
    pub hash: String,
}

impl fmt::Debug for PcpEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcpEntry")
            .field("user", &self.user)
            .field("is_md5", &self.is_md5())
            .finish_non_exhaustive()
    }
}

impl PcpEntry {
    /// Whether the hash is 32 lower-case hex digits, the only form Pgpool-II can match.
    pub fn is_md5(&self) -> bool {
        is_md5_hex(&self.hash)
    }
}

fn is_md5_hex(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A pcp.conf file, kept line for line by the [`LineStore`] engine. `Debug` shows no hash.
pub type PcpConf = LineStore<PcpEntry>;

impl Entry for PcpEntry {
    type Format = ();
    type Error = PcpError;
    type Key = str;
    const NAME: &'static str = "PcpConf";

    fn read(raw: &str, _: ()) -> LineKind<Self> {
        let body = lines::body(raw);
        if body.is_empty() {
            return LineKind::Blank;
        }
        if body.starts_with('#') {
            return LineKind::Comment;
        }
        let Some((user, hash)) = body.split_once(':') else {
            return LineKind::Invalid(PcpError::NoSeparator);
        };
        if user.len() > MAX_FIELD_LEN {
            return LineKind::Invalid(PcpError::TooLong("user name"));
        }
        let hash = hash.strip_suffix('\r').unwrap_or(hash);
        LineKind::Entry(PcpEntry {
            user: user.to_owned(),
            hash: hash.to_owned(),
        })
    }

    /// Entries are identified by user name.
    fn key(&self) -> &str {
        &self.user
    }

    fn has_key(&self, user: &str) -> bool {
        self.user == user
    }

    fn render(&self) -> String {
        format!("{}:{}", self.user, self.hash)
    }

    /// A line ending in CR LF is rewritten even with the same hash: Pgpool-II reads the CR as
    /// part of the hash.
    fn unchanged(&self, new: &Self, raw: &str) -> bool {
        self == new && !lines::body(raw).ends_with('\r')
    }

    fn problem(&self, raw: &str) -> Option<PcpError> {
        if raw.ends_with("\r\n") {
            Some(PcpError::CarriageReturn)
        } else if self.hash.len() > MAX_FIELD_LEN {
            Some(PcpError::TooLong("password hash"))
        } else if !self.is_md5() {
            Some(PcpError::NotMd5)
        } else {
            None
        }
    }

    /// Pgpool-II reads a CR before the LF as part of the hash: lines end with LF alone.
    fn lf_only(_: ()) -> bool {
        true
    }
}

impl PcpConf {
    /// Reads a pcp.conf file. Never fails: unreadable lines are kept and reported by
    /// [`PcpConf::issues`].
    pub fn parse(text: &str) -> Self {
        Self::read(text, ())
    }

    /// Sets `user`'s hash (md5hex of the password; upper-case hex is written in lower case),
    /// rewriting the user's first line in place or appending a line.
    pub fn upsert(&mut self, user: &str, hash: &str) -> Result<Change, PcpError> {
        if user.is_empty() {
            return Err(PcpError::EmptyUser);
        }
        if user.contains([':', '\n', '\r']) || user.starts_with('#') || crate::edit::forbidden_char(user).is_some() {
            return Err(PcpError::BadUser);
        }
        if user.len() > MAX_FIELD_LEN {
            return Err(PcpError::TooLong("user name"));
        }
        let hash = hash.to_ascii_lowercase();
        if !is_md5_hex(&hash) {
            return Err(PcpError::NotMd5);
        }
        let entry = PcpEntry {
            user: user.to_owned(),
            hash,
        };
        Ok(self.put(&entry, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "e8a48653851e28c69d0506508fb27fc5";

    #[test]
    fn round_trip_and_issues() {
        let text = format!("# USERID:MD5PASSWD\n\npcp:{HASH}\n  \nplain:notahash\ncr:{HASH}\r\nlast:{HASH}");
        let f = PcpConf::parse(&text);
        assert_eq!(f.to_string(), text);
        let users: Vec<_> = f.entries().map(|(n, e)| (n, e.user.as_str())).collect();
        assert_eq!(users, vec![(3, "pcp"), (5, "plain"), (6, "cr"), (7, "last")]);
        assert_eq!(
            f.issues(),
            vec![
                Issue {
                    line: 4,
                    error: PcpError::NoSeparator
                },
                Issue {
                    line: 5,
                    error: PcpError::NotMd5
                },
                Issue {
                    line: 6,
                    error: PcpError::CarriageReturn
                },
            ]
        );
    }

    #[test]
    fn upsert_and_remove() {
        let mut f = PcpConf::parse("# c\npcp:00000000000000000000000000000000\n");
        assert_eq!(f.upsert("pcp", &HASH.to_uppercase()), Ok(Change::Updated { line: 2 }));
        assert_eq!(f.to_string(), format!("# c\npcp:{HASH}\n"));
        assert_eq!(f.upsert("pcp", HASH), Ok(Change::Unchanged));
        assert_eq!(f.upsert("admin", HASH), Ok(Change::Added { line: 3 }));
        assert_eq!(f.to_string(), format!("# c\npcp:{HASH}\nadmin:{HASH}\n"));
        assert_eq!(f.remove("pcp"), Change::Removed { lines: vec![2] });
        assert_eq!(f.to_string(), format!("# c\nadmin:{HASH}\n"));
        assert_eq!(f.upsert("a:b", HASH), Err(PcpError::BadUser));
        assert_eq!(f.upsert("#a", HASH), Err(PcpError::BadUser));
        assert_eq!(f.upsert("a", "pw"), Err(PcpError::NotMd5));
        assert_eq!(f.upsert("", HASH), Err(PcpError::EmptyUser));
    }

    #[test]
    fn debug_hides_hashes() {
        let f = PcpConf::parse(&format!("pcp:{HASH}\n"));
        assert!(!format!("{f:?}").contains(HASH));
    }

    #[test]
    fn rewriting_a_crlf_line_drops_the_cr() {
        let mut f = PcpConf::parse(&format!("pcp:{HASH}\r\n"));
        let other = "0123456789abcdef0123456789abcdef";
        assert_eq!(f.upsert("pcp", other), Ok(Change::Updated { line: 1 }));
        assert_eq!(f.to_string(), format!("pcp:{other}\n"));
        assert!(f.issues().is_empty());
    }
}
