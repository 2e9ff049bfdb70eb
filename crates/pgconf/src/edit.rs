//! What the editors of every format share.

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
