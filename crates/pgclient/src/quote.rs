//! The one way identifiers and (the rare) literals get into SQL text.

use crate::PgError;

/// PostgreSQL's identifier length limit in bytes (`NAMEDATALEN - 1`).
pub const MAX_NAME_BYTES: usize = 63;

/// Quotes an identifier: always double-quoted, inner `"` doubled, so any name (upper case,
/// spaces, quotes, `;`, non-ASCII) stays one identifier and keeps its exact spelling.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Quotes a string literal as PostgreSQL's own `quote_literal()` does: `'...'` with inner `'`
/// doubled, and the `E'...'` form with backslashes doubled when the text holds a backslash, so
/// the result means the same whatever `standard_conforming_strings` says.
///
/// Only for the few places where PostgreSQL takes no bind parameter (`PASSWORD '<verifier>'`,
/// `VALID UNTIL`, `ENCODING`, ...); values go in as parameters everywhere else.
pub fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 3);
    if value.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Checks that `name` can be a PostgreSQL object name as given: not empty, no NUL byte, and at
/// most 63 bytes (the server would silently cut a longer name, which would make every run
/// look like a change). `what` names the kind of object for the message (`role`, `database`).
pub fn check_name(what: &str, name: &str) -> Result<(), PgError> {
    if name.is_empty() {
        return Err(PgError::BadInput(format!("the {what} name is empty")));
    }
    if name.contains('\0') {
        return Err(PgError::BadInput(format!("the {what} name contains a NUL character")));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(PgError::BadInput(format!(
            "the {what} name {name:?} is {} bytes long; PostgreSQL keeps at most {MAX_NAME_BYTES} bytes of a name",
            name.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_always_quoted() {
        assert_eq!(quote_ident("postgres"), r#""postgres""#);
        assert_eq!(quote_ident(r#"x"; DROP ROLE postgres; --"#), r#""x""; DROP ROLE postgres; --""#);
        assert_eq!(quote_ident("Ünïcode name"), "\"Ünïcode name\"");
        assert_eq!(quote_ident(""), r#""""#);
    }

    #[test]
    fn literals_double_quotes_and_backslashes() {
        assert_eq!(quote_literal("abc"), "'abc'");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal(r"a\b'"), r"E'a\\b'''");
        assert_eq!(
            quote_literal("SCRAM-SHA-256$4096:c2FsdA==$a+b/c=:d+e/f="),
            "'SCRAM-SHA-256$4096:c2FsdA==$a+b/c=:d+e/f='"
        );
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("role", "alice").is_ok());
        assert!(check_name("role", &"é".repeat(31)).is_ok());
        assert!(check_name("role", &"é".repeat(32)).is_err());
        assert!(check_name("role", "").is_err());
        assert!(check_name("role", "a\0b").is_err());
    }
}
