//! Pgpool-II's `pool_passwd`: one `user:secret` line per user.
//!
//! The secret is `md5` + 32 hex digits (PostgreSQL's md5 form), `AES` + base64 (written by
//! `pg_enc` with the `.pgpoolkey` key), `TEXT` + clear text, or clear text; Pgpool-II decides the
//! kind from the prefix ([`SecretKind`]). A line may go on with `:backend_user:backend_secret`
//! (a user mapping); that tail is kept when the secret is changed. Pgpool-II 4.3 reads fields
//! with `\` escaping the next character (so `\:` is a colon in a user name or secret) and keeps
//! at most 128 characters of a secret. It has no comments; lines starting with `#` are kept as
//! they are and not read as entries here.

use std::fmt;

use crate::edit::lines;
pub use crate::edit::{Change, Issue};
use crate::line_store::{Entry, LineKind, LineStore};

/// The longest secret Pgpool-II 4.3 reads from pool_passwd (`MAX_TOKEN_LEN`), in characters.
pub const MAX_SECRET_LEN: usize = 128;

/// The kind of a stored secret, decided as Pgpool-II's `get_password_type` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// `md5` followed by exactly 32 characters: md5(password + user).
    Md5,
    /// `AES` followed by base64: encrypted with the Pgpool-II key.
    Aes,
    /// `SCRAM-SHA-256$...`: a SCRAM verifier.
    Scram,
    /// `TEXT` followed by the clear-text password.
    Text,
    /// Anything else: the clear-text password itself.
    Plain,
}

impl SecretKind {
    /// The kind of `secret`.
    pub fn of(secret: &str) -> Self {
        if let Some(rest) = secret.strip_prefix("md5") {
            return if rest.chars().count() == 32 {
                SecretKind::Md5
            } else {
                SecretKind::Plain
            };
        }
        if secret.starts_with("AES") {
            SecretKind::Aes
        } else if secret.starts_with("SCRAM-SHA-256$") {
            SecretKind::Scram
        } else if secret.starts_with("TEXT") {
            SecretKind::Text
        } else {
            SecretKind::Plain
        }
    }
}

