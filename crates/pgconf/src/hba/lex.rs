//! The field tokenizer: splits a logical line into comma-list fields exactly as the servers'
//! `next_token` does (blanks separate fields, `"..."` quotes, an unquoted `#` starts a
//! comment), keeping each token's byte offsets so that edits can rewrite parts of a line.

use super::{Format, HbaError, Token};

#[derive(Debug, Clone)]
pub(super) struct RawToken {
    pub(super) token: Token,
    /// Byte offsets of the token's text (quotes included) in the logical line.
    pub(super) start: usize,
    pub(super) end: usize,
}

#[derive(Debug, Clone)]
pub(super) struct RawField {
    pub(super) tokens: Vec<RawToken>,
}

impl RawField {
    pub(super) fn start(&self) -> usize {
        self.tokens.first().map_or(0, |t| t.start)
    }
    pub(super) fn end(&self) -> usize {
        self.tokens.last().map_or(0, |t| t.end)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Tokenized {
    pub(super) fields: Vec<RawField>,
    /// Byte offset of the `#` starting a comment.
    pub(super) comment: Option<usize>,
}

/// The longest token the servers read, in bytes: PostgreSQL 15 has a 10240-byte buffer
/// (`MAX_TOKEN`), Pgpool-II 4.3 a 256-byte one; one byte is the terminator.
fn max_token(format: Format) -> usize {
    match format {
        Format::PgHba => 10239,
        Format::PoolHba => 255,
    }
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

/// Splits a logical line into fields, as `next_field_expand`/`next_token` do.
pub(super) fn tokenize(line: &str, format: Format) -> Result<Tokenized, HbaError> {
    let bytes = line.as_bytes();
    let mut pos = 0;
    let mut comment = None;
    let mut fields = Vec::new();
    while pos < bytes.len() {
        let mut tokens = Vec::new();
        loop {
            match next_token(line, max_token(format), &mut pos, &mut comment)? {
                None => break,
                Some((token, comma)) => {
                    tokens.push(token);
                    if !comma {
                        break;
                    }
                }
            }
        }
        if !tokens.is_empty() {
            fields.push(RawField { tokens });
        }
    }
    Ok(Tokenized { fields, comment })
}

fn next_token(line: &str, max: usize, pos: &mut usize, comment: &mut Option<usize>) -> Result<Option<(RawToken, bool)>, HbaError> {
    let bytes = line.as_bytes();
    while *pos < bytes.len() && (is_blank(bytes[*pos]) || bytes[*pos] == b',') {
        *pos += 1;
    }
    let start = *pos;
    let mut value: Vec<u8> = Vec::new();
    let (mut in_quote, mut was_quote, mut saw_quote, mut initial_quote) = (false, false, false, false);
    let mut comma = false;
    let mut end = *pos;
    while *pos < bytes.len() {
        let c = bytes[*pos];
        if is_blank(c) && !in_quote {
            break;
        }
        if c == b'#' && !in_quote {
            *comment = Some(*pos);
            *pos = bytes.len();
            break;
        }
        if value.len() >= max {
            return Err(HbaError::TokenTooLong);
        }
        if c == b',' && !in_quote {
            comma = true;
            *pos += 1;
            break;
        }
        if c != b'"' || was_quote {
            value.push(c);
        }
        if in_quote && c == b'"' {
            was_quote = !was_quote;
        } else {
            was_quote = false;
        }
        if c == b'"' {
            in_quote = !in_quote;
            saw_quote = true;
            if value.is_empty() {
                initial_quote = true;
            }
        }
        *pos += 1;
        end = *pos;
    }
    if !saw_quote && value.is_empty() {
        return Ok(None);
    }
    // Only ASCII bytes were left out, so the value is still UTF-8.
    let value = String::from_utf8_lossy(&value).into_owned();
    Ok(Some((
        RawToken {
            token: Token {
                value,
                quoted: initial_quote,
            },
            start,
            end,
        },
        comma,
    )))
}
