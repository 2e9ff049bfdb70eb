//! The lexer shared by the three formats: a byte-for-byte port of the flex rules in
//! PostgreSQL's `guc-file.l` (which Pgpool-II's `pool_config.l` and repmgr's
//! `configfile-scan.l` copy), longest match first, ties to the earlier rule.

use super::{Dialect, Kind, KvError, Quoting, Spans, StringSyntax};

/// A token of the configuration-file lexer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    /// `{LETTER}{LETTER_OR_DIGIT}*`
    Id,
    /// `{ID}.{ID}` (not in Pgpool-II)
    QualifiedId,
    /// a single-quoted string
    Str,
    /// `{LETTER}({LETTER_OR_DIGIT}|[-._:/])*`
    Unquoted,
    /// `{SIGN}?({DIGIT}+|0x{HEXDIGIT}+){UNIT_LETTER}*`
    Integer,
    /// `{SIGN}?{DIGIT}*"."{DIGIT}*{EXPONENT}?`
    Real,
    /// `=`
    Equals,
    /// any other single character
    Error,
}

/// `[A-Za-z_\200-\377]`: every byte of a non-ASCII UTF-8 character counts as a letter.
fn letter(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn letter_or_digit(c: u8) -> bool {
    letter(c) || c.is_ascii_digit()
}

fn ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r')
}

fn count(b: &[u8], from: usize, f: impl Fn(u8) -> bool) -> usize {
    b[from.min(b.len())..].iter().take_while(|&&c| f(c)).count()
}

fn id_len(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(&c) if letter(c) => 1 + count(b, i + 1, letter_or_digit),
        _ => 0,
    }
}

fn qualified_len(b: &[u8], i: usize) -> usize {
    let n = id_len(b, i);
    if n == 0 || b.get(i + n) != Some(&b'.') {
        return 0;
    }
    let m = id_len(b, i + n + 1);
    if m == 0 {
        0
    } else {
        n + 1 + m
    }
}

fn unquoted_len(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(&c) if letter(c) => 1 + count(b, i + 1, |c| letter_or_digit(c) || matches!(c, b'-' | b'.' | b'_' | b':' | b'/')),
        _ => 0,
    }
}

/// PostgreSQL: `\'([^'\\\n]|\\.|\'\')*\'`. Pgpool-II: `\'([^'\n]|\\.)*\'`.
/// Returns the longest match (a quote may close the string or start `''` / end `\'`).
fn string_len(b: &[u8], i: usize, syntax: StringSyntax) -> usize {
    if b.get(i) != Some(&b'\'') {
        return 0;
    }
    let mut best = 0;
    let mut j = i + 1;
    while j < b.len() {
        match (b[j], syntax) {
            (b'\'', StringSyntax::Escaped) => {
                best = j + 1 - i;
                if b.get(j + 1) == Some(&b'\'') {
                    j += 2;
                } else {
                    break;
                }
            }
            (b'\'', StringSyntax::Raw) => {
                best = j + 1 - i;
                // `\'` may be an escape (any backslash may start one), so go on.
                if j > i + 1 && b[j - 1] == b'\\' {
                    j += 1;
                } else {
                    break;
                }
            }
            (b'\\', StringSyntax::Escaped) => {
                if j + 1 < b.len() {
                    j += 2;
                } else {
                    break;
                }
            }
            (b'\n', _) => break,
            _ => j += 1,
        }
    }
    best
}

fn integer_len(b: &[u8], i: usize) -> usize {
    let s = usize::from(matches!(b.get(i), Some(b'-' | b'+')));
    let k = i + s;
    let dec = count(b, k, |c| c.is_ascii_digit());
    let hex = if b.get(k) == Some(&b'0') && b.get(k + 1) == Some(&b'x') {
        match count(b, k + 2, |c| c.is_ascii_hexdigit()) {
            0 => 0,
            n => n + 2,
        }
    } else {
        0
    };
    let digits = dec.max(hex);
    if digits == 0 {
        return 0;
    }
    s + digits + count(b, k + digits, |c| c.is_ascii_alphabetic())
}

fn real_len(b: &[u8], i: usize) -> usize {
    let s = usize::from(matches!(b.get(i), Some(b'-' | b'+')));
    let mut j = i + s;
    j += count(b, j, |c| c.is_ascii_digit());
    if b.get(j) != Some(&b'.') {
        return 0;
    }
    j += 1;
    j += count(b, j, |c| c.is_ascii_digit());
    if matches!(b.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        k += usize::from(matches!(b.get(k), Some(b'-' | b'+')));
        let d = count(b, k, |c| c.is_ascii_digit());
        if d > 0 {
            j = k + d;
        }
    }
    j - i
}

