//! Passwords inside libpq connection strings (`primary_conninfo`, repmgr's `conninfo`), found
//! so that a diff, a result or a message can show the string with the password masked.
//!
//! Both forms libpq reads are scanned (`conninfo_parse` and `conninfo_uri_parse` in
//! `fe-connect.c`): `keyword = value` pairs, where a value is bare (a backslash escapes the
//! next character) or single-quoted (`\'` and `\\` inside), and URIs
//! (`postgresql://user:password@host/db?password=...`). Keywords are matched without regard to
//! case, so that a misspelt `Password=` is masked too; masking more than libpq would read is
//! the safe side.

use std::ops::Range;

/// What a masked password reads as.
pub const MASK: &str = "********";

/// Byte ranges of the password values in `conninfo` (the value token, quotes included).
fn password_spans(s: &str) -> Vec<Range<usize>> {
    let t = s.trim_start();
    if t.starts_with("postgresql://") || t.starts_with("postgres://") {
        return uri_spans(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let k0 = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let keyword = &s[k0..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            // Not `keyword = value`: libpq fails on it; go on with the next word.
            continue;
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let v0 = i;
        if i < b.len() && b[i] == b'\'' {
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = i.min(b.len());
        }
        if keyword.eq_ignore_ascii_case("password") && i > v0 {
            out.push(v0..i);
        }
    }
    out
}

fn uri_spans(s: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let Some(scheme_end) = s.find("://").map(|p| p + 3) else {
        return out;
    };
    let rest = &s[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if let Some(at) = authority.rfind('@') {
        if let Some(colon) = authority[..at].find(':') {
            if at > colon + 1 {
                out.push(scheme_end + colon + 1..scheme_end + at);
            }
        }
    }
    if let Some(q) = s.find('?') {
        let mut start = q + 1;
        for pair in s[q + 1..].split('&') {
            if let Some((k, v)) = pair.split_once('=') {
                if k.eq_ignore_ascii_case("password") && !v.is_empty() {
                    let v0 = start + k.len() + 1;
                    out.push(v0..v0 + v.len());
                }
            }
            start += pair.len() + 1;
        }
    }
    out
}

/// Decodes a keyword/value token (quotes and backslashes) or a URI part (percent-encoding).
fn decode(token: &str) -> String {
    let inner = token.strip_prefix('\'').map(|t| t.strip_suffix('\'').unwrap_or(t)).unwrap_or(token);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every password in `conninfo`, each as libpq reads it and as it is written there (without
/// quotes), so that both can be scrubbed from output.
pub fn passwords(conninfo: &str) -> Vec<String> {
    let uri = conninfo.trim_start().starts_with("postgres");
    let mut out = Vec::new();
    for r in password_spans(conninfo) {
        let raw = &conninfo[r];
        let decoded = if uri { percent_decode(raw) } else { decode(raw) };
        let bare = raw.strip_prefix('\'').map(|t| t.strip_suffix('\'').unwrap_or(t)).unwrap_or(raw);
        for s in [decoded, bare.to_string()] {
            if !s.is_empty() && !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// `conninfo` with every password replaced by [`MASK`].
pub fn mask(conninfo: &str) -> String {
    let mut out = conninfo.to_string();
    for r in password_spans(conninfo).into_iter().rev() {
        out.replace_range(r, MASK);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_value_passwords_are_masked() {
        assert_eq!(
            mask("host=db1 user=repl password=s3cret application_name=n1"),
            "host=db1 user=repl password=******** application_name=n1"
        );
        assert_eq!(
            mask("host=db1 password = 'a b\\' c' port=5432"),
            "host=db1 password = ******** port=5432"
        );
        assert_eq!(mask("password=x\\ y"), "password=********");
        assert_eq!(mask("host=a PASSWORD=x"), "host=a PASSWORD=********");
        assert_eq!(mask("host=a passfile=/x user=password"), "host=a passfile=/x user=password");
        assert_eq!(mask(""), "");
        assert_eq!(mask("password="), "password=");
        assert_eq!(mask("password='unterminated"), "password=********");
    }

    #[test]
    fn uri_passwords_are_masked() {
        assert_eq!(
            mask("postgresql://repl:s3cret@db1:5432/postgres"),
            "postgresql://repl:********@db1:5432/postgres"
        );
        assert_eq!(
            mask("postgres://db1/x?user=a&password=p%40ss&sslmode=off"),
            "postgres://db1/x?user=a&password=********&sslmode=off"
        );
        assert_eq!(passwords("postgres://db1/x?password=p%40ss"), ["p@ss", "p%40ss"]);
    }

    #[test]
    fn passwords_in_both_spellings() {
        assert_eq!(passwords("host=a password='it\\'s' x=1"), ["it's", "it\\'s"]);
        assert_eq!(passwords("host=a password=plain"), ["plain"]);
        assert!(passwords("host=a").is_empty());
    }
}
