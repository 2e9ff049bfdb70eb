//! The field tokenizer: splits a logical line into comma-list fields exactly as the servers'
//! `next_token` does (blanks separate fields, `"..."` quotes, an unquoted `#` starts a
//! comment), keeping each token's byte offsets so that edits can rewrite parts of a line.
//!
//! Tokens borrow their text from the line: only a token written with double quotes gets a
//! value of its own. A [`Lexed`] can be reused for line after line, so reading a file of
//! plain rules allocates nothing per line.

use std::borrow::Cow;

use super::{Format, HbaError};

/// One token: its value (quotes removed) and its byte offsets in the line.
#[derive(Debug, Clone)]
pub(super) struct Tok<'t> {
    pub(super) value: Cow<'t, str>,
    /// Whether the token starts with a double quote (which makes keywords literal).
    pub(super) quoted: bool,
    /// Byte offsets of the token's text (quotes included) in the logical line.
    pub(super) start: usize,
    pub(super) end: usize,
}

impl Tok<'_> {
    /// Whether the token is the unquoted keyword `keyword`.
    pub(super) fn is_keyword(&self, keyword: &str) -> bool {
        !self.quoted && self.value == keyword
    }
}

/// A logical line split into fields: the tokens in order, and which tokens each field holds.
#[derive(Debug, Default)]
pub(super) struct Lexed<'t> {
    pub(super) toks: Vec<Tok<'t>>,
    /// `toks[a..b]` for each field, in order.
    fields: Vec<(usize, usize)>,
    /// Byte offset of the `#` starting a comment.
    pub(super) comment: Option<usize>,
}

impl<'t> Lexed<'t> {
    /// How many fields.
    pub(super) fn len(&self) -> usize {
        self.fields.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The tokens of field `i`.
    pub(super) fn field(&self, i: usize) -> Option<&[Tok<'t>]> {
        self.fields.get(i).map(|&(a, b)| &self.toks[a..b])
    }

    /// The tokens of fields `i..` (all of them together).
    pub(super) fn fields_from(&self, i: usize) -> &[Tok<'t>] {
        self.fields.get(i).map_or(&[], |&(a, _)| &self.toks[a..])
    }

    /// Byte offset where field `i` starts.
    pub(super) fn start(&self, i: usize) -> usize {
        self.field(i).and_then(|f| f.first()).map_or(0, |t| t.start)
    }

    /// Byte offset where field `i` ends.
    pub(super) fn end(&self, i: usize) -> usize {
        self.field(i).and_then(|f| f.last()).map_or(0, |t| t.end)
    }

    /// Keeps the first `n` fields.
    pub(super) fn truncate(&mut self, n: usize) {
        if let Some(&(a, _)) = self.fields.get(n) {
            self.toks.truncate(a);
        }
        self.fields.truncate(n);
    }

    /// Adds a field of one token.
    pub(super) fn push_field(&mut self, tok: Tok<'t>) {
        self.toks.push(tok);
        self.fields.push((self.toks.len() - 1, self.toks.len()));
    }
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
pub(super) fn lex(line: &str, format: Format) -> Result<Lexed<'_>, HbaError> {
    let mut out = Lexed::default();
    lex_into(line, format, &mut out)?;
    Ok(out)
}

/// [`lex`] into `out` (cleared first; its buffers are reused).
pub(super) fn lex_into<'t>(line: &'t str, format: Format, out: &mut Lexed<'t>) -> Result<(), HbaError> {
    lex_fields_into(line, format, usize::MAX, out)
}

/// [`lex_into`], stopping after the first `fields` fields.
pub(super) fn lex_fields_into<'t>(line: &'t str, format: Format, fields: usize, out: &mut Lexed<'t>) -> Result<(), HbaError> {
    out.toks.clear();
    out.fields.clear();
    out.comment = None;
    let mut pos = 0;
    while pos < line.len() && out.fields.len() < fields {
        let first = out.toks.len();
        loop {
            match next_token(line, max_token(format), &mut pos, &mut out.comment)? {
                None => break,
                Some((tok, comma)) => {
                    out.toks.push(tok);
                    if !comma {
                        break;
                    }
                }
            }
        }
        if out.toks.len() > first {
            out.fields.push((first, out.toks.len()));
        }
    }
    Ok(())
}

