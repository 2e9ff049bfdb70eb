use super::*;
use crate::pgpool::Pgpool;
use crate::postgresql::Postgresql;
use crate::repmgr::Repmgr;

type Pg = KvFile<Postgresql>;

fn kinds(text: &str) -> Vec<&'static str> {
    Pg::parse(text)
        .lines
        .iter()
        .map(|l| match l.kind {
            Kind::Other => "other",
            Kind::Active(_) => "active",
            Kind::Commented { .. } => "commented",
            Kind::Invalid(_) => "invalid",
        })
        .collect()
}

#[test]
fn round_trip_keeps_every_byte() {
    for text in [
        "",
        "\n",
        "a = 1",
        "a = 1\n",
        "a = 1\r\nb = 2\r\n",
        "\t a\t=\t'x' # c\n\n# only a comment\n",
        "garbage here\n'unterminated\n= 1\n",
        "x = 'ünïcödé' # ☃\n",
        "\r\n\r\n",
        "no newline at end # comment",
    ] {
        assert_eq!(Pg::parse(text).to_string(), text);
    }
}

#[test]
fn line_kinds_follow_the_postgresql_lexer() {
    assert_eq!(
        kinds("a = 1\nb 2\nc=3#x\n#d = 4\n# prose goes here\n\n  \t\n"),
        ["active", "active", "active", "commented", "other", "other", "other"]
    );
    // Each of these is a syntax error for PostgreSQL too.
    for bad in [
        "a = 1.5MB",     // REAL then ID
        "a = 1e5",       // INTEGER "1e" then "5"
        "a = b c",       // two values
        "a =",           // no value
        "= 1",           // no name
        "a.b.c = 1",     // an UNQUOTED_STRING is not a name
        "a = x.y",       // a QUALIFIED_ID is not a value
        "a = /tmp",      // `/` cannot start a bare value
        "a = 'x",        // unterminated
        "a = 'x\\'",     // the quote is escaped
        "wal-level = x", // `-` not in a name
        "a = = 1",
    ] {
        assert_eq!(kinds(bad), ["invalid"], "{bad:?}");
    }
    for good in [
        "a = 0x1F",
        "a = -1",
        "a = +5min",
        "a = .5",
        "a = en_US.UTF-8",
        "a = x:y/z-w",
        "a = 'it''s'",
        "a = 'back\\\\slash'",
        "ext.name = on",
        "a = ''",
        "naïve = 1",
    ] {
        assert_eq!(kinds(good), ["active"], "{good:?}");
    }
}

#[test]
fn issues_have_line_numbers_and_reasons() {
    let c = Pg::parse("a = 1\nb = 1.5MB\n# fine\nc 'x\n");
    let issues = c.issues();
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0].line, 2);
    assert_eq!(issues[0].message, "syntax error near token \"MB\"");
    assert_eq!(issues[0].to_string(), "line 2: syntax error near token \"MB\"");
    assert_eq!(issues[1].line, 4);
    assert_eq!(issues[1].text, "c 'x");
    assert_eq!(
        c.check_syntax().unwrap_err().to_string(),
        "postgresql.conf line 2: syntax error near token \"MB\""
    );
    assert_eq!(Pg::parse("a = 1\n").check_syntax(), Ok(()));
    // Invalid lines survive edits.
    let mut c = c;
    assert!(c.set("b", "2").unwrap().changed);
    assert_eq!(c.to_string(), "a = 1\nb = 1.5MB\n# fine\nc 'x\nb = 2\n");
}

#[test]
fn strings_are_unescaped_per_dialect() {
    let pg = Pg::parse("a = 'it''s \\'q\\' \\n \\101 \\\\'\n");
    assert_eq!(pg.get("a").as_deref(), Some("it's 'q' \n A \\"));
    let pool = KvFile::<Pgpool>::parse("a = 'C:\\dir\\' # x\n");
    assert_eq!(pool.get("a").as_deref(), Some("C:\\dir\\"));
    let rep = KvFile::<Repmgr>::parse("conninfo='a=''b'''\n");
    assert_eq!(rep.get("conninfo").as_deref(), Some("a='b'"));
}

#[test]
fn rendering_quotes_when_needed_and_escapes() {
    let mut c = Pg::parse("");
    for (n, v) in [
        ("a", "plain"),
        ("b", "128MB"),
        ("c", "-1"),
        ("d", "0.5"),
        ("e", "*"),
        ("f", "it's"),
        ("g", "back\\slash"),
        ("h", ""),
        ("i", "1.5GB"),
        ("j", "two words"),
    ] {
        assert!(c.set(n, v).unwrap().changed);
        assert_eq!(c.get(n).as_deref(), Some(v), "{n}");
    }
    assert_eq!(
        c.to_string(),
        "a = plain\nb = 128MB\nc = -1\nd = 0.5\ne = '*'\nf = 'it''s'\ng = 'back\\\\slash'\n\
         h = ''\ni = '1.5GB'\nj = 'two words'\n"
    );
    assert!(c.issues().is_empty());
}