/// The token at `i` and its length in bytes; `None` at the end of the line.
pub(super) fn lex(b: &[u8], i: usize, qualified: bool, syntax: StringSyntax) -> Option<(Tok, usize)> {
    if i >= b.len() {
        return None;
    }
    let candidates = [
        (Tok::Id, id_len(b, i)),
        (Tok::QualifiedId, if qualified { qualified_len(b, i) } else { 0 }),
        (Tok::Str, string_len(b, i, syntax)),
        (Tok::Unquoted, unquoted_len(b, i)),
        (Tok::Integer, integer_len(b, i)),
        (Tok::Real, real_len(b, i)),
        (Tok::Equals, usize::from(b[i] == b'=')),
    ];
    let mut best = (Tok::Error, 0);
    for c in candidates {
        if c.1 > best.1 {
            best = c;
        }
    }
    if best.1 == 0 {
        // One character (never split a UTF-8 sequence: bytes >= 0x80 are letters anyway).
        best = (Tok::Error, 1);
    }
    Some(best)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && ws(b[i]) {
        i += 1;
    }
    i
}

fn near(b: &[u8], at: usize, len: usize) -> String {
    let end = (at + len).min(b.len());
    format!("syntax error near token \"{}\"", String::from_utf8_lossy(&b[at..end]))
}

/// Parses `name [=] value [# comment]` starting at `start`; the spans are absolute.
fn setting<D: Dialect>(b: &[u8], start: usize) -> Result<Spans, String> {
    let eol = || "syntax error near end of line".to_string();
    let i = skip_ws(b, start);
    let (tok, n) = lex(b, i, D::QUALIFIED_NAMES, D::STRINGS).ok_or_else(eol)?;
    if !matches!(tok, Tok::Id | Tok::QualifiedId) {
        return Err(near(b, i, n));
    }
    let name = i..i + n;
    let mut j = skip_ws(b, name.end);
    let (mut tok, mut n) = lex_value::<D>(b, j).ok_or_else(eol)?;
    if tok == Tok::Equals {
        j = skip_ws(b, j + n);
        (tok, n) = lex_value::<D>(b, j).ok_or_else(eol)?;
    }
    if !matches!(tok, Tok::Id | Tok::Str | Tok::Unquoted | Tok::Integer | Tok::Real) {
        return Err(near(b, j, n));
    }
    let value = j..j + n;
    let k = skip_ws(b, value.end);
    if k < b.len() && b[k] != b'#' {
        let n = lex(b, k, D::QUALIFIED_NAMES, D::STRINGS).map_or(1, |t| t.1);
        return Err(near(b, k, n));
    }
    Ok(Spans { name, value })
}

/// `name =` with no value (`#node_id=\t\t# comment` in repmgr's sample): only for
/// commented-out lines, where the value goes right after the `=`.
fn empty_setting<D: Dialect>(b: &[u8], start: usize) -> Result<Spans, String> {
    let i = skip_ws(b, start);
    match lex(b, i, D::QUALIFIED_NAMES, D::STRINGS) {
        Some((Tok::Id | Tok::QualifiedId, n)) => {
            let j = skip_ws(b, i + n);
            if b.get(j) != Some(&b'=') {
                return Err(String::new());
            }
            let k = skip_ws(b, j + 1);
            if k < b.len() && b[k] != b'#' {
                return Err(String::new());
            }
            Ok(Spans {
                name: i..i + n,
                value: j + 1..j + 1,
            })
        }
        _ => Err(String::new()),
    }
}

/// Like [`lex`] but a `#` ends the line.
fn lex_value<D: Dialect>(b: &[u8], i: usize) -> Option<(Tok, usize)> {
    if b.get(i) == Some(&b'#') {
        return None;
    }
    lex(b, i, D::QUALIFIED_NAMES, D::STRINGS)
}

/// Classifies one line (without its `\n`).
pub(super) fn classify<D: Dialect>(text: &str) -> Kind {
    let b = text.as_bytes();
    let i = skip_ws(b, 0);
    if i == b.len() {
        return Kind::Other;
    }
    if b[i] == b'#' {
        // A commented-out setting: `#name = value`, `# name value  # comment`.
        let body = b[i + 1..]
            .iter()
            .position(|&c| c != b' ' && c != b'\t')
            .map_or(b.len(), |p| i + 1 + p);
        return match setting::<D>(b, body).or_else(|_| empty_setting::<D>(b, body)) {
            Ok(spans) if spans.name.start == body => Kind::Commented { hash: i, spans },
            _ => Kind::Other,
        };
    }
    match setting::<D>(b, 0) {
        Ok(spans) => Kind::Active(spans),
        Err(message) => Kind::Invalid(message),
    }
}