/// What is wrong with a pool_passwd line or a new entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PoolPasswdError {
    /// The line has no `:` between user and secret.
    #[error("no ':' between user name and password")]
    NoSeparator,
    /// The user name is empty.
    #[error("the user name is empty")]
    EmptyUser,
    /// The secret is empty.
    #[error("the password is empty")]
    EmptySecret,
    /// A value holds a line break.
    #[error("the {0} holds a line break")]
    LineBreak(&'static str),
    /// A value holds a NUL byte or another control character, which Pgpool-II does not keep.
    #[error("the {0} holds a NUL byte or another control character")]
    ControlChar(&'static str),
    /// The secret is longer than Pgpool-II reads.
    #[error("the password entry is {len} characters long; Pgpool-II reads at most {max}")]
    SecretTooLong {
        /// Length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// One pool_passwd entry (unescaped).
#[derive(Clone, PartialEq, Eq)]
pub struct PoolPasswdEntry {
    /// The user name.
    pub user: String,
    /// The stored secret, prefix included (`md5...`, `AES...`, `TEXT...` or clear text).
    pub secret: String,
}

impl fmt::Debug for PoolPasswdEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolPasswdEntry")
            .field("user", &self.user)
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

impl PoolPasswdEntry {
    /// The kind of the stored secret.
    pub fn kind(&self) -> SecretKind {
        SecretKind::of(&self.secret)
    }
}

/// A pool_passwd file, kept line for line by the [`LineStore`] engine. `Debug` shows no secret.
pub type PoolPasswd = LineStore<PoolPasswdEntry>;

impl Entry for PoolPasswdEntry {
    type Format = ();
    type Error = PoolPasswdError;
    type Key = str;
    const NAME: &'static str = "PoolPasswd";

    fn read(raw: &str, _: ()) -> LineKind<Self> {
        let body = lines::strip_crlf(raw);
        if body.starts_with('#') {
            return LineKind::Comment;
        }
        if body.trim().is_empty() {
            return LineKind::Blank;
        }
        let (user, rest) = next_field(body);
        let Some(rest) = rest else {
            return LineKind::Invalid(PoolPasswdError::NoSeparator);
        };
        if user.is_empty() {
            return LineKind::Invalid(PoolPasswdError::EmptyUser);
        }
        let (secret, _) = next_field(rest);
        if secret.is_empty() {
            return LineKind::Invalid(PoolPasswdError::EmptySecret);
        }
        LineKind::Entry(PoolPasswdEntry { user, secret })
    }

    /// Entries are identified by user name.
    fn key(&self) -> &str {
        &self.user
    }

    fn has_key(&self, user: &str) -> bool {
        self.user == user
    }

    fn render(&self) -> String {
        format!("{}:{}", escape(&self.user), escape(&self.secret))
    }

    /// A user-mapping tail (`:backend_user:backend_secret`) after the old secret is kept.
    fn render_over(&self, old_raw: &str) -> String {
        let (_, rest) = next_field(lines::strip_crlf(old_raw));
        let tail = rest.and_then(|r| next_field(r).1).map(|a| format!(":{a}"));
        format!("{}{}", self.render(), tail.unwrap_or_default())
    }

    /// A secret Pgpool-II cannot read whole.
    fn problem(&self, _raw: &str) -> Option<PoolPasswdError> {
        check_secret(&self.secret).err()
    }
}

impl PoolPasswd {
    /// Reads a pool_passwd file. Never fails: unreadable lines are kept and reported by
    /// [`PoolPasswd::issues`] (with lines whose secret Pgpool-II cannot use: too long).
    pub fn parse(text: &str) -> Self {
        Self::read(text, ())
    }

    /// Sets `user`'s secret (written as given: `md5...`, `AES...`, `TEXT...`), rewriting the
    /// user's first line in place (keeping a user-mapping tail) or appending a line.
    pub fn upsert(&mut self, user: &str, secret: &str) -> Result<Change, PoolPasswdError> {
        check_user(user)?;
        check_secret(secret)?;
        let entry = PoolPasswdEntry {
            user: user.to_owned(),
            secret: secret.to_owned(),
        };
        Ok(self.put(&entry, None))
    }
}

fn check_user(user: &str) -> Result<(), PoolPasswdError> {
    if user.is_empty() {
        return Err(PoolPasswdError::EmptyUser);
    }
    if user.contains(['\n', '\r']) {
        return Err(PoolPasswdError::LineBreak("user name"));
    }
    if crate::edit::forbidden_char(user).is_some() {
        return Err(PoolPasswdError::ControlChar("user name"));
    }
    Ok(())
}

fn check_secret(secret: &str) -> Result<(), PoolPasswdError> {
    if secret.is_empty() {
        return Err(PoolPasswdError::EmptySecret);
    }
    if secret.contains(['\n', '\r']) {
        return Err(PoolPasswdError::LineBreak("password"));
    }
    if crate::edit::forbidden_char(secret).is_some() {
        return Err(PoolPasswdError::ControlChar("password"));
    }
    let len = secret.chars().count();
    if len > MAX_SECRET_LEN {
        return Err(PoolPasswdError::SecretTooLong { len, max: MAX_SECRET_LEN });
    }
    Ok(())
}

/// Escapes `\` and `:` (and a leading `#`, which would make the line look like a comment here).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        if c == '\\' || c == ':' || (i == 0 && c == '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reads one field as Pgpool-II's `getNextToken` does: up to an unescaped `:`. Returns the
/// unescaped field and the rest after the colon (None if the line ended).
fn next_field(s: &str) -> (String, Option<&str>) {
    let mut out = String::new();
    let mut iter = s.char_indices();
    while let Some((i, c)) = iter.next() {
        match c {
            '\\' => match iter.next() {
                Some((_, n)) => out.push(n),
                None => out.push('\\'),
            },
            ':' => return (out, Some(&s[i + 1..])),
            _ => out.push(c),
        }
    }
    (out, None)
}

/// `text` with everything after each entry's user name replaced by `********` (the secret
/// and any user-mapping tail), for diffs of pool_passwd and pcp.conf.
pub fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        if body.trim().is_empty() || body.starts_with('#') {
            out.push_str(line);
            continue;
        }
        let mut escaped = false;
        let mut cut = None;
        for (i, c) in body.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == ':' {
                cut = Some(i + 1);
                break;
            }
        }
        let keep = cut.map(|i| &body[..i]).unwrap_or("");
        out.push_str(keep);
        out.push_str("********");
        out.push_str(ending);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_pgpool() {
        assert_eq!(SecretKind::of("md5aa7bb6fc2700e717ae61ec5c1567469c"), SecretKind::Md5);
        assert_eq!(SecretKind::of("md5short"), SecretKind::Plain);
        assert_eq!(SecretKind::of("AESCiZW1hVkVEQj8GvBPWKJqQ=="), SecretKind::Aes);
        assert_eq!(SecretKind::of("TEXTsecret"), SecretKind::Text);
        assert_eq!(SecretKind::of("SCRAM-SHA-256$4096:x$y:z"), SecretKind::Scram);
        assert_eq!(SecretKind::of("secret"), SecretKind::Plain);
    }

    #[test]
    fn round_trip_and_entries() {
        let text = "postgres:md5aa7bb6fc2700e717ae61ec5c1567469c\r\n# not pgpool syntax\n\nbad line\nc\\:d:AESabc:backend:pw\nx:TEXTa\\:b";
        let f = PoolPasswd::parse(text);
        assert_eq!(f.to_string(), text);
        let entries: Vec<_> = f.entries().map(|(n, e)| (n, e.user.as_str(), e.kind())).collect();
        assert_eq!(
            entries,
            vec![
                (1, "postgres", SecretKind::Md5),
                (5, "c:d", SecretKind::Aes),
                (6, "x", SecretKind::Text)
            ]
        );
        assert_eq!(f.get("x").map(|e| e.secret.as_str()), Some("TEXTa:b"));
        assert_eq!(
            f.issues(),
            vec![Issue {
                line: 4,
                error: PoolPasswdError::NoSeparator
            }]
        );
    }

    #[test]
    fn upsert_keeps_mapping_tail_and_style() {
        let mut f = PoolPasswd::parse("a:md5x:backend:pw\r\nb:TEXTold");
        assert_eq!(f.upsert("a", "TEXTnew"), Ok(Change::Updated { line: 1 }));
        assert_eq!(f.to_string(), "a:TEXTnew:backend:pw\r\nb:TEXTold");
        assert_eq!(f.upsert("a", "TEXTnew"), Ok(Change::Unchanged));
        assert_eq!(f.upsert("c:d", "TEXTp:w"), Ok(Change::Added { line: 3 }));
        assert_eq!(f.to_string(), "a:TEXTnew:backend:pw\r\nb:TEXTold\r\nc\\:d:TEXTp\\:w");
        assert_eq!(f.get("c:d").map(|e| e.secret.as_str()), Some("TEXTp:w"));
    }

    #[test]
    fn upsert_refuses_what_pgpool_cannot_read() {
        let mut f = PoolPasswd::parse("");
        assert_eq!(f.upsert("", "x"), Err(PoolPasswdError::EmptyUser));
        assert_eq!(f.upsert("u", ""), Err(PoolPasswdError::EmptySecret));
        assert_eq!(f.upsert("u", "a\nb"), Err(PoolPasswdError::LineBreak("password")));
        assert!(matches!(
            f.upsert("u", &"x".repeat(129)),
            Err(PoolPasswdError::SecretTooLong { len: 129, max: 128 })
        ));
        assert_eq!(f.to_string(), "");
    }

    #[test]
    fn remove_by_user() {
        let mut f = PoolPasswd::parse("a:1\nb:2\na:3\n");
        assert_eq!(f.remove("a"), Change::Removed { lines: vec![1, 3] });
        assert_eq!(f.to_string(), "b:2\n");
        assert_eq!(f.remove("a"), Change::Unchanged);
    }

    #[test]
    fn debug_hides_secret() {
        let f = PoolPasswd::parse("a:TEXTs3cr3t\n");
        assert!(!format!("{f:?}").contains("s3cr3t"));
        let e = f.get("a").unwrap();
        assert!(!format!("{e:?}").contains("s3cr3t"));
    }

    #[test]
    fn masks_everything_after_the_user() {
        assert_eq!(
            mask_secrets("# c\npostgres:AESabc=\nu\\:x:md5123:map\n"),
            "# c\npostgres:********\nu\\:x:********\n"
        );
    }
}