#[test]
fn set_prefers_last_active_then_last_commented_then_appends() {
    let text = "#port = 5432\nport = 1\n# x\nport = 2 # two\n#port = 9\n";
    let mut c = Pg::parse(text);
    assert_eq!(c.get("port").as_deref(), Some("2"));
    let e = c.set("PORT", "3").unwrap();
    assert_eq!(e.previous.as_deref(), Some("2"));
    assert_eq!(c.to_string(), "#port = 5432\nport = 1\n# x\nport = 3 # two\n#port = 9\n");

    let mut c = Pg::parse("#port = 5432 # a\n# x\n  #  port = 9\t# b\n");
    let e = c.set("port", "7").unwrap();
    assert_eq!(
        e,
        Edit {
            changed: true,
            previous: None
        }
    );
    assert_eq!(c.to_string(), "#port = 5432 # a\n# x\n  port = 7\t# b\n");

    let mut c = Pg::parse("a = 1\r\nb = 2");
    c.set("c", "3").unwrap().changed.then_some(()).unwrap();
    assert_eq!(c.to_string(), "a = 1\r\nb = 2\r\nc = 3\r\n");
    let mut c = Pg::parse("a = 1\nb = 2");
    c.set("c", "3").unwrap().changed.then_some(()).unwrap();
    assert_eq!(c.to_string(), "a = 1\nb = 2\nc = 3\n");
}

#[test]
fn remove_comments_out_and_set_brings_back() {
    let mut c = Pg::parse("  port = 5433 # mine\nport=5434\n");
    let e = c.remove("port").unwrap();
    assert_eq!(
        e,
        Edit {
            changed: true,
            previous: Some("5434".into())
        }
    );
    assert_eq!(c.to_string(), "  #port = 5433 # mine\n#port=5434\n");
    assert!(!c.remove("port").unwrap().changed);
    c.set("port", "5435").unwrap().changed.then_some(()).unwrap();
    assert_eq!(c.to_string(), "  #port = 5433 # mine\nport=5435\n");
}

#[test]
fn names_are_checked() {
    let mut c = Pg::parse("");
    for bad in ["", "a b", "1a", "a.b.c", "a-b", "a=b", "#a"] {
        assert!(matches!(c.set(bad, "1"), Err(KvError::InvalidName { .. })), "{bad:?}");
    }
    assert!(matches!(c.set("include", "x"), Err(KvError::Directive { .. })));
    let mut p = KvFile::<Pgpool>::parse("");
    assert!(p.set("a.b", "1").is_err());
    assert!(matches!(p.set("a", "it's"), Err(KvError::Unrepresentable { .. })));
    assert!(p.set("a", "ends\\").is_err());
    assert!(p.set("a", "two\nlines").is_err());
    assert_eq!(c.to_string(), "");
}

#[test]
fn commented_line_without_value_takes_one() {
    let mut c = KvFile::<Repmgr>::parse("#node_id=\t\t\t # A unique integer\n#conninfo=''\n");
    assert_eq!(c.get("node_id"), None);
    c.set("node_id", "3").unwrap().changed.then_some(()).unwrap();
    c.set("conninfo", "host=a").unwrap().changed.then_some(()).unwrap();
    assert_eq!(c.to_string(), "node_id=3\t\t\t # A unique integer\nconninfo='host=a'\n");
}

#[test]
fn settings_and_includes_are_listed() {
    let c = Pg::parse("a = 1\ninclude 'x.conf'\n#b = 2\nc = 'x y'\n");
    let s = c.settings();
    assert_eq!(s.len(), 2);
    assert_eq!((s[1].line, s[1].name.as_str(), s[1].value.as_str()), (4, "c", "x y"));
    assert_eq!(c.includes()[0].line, 2);
    assert_eq!(c.line_count(), 4);
    // Pgpool-II has `include` only, case-sensitively.
    let p = KvFile::<Pgpool>::parse("include 'a'\nInclude = 'b'\ninclude_dir = 'c'\n");
    assert_eq!(p.includes().len(), 1);
    assert_eq!(p.settings().len(), 2);
    // repmgr follows none.
    assert!(KvFile::<Repmgr>::parse("include 'a'\n").includes().is_empty());
}
