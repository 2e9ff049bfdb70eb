//! libpq `key=value` connection strings (`primary_conninfo`).
//!
//! A value is a bare word (backslash escapes the next character) or single-quoted (`\'` and
//! `\\` inside). URIs (`postgresql://...`) are not parsed: a standby configured with one is
//! treated as configured differently.

/// Parses `key=value` pairs; `None` when the text is not in that form.
pub fn parse(text: &str) -> Option<Vec<(String, String)>> {
    let t = text.trim_start();
    if t.starts_with("postgresql://") || t.starts_with("postgres://") {
        return None;
    }
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.push(chars.next()?),
                    '\'' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    value.push(chars.next()?);
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
    Some(out)
}

/// Writes pairs as `key='value' ...`, every value quoted and escaped.
pub fn format(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(k);
        out.push_str("='");
        for c in v.chars() {
            if c == '\'' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('\'');
    }
    out
}

/// The value of `key` (the last one wins, as in libpq).
pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Whether a connection string points at `host:port`: its `host` or `hostaddr` is `host`, and
/// its `port` (default 5432) is `port`. A URI points nowhere.
pub fn points_at(text: &str, host: &str, port: u16) -> bool {
    let Some(pairs) = parse(text) else {
        return false;
    };
    let named = get(&pairs, "host") == Some(host) || get(&pairs, "hostaddr") == Some(host);
    named && get(&pairs, "port").unwrap_or("5432").parse::<u16>().ok() == Some(port)
}

/// The connection string with any password replaced by `********`.
pub fn mask_password(text: &str) -> String {
    match parse(text) {
        Some(pairs) if pairs.iter().any(|(k, _)| k == "password") => {
            let shown: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), if k == "password" { "********" } else { v.as_str() }))
                .collect();
            format(&shown)
        }
        Some(_) => text.to_string(),
        None if text.contains("password") || text.contains('@') => "(a connection URI, not shown: it may hold a password)".to_string(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_pg_basebackup_writes() {
        let t = "user=repl password='it''s' channel_binding=prefer host=10.0.0.181 port=5432 sslmode=prefer";
        // Doubled quotes are not libpq syntax: the text does not parse.
        assert!(parse(t).is_none());
        let t = r"user=repl password='a b\'c\\d' host=10.0.0.181 port = 5432";
        let p = parse(t).unwrap();
        assert_eq!(get(&p, "password"), Some(r"a b'c\d"));
        assert_eq!(get(&p, "host"), Some("10.0.0.181"));
        assert_eq!(get(&p, "port"), Some("5432"));
        assert!(parse("postgresql://repl@h/db").is_none());
        assert!(parse("host='unterminated").is_none());
    }

    #[test]
    fn format_round_trips() {
        let pairs = [("host", "h"), ("user", "o'neil"), ("password", r"p w\")];
        let text = format(&pairs);
        assert_eq!(text, r"host='h' user='o\'neil' password='p w\\'");
        let back = parse(&text).unwrap();
        assert_eq!(get(&back, "user"), Some("o'neil"));
        assert_eq!(get(&back, "password"), Some(r"p w\"));
    }

    #[test]
    fn targets_are_matched_by_host_and_port() {
        let ci = "host=127.0.0.1 port=55431 user=repmgr application_name=n2 connect_timeout=2";
        assert!(points_at(ci, "127.0.0.1", 55431));
        assert!(!points_at(ci, "127.0.0.1", 5432));
        assert!(!points_at(ci, "10.0.0.1", 55431));
        assert!(points_at("host=h user=u", "h", 5432));
        assert!(points_at("hostaddr=10.0.0.1 host=pg1", "10.0.0.1", 5432));
        assert!(!points_at("postgresql://h/db", "h", 5432));
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(mask_password("host=h password=secret"), "host='h' password='********'");
        assert_eq!(mask_password("host=h user=u"), "host=h user=u");
        assert!(!mask_password("postgresql://u:secret@h/db").contains("secret"));
    }
}