fn next_token<'t>(line: &'t str, max: usize, pos: &mut usize, comment: &mut Option<usize>) -> Result<Option<(Tok<'t>, bool)>, HbaError> {
    let bytes = line.as_bytes();
    while *pos < bytes.len() && (is_blank(bytes[*pos]) || bytes[*pos] == b',') {
        *pos += 1;
    }
    let start = *pos;
    // The value is `line[start..*pos]` until the first quote; from there on it is built here.
    let mut built: Option<Vec<u8>> = None;
    let (mut in_quote, mut was_quote, mut initial_quote) = (false, false, false);
    let mut comma = false;
    let mut end = *pos;
    while *pos < bytes.len() {
        if !in_quote && built.is_none() {
            // A run of bytes that are neither blanks nor `#`, `,` or `"` goes into the value as
            // it is, one byte at a time below; in one step here.
            let run = bytes[*pos..]
                .iter()
                .position(|&b| is_blank(b) || matches!(b, b'#' | b',' | b'"'))
                .unwrap_or(bytes.len() - *pos);
            if run > 0 {
                // The byte at `p` is refused when the value before it is `max` long.
                if *pos + run - start > max {
                    return Err(HbaError::TokenTooLong);
                }
                *pos += run;
                end = *pos;
                was_quote = false;
                continue;
            }
        }
        let c = bytes[*pos];
        if is_blank(c) && !in_quote {
            break;
        }
        if c == b'#' && !in_quote {
            *comment = Some(*pos);
            *pos = bytes.len();
            break;
        }
        if built.as_ref().map_or(*pos - start, Vec::len) >= max {
            return Err(HbaError::TokenTooLong);
        }
        if c == b',' && !in_quote {
            comma = true;
            *pos += 1;
            break;
        }
        if c == b'"' && built.is_none() {
            built = Some(bytes[start..*pos].to_vec());
        }
        if let Some(value) = built.as_mut() {
            if c != b'"' || was_quote {
                value.push(c);
            }
        }
        if in_quote && c == b'"' {
            was_quote = !was_quote;
        } else {
            was_quote = false;
        }
        if c == b'"' {
            in_quote = !in_quote;
            if built.as_ref().is_some_and(Vec::is_empty) {
                initial_quote = true;
            }
        }
        *pos += 1;
        end = *pos;
    }
    let value = match built {
        // Only ASCII bytes were left out, so the value is still UTF-8.
        Some(value) => Cow::Owned(String::from_utf8_lossy(&value).into_owned()),
        // Neither a quote nor a character: no token.
        None if end == start => return Ok(None),
        // Stops are at ASCII bytes, so these are character boundaries.
        None => Cow::Borrowed(&line[start..end]),
    };
    Ok(Some((
        Tok {
            value,
            quoted: initial_quote,
            start,
            end,
        },
        comma,
    )))
}

/// The owned view of a tokenized line that the unit tests read.
#[cfg(test)]
pub(super) mod owned {
    use super::super::{Format, HbaError, Token};

    #[derive(Debug, Clone)]
    pub(in super::super) struct RawToken {
        pub(in super::super) token: Token,
    }

    #[derive(Debug, Clone)]
    pub(in super::super) struct RawField {
        pub(in super::super) tokens: Vec<RawToken>,
    }

    #[derive(Debug, Clone)]
    pub(in super::super) struct Tokenized {
        pub(in super::super) fields: Vec<RawField>,
        pub(in super::super) comment: Option<usize>,
    }

    pub(in super::super) fn tokenize(line: &str, format: Format) -> Result<Tokenized, HbaError> {
        let lexed = super::lex(line, format)?;
        let fields = (0..lexed.len())
            .map(|i| RawField {
                tokens: lexed
                    .field(i)
                    .unwrap_or(&[])
                    .iter()
                    .map(|t| RawToken {
                        token: Token {
                            value: t.value.to_string(),
                            quoted: t.quoted,
                        },
                    })
                    .collect(),
            })
            .collect();
        Ok(Tokenized {
            fields,
            comment: lexed.comment,
        })
    }
}