/// The value of a raw value token: strings lose their quotes (and, for
/// [`StringSyntax::Escaped`], their escapes, as `DeescapeQuotedString` does).
pub(super) fn unquote(raw: &str, syntax: StringSyntax) -> String {
    let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')).filter(|_| raw.len() >= 2) else {
        return raw.to_string();
    };
    if syntax == StringSyntax::Raw {
        return inner.to_string();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(d @ '0'..='7') => {
                    let mut v = d as u32 - '0' as u32;
                    for _ in 0..2 {
                        match chars.peek() {
                            Some(&e @ '0'..='7') => {
                                v = v * 8 + (e as u32 - '0' as u32);
                                chars.next();
                            }
                            _ => break,
                        }
                    }
                    // PostgreSQL stores the byte; a byte above 0x7f alone is not UTF-8.
                    out.push(char::from_u32(v & 0xff).unwrap_or('\u{fffd}'));
                }
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '\'' => {
                // `''` inside a string is one quote.
                if chars.peek() == Some(&'\'') {
                    chars.next();
                }
                out.push('\'');
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether `value` can be written without quotes in every dialect: a plain number, a
/// number with a unit, or an identifier.
pub(crate) fn is_bare(value: &str) -> bool {
    let b = value.as_bytes();
    let ascii_word = |b: &[u8]| {
        !b.is_empty() && (b[0].is_ascii_alphabetic() || b[0] == b'_') && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
    };
    if ascii_word(b) {
        return true;
    }
    let digits_then_unit = |b: &[u8]| {
        let d = b.iter().take_while(|c| c.is_ascii_digit()).count();
        d > 0 && b[d..].iter().all(|c| c.is_ascii_alphabetic())
    };
    let unsigned = b.strip_prefix(b"-").unwrap_or(b);
    if digits_then_unit(unsigned) {
        return true;
    }
    // A decimal fraction: digits '.' digits, at least one digit.
    let mut parts = unsigned.splitn(2, |&c| c == b'.');
    match (parts.next(), parts.next()) {
        (Some(a), Some(c)) => a.iter().chain(c).all(u8::is_ascii_digit) && (a.len() + c.len()) > 0,
        _ => false,
    }
}

/// Fails when `value` cannot be written at all in the dialect.
pub(super) fn check_value<D: Dialect>(name: &str, value: &str) -> Result<(), KvError> {
    let bad = |reason| KvError::Unrepresentable {
        format: D::NAME,
        name: name.to_string(),
        reason,
    };
    if crate::edit::forbidden_char(value).is_some() {
        return Err(bad(
            "a value cannot hold a NUL byte or another control character (the server's reader stops at a NUL)",
        ));
    }
    match D::STRINGS {
        StringSyntax::Raw if value.contains('\'') => Err(bad("the format has no way to escape a single quote")),
        StringSyntax::Raw if value.contains(['\n', '\r']) => Err(bad("a value cannot span lines")),
        StringSyntax::Raw if value.ends_with('\\') => Err(bad("a trailing backslash would escape the closing quote")),
        _ => Ok(()),
    }
}

/// Writes `value` as a token: bare or quoted as [`Dialect::quoting`] says.
pub(super) fn render<D: Dialect>(name: &str, value: &str, was_quoted: bool) -> String {
    let quote = match D::quoting(name) {
        Quoting::Always => true,
        Quoting::WhenNeeded => !is_bare(value),
        Quoting::KeepStyle => was_quoted || !is_bare(value),
    };
    if !quote {
        return value.to_string();
    }
    let mut s = String::with_capacity(value.len() + 2);
    s.push('\'');
    match D::STRINGS {
        StringSyntax::Raw => s.push_str(value),
        StringSyntax::Escaped => {
            for c in value.chars() {
                match c {
                    '\'' => s.push_str("''"),
                    '\\' => s.push_str("\\\\"),
                    '\n' => s.push_str("\\n"),
                    '\r' => s.push_str("\\r"),
                    c => s.push(c),
                }
            }
        }
    }
    s.push('\'');
    s
}
